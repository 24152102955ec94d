import { runCall } from '../core/run.js';
import { wrapFilesContent } from './openai-batch.js';
import * as openai from '../providers/openai.js';
import { observeApiPromise, type ResultReader } from '../providers/stainless.js';
import type { GenAiOperation } from '../semconv.js';
import {
  type MethodPatch,
  mainExport,
  TokenmeterInstrumentation,
  type TokenmeterInstrumentationConfig,
} from './base.js';
import { TARGETS } from './targets.js';

const PLAIN_CHAT = openai.chatReader(false);
const INJECTED_CHAT = openai.chatReader(true);

/**
 * `openai` v4 to v7: chat completions, responses, embeddings, image generation, audio
 * (transcriptions, translations, speech), Batch output files, and every OpenAI-compatible host.
 */
export class OpenAIInstrumentation extends TokenmeterInstrumentation {
  constructor(config: TokenmeterInstrumentationConfig = {}) {
    super('openai', config);
  }

  protected target() {
    return TARGETS.openai;
  }

  protected patches(): MethodPatch[] {
    return [
      {
        target: (m) => mainExport(m, 'OpenAI')?.Chat?.Completions?.prototype,
        method: 'create',
        wrap: wrapChatCreate,
      },
      {
        target: (m) => mainExport(m, 'OpenAI')?.Responses?.prototype,
        method: 'create',
        wrap: wrapResponsesCreate,
      },
      {
        target: (m) => mainExport(m, 'OpenAI')?.Embeddings?.prototype,
        method: 'create',
        wrap: wrapEmbeddingsCreate,
      },
      {
        target: (m) => mainExport(m, 'OpenAI')?.Images?.prototype,
        method: 'generate',
        wrap: wrapImagesGenerate,
      },
      {
        target: (m) => mainExport(m, 'OpenAI')?.Audio?.Transcriptions?.prototype,
        method: 'create',
        wrap: wrapTranscriptionsCreate,
      },
      {
        target: (m) => mainExport(m, 'OpenAI')?.Audio?.Translations?.prototype,
        method: 'create',
        wrap: wrapTranslationsCreate,
      },
      {
        target: (m) => mainExport(m, 'OpenAI')?.Audio?.Speech?.prototype,
        method: 'create',
        wrap: wrapSpeechCreate,
      },
      {
        // Batch output files: one batch-priced span per succeeded request (openai-batch.ts).
        target: (m) => mainExport(m, 'OpenAI')?.Files?.prototype,
        method: 'content',
        wrap: wrapFilesContent,
      },
    ];
  }
}

export function wrapChatCreate(original: (...args: any[]) => any) {
  // create(body, options): explicit parameters, no rest array or spread on the hot path.
  return function create(this: any, body: any, options?: any) {
    let injected: any;
    return runCall(
      () => openai.describe(this, body, 'chat'),
      (call) => {
        // Only when a span will hide what it adds, and only streams ask for usage (no closure
        // for a plain call).
        if (call && body?.stream === true) injected = safely(() => openai.withIncludeUsage(this, body));
        return original.call(this, injected ?? body, options);
      },
      (result, call) => observeApiPromise(result, call, injected ? INJECTED_CHAT : PLAIN_CHAT),
    );
  };
}

/**
 * The plain wrapper: describe the call, run it, read its result with `reader` (or the reader
 * made for the request's body). Responses, embeddings, images, audio.
 */
function wrapWith(operation: GenAiOperation, reader: ResultReader | ((body: any) => ResultReader)) {
  return (original: (...args: any[]) => any) =>
    function create(this: any, body: any, options?: any) {
      return runCall(
        () => openai.describe(this, body, operation),
        () => original.call(this, body, options),
        (result, call) => observeApiPromise(result, call, typeof reader === 'function' ? reader(body) : reader),
      );
    };
}

export const wrapResponsesCreate = wrapWith('chat', openai.responsesReader);
export const wrapEmbeddingsCreate = wrapWith('embeddings', openai.embeddingsReader);
export const wrapTranscriptionsCreate = wrapWith('transcription', openai.transcriptionReader);
export const wrapTranslationsCreate = wrapWith('translation', openai.transcriptionReader);
/** The app gets the SDK's Response as is: its body (the audio) is never read here. */
export const wrapSpeechCreate = wrapWith('speech', openai.speechReader);

const wrapImages = wrapWith('generate_content', openai.imagesReader);
export function wrapImagesGenerate(original: (...args: any[]) => any) {
  const wrapped = wrapImages(original);
  return function generate(this: any, body: any, options?: any) {
    // A streamed image generation (partial images) is not read: left untouched.
    if (body?.stream === true) return original.call(this, body, options);
    return wrapped.call(this, body, options);
  };
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
