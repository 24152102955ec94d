import { runCall } from '../core/run.js';
import { wrapFilesContent } from './openai-batch.js';
import * as openai from '../providers/openai.js';
import { observeApiPromise } from '../providers/stainless.js';
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
        // Only when a span will hide what it adds.
        if (call) injected = safely(() => openai.withIncludeUsage(this, body));
        return original.call(this, injected ?? body, options);
      },
      (result, call) => observeApiPromise(result, call, injected ? INJECTED_CHAT : PLAIN_CHAT),
    );
  };
}

export function wrapResponsesCreate(original: (...args: any[]) => any) {
  return function create(this: any, body: any, options?: any) {
    return runCall(
      () => openai.describe(this, body, 'chat'),
      () => original.call(this, body, options),
      (result, call) => observeApiPromise(result, call, openai.responsesReader),
    );
  };
}

export function wrapEmbeddingsCreate(original: (...args: any[]) => any) {
  return function create(this: any, body: any, options?: any) {
    return runCall(
      () => openai.describe(this, body, 'embeddings'),
      () => original.call(this, body, options),
      (result, call) => observeApiPromise(result, call, openai.embeddingsReader),
    );
  };
}

export function wrapImagesGenerate(original: (...args: any[]) => any) {
  return function generate(this: any, body: any, options?: any) {
    // A streamed image generation (partial images) is not read: left untouched.
    if (body?.stream === true) return original.call(this, body, options);
    return runCall(
      () => openai.describe(this, body, 'generate_content'),
      () => original.call(this, body, options),
      (result, call) => observeApiPromise(result, call, openai.imagesReader),
    );
  };
}

export function wrapTranscriptionsCreate(original: (...args: any[]) => any) {
  return function create(this: any, body: any, options?: any) {
    return runCall(
      () => openai.describe(this, body, 'transcription'),
      () => original.call(this, body, options),
      (result, call) => observeApiPromise(result, call, openai.transcriptionReader),
    );
  };
}

export function wrapTranslationsCreate(original: (...args: any[]) => any) {
  return function create(this: any, body: any, options?: any) {
    return runCall(
      () => openai.describe(this, body, 'translation'),
      () => original.call(this, body, options),
      (result, call) => observeApiPromise(result, call, openai.transcriptionReader),
    );
  };
}

/** The app gets the SDK's Response as is: its body (the audio) is never read here. */
export function wrapSpeechCreate(original: (...args: any[]) => any) {
  return function create(this: any, body: any, options?: any) {
    return runCall(
      () => openai.describe(this, body, 'speech'),
      () => original.call(this, body, options),
      (result, call) => observeApiPromise(result, call, openai.speechReader(body)),
    );
  };
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
