import type { Call, CallSpec } from '../core/call.js';
import { contentText } from '../core/privacy.js';
import type { Usage } from '../prices/types.js';
import type { GenAiOperation } from '../semconv.js';
import type { ResultReader } from './stainless.js';

/**
 * `@google/genai`: generateContent, generateContentStream, embedContent. Gemini's
 * `candidatesTokenCount` excludes thinking tokens and `promptTokenCount` excludes tool-use
 * prompt tokens; tokenmeter's output and input are the totals, so they are added here.
 */

type Params = Record<string, any>;
interface ModelsLike {
  apiClient?: { isVertexAI?: () => boolean; getBaseUrl?: () => string };
}

export function describe(self: ModelsLike, params: Params, operation: GenAiOperation, isStreaming: boolean): CallSpec {
  let vertex = false;
  try {
    vertex = self?.apiClient?.isVertexAI?.() === true;
  } catch {}
  return describeParams(params, operation, isStreaming, vertex);
}

/**
 * A REST request (`POST …/models/{model}:generateContent`, through the gateway) as the SDK's
 * parameters: the model from the path, `generationConfig` and `systemInstruction` as `config`.
 */
export function paramsOfRequest(model: string, body: Params): Params {
  return {
    model,
    contents: body?.contents,
    config: { ...body?.generationConfig, systemInstruction: body?.systemInstruction },
  };
}

export function describeParams(
  params: Params,
  operation: GenAiOperation,
  isStreaming: boolean,
  vertex: boolean,
): CallSpec {
  const model =
    typeof params?.model === 'string' ? params.model.replace(/^(models|publishers\/google\/models)\//, '') : '';
  const config = params?.config ?? {};
  return {
    provider: vertex ? 'vertex' : 'google',
    operation,
    requestModel: model,
    isStreaming,
    maxTokens: config.maxOutputTokens,
    temperature: config.temperature,
    topP: config.topP,
    input: params,
    readInput: inputMessages,
  };
}

function partsText(content: any): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content?.parts)) return contentText(content.parts);
  return contentText(content);
}

function inputMessages(params: Params): { role: string; content: string }[] {
  const out: { role: string; content: string }[] = [];
  const system = params?.config?.systemInstruction;
  if (system) out.push({ role: 'system', content: partsText(system) });
  const contents = params?.contents ?? params?.content;
  const list = Array.isArray(contents) ? contents : contents === undefined ? [] : [contents];
  for (const c of list)
    out.push({
      role: c?.role === 'model' ? 'assistant' : 'user',
      content: partsText(c),
    });
  return out;
}

function modality(details: any, name: string): number {
  if (!Array.isArray(details)) return 0;
  let n = 0;
  for (const d of details) if (d?.modality === name) n += d.tokenCount ?? 0;
  return n;
}

export function googleUsage(m: any): Usage | undefined {
  if (!m || (typeof m.promptTokenCount !== 'number' && typeof m.candidatesTokenCount !== 'number')) return undefined;
  const thoughts = m.thoughtsTokenCount ?? 0;
  const usage: Usage = {
    inputTokens: (m.promptTokenCount ?? 0) + (m.toolUsePromptTokenCount ?? 0),
    outputTokens: (m.candidatesTokenCount ?? 0) + thoughts,
  };
  if (m.cachedContentTokenCount) usage.cacheReadTokens = m.cachedContentTokenCount;
  if (thoughts) usage.reasoningTokens = thoughts;
  const audioIn = modality(m.promptTokensDetails, 'AUDIO');
  const audioOut = modality(m.candidatesTokensDetails, 'AUDIO');
  if (audioIn) usage.inputAudioTokens = audioIn;
  // Cached audio is in both the cache reads and the prompt's audio: name it, so that it is priced
  // once, at the cached-audio rate, not as audio and as a cache read.
  const cachedAudio = modality(m.cacheTokensDetails, 'AUDIO');
  if (cachedAudio) usage.cacheAudioReadTokens = cachedAudio;
  if (audioOut) usage.outputAudioTokens = audioOut;
  return usage;
}

/** Read one GenerateContentResponse (a whole response, or one stream chunk: the last usage wins). */
export function readResponse(r: any, call: Call): void {
  if (!r) return;
  if (r.responseId && !call.responseId) call.responseId = r.responseId;
  if (r.modelVersion) call.responseModel = r.modelVersion;
  const candidates = r.candidates;
  if (Array.isArray(candidates)) {
    for (const c of candidates) {
      if (c?.finishReason) call.finishReasons = [c.finishReason];
      const parts = c?.content?.parts;
      if (Array.isArray(parts))
        for (const p of parts) if (typeof p?.text === 'string' && !p.thought) call.outputText += p.text;
    }
  }
  const usage = googleUsage(r.usageMetadata);
  if (usage) call.usage = usage;
}

export function readEmbedding(r: any, call: Call): void {
  // Vertex reports statistics.tokenCount per embedding; the Gemini API reports none (estimated then).
  const list = r?.embeddings;
  if (!Array.isArray(list)) return;
  let tokens = 0;
  let seen = false;
  for (const e of list) {
    const n = e?.statistics?.tokenCount;
    if (typeof n === 'number') {
      tokens += n;
      seen = true;
    }
  }
  if (seen) call.usage = { inputTokens: tokens, outputTokens: 0 };
}

/** generateContent and its stream (each chunk is a whole GenerateContentResponse): what the SDK wrapper and the gateway read. */
export const generateReader: ResultReader = {
  read(data, call) {
    // streamGenerateContent without alt=sse answers one JSON array of chunks.
    if (Array.isArray(data)) for (const r of data) readResponse(r, call);
    else readResponse(data, call);
  },
  chunk(chunk, call) {
    readResponse(chunk, call);
    return true;
  },
};

export const embedReader: ResultReader = {
  read: readEmbedding,
  chunk: () => true,
};
