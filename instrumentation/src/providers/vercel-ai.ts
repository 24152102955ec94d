import type { Call, CallSpec } from '../core/call.js';
import { contentText } from '../core/privacy.js';
import { providerId } from '../normalize/normalize.js';
import type { Usage } from '../prices/types.js';
import type { GenAiOperation } from '../semconv.js';

/**
 * Vercel `ai` v5+ models (LanguageModelV2/V3, EmbeddingModelV2/V3): what `doGenerate`,
 * `doStream` and `doEmbed` report. V3 usage is structured (input total with cache parts,
 * output total with reasoning); V2 is flat (cachedInputTokens, reasoningTokens).
 * AI Gateway models (provider `gateway`) are named `creator/model`: the call is the creator's
 * model (priced as such), routed through the gateway.
 */

interface ModelLike {
  provider?: string;
  modelId?: string;
}

const GATEWAY = 'gateway';

/** tokenmeter's provider and model for an ai SDK model: a gateway slug `openai/gpt-4o-mini` → openai, gpt-4o-mini. */
export function modelOf(model: ModelLike): { provider: string; model: string } {
  const provider = String(model?.provider ?? 'unknown');
  const id = String(model?.modelId ?? '');
  const slash = id.indexOf('/');
  if (provider === GATEWAY && slash > 0)
    return { provider: providerId(id.slice(0, slash)), model: id.slice(slash + 1) };
  return { provider: providerId(provider), model: id };
}

/** A response model named as a gateway slug of the call's own provider loses the prefix. */
function responseModelOf(id: string, call: Call): string {
  const slash = id.indexOf('/');
  return slash > 0 && providerId(id.slice(0, slash)) === call.spec.provider ? id.slice(slash + 1) : id;
}

export function describe(model: ModelLike, options: any, operation: GenAiOperation, isStreaming: boolean): CallSpec {
  const target = modelOf(model);
  return {
    provider: target.provider,
    operation,
    requestModel: target.model,
    isStreaming,
    maxTokens: options?.maxOutputTokens,
    temperature: options?.temperature,
    topP: options?.topP,
    input: options,
    readInput: inputMessages,
  };
}

function inputMessages(options: any): { role: string; content: string }[] {
  if (Array.isArray(options?.values)) return [{ role: 'user', content: options.values.map(String).join('\n') }];
  const prompt = options?.prompt;
  if (!Array.isArray(prompt)) return [];
  return prompt.map((m: any) => ({
    role: String(m?.role ?? 'user'),
    content: contentText(m?.content),
  }));
}

const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function aiUsage(u: any): Usage | undefined {
  if (!u) return undefined;
  if (u.inputTokens && typeof u.inputTokens === 'object') {
    const i = u.inputTokens;
    const o = u.outputTokens ?? {};
    if (i.total === undefined && o.total === undefined) return undefined;
    const usage: Usage = {
      inputTokens: n(i.total) || n(i.noCache) + n(i.cacheRead) + n(i.cacheWrite),
      outputTokens: n(o.total) || n(o.text) + n(o.reasoning),
    };
    if (n(i.cacheRead)) usage.cacheReadTokens = n(i.cacheRead);
    if (n(i.cacheWrite)) usage.cacheWriteTokens = n(i.cacheWrite);
    if (n(o.reasoning)) usage.reasoningTokens = n(o.reasoning);
    return usage;
  }
  if (typeof u.inputTokens !== 'number' && typeof u.outputTokens !== 'number') return undefined;
  const usage: Usage = {
    inputTokens: n(u.inputTokens),
    outputTokens: n(u.outputTokens),
  };
  if (n(u.cachedInputTokens)) usage.cacheReadTokens = n(u.cachedInputTokens);
  if (n(u.reasoningTokens)) usage.reasoningTokens = n(u.reasoningTokens);
  return usage;
}

function finishReason(r: unknown): string | undefined {
  if (typeof r === 'string') return r;
  const x = r as { unified?: string; raw?: string } | undefined;
  return x?.unified ?? x?.raw;
}

/** The gateway's generation id, where the model reports no response id of its own. */
function generationId(providerMetadata: any): string | undefined {
  const id = providerMetadata?.gateway?.generationId;
  return typeof id === 'string' ? id : undefined;
}

export function readGenerate(result: any, call: Call): void {
  const id = result?.response?.id ?? generationId(result?.providerMetadata);
  if (id) call.responseId = id;
  if (result?.response?.modelId) call.responseModel = responseModelOf(String(result.response.modelId), call);
  const reason = finishReason(result?.finishReason);
  if (reason) call.finishReasons = [reason];
  call.usage = aiUsage(result?.usage);
  if (Array.isArray(result?.content)) {
    for (const c of result.content) if (c?.type === 'text' && typeof c.text === 'string') call.outputText += c.text;
  }
}

export function readStreamPart(part: any, call: Call): boolean {
  switch (part?.type) {
    case 'response-metadata':
      if (part.id) call.responseId = part.id;
      if (part.modelId) call.responseModel = responseModelOf(String(part.modelId), call);
      break;
    case 'text-delta':
      call.outputText += part.delta ?? part.textDelta ?? '';
      break;
    case 'error':
      call.partial = true;
      break;
    case 'finish': {
      const reason = finishReason(part.finishReason);
      if (reason) call.finishReasons = [reason];
      call.usage = aiUsage(part.usage);
      call.usageFinal = true;
      if (!call.responseId) call.responseId = generationId(part.providerMetadata);
      break;
    }
  }
  return true;
}

export function readEmbed(result: any, call: Call): void {
  const tokens = result?.usage?.tokens;
  if (typeof tokens === 'number') call.usage = { inputTokens: tokens, outputTokens: 0 };
  const id = result?.response?.id ?? generationId(result?.providerMetadata);
  if (id) call.responseId = id;
}
