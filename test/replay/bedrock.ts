/**
 * Bedrock runtime: InvokeModel (Anthropic bodies, and every other family's from
 * bedrock-families.ts) and Converse, plain and streamed.
 * Streams use the AWS event-stream binary framing, encoded by the codec the AWS SDK itself
 * ships (@smithy/core/event-streams, where @smithy/eventstream-codec now lives).
 * Bedrock always reports usage, so `no-usage` changes nothing here.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { anthropicMessage, anthropicStreamEvents } from './anthropic.js';
import { type FamilyFixture, familyOf, invocationMetrics, tokenCountHeaders } from './bedrock-families.js';
import type { Fixture, ReportedUsage } from './fixtures.js';
import { type Frame, jsonReply, piecesOf, type RenderInput, type Reply, type RouteSpec } from './reply.js';

const codec = new EventStreamCodec(
  (bytes) => new TextDecoder().decode(bytes),
  (text) => new TextEncoder().encode(text),
);

/** Bedrock pads every stream event with a `p` field so sizes do not leak the content. */
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';
const INVOKE_REQUEST_ID = '3c5e8f1a-9b2d-4e7f-a6c8-1d3e5f7a9b0c';

function eventMessage(eventType: string, payload: Record<string, unknown>): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: new TextEncoder().encode(JSON.stringify({ ...payload, p: PADDING })),
  });
}

function eventStreamReply(frames: Frame[], requestId: string, extra: Record<string, string> = {}): Reply {
  return {
    status: 200,
    headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': requestId, ...extra },
    frames,
  };
}

/** `us.anthropic.claude-haiku-4-5-20251001-v1:0` → `claude-haiku-4-5-20251001`, the name Anthropic bodies carry. */
export function anthropicModelName(modelId: string): string {
  return modelId.replace(/^.*anthropic\./, '').replace(/-v\d+(:\d+)?$/, '');
}

// --- InvokeModel -----------------------------------------------------------------

const SHAPE = { serviceTier: false };

function invokeMetrics(f: Fixture) {
  const u = f.usage!;
  return {
    inputTokenCount: u.input,
    outputTokenCount: u.output,
    invocationLatency: f.latencyMs ?? 0,
    firstByteLatency: Math.round((f.latencyMs ?? 0) / 2),
    ...(u.cacheRead || u.cacheWrite5m || u.cacheWrite1h
      ? { cacheReadInputTokenCount: u.cacheRead, cacheWriteInputTokenCount: u.cacheWrite5m + u.cacheWrite1h }
      : {}),
  };
}

/** Another family's answer (bedrock-families.ts): its body, Bedrock's token headers or stream metrics. */
function renderFamily(f: FamilyFixture, stream: boolean): Reply {
  if (!stream || !f.chunks) {
    return jsonReply(f.body, { 'x-amzn-requestid': INVOKE_REQUEST_ID, ...tokenCountHeaders(f) });
  }
  const chunks = f.chunks;
  const frames = chunks.map((chunk, i) => {
    const body =
      i === chunks.length - 1 ? { ...chunk, 'amazon-bedrock-invocationMetrics': invocationMetrics(f) } : chunk;
    return eventMessage('chunk', { bytes: Buffer.from(JSON.stringify(body)).toString('base64') });
  });
  return eventStreamReply(frames, INVOKE_REQUEST_ID, { 'x-amzn-bedrock-content-type': 'application/json' });
}

