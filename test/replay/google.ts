/**
 * The Gemini API (generativelanguage) as @google/genai calls it: /v1beta/models/{model}:method.
 * Streams are SSE with `\r\n\r\n` between events when `alt=sse` (the SDK always asks for it),
 * a JSON array otherwise, as the REST API does.
 */
import type { Fixture, ReportedUsage } from './fixtures.js';
import { embeddingVector } from './fixtures.js';
import { jsonReply, type RenderInput, type Reply, type RouteSpec, sseData, sseReply } from './reply.js';

/** ModalityTokenCount entries: TEXT for the rest, AUDIO for the audio part (each listed when non-zero). */
function byModality(total: number, audio: number) {
  return [
    ...(total - audio ? [{ modality: 'TEXT', tokenCount: total - audio }] : []),
    ...(audio ? [{ modality: 'AUDIO', tokenCount: audio }] : []),
  ];
}

function usageMetadata(u: ReportedUsage) {
  return {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output,
    totalTokenCount: u.total,
    ...(u.cacheRead ? { cachedContentTokenCount: u.cacheRead } : {}),
    promptTokensDetails: byModality(u.input, u.audioInput),
    ...(u.cacheRead ? { cacheTokensDetails: byModality(u.cacheRead, u.cacheAudioRead) } : {}),
    // Gemini 2.5 lists the candidates by modality when they hold audio (a TTS answer).
    ...(u.audioOutput ? { candidatesTokensDetails: byModality(u.output, u.audioOutput) } : {}),
    ...(u.reasoning ? { thoughtsTokenCount: u.reasoning } : {}),
  };
}

/** What a chunk before the last reports: the prompt side only. */
function partialUsageMetadata(u: ReportedUsage) {
  return {
    promptTokenCount: u.input,
    totalTokenCount: u.input,
    ...(u.cacheRead ? { cachedContentTokenCount: u.cacheRead } : {}),
    promptTokensDetails: byModality(u.input, u.audioInput),
  };
}

function includesThoughts(body: Record<string, any>): boolean {
  return body.generationConfig?.thinkingConfig?.includeThoughts === true;
}

function response(
  f: Fixture,
  model: string,
  parts: Record<string, unknown>[],
  finish: boolean,
  usage: Record<string, unknown> | undefined,
) {
  return {
    candidates: [{ content: { parts, role: 'model' }, ...(finish ? { finishReason: f.finishReason } : {}), index: 0 }],
    ...(usage ? { usageMetadata: usage } : {}),
    modelVersion: model,
    responseId: f.id,
  };
}

function renderGenerate({ fixture: f, model, body, query, stream, noUsage }: RenderInput): Reply {
  const thoughts = f.reasoning && includesThoughts(body) ? [{ text: f.reasoning.text, thought: true }] : [];
  const call = f.toolCall ? [{ functionCall: { name: f.toolCall.name, args: f.toolCall.arguments } }] : [];
  const speech = f.speech ? [{ inlineData: f.speech }] : [];
  const usage = f.usage && !noUsage ? usageMetadata(f.usage) : undefined;
  if (!stream) {
    const text = f.text ? [{ text: f.text }] : [];
    return jsonReply(response(f, model, [...thoughts, ...text, ...call, ...speech], true, usage));
  }

  const partial = f.usage && !noUsage ? partialUsageMetadata(f.usage) : undefined;
  const chunks: unknown[] = [];
  if (thoughts.length) chunks.push(response(f, model, thoughts, false, partial));
  if (f.toolCall || f.speech) {
    chunks.push(response(f, model, [...call, ...speech], true, usage));
  } else {
    // Gemini puts the last text together with the finish reason and the final usage.
    f.chunks.forEach((text, i) => {
      const last = i === f.chunks.length - 1;
      chunks.push(response(f, model, [{ text }], last, last ? usage : partial));
    });
  }
  if (query.get('alt') !== 'sse') return jsonReply(chunks);
  return sseReply(chunks.map((c) => sseData(c, '\r\n')));
}

function dimensionsOf(request: Record<string, any> | undefined, f: Fixture): number {
  return typeof request?.outputDimensionality === 'number' ? request.outputDimensionality : f.dimensions!;
}

function renderBatchEmbed({ fixture: f, body }: RenderInput): Reply {
  const requests: Record<string, any>[] = Array.isArray(body.requests) ? body.requests : [];
  return jsonReply({ embeddings: requests.map((r, i) => ({ values: embeddingVector(i, dimensionsOf(r, f)) })) });
}

function renderEmbed({ fixture: f, body }: RenderInput): Reply {
  return jsonReply({ embedding: { values: embeddingVector(0, dimensionsOf(body, f)) } });
}

const MODEL_PATH = '^\\/(?:v1|v1beta|v1alpha)\\/models\\/(?<model>[^/:]+)';

export const googleRoutes: RouteSpec[] = [
  {
    name: 'googleGenerateContent',
    errors: 'google',
    method: 'POST',
    pattern: new RegExp(`${MODEL_PATH}:(?<method>generateContent|streamGenerateContent)$`),
    isStream: ({ params }) => params.method === 'streamGenerateContent',
    render: renderGenerate,
    hasToolResult: (body) =>
      Array.isArray(body.contents) &&
      body.contents.some((c: { parts?: { functionResponse?: unknown }[] }) =>
        c?.parts?.some((p) => p?.functionResponse !== undefined),
      ),
  },
  {
    name: 'googleEmbedContent',
    errors: 'google',
    method: 'POST',
    pattern: new RegExp(`${MODEL_PATH}:batchEmbedContents$`),
    isStream: () => false,
    render: renderBatchEmbed,
  },
  {
    name: 'googleEmbedContent',
    errors: 'google',
    method: 'POST',
    pattern: new RegExp(`${MODEL_PATH}:embedContent$`),
    isStream: () => false,
    render: renderEmbed,
  },
];
