import type { Call, CallSpec } from '../core/call.js';
import { contentText } from '../core/privacy.js';
import type { Usage } from '../prices/types.js';
import { hostOf } from './hosts.js';
import type { ResultReader } from './stainless.js';

/**
 * `@anthropic-ai/sdk` (0.x and 1.x): `messages.create` (plain and stream) and
 * `messages.stream()`, which calls `create`. Anthropic's `input_tokens` excludes cache reads
 * and writes; tokenmeter's input is the total, so they are added here (see semconv.ts).
 */

type Params = Record<string, any>;

export function describe(self: { _client?: { baseURL?: string } }, params: Params): CallSpec {
  return describeRequest(self?._client?.baseURL, params);
}

/** A Messages request body sent to `baseURL` (by the SDK, or through the gateway). */
export function describeRequest(baseURL: unknown, params: Params): CallSpec {
  const host = hostOf(baseURL, 'anthropic');
  return {
    provider: host.provider,
    operation: 'chat',
    requestModel: typeof params?.model === 'string' ? params.model : '',
    isStreaming: params?.stream === true,
    serverAddress: host.address,
    serverPort: host.port,
    maxTokens: params?.max_tokens,
    temperature: params?.temperature,
    topP: params?.top_p,
    input: params,
    readInput: inputMessages,
  };
}

function inputMessages(params: Params): { role: string; content: string }[] {
  const out: { role: string; content: string }[] = [];
  if (params?.system) out.push({ role: 'system', content: contentText(params.system) });
  if (Array.isArray(params?.messages)) {
    for (const m of params.messages)
      out.push({
        role: String(m?.role ?? 'user'),
        content: contentText(m?.content),
      });
  }
  return out;
}

/** Anthropic usage → tokenmeter usage (input made the total). */
export function anthropicUsage(u: any): Usage | undefined {
  if (!u || typeof u.input_tokens !== 'number') return undefined;
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  const usage: Usage = {
    inputTokens: u.input_tokens + cacheRead + cacheWrite,
    outputTokens: u.output_tokens ?? 0,
  };
  if (cacheRead) usage.cacheReadTokens = cacheRead;
  if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
  const write1h = u.cache_creation?.ephemeral_1h_input_tokens;
  if (write1h) usage.cacheWrite1hTokens = write1h;
  const thinking = u.output_tokens_details?.thinking_tokens;
  if (thinking) usage.reasoningTokens = thinking;
  // The web search server tool, billed per 1,000 searches beside the tokens.
  const searches = u.server_tool_use?.web_search_requests;
  if (typeof searches === 'number' && searches > 0) usage.webSearchCalls = searches;
  return usage;
}

/** Stream usage: message_start gives input and cache; message_delta the cumulative output (and, newer, input). */
interface StreamUsage {
  raw: Record<string, any>;
}
const streamState = new WeakMap<Call, StreamUsage>();

/**
 * One result line of a Message Batch (`messages.batches.results()`): a succeeded request is a
 * call billed at the batch price; the others (errored, canceled, expired) are not billed.
 */
export function batchResultCall(self: { _client?: { baseURL?: string } }, line: any): CallSpec | undefined {
  const message = line?.result?.type === 'succeeded' ? line.result.message : undefined;
  if (!message || typeof message.model !== 'string' || !message.usage) return undefined;
  const host = hostOf(self?._client?.baseURL, 'anthropic');
  return {
    provider: host.provider,
    operation: 'chat',
    requestModel: message.model,
    isStreaming: false,
    serverAddress: host.address,
    serverPort: host.port,
    batch: true,
  };
}

export const messagesReader: ResultReader = {
  read(data, call) {
    call.responseId = data?.id;
    call.responseModel = data?.model;
    if (data?.stop_reason) call.finishReasons = [data.stop_reason];
    call.usage = anthropicUsage(data?.usage);
    if (call.keepText && Array.isArray(data?.content)) call.outputText = contentText(data.content);
  },
  chunk(event, call) {
    switch (event?.type) {
      case 'message_start': {
        const m = event.message;
        call.responseId = m?.id;
        call.responseModel = m?.model;
        const raw = { ...m?.usage };
        streamState.set(call, { raw });
        call.usage = anthropicUsage(raw);
        break;
      }
      case 'content_block_delta':
        if (event.delta?.type === 'text_delta' && typeof event.delta.text === 'string')
          call.outputText += event.delta.text;
        break;
      case 'message_delta': {
        if (event.delta?.stop_reason) call.finishReasons = [event.delta.stop_reason];
        const state = streamState.get(call) ?? { raw: {} };
        for (const [k, v] of Object.entries(event.usage ?? {})) if (v !== null && v !== undefined) state.raw[k] = v;
        streamState.set(call, state);
        call.usage = anthropicUsage(state.raw);
        call.usageFinal = true;
        break;
      }
    }
    return true;
  },
};
