import type { Call, CallSpec } from '../core/call.js';
import { contentText } from '../core/privacy.js';
import type { Usage } from '../prices/types.js';
import type { GenAiOperation } from '../semconv.js';
import { ACCEPTS_INCLUDE_USAGE, hostOf } from './hosts.js';
import type { ResultReader } from './stainless.js';

/**
 * The `openai` package (v4–v7): chat completions (plain, stream, `.stream()`/`.parse()` which
 * call `create`), responses (plain, stream), embeddings. Also every OpenAI-compatible host,
 * recognised from the client's base URL.
 */

type Body = Record<string, any>;
interface Resource {
  _client?: { baseURL?: string };
}

export function describe(self: Resource, body: Body, operation: GenAiOperation): CallSpec {
  return describeRequest(self?._client?.baseURL, body, operation);
}

/** A request body sent to the OpenAI-compatible API at `baseURL` (by the SDK, or through the gateway). */
export function describeRequest(baseURL: unknown, body: Body, operation: GenAiOperation): CallSpec {
  const host = hostOf(baseURL, 'openai');
  return {
    provider: host.provider,
    operation,
    requestModel: typeof body?.model === 'string' ? body.model : '',
    isStreaming: body?.stream === true,
    serverAddress: host.address,
    serverPort: host.port,
    maxTokens: body?.max_completion_tokens ?? body?.max_tokens ?? body?.max_output_tokens,
    temperature: body?.temperature ?? undefined,
    topP: body?.top_p ?? undefined,
    input: body,
    readInput: INPUT_READERS[operation] ?? chatInput,
  };
}

/** Audio endpoints: a transcription or translation reads no text (its input is the audio file). */
const INPUT_READERS: Partial<
  Record<GenAiOperation, ((body: Body) => { role: string; content: string }[]) | undefined>
> = {
  embeddings: embeddingsInput,
  generate_content: promptInput,
  speech: speechInput,
  transcription: undefined,
  translation: undefined,
};

/** audio.speech.create: the text to speak. */
function speechInput(body: Body): { role: string; content: string }[] {
  return [{ role: 'user', content: typeof body?.input === 'string' ? body.input : '' }];
}

/** images.generate: the prompt. */
function promptInput(body: Body): { role: string; content: string }[] {
  return [{ role: 'user', content: typeof body?.prompt === 'string' ? body.prompt : '' }];
}

function embeddingsInput(body: Body): { role: string; content: string }[] {
  {
    const input = body?.input;
    return [
      {
        role: 'user',
        content: Array.isArray(input) ? input.filter((x) => typeof x === 'string').join('\n') : String(input ?? ''),
      },
    ];
  }
}

function chatInput(body: Body): { role: string; content: string }[] {
  const out: { role: string; content: string }[] = [];
  if (typeof body?.instructions === 'string') out.push({ role: 'system', content: body.instructions });
  const list = body?.messages ?? body?.input;
  if (typeof list === 'string') out.push({ role: 'user', content: list });
  else if (Array.isArray(list)) {
    for (const m of list)
      out.push({
        role: String(m?.role ?? 'user'),
        content: contentText(m?.content),
      });
  }
  return out;
}

/**
 * Chat streams the caller asked no usage for: ask for it, and remember to hide what it adds
 * (the usage-only last chunk, and `usage: null` on every other chunk).
 */
export function withIncludeUsage(self: Resource, body: Body): Body | undefined {
  return withIncludeUsageAt(self?._client?.baseURL, body);
}

/** The same for a request body going to `baseURL` (the gateway's upstream). */
export function withIncludeUsageAt(baseURL: unknown, body: Body): Body | undefined {
  if (body?.stream !== true || body.stream_options?.include_usage === true) return undefined;
  if (!ACCEPTS_INCLUDE_USAGE.has(hostOf(baseURL, 'openai').provider)) return undefined;
  return {
    ...body,
    stream_options: { ...body.stream_options, include_usage: true },
  };
}

