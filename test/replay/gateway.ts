/**
 * The Vercel AI Gateway's model protocol, as `@ai-sdk/gateway` speaks it: POST
 * {baseURL}/language-model with the model in `ai-language-model-id` and
 * `ai-language-model-streaming: true|false`; the body is the LanguageModelV3 call options, the
 * answer the routed model's LanguageModelV3 result (JSON), or its stream parts as SSE
 * `data: {part}` events. Embeddings: POST {baseURL}/embedding-model, the model in `ai-model-id`.
 * Model ids are the gateway's `creator/model` slugs, echoed back as the gateway echoes them; the
 * generation id is `providerMetadata.gateway.generationId` (the client keeps no response id
 * from a JSON answer: it sets `response` itself).
 * The gateway always reports usage, so `no-usage` changes nothing here.
 */
import type { Fixture, ReportedUsage } from './fixtures.js';
import { embeddingVector } from './fixtures.js';
import { jsonReply, type RenderInput, type Reply, type RouteSpec, sseData, sseReply } from './reply.js';

/** LanguageModelV3 usage: input total with its cache parts, output total with its reasoning part. */
function usageOf(u: ReportedUsage) {
  const cacheWrite = u.cacheWrite5m + u.cacheWrite1h;
  return {
    inputTokens: { total: u.input, noCache: u.input - u.cacheRead - cacheWrite, cacheRead: u.cacheRead, cacheWrite },
    outputTokens: { total: u.output, text: u.output - u.reasoning, reasoning: u.reasoning },
  };
}

function providerMetadata(f: Fixture, model: string) {
  const creator = model.split('/')[0];
  return {
    gateway: {
      routing: { originalModelId: model, resolvedProvider: creator, finalProvider: creator },
      generationId: f.id,
    },
  };
}

function toolCallOf(f: Fixture) {
  const t = f.toolCall!;
  return { type: 'tool-call', toolCallId: t.id, toolName: t.name, input: JSON.stringify(t.arguments) };
}

function renderLanguageModel({ fixture: f, model, stream }: RenderInput): Reply {
  const finishReason = { unified: f.finishReason, raw: f.finishReason };
  const usage = usageOf(f.usage!);
  const metadata = providerMetadata(f, model);
  if (!stream) {
    return jsonReply({
      content: [...(f.text ? [{ type: 'text', text: f.text }] : []), ...(f.toolCall ? [toolCallOf(f)] : [])],
      finishReason,
      usage,
      providerMetadata: metadata,
      warnings: [],
    });
  }
  const parts: unknown[] = [
    { type: 'stream-start', warnings: [] },
    { type: 'response-metadata', id: f.id, modelId: model, timestamp: new Date().toISOString() },
  ];
  if (f.text) {
    parts.push({ type: 'text-start', id: '0' });
    for (const delta of f.chunks) parts.push({ type: 'text-delta', id: '0', delta });
    parts.push({ type: 'text-end', id: '0' });
  }
  if (f.toolCall) parts.push(toolCallOf(f));
  parts.push({ type: 'finish', finishReason, usage, providerMetadata: metadata });
  return sseReply(parts.map((p) => sseData(p)));
}

function renderEmbeddingModel({ fixture: f, body }: RenderInput): Reply {
  const values: unknown[] = Array.isArray(body.values) ? body.values : [];
  return jsonReply({
    embeddings: values.map((_, i) => embeddingVector(i, f.dimensions!)),
    usage: { tokens: f.usage!.input },
  });
}

const header = (headers: Record<string, string | string[] | undefined>, name: string) => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export const gatewayRoutes: RouteSpec[] = [
  {
    name: 'gatewayLanguageModel',
    errors: 'gateway',
    method: 'POST',
    pattern: /\/language-model$/,
    modelHeader: 'ai-language-model-id',
    isStream: ({ headers }) => header(headers, 'ai-language-model-streaming') === 'true',
    render: renderLanguageModel,
  },
  {
    name: 'gatewayEmbeddingModel',
    errors: 'gateway',
    method: 'POST',
    pattern: /\/embedding-model$/,
    modelHeader: 'ai-model-id',
    isStream: () => false,
    render: renderEmbeddingModel,
  },
];
