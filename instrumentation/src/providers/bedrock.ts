import type { Call, CallSpec } from '../core/call.js';
import { contentText } from '../core/privacy.js';
import type { Usage } from '../prices/types.js';
import { anthropicUsage, messagesReader } from './anthropic.js';

/**
 * `@aws-sdk/client-bedrock-runtime`: Converse, ConverseStream, InvokeModel and
 * InvokeModelWithResponseStream, recognised by the command's class. Converse's `inputTokens`
 * excludes cache reads and writes (as Anthropic's); tokenmeter's input is the total.
 *
 * InvokeModel bodies are the model family's own format (Bedrock user guide, "Inference request
 * parameters and response fields for foundation models"): tokens come from the body where the
 * family reports them (Claude Messages, Nova, Llama, Titan text and embeddings, AI21 Jamba), else
 * from Bedrock's `x-amzn-bedrock-*-token-count` response headers (every family: Claude text
 * completions, Mistral, Cohere Command and Embed), and in streams from the last chunk's
 * `amazon-bedrock-invocationMetrics`; estimated (and flagged) only when none of these exists.
 */

export type BedrockKind = 'converse' | 'converse-stream' | 'invoke' | 'invoke-stream';

const KINDS: Readonly<Record<string, BedrockKind>> = {
  ConverseCommand: 'converse',
  ConverseStreamCommand: 'converse-stream',
  InvokeModelCommand: 'invoke',
  InvokeModelWithResponseStreamCommand: 'invoke-stream',
};

export function kindOf(command: unknown): BedrockKind | undefined {
  const name = (command as { constructor?: { name?: string } })?.constructor?.name;
  return name ? KINDS[name] : undefined;
}

const decoder = new TextDecoder();

function invokeBody(input: any): any {
  const body = input?.body;
  if (body === undefined) return undefined;
  try {
    return JSON.parse(typeof body === 'string' ? body : decoder.decode(body));
  } catch {
    return undefined;
  }
}

export function describe(command: any, kind: BedrockKind): CallSpec {
  const input = command?.input ?? {};
  const isInvoke = kind === 'invoke' || kind === 'invoke-stream';
  const inference = isInvoke ? undefined : input.inferenceConfig;
  const modelId = typeof input.modelId === 'string' ? input.modelId : '';
  return {
    provider: 'bedrock',
    // Titan and Cohere embedding models through InvokeModel.
    operation: isInvoke && /\.(titan-)?embed/.test(modelId) ? 'embeddings' : 'chat',
    requestModel: modelId,
    isStreaming: kind === 'converse-stream' || kind === 'invoke-stream',
    maxTokens: inference?.maxTokens,
    temperature: inference?.temperature,
    topP: inference?.topP,
    input,
    readInput: isInvoke ? invokeInput : inputMessages,
  };
}

function invokeInput(input: any): { role: string; content: string }[] {
  return inputMessages(invokeBody(input));
}

function inputMessages(x: any): { role: string; content: string }[] {
  const out: { role: string; content: string }[] = [];
  if (!x) return out;
  if (x.system) out.push({ role: 'system', content: contentText(x.system) });
  if (Array.isArray(x.messages)) {
    for (const m of x.messages)
      out.push({
        role: String(m?.role ?? 'user'),
        content: contentText(m?.content),
      });
  } else if (typeof x.prompt === 'string') out.push({ role: 'user', content: x.prompt });
  // Titan (inputText), Cohere Command (message) and Cohere Embed (texts).
  else if (typeof x.inputText === 'string') out.push({ role: 'user', content: x.inputText });
  else if (typeof x.message === 'string') out.push({ role: 'user', content: x.message });
  else if (Array.isArray(x.texts)) out.push({ role: 'user', content: x.texts.join('\n') });
  return out;
}