function renderInvoke({ fixture: f, model, stream }: RenderInput): Reply {
  const family = familyOf(model);
  if (family) return renderFamily(family, stream);
  const name = anthropicModelName(model);
  if (!stream) {
    const u = f.usage!;
    return jsonReply(anthropicMessage(f, name, SHAPE), {
      'x-amzn-requestid': INVOKE_REQUEST_ID,
      'x-amzn-bedrock-invocation-latency': String(f.latencyMs ?? 0),
      'x-amzn-bedrock-input-token-count': String(u.input),
      'x-amzn-bedrock-output-token-count': String(u.output),
      'x-amzn-bedrock-cache-read-input-token-count': String(u.cacheRead),
      'x-amzn-bedrock-cache-write-input-token-count': String(u.cacheWrite5m + u.cacheWrite1h),
    });
  }
  const frames = anthropicStreamEvents(f, name, SHAPE).map((event) => {
    const body =
      event.type === 'message_stop' ? { ...event, 'amazon-bedrock-invocationMetrics': invokeMetrics(f) } : event;
    return eventMessage('chunk', { bytes: Buffer.from(JSON.stringify(body)).toString('base64') });
  });
  return eventStreamReply(frames, INVOKE_REQUEST_ID, { 'x-amzn-bedrock-content-type': 'application/json' });
}

// --- Converse --------------------------------------------------------------------

function converseUsage(u: ReportedUsage) {
  const cacheWrite = u.cacheWrite5m + u.cacheWrite1h;
  const details = [
    ...(u.cacheWrite1h ? [{ ttl: '1h', inputTokens: u.cacheWrite1h }] : []),
    ...(u.cacheWrite5m ? [{ ttl: '5m', inputTokens: u.cacheWrite5m }] : []),
  ];
  return {
    inputTokens: u.input,
    outputTokens: u.output,
    totalTokens: u.total,
    ...(u.cacheRead || cacheWrite ? { cacheReadInputTokens: u.cacheRead, cacheWriteInputTokens: cacheWrite } : {}),
    ...(details.length ? { cacheDetails: details } : {}),
  };
}

function converseContent(f: Fixture) {
  return [
    ...(f.text ? [{ text: f.text }] : []),
    ...(f.toolCall
      ? [{ toolUse: { toolUseId: f.toolCall.id, name: f.toolCall.name, input: f.toolCall.arguments } }]
      : []),
  ];
}

function renderConverse({ fixture: f, stream }: RenderInput): Reply {
  const usage = converseUsage(f.usage!);
  const metrics = { latencyMs: f.latencyMs ?? 0 };
  if (!stream) {
    return jsonReply(
      {
        output: { message: { role: 'assistant', content: converseContent(f) } },
        stopReason: f.finishReason,
        usage,
        metrics,
      },
      { 'x-amzn-requestid': f.id },
    );
  }
  const frames: Frame[] = [eventMessage('messageStart', { role: 'assistant' })];
  let index = 0;
  if (f.text) {
    for (const text of f.chunks)
      frames.push(eventMessage('contentBlockDelta', { contentBlockIndex: index, delta: { text } }));
    frames.push(eventMessage('contentBlockStop', { contentBlockIndex: index }));
    index++;
  }
  if (f.toolCall) {
    const { id: toolUseId, name } = f.toolCall;
    frames.push(
      eventMessage('contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId, name } } }),
    );
    for (const input of piecesOf(JSON.stringify(f.toolCall.arguments))) {
      frames.push(eventMessage('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input } } }));
    }
    frames.push(eventMessage('contentBlockStop', { contentBlockIndex: index }));
  }
  frames.push(eventMessage('messageStop', { stopReason: f.finishReason }));
  frames.push(eventMessage('metadata', { usage, metrics }));
  return eventStreamReply(frames, f.id);
}

const MODEL = '^\\/model\\/(?<model>[^/]+)';

export const bedrockRoutes: RouteSpec[] = [
  {
    name: 'bedrockInvoke',
    errors: 'bedrock',
    method: 'POST',
    pattern: new RegExp(`${MODEL}\\/(?<op>invoke|invoke-with-response-stream)$`),
    isStream: ({ params }) => params.op === 'invoke-with-response-stream',
    render: renderInvoke,
  },
  {
    name: 'bedrockConverse',
    errors: 'bedrock',
    method: 'POST',
    pattern: new RegExp(`${MODEL}\\/(?<op>converse|converse-stream)$`),
    isStream: ({ params }) => params.op === 'converse-stream',
    render: renderConverse,
  },
];