export function chatUsage(u: any): Usage | undefined {
  if (!u || typeof u.prompt_tokens !== 'number') return undefined;
  const usage: Usage = {
    inputTokens: u.prompt_tokens,
    outputTokens: u.completion_tokens ?? 0,
  };
  const pd = u.prompt_tokens_details;
  const cd = u.completion_tokens_details;
  if (pd?.cached_tokens) usage.cacheReadTokens = pd.cached_tokens;
  if (pd?.audio_tokens) usage.inputAudioTokens = pd.audio_tokens;
  if (cd?.reasoning_tokens) usage.reasoningTokens = cd.reasoning_tokens;
  if (cd?.audio_tokens) usage.outputAudioTokens = cd.audio_tokens;
  return usage;
}

export function responsesUsage(u: any): Usage | undefined {
  if (!u || typeof u.input_tokens !== 'number') return undefined;
  const usage: Usage = {
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens ?? 0,
  };
  if (u.input_tokens_details?.cached_tokens) usage.cacheReadTokens = u.input_tokens_details.cached_tokens;
  if (u.output_tokens_details?.reasoning_tokens) usage.reasoningTokens = u.output_tokens_details.reasoning_tokens;
  return usage;
}

function addFinishReason(call: Call, reason: unknown): void {
  if (typeof reason !== 'string' || !reason) return;
  if (call.finishReasons) call.finishReasons.push(reason);
  else call.finishReasons = [reason];
}

function readChoices(choices: any[], call: Call, isDelta: boolean): void {
  for (const c of choices) {
    addFinishReason(call, c?.finish_reason);
    const text = isDelta ? c?.delta?.content : c?.message?.content;
    if (typeof text === 'string') call.outputText += text;
  }
}

export function chatReader(injected: boolean): ResultReader {
  return {
    read(data, call) {
      call.responseId = data?.id;
      call.responseModel = data?.model;
      // The text is kept by reference: needed for capture, or to estimate when the host sends no usage.
      if (Array.isArray(data?.choices)) readChoices(data.choices, call, false);
      call.usage = chatUsage(data?.usage);
    },
    chunk(chunk, call) {
      if (chunk?.id && !call.responseId) call.responseId = chunk.id;
      if (chunk?.model && !call.responseModel) call.responseModel = chunk.model;
      const choices = chunk?.choices;
      if (Array.isArray(choices) && choices.length > 0) readChoices(choices, call, true);
      const usage = chunk?.usage;
      if (usage) {
        call.usage = chatUsage(usage);
        call.usageFinal = true;
      }
      if (!injected) return true;
      if (usage && Array.isArray(choices) && choices.length === 0) return false;
      if (chunk && 'usage' in chunk && chunk.usage == null) return withoutUsage(chunk);
      return true;
    },
  };
}

/**
 * The chunk as the API sends it without include_usage: the same keys in the same order, less
 * `usage`. A copy, not `delete`: OpenAI sends `obfuscation` after `usage`, and deleting a key that
 * is not the last leaves a dictionary-mode object, slower for the app to read (and `delete` costs
 * about three times the copy).
 */
function withoutUsage(chunk: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in chunk) if (k !== 'usage') out[k] = chunk[k];
  return out;
}

function readResponse(r: any, call: Call): void {
  if (!r) return;
  if (r.id) call.responseId = r.id;
  if (r.model) call.responseModel = r.model;
  const reason = r.incomplete_details?.reason ?? r.status;
  if (reason) call.finishReasons = [reason];
  if (r.usage) {
    call.usage = responsesUsage(r.usage);
    if (call.usage && Array.isArray(r.output)) addBuiltInToolCalls(call.usage, r.output);
  }
  if (typeof r.output_text === 'string' && !call.outputText) call.outputText = r.output_text;
}

/**
 * Built-in tools the response ran, billed per call on top of the tokens (OpenAI pricing, "Built-in
 * tools"): each `web_search_call` and `file_search_call` item of the output is one call.
 */
function addBuiltInToolCalls(usage: Usage, output: any[]): void {
  let web = 0;
  let file = 0;
  for (const item of output) {
    const type = item?.type;
    if (type === 'web_search_call') web++;
    else if (type === 'file_search_call') file++;
  }
  if (web) usage.webSearchCalls = web;
  if (file) usage.fileSearchCalls = file;
}