export function converseUsage(u: any): Usage | undefined {
  if (!u || typeof u.inputTokens !== 'number') return undefined;
  const cacheRead = u.cacheReadInputTokens ?? 0;
  const cacheWrite = u.cacheWriteInputTokens ?? 0;
  const usage: Usage = {
    inputTokens: u.inputTokens + cacheRead + cacheWrite,
    outputTokens: u.outputTokens ?? 0,
  };
  if (cacheRead) usage.cacheReadTokens = cacheRead;
  if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
  if (Array.isArray(u.cacheDetails)) {
    let oneHour = 0;
    for (const d of u.cacheDetails) if (d?.ttl === '1h') oneHour += d.inputTokens ?? 0;
    if (oneHour) usage.cacheWrite1hTokens = oneHour;
  }
  return usage;
}

/** Bedrock's own invocation metrics (InvokeModel streams): input excludes cache, as Converse. */
function metricsUsage(m: any): Usage | undefined {
  if (!m || typeof m.inputTokenCount !== 'number') return undefined;
  return converseUsage({
    inputTokens: m.inputTokenCount,
    outputTokens: m.outputTokenCount,
    cacheReadInputTokens: m.cacheReadInputTokenCount,
    cacheWriteInputTokens: m.cacheWriteInputTokenCount,
  });
}

/** The token counts Bedrock puts in every InvokeModel answer's headers (read by the client middleware). */
export interface TokenCountHeaders {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
}

const HEADER_KEYS: Readonly<Record<string, keyof TokenCountHeaders>> = {
  'x-amzn-bedrock-input-token-count': 'input',
  'x-amzn-bedrock-output-token-count': 'output',
  'x-amzn-bedrock-cache-read-input-token-count': 'cacheRead',
  'x-amzn-bedrock-cache-write-input-token-count': 'cacheWrite',
};

/** Bedrock's token-count headers of a raw HTTP response, or undefined without them. */
export function tokenCountHeaders(headers: Record<string, unknown> | undefined): TokenCountHeaders | undefined {
  if (!headers) return undefined;
  let out: TokenCountHeaders | undefined;
  for (const [name, value] of Object.entries(headers)) {
    const key = HEADER_KEYS[name.toLowerCase()];
    const n = key ? Number(value) : Number.NaN;
    if (key && Number.isSafeInteger(n) && n >= 0) (out ??= {})[key] = n;
  }
  return out?.input === undefined ? undefined : out;
}

function headerUsage(h: TokenCountHeaders | undefined): Usage | undefined {
  if (!h) return undefined;
  return converseUsage({
    inputTokens: h.input,
    outputTokens: h.output ?? 0,
    cacheReadInputTokens: h.cacheRead,
    cacheWriteInputTokens: h.cacheWrite,
  });
}

const sum = (xs: unknown[], f: (x: any) => unknown) =>
  xs.reduce<number>((a, x) => a + (typeof f(x) === 'number' ? (f(x) as number) : 0), 0);

/** Usage from an InvokeModel body (or stream chunk) in the formats of the families that report it. */
export function invokeUsage(b: any): Usage | undefined {
  if (!b || typeof b !== 'object') return undefined;
  const u = b.usage;
  // Claude Messages.
  if (u && typeof u.input_tokens === 'number') return anthropicUsage(u);
  // Amazon Nova: input excludes cache, as Converse; InvokeModel names the cache counts …TokenCount.
  if (u && typeof u.inputTokens === 'number') {
    return converseUsage({
      ...u,
      cacheReadInputTokens: u.cacheReadInputTokens ?? u.cacheReadInputTokenCount,
      cacheWriteInputTokens: u.cacheWriteInputTokens ?? u.cacheWriteInputTokenCount,
    });
  }
  // AI21 Jamba (OpenAI-style usage).
  if (u && typeof u.prompt_tokens === 'number') {
    return { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens ?? 0 };
  }
  // Meta Llama.
  if (typeof b.prompt_token_count === 'number') {
    return { inputTokens: b.prompt_token_count, outputTokens: b.generation_token_count ?? 0 };
  }
  // Amazon Titan text (results[].tokenCount) and embeddings (no output).
  if (typeof b.inputTextTokenCount === 'number') {
    const results = Array.isArray(b.results) ? b.results : [];
    return { inputTokens: b.inputTextTokenCount, outputTokens: sum(results, (r) => r?.tokenCount) };
  }
  return undefined;
}

