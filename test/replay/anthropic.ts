/**
 * Anthropic's Messages API. The message and stream-event builders are shared with
 * Bedrock's InvokeModel routes, which carry the same bodies. Anthropic always reports
 * usage, so `no-usage` changes nothing here.
 */
import type { Fixture, ReportedUsage } from './fixtures.js';
import { jsonReply, piecesOf, type RenderInput, type Reply, type RouteSpec, sseEvent, sseReply } from './reply.js';

export interface AnthropicShape {
  /** Bedrock's Anthropic bodies carry no service_tier. */
  serviceTier: boolean;
}

function usageOf(u: ReportedUsage, shape: AnthropicShape, outputTokens = u.output) {
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheWrite5m + u.cacheWrite1h,
    cache_read_input_tokens: u.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: u.cacheWrite5m, ephemeral_1h_input_tokens: u.cacheWrite1h },
    output_tokens: outputTokens,
    ...(u.reasoning ? { output_tokens_details: { thinking_tokens: u.reasoning } } : {}),
    ...(u.webSearch ? { server_tool_use: { web_search_requests: u.webSearch } } : {}),
    ...(shape.serviceTier ? { service_tier: 'standard' } : {}),
  };
}

function contentOf(f: Fixture) {
  const blocks: Record<string, unknown>[] = [];
  if (f.reasoning)
    blocks.push({ type: 'thinking', thinking: f.reasoning.text, signature: f.reasoning.signature ?? '' });
  if (f.text) blocks.push({ type: 'text', text: f.text });
  if (f.toolCall)
    blocks.push({ type: 'tool_use', id: f.toolCall.id, name: f.toolCall.name, input: f.toolCall.arguments });
  return blocks;
}

export function anthropicMessage(f: Fixture, model: string, shape: AnthropicShape) {
  return {
    id: f.id,
    type: 'message',
    role: 'assistant',
    model,
    content: contentOf(f),
    stop_reason: f.finishReason,
    stop_sequence: null,
    usage: usageOf(f.usage!, shape),
  };
}

/**
 * The stream as event objects, in the order Anthropic sends them. message_start reports the
 * input side and a provisional output count; message_delta the cumulative final counts.
 */
export function anthropicStreamEvents(f: Fixture, model: string, shape: AnthropicShape): Record<string, any>[] {
  const u = f.usage!;
  const events: Record<string, any>[] = [
    {
      type: 'message_start',
      message: {
        ...anthropicMessage(f, model, shape),
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usageOf(u, shape, 1), output_tokens_details: undefined },
      },
    },
  ];
  contentOf(f).forEach((block, index) => {
    if (block.type === 'thinking') {
      events.push({
        type: 'content_block_start',
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      });
      for (const thinking of piecesOf(String(block.thinking), 24)) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } });
      }
      events.push({
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: block.signature },
      });
    } else if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const text of f.chunks)
        events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
    } else {
      events.push({
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      for (const partial_json of ['', ...piecesOf(JSON.stringify(block.input))]) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
      }
    }
    events.push({ type: 'content_block_stop', index });
  });
  const { cache_creation: _, service_tier: __, ...finalUsage } = usageOf(u, shape);
  events.push({
    type: 'message_delta',
    delta: { stop_reason: f.finishReason, stop_sequence: null },
    usage: finalUsage,
  });
  events.push({ type: 'message_stop' });
  return JSON.parse(JSON.stringify(events)); // drops the undefined fields
}

const REQUEST_ID = 'req_011CSHoEeqs5C35K2UUqR7Fx';

function renderMessages({ fixture: f, model, stream }: RenderInput): Reply {
  const shape = { serviceTier: true };
  const headers = { 'request-id': REQUEST_ID };
  if (!stream) return jsonReply(anthropicMessage(f, model, shape), headers);
  const frames: string[] = [];
  for (const event of anthropicStreamEvents(f, model, shape)) {
    frames.push(sseEvent(event.type, event));
    // Anthropic pings once the first content block has started.
    if (event.type === 'content_block_start' && event.index === 0) frames.push(sseEvent('ping', { type: 'ping' }));
  }
  return sseReply(frames, headers);
}

/** Batch results carry the batch's service tier. */
const SHAPE_BATCH: AnthropicShape = { serviceTier: true };

/** A Message Batch that has ended; its results at a path of this server (the SDK resolves it against its base URL). */
function renderBatch({ params }: RenderInput): Reply {
  return jsonReply({
    id: params.id,
    type: 'message_batch',
    processing_status: 'ended',
    request_counts: { processing: 0, succeeded: 1, errored: 1, canceled: 0, expired: 0 },
    created_at: '2026-12-06T10:00:00.000000+00:00',
    ended_at: '2026-12-06T10:41:07.000000+00:00',
    expires_at: '2026-12-07T10:00:00.000000+00:00',
    archived_at: null,
    cancel_initiated_at: null,
    results_url: `/v1/messages/batches/${params.id}/results`,
  });
}

/** The results file: JSON Lines, one per request, in no particular order. */
function renderBatchResults({ fixture: f }: RenderInput): Reply {
  const lines = [
    { custom_id: 'ticket-1', result: { type: 'succeeded', message: anthropicMessage(f, f.model, SHAPE_BATCH) } },
    {
      custom_id: 'ticket-2',
      result: {
        type: 'errored',
        error: { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } },
      },
    },
  ];
  return {
    status: 200,
    headers: { 'content-type': 'application/binary' },
    body: lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
  };
}

export const anthropicRoutes: RouteSpec[] = [
  {
    name: 'anthropicBatches',
    errors: 'anthropic',
    method: 'GET',
    pattern: /^\/v1\/messages\/batches\/(?<id>[^/]+)\/results$/,
    isStream: () => false,
    render: renderBatchResults,
  },
  {
    name: 'anthropicBatches',
    errors: 'anthropic',
    method: 'GET',
    pattern: /^\/v1\/messages\/batches\/(?<id>[^/]+)$/,
    isStream: () => false,
    render: renderBatch,
  },
  {
    name: 'anthropicMessages',
    errors: 'anthropic',
    method: 'POST',
    pattern: /^\/v1\/messages$/,
    isStream: ({ body }) => body.stream === true,
    render: renderMessages,
  },
];
