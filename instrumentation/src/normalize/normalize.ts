import * as S from '../semconv.js';
import type { Usage } from '../prices/types.js';
import { estimateUsageFromContent } from './estimate.js';
import type { AiCall, AttrValue, Attributes, Convention, SpanInput } from './types.js';

/**
 * Turn one span into an AI call, whichever GenAI convention produced it, or
 * return null when the span is not one AI call (an HTTP span, a Vercel AI SDK
 * wrapper span around the real provider call, an agent step…).
 *
 * Pure: no I/O, no clock. Token semantics follow semconv.ts (input includes cache).
 */
export function normalizeSpan(span: SpanInput): AiCall | null {
  const a = span.attributes;
  const convention = detectConvention(span);
  if (!convention) return null;
  const model = readModel(a, convention);
  const provider = readProvider(a, convention, model.request || model.response);
  // A span without usage is still a call: a failed one (an error in the rollups) with 0 tokens, as
  // providers bill no failed request; an answered one counted from its message content, marked
  // estimated. Without usage, error or content it cannot be counted.
  const usageProblems: string[] = [];
  const stated = readUsage(a, convention, INPUT_EXCLUDES_CACHE.has(`${convention}/${provider}`), usageProblems);
  const failed = isFailed(span);
  const estimatedUsage = stated || failed ? undefined : estimateUsageFromContent(a);
  const usage = stated ?? (failed ? { inputTokens: 0, outputTokens: 0 } : estimatedUsage);
  if (!usage) return null;
  const operation = readOperation(span, convention);
  const ttftSeconds = num(a[S.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]) ?? num(a['gen_ai.server.time_to_first_token']);
  const ttftMs = num(a[S.VERCEL_AI.msToFirstChunk]) ?? (ttftSeconds !== undefined ? ttftSeconds * 1000 : undefined);
  const meta = (key: string) => str(a[S.VERCEL_AI.telemetryMetadataPrefix + key]);
  const errorType = str(a[S.ATTR_ERROR_TYPE]) ?? '';
  return {
    convention,
    startTimeUnixNano: span.startTimeUnixNano,
    durationNs: span.endTimeUnixNano > span.startTimeUnixNano ? span.endTimeUnixNano - span.startTimeUnixNano : 0n,
    service: str(span.resource['service.name']) ?? 'unknown_service',
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    scopeName: span.scope.name,
    provider,
    operation,
    requestModel: model.request,
    responseModel: model.response,
    responseId: str(a[S.ATTR_GEN_AI_RESPONSE_ID]) ?? str(a[S.VERCEL_AI.responseId]) ?? '',
    finishReasons: readFinishReasons(a),
    tenant: first(str(a[S.ATTR_TM_TENANT]), str(span.resource[S.ATTR_TM_TENANT]), meta('tenant')) ?? '',
    userId: first(str(a[S.ATTR_USER_ID]), str(a['enduser.id']), meta('userId'), meta('user')) ?? '',
    team: first(str(a[S.ATTR_TM_TEAM]), meta('team')) ?? '',
    feature: first(str(a[S.ATTR_TM_FEATURE]), meta('feature')) ?? '',
    sessionId: first(str(a[S.ATTR_SESSION_ID]), str(a[S.ATTR_GEN_AI_CONVERSATION_ID]), meta('sessionId')) ?? '',
    requestId: first(str(a[S.ATTR_TM_REQUEST_ID]), meta('requestId')) ?? '',
    properties: readProperties(a),
    usage,
    ...(usageProblems.length > 0 ? { usageProblem: usageProblems.join('; ') } : {}),
    estimated: a[S.ATTR_TM_USAGE_ESTIMATED] === true || estimatedUsage !== undefined,
    isStreaming:
      a[S.ATTR_GEN_AI_REQUEST_STREAM] === true ||
      a[S.OPENLLMETRY.isStreaming] === true ||
      a[S.OPENLIT_REQUEST_IS_STREAM] === true ||
      /\.doStream$/.test(str(a[S.VERCEL_AI.operationId]) ?? ''),
    isBatch: a[S.ATTR_TM_BATCH] === true,
    spanCost: readSpanCost(a),
    spanUnpriced: a[S.ATTR_TM_UNPRICED] === true,
    ttftMs: ttftMs ?? null,
    // OpenTelemetry's 'unset' is what a success usually carries: a call is ok or an error.
    status: span.status.code === 2 || errorType ? 'error' : 'ok',
    errorType: errorType || (span.status.code === 2 ? 'error' : ''),
  };
}

/** `tokenmeter.property.<name>` attributes by name; a number or boolean as its text. */
function readProperties(a: Attributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in a) {
    if (!key.startsWith(S.ATTR_TM_PROPERTY_PREFIX)) continue;
    const v = a[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      out[key.slice(S.ATTR_TM_PROPERTY_PREFIX.length)] = String(v);
    }
  }
  return out;
}

