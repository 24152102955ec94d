import type { Call, CallSpec } from '../core/call.js';
import { contentText } from '../core/privacy.js';
import type { Usage } from '../prices/types.js';
import { anthropicUsage, messagesReader } from './anthropic.js';

/**
 * `@aws-sdk/client-bedrock-runtime`: Converse, ConverseStream, InvokeModel and
 * InvokeModelWithResponseStream, recognised by the command's class. Converse's `inputTokens`
 * excludes cache reads and writes (as Anthropic's); tokenmeter's input is the total.
 * InvokeModel bodies are the model family's own format: Anthropic, Amazon Nova, Meta Llama.
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
  return {
    provider: 'bedrock',
    operation: 'chat',
    requestModel: typeof input.modelId === 'string' ? input.modelId : '',
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

/** Usage from an InvokeModel body in any of the families' formats. */
export function invokeUsage(b: any): Usage | undefined {
  if (!b) return undefined;
  if (b.usage && typeof b.usage.input_tokens === 'number') return anthropicUsage(b.usage);
  if (b.usage && typeof b.usage.inputTokens === 'number') return converseUsage(b.usage);
  if (typeof b.prompt_token_count === 'number') {
    return {
      inputTokens: b.prompt_token_count,
      outputTokens: b.generation_token_count ?? 0,
    };
  }
  return undefined;
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

export function readInvoke(r: any, call: Call): void {
  if (r?.$metadata?.requestId) call.responseId = r.$metadata.requestId;
  const body = invokeBody(r);
  if (!body) return;
  if (body.id) call.responseId = body.id;
  if (body.model) call.responseModel = body.model;
  const reason = body.stop_reason ?? body.stopReason;
  if (reason) call.finishReasons = [reason];
  call.usage = invokeUsage(body);
  if (call.keepText && Array.isArray(body.content)) call.outputText = contentText(body.content);
}

export function readInvokeEvent(e: any, call: Call): boolean {
  const bytes = e?.chunk?.bytes;
  if (!bytes) return true;
  const event = JSON.parse(decoder.decode(bytes));
  if (typeof event?.type === 'string') messagesReader.chunk(event, call);
  const metrics = metricsUsage(event?.['amazon-bedrock-invocationMetrics']);
  // Anthropic's own events know the 1-hour cache split; Bedrock's metrics are the fallback.
  if (metrics && !call.usage) call.usage = metrics;
  // Bedrock's metrics come with the last event: what is known then is final.
  if (metrics) call.usageFinal = true;
  return true;
}