/** The answer's text in any family's body or stream chunk (for estimation and capture). */
function invokeText(b: any): string {
  if (!b || typeof b !== 'object') return '';
  if (Array.isArray(b.content)) return contentText(b.content);
  if (typeof b.completion === 'string') return b.completion;
  if (typeof b.generation === 'string') return b.generation;
  if (typeof b.outputText === 'string') return b.outputText;
  if (typeof b.text === 'string') return b.text;
  if (Array.isArray(b.results)) return b.results.map((r: any) => r?.outputText ?? '').join('');
  if (Array.isArray(b.outputs)) return b.outputs.map((o: any) => o?.text ?? '').join('');
  if (Array.isArray(b.choices))
    return b.choices.map((c: any) => c?.message?.content ?? c?.delta?.content ?? '').join('');
  if (Array.isArray(b.output?.message?.content)) return contentText(b.output.message.content);
  if (typeof b.contentBlockDelta?.delta?.text === 'string') return b.contentBlockDelta.delta.text;
  return '';
}

/** The stop reason in any family's words. */
function invokeFinish(b: any): string | undefined {
  const first = (xs: unknown) => (Array.isArray(xs) ? xs[0] : undefined) as any;
  const r =
    b?.stop_reason ??
    b?.stopReason ??
    b?.messageStop?.stopReason ??
    b?.completionReason ??
    b?.finish_reason ??
    first(b?.results)?.completionReason ??
    first(b?.outputs)?.stop_reason ??
    first(b?.choices)?.finish_reason;
  return typeof r === 'string' && r ? r : undefined;
}

export function readConverse(r: any, call: Call): void {
  if (r?.$metadata?.requestId) call.responseId = r.$metadata.requestId;
  if (r?.stopReason) call.finishReasons = [r.stopReason];
  call.usage = converseUsage(r?.usage);
  const content = r?.output?.message?.content;
  if (call.keepText && Array.isArray(content)) call.outputText = contentText(content);
}

export function readConverseEvent(e: any, call: Call): boolean {
  if (e?.contentBlockDelta?.delta?.text) call.outputText += e.contentBlockDelta.delta.text;
  else if (e?.messageStop?.stopReason) call.finishReasons = [e.messageStop.stopReason];
  else if (e?.metadata?.usage) {
    call.usage = converseUsage(e.metadata.usage);
    call.usageFinal = true;
  }
  return true;
}

export function readInvoke(r: any, call: Call, headers?: TokenCountHeaders): void {
  if (r?.$metadata?.requestId) call.responseId = r.$metadata.requestId;
  const body = invokeBody(r);
  if (body?.id) call.responseId = body.id;
  if (typeof body?.model === 'string' && Array.isArray(body.content)) call.responseModel = body.model;
  const reason = invokeFinish(body);
  if (reason) call.finishReasons = [reason];
  call.usage = invokeUsage(body) ?? headerUsage(headers);
  if (call.keepText) call.outputText = invokeText(body);
}

export function readInvokeEvent(e: any, call: Call): boolean {
  const bytes = e?.chunk?.bytes;
  if (!bytes) return true;
  const event = JSON.parse(decoder.decode(bytes));
  if (typeof event?.type === 'string' && event.type !== 'completion') messagesReader.chunk(event, call);
  else {
    call.outputText += invokeText(event);
    const reason = invokeFinish(event);
    if (reason) call.finishReasons = [reason];
    // A family's own counts in a chunk are provisional (Llama's and Titan's grow chunk by chunk).
    const own = invokeUsage(event) ?? invokeUsage(event?.metadata);
    if (own) call.usage = own;
  }
  const metrics = metricsUsage(event?.['amazon-bedrock-invocationMetrics']);
  // Bedrock's metrics come with the last chunk and count the whole call; only Anthropic's own
  // closing count (message_delta, which knows the 1-hour cache split) stays ahead of them.
  if (metrics && !call.usageFinal) call.usage = metrics;
  if (metrics) call.usageFinal = true;
  return true;
}