/**
 * Which convention, or null when the span is not one AI call. Vercel AI SDK spans
 * come in pairs: `ai.generateText` wraps `ai.generateText.doGenerate`; only the
 * inner `do*` span is the provider call, so only it counts.
 */
export function detectConvention(span: SpanInput): Convention | null {
  const a = span.attributes;
  // An enclosing span whose call an inner, exact span records (see semconv ATTR_TM_CALL_DELEGATED).
  if (a[S.ATTR_TM_CALL_DELEGATED] === true) return null;
  const vercelOp = str(a[S.VERCEL_AI.operationId]);
  if (vercelOp !== undefined) return /\.do(Generate|Stream|Embed)$/.test(vercelOp) ? 'vercel_ai' : null;
  if (str(a[S.OPENINFERENCE.spanKind]) !== undefined) {
    const kind = str(a[S.OPENINFERENCE.spanKind]);
    return kind === 'LLM' || kind === 'EMBEDDING' ? 'openinference' : null;
  }
  if (a[S.OPENLIT_USAGE_COST] !== undefined && str(a[S.ATTR_GEN_AI_OPERATION_NAME]) !== undefined) return 'openlit';
  if (str(a[S.ATTR_GEN_AI_PROVIDER_NAME]) !== undefined) return isModelCall(a) ? 'gen_ai' : null;
  if (str(a[S.OPENLLMETRY.requestType]) !== undefined) return 'openllmetry';
  if (str(a[S.LEGACY_GEN_AI_SYSTEM]) !== undefined) return isModelCall(a) ? 'gen_ai_legacy' : null;
  return null;
}

function isFailed(span: SpanInput): boolean {
  return span.status.code === 2 || str(span.attributes[S.ATTR_ERROR_TYPE]) !== undefined;
}

/** Agent and tool spans carry gen_ai.* too, but they are not model calls. */
function isModelCall(a: Attributes): boolean {
  const op = str(a[S.ATTR_GEN_AI_OPERATION_NAME]);
  return op === undefined || !['execute_tool', 'create_agent', 'invoke_agent', 'invoke_workflow'].includes(op);
}

function readModel(a: Attributes, c: Convention): { request: string; response: string } {
  const request =
    first(
      str(a[S.ATTR_GEN_AI_REQUEST_MODEL]),
      c === 'openinference'
        ? first(str(a[S.OPENINFERENCE.modelName]), str(a[S.OPENINFERENCE.embeddingModelName]))
        : undefined,
      c === 'vercel_ai' ? str(a[S.VERCEL_AI.modelId]) : undefined,
    ) ?? '';
  const response =
    first(
      str(a[S.ATTR_GEN_AI_RESPONSE_MODEL]),
      c === 'openinference'
        ? first(str(a[S.OPENINFERENCE.modelName]), str(a[S.OPENINFERENCE.embeddingModelName]))
        : undefined,
      c === 'vercel_ai' ? str(a[S.VERCEL_AI.responseModel]) : undefined,
    ) ?? request;
  return { request: request || response, response };
}

const PROVIDER_IDS: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  'gcp.gen_ai': 'google',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  vertex_ai: 'google',
  vertexai: 'google',
  google: 'google',
  gemini: 'google',
  'google.generative-ai': 'google',
  'google.vertex': 'google',
  'aws.bedrock': 'bedrock',
  aws_bedrock: 'bedrock',
  bedrock: 'bedrock',
  'amazon-bedrock': 'bedrock',
  'azure.ai.openai': 'azure',
  az_ai_openai: 'azure',
  azure: 'azure',
  'azure-openai': 'azure',
  groq: 'groq',
  x_ai: 'xai',
  xai: 'xai',
  deepseek: 'deepseek',
  mistral_ai: 'mistral',
  mistralai: 'mistral',
  mistral: 'mistral',
  together_ai: 'together',
  togetherai: 'together',
  together: 'together',
  openrouter: 'openrouter',
  cohere: 'cohere',
  perplexity: 'perplexity',
};

/** tokenmeter's short provider id (as used in prices and rollups) from any convention's name. */
export function providerId(name: string): string {
  const lower = name.trim().toLowerCase();
  // Own keys only: a provider named "constructor" is not Object's constructor.
  if (Object.hasOwn(PROVIDER_IDS, lower)) return PROVIDER_IDS[lower]!;
  // Vercel AI SDK names a provider with its API flavour: "openai.chat", "anthropic.messages".
  const head = lower.split('.')[0] ?? lower;
  return Object.hasOwn(PROVIDER_IDS, head) ? PROVIDER_IDS[head]! : lower;
}