export const responsesReader: ResultReader = {
  read(data, call) {
    readResponse(data, call);
  },
  chunk(event, call) {
    const type = event?.type;
    if (type === 'response.output_text.delta' && typeof event.delta === 'string') call.outputText += event.delta;
    else if (type === 'response.created' || type === 'response.in_progress') readResponse(event.response, call);
    else if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
      readResponse(event.response, call);
      call.usageFinal = true;
    }
    return true;
  },
};

/**
 * images.generate. gpt-image-1 reports tokens (input text and image tokens, output image tokens),
 * priced per token by the catalogue. DALL·E models are priced per image and report no usage: the
 * call gets zero tokens, so the price engine finds no per-token price and marks it unpriced (and
 * alerted) instead of guessing tokens or recording $0.
 */
export const imagesReader: ResultReader = {
  read(data, call) {
    const u = data?.usage;
    if (u && typeof u.input_tokens === 'number') {
      call.usage = { inputTokens: u.input_tokens, outputTokens: u.output_tokens ?? 0 };
    } else if (data && Array.isArray(data.data)) {
      call.usage = { inputTokens: 0, outputTokens: 0 };
    }
  },
  chunk: () => true,
};

/**
 * audio.transcriptions / audio.translations. gpt-4o-transcribe and gpt-4o-mini-transcribe report
 * tokens (text and audio input, text output); whisper-1 is priced per minute and reports the
 * audio's duration (`usage.type = 'duration'` in json, `duration` in verbose_json), rounded to the
 * second as OpenAI bills it. A text, srt or vtt answer reports neither: zero tokens and no
 * duration, which leaves whisper-1 unpriced (flagged), never $0.
 */
export function transcriptionUsage(u: any, duration?: unknown): Usage {
  if (u && typeof u.input_tokens === 'number') {
    const usage: Usage = { inputTokens: u.input_tokens, outputTokens: u.output_tokens ?? 0 };
    const audio = u.input_token_details?.audio_tokens;
    if (typeof audio === 'number' && audio > 0) usage.inputAudioTokens = audio;
    return usage;
  }
  const seconds = u?.type === 'duration' && typeof u.seconds === 'number' ? u.seconds : duration;
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0) usage.audioSeconds = Math.round(seconds);
  return usage;
}

export const transcriptionReader: ResultReader = {
  read(data, call) {
    if (typeof data === 'string') {
      call.outputText = data;
      call.usage = { inputTokens: 0, outputTokens: 0 };
      return;
    }
    if (typeof data?.text === 'string') call.outputText = data.text;
    call.usage = transcriptionUsage(data?.usage, data?.duration);
  },
  chunk(event, call) {
    const type = event?.type;
    if (type === 'transcript.text.delta' && typeof event.delta === 'string') call.outputText += event.delta;
    else if (type === 'transcript.text.done') {
      if (typeof event.text === 'string') call.outputText = event.text;
      call.usage = transcriptionUsage(event.usage);
      call.usageFinal = true;
    }
    return true;
  },
};

/** Characters (code points) of a text, as text-to-speech is billed. */
function characters(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * audio.speech.create answers with the audio itself (a Response the app reads; never touched
 * here) and reports no usage: the call records the characters it asked to speak. tts-1 and
 * tts-1-hd are priced per 1M characters; gpt-4o-mini-tts per token, which the answer does not
 * report, so it stays unpriced (flagged) rather than priced by a guess.
 */
export function speechReader(body: Body): ResultReader {
  const read = (_data: unknown, call: Call) => {
    const input = typeof body?.input === 'string' ? body.input : '';
    call.usage = { inputTokens: 0, outputTokens: 0 };
    if (input) call.usage.inputCharacters = characters(input);
  };
  // The same when the app takes the raw Response (asResponse()): the body is never read either way.
  return { read, raw: read, chunk: () => true };
}

export const embeddingsReader: ResultReader = {
  read(data, call) {
    call.responseModel = data?.model;
    const u = data?.usage;
    if (u && typeof u.prompt_tokens === 'number') call.usage = { inputTokens: u.prompt_tokens, outputTokens: 0 };
  },
  chunk: () => true,
};