function readProvider(a: Attributes, c: Convention, model: string): string {
  const raw = first(
    str(a[S.ATTR_GEN_AI_PROVIDER_NAME]),
    c === 'vercel_ai' ? str(a[S.VERCEL_AI.modelProvider]) : undefined,
    c === 'openinference' ? first(str(a[S.OPENINFERENCE.provider]), str(a[S.OPENINFERENCE.system])) : undefined,
    str(a[S.LEGACY_GEN_AI_SYSTEM]),
  );
  if (raw) return providerId(raw);
  return /^(gpt-|o\d|text-embedding)/.test(model) ? 'openai' : /^claude/.test(model) ? 'anthropic' : 'unknown';
}

function readOperation(span: SpanInput, c: Convention): string {
  const a = span.attributes;
  const op = str(a[S.ATTR_GEN_AI_OPERATION_NAME]);
  if (op) return op;
  if (c === 'vercel_ai') return /doEmbed$/.test(str(a[S.VERCEL_AI.operationId]) ?? '') ? 'embeddings' : 'chat';
  if (c === 'openinference') return str(a[S.OPENINFERENCE.spanKind]) === 'EMBEDDING' ? 'embeddings' : 'chat';
  const type = str(a[S.OPENLLMETRY.requestType]);
  if (type === 'embedding') return 'embeddings';
  if (type === 'completion') return 'text_completion';
  return 'chat';
}

/**
 * Conventions whose input count leaves the cache out for a provider, as `convention/provider`.
 * openlit 1.15 copies Anthropic's raw input_tokens (cache excluded) to gen_ai.usage.input_tokens
 * (its instrumentation/anthropic/wrapper.js says so; test/conventions shows it with the real package).
 */
const INPUT_EXCLUDES_CACHE: ReadonlySet<string> = new Set(['openlit/anthropic']);

/**
 * Tokens from whichever names the convention uses; null when the span states no usage at all.
 * A count that is not a whole number (see tokenCount) is left out and named in `problems`:
 * the usage is then not to be trusted, and the ingest side rejects the span.
 */
function readUsage(a: Attributes, c: Convention, inputExcludesCache: boolean, problems: string[]): Usage | null {
  const get = (...keys: string[]) => {
    for (const k of keys) {
      const v = a[k];
      if (v === undefined || v === null) continue;
      const n = tokenCount(v);
      if (n === undefined) problems.push(`${k} = ${JSON.stringify(v)?.slice(0, 64)} is not a whole number of tokens`);
      return n;
    }
    return undefined;
  };
  let input: number | undefined;
  let output: number | undefined;
  let cacheRead: number | undefined;
  let cacheWrite: number | undefined;
  let reasoning: number | undefined;
  if (c === 'openinference') {
    input = get(S.OPENINFERENCE.promptTokens);
    output = get(S.OPENINFERENCE.completionTokens);
    cacheRead = get(S.OPENINFERENCE.cacheRead);
    cacheWrite = get(S.OPENINFERENCE.cacheWrite);
    reasoning = get(S.OPENINFERENCE.reasoning);
  } else if (c === 'vercel_ai') {
    input = get(S.ATTR_GEN_AI_USAGE_INPUT_TOKENS, S.VERCEL_AI.inputTokens, S.VERCEL_AI.promptTokens);
    output = get(S.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, S.VERCEL_AI.outputTokens, S.VERCEL_AI.completionTokens);
    cacheRead =
      get(
        S.VERCEL_AI.inputCacheReadTokens,
        S.VERCEL_AI.cachedInputTokens,
        S.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
      ) ?? openaiCachedPromptTokens(a[S.VERCEL_AI.providerMetadata]);
    cacheWrite = get(S.VERCEL_AI.inputCacheWriteTokens);
    reasoning = get(S.VERCEL_AI.reasoningTokens, S.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS);
    // embed spans: ai.usage.tokens only
    if (input === undefined) input = get(S.VERCEL_AI.tokens);
  } else {
    input = get(S.ATTR_GEN_AI_USAGE_INPUT_TOKENS, S.LEGACY_GEN_AI_USAGE_PROMPT_TOKENS);
    output = get(S.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, S.LEGACY_GEN_AI_USAGE_COMPLETION_TOKENS);
    cacheRead = get(S.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, S.OPENLLMETRY.cacheReadInputTokens);
    cacheWrite = get(
      S.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
      S.ANTHROPIC_SDK.cacheWriteInputTokens,
      S.OPENLLMETRY.cacheCreationInputTokens,
    );
    reasoning = get(S.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, S.OPENLLMETRY.reasoningTokens);
  }
  if (input === undefined && output === undefined && problems.length === 0) return null;
  if (inputExcludesCache) input = (input ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0);
  const usage: Usage = { inputTokens: input ?? 0, outputTokens: output ?? 0 };
  if (cacheRead) usage.cacheReadTokens = cacheRead;
  if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
  const write1h = get(S.ATTR_TM_USAGE_CACHE_CREATION_1H_INPUT_TOKENS, S.ANTHROPIC_SDK.cacheWrite1hInputTokens);
  if (write1h) usage.cacheWrite1hTokens = write1h;
  if (reasoning) usage.reasoningTokens = reasoning;
  const audioIn = get(S.ATTR_GEN_AI_USAGE_AUDIO_INPUT_TOKENS, S.OPENINFERENCE.audioPrompt);
  const audioOut = get(S.ATTR_GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS, S.OPENINFERENCE.audioCompletion);
  if (audioIn) usage.inputAudioTokens = audioIn;
  if (audioOut) usage.outputAudioTokens = audioOut;
  const cachedAudio = get(S.ATTR_TM_USAGE_CACHE_READ_AUDIO_INPUT_TOKENS);
  if (cachedAudio) usage.cacheAudioReadTokens = cachedAudio;
  const audioSeconds = get(S.ATTR_TM_USAGE_AUDIO_INPUT_SECONDS);
  if (audioSeconds) usage.audioSeconds = audioSeconds;
  const characters = get(S.ATTR_TM_USAGE_INPUT_CHARACTERS);
  if (characters) usage.inputCharacters = characters;
  const webSearches = get(S.ATTR_TM_USAGE_WEB_SEARCH_CALLS);
  if (webSearches) usage.webSearchCalls = webSearches;
  const fileSearches = get(S.ATTR_TM_USAGE_FILE_SEARCH_CALLS);
  if (fileSearches) usage.fileSearchCalls = fileSearches;
  return usage;
}

/** ai@4 + @ai-sdk/openai: cache reads live only in the provider metadata JSON (included in promptTokens). */
function openaiCachedPromptTokens(metadata: AttrValue | undefined): number | undefined {
  if (typeof metadata !== 'string') return undefined;
  try {
    const cached = (JSON.parse(metadata) as { openai?: { cachedPromptTokens?: unknown } })?.openai?.cachedPromptTokens;
    return typeof cached === 'number' && Number.isInteger(cached) && cached >= 0 ? cached : undefined;
  } catch {
    return undefined;
  }
}

function readFinishReasons(a: Attributes): string[] {
  const v = a[S.ATTR_GEN_AI_RESPONSE_FINISH_REASONS];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  const single = str(v) ?? str(a[S.VERCEL_AI.finishReason]);
  return single ? [single] : [];
}

function readSpanCost(a: Attributes): AiCall['spanCost'] {
  const amount = a[S.ATTR_GEN_AI_USAGE_COST_AMOUNT];
  if (amount !== undefined && amount !== null) {
    const usd = decimalString(amount);
    return {
      usd,
      priceId: str(a[S.ATTR_TM_PRICE_ID]) ?? str(a[S.ATTR_GEN_AI_USAGE_COST_SOURCE]) ?? 'span',
      priceVersion: str(a[S.ATTR_TM_PRICE_VERSION]) ?? '',
    };
  }
  const openlit = a[S.OPENLIT_USAGE_COST];
  // OpenLIT writes 0 when its price table lacks the model (openlit 1.15 helpers.getChatModelCost),
  // so 0 means "not priced", never a real $0: leave it to the ingest side.
  if (typeof openlit === 'number' && openlit !== 0) {
    return { usd: decimalString(openlit), priceId: 'openlit', priceVersion: '' };
  }
  return undefined;
}

/**
 * The cost as a decimal string: a finite non-negative number with ≤ 12 decimals, a string as
 * sent (trimmed). Anything else is returned as its text too (NaN, -1, true, [1]): whether a
 * claim is believed is the ingest side's decision, which refuses and counts what is not an
 * amount rather than ignoring it.
 */
function decimalString(v: AttrValue): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return String(v);
    return v.toFixed(12).replace(/\.?0+$/, '') || '0';
  }
  if (typeof v === 'string') return v.trim();
  return JSON.stringify(v);
}

function str(v: AttrValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  return undefined;
}

/**
 * A token count: an integer (a JSON number, or decimal digits — int64 arrives as a string in
 * OTLP/JSON), else undefined. NaN, ±Infinity, -0, fractions, "0x10", "1e3", booleans, arrays
 * and maps are not counts. Range (negative, absurd) is the ingest side's check.
 */
function tokenCount(v: AttrValue): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? v : undefined;
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v) && v !== '-0') return Number(v);
  return undefined;
}

/** A number attribute, or a numeric string (int64 arrives as a string in OTLP/JSON). */
function num(v: AttrValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function first(...values: (string | undefined)[]): string | undefined {
  for (const v of values) if (v) return v;
  return undefined;
}
