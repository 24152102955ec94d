import { type Attributes, type Context, context, type Span, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { priceCall } from '../prices/engine.js';
import { CALL_KEY } from './call-key.js';
import type { Usage } from '../prices/types.js';
import * as S from '../semconv.js';
import { settings } from './config.js';
import { estimateTokens } from './estimate.js';
import { recordFault } from './faults.js';
import { metricsEnabled, recordCallMetrics } from './metrics.js';
import { messagesAttribute } from './privacy.js';
import { currentTracer } from './tracer.js';
import { usageAttributes } from './usage-context.js';

/** What an adapter says about a call before it is made. */
export interface CallSpec {
  /** tokenmeter provider id (openai, anthropic, google, bedrock, groq, azure, …). */
  provider: string;
  operation: S.GenAiOperation;
  requestModel: string;
  isStreaming: boolean;
  serverAddress?: string;
  serverPort?: number;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  batch?: boolean;
  /** The request, and how to read its prompt as messages: only when usage must be estimated or
   * content is captured (a static function, so that describing a call allocates no closure). */
  input?: unknown;
  readInput?: (input: any) => { role: string; content: string }[];
}

/**
 * One AI call: its span from start to end. Shared by every provider; adapters only feed it
 * usage, response fields and chunks. `end` is idempotent and never throws.
 */
export class Call {
  usage: Usage | undefined;
  responseModel: string | undefined;
  responseId: string | undefined;
  finishReasons: string[] | undefined;
  /** Output text seen so far: kept only for estimation or capture. */
  outputText = '';
  keepText: boolean;
  /** An inner span recorded this call exactly: this one must not be counted. */
  delegated = false;
  /** The stream ended before the provider said it was done (abort, break, error). */
  partial = false;
  retries = 0;
  /** The usage is the provider's final count (a stream's closing event), not an early provisional one. */
  usageFinal = false;
  /** Set when the span ends because the app dropped the stream (see stream.ts): when it arrived. */
  droppedSince: number | undefined;
  private firstChunkAt = 0;
  private ended = false;
  readonly ctx: Context;
  readonly startedAt: number;
  /** Wall-clock start: the call is priced at the price in force then (as ingest and reprice do). */
  readonly startedAtMs = Date.now();

  constructor(
    readonly spec: CallSpec,
    readonly span: Span,
    parentCtx: Context,
    readonly parent: Call | undefined,
  ) {
    this.startedAt = performance.now();
    this.ctx = trace.setSpan(parentCtx, span).setValue(CALL_KEY, this);
    this.keepText = settings.captureMessageContent;
  }

  /** Mark a stream chunk (records time to first chunk). */
  chunk(): void {
    if (this.firstChunkAt === 0) this.firstChunkAt = performance.now();
  }

  isEnded(): boolean {
    return this.ended;
  }

  /** End the span with what was seen. `error` is the app-visible error, if the call failed. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.finish(error);
    } catch (err) {
      recordFault('call.end', err);
      try {
        this.span.end();
      } catch {}
    }
  }

  private finish(error: unknown): void {
    const span = this.span;
    const spec = this.spec;
    if (this.responseModel) span.setAttribute(S.ATTR_GEN_AI_RESPONSE_MODEL, this.responseModel);
    if (this.responseId) span.setAttribute(S.ATTR_GEN_AI_RESPONSE_ID, this.responseId);
    if (this.finishReasons && this.finishReasons.length > 0) {
      span.setAttribute(S.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, this.finishReasons);
    }
    if (this.firstChunkAt !== 0) {
      span.setAttribute(S.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, (this.firstChunkAt - this.startedAt) / 1000);
    }
    if (this.retries > 0) span.setAttribute(S.ATTR_TM_RETRY_COUNT, this.retries);
    let usage = this.usage;
    let estimated = false;
    if (!usage && (this.partial || (!error && !this.delegated))) {
      usage = this.estimate();
      estimated = usage !== undefined;
    } else if (usage && this.partial && !this.usageFinal) {
      // Usage a stream sends early (Anthropic's message_start, Gemini's chunks, Bedrock's invoke
      // stream) is provisional: cut short, the output seen may already exceed it.
      const seen = this.estimateOutput();
      if (seen > usage.outputTokens) {
        usage = { ...usage, outputTokens: seen };
        estimated = true;
      }
    }
    let costUsd: string | undefined;
    if (this.delegated) {
      span.setAttribute(S.ATTR_TM_CALL_DELEGATED, true);
    } else if (usage) {
      setUsageAttributes(span, usage);
      if (estimated) span.setAttribute(S.ATTR_TM_USAGE_ESTIMATED, true);
      costUsd = this.price(usage);
      // The inner exact record wins over any enclosing call of ours (ai SDK → provider SDK).
      if (this.parent && !estimated) this.parent.delegated = true;
    }
    if (this.keepText && settings.captureMessageContent) this.captureContent();
    if (error !== undefined) {
      span.setAttribute(S.ATTR_ERROR_TYPE, errorType(error));
      span.setStatus({
        code: 2,
        message: error instanceof Error ? error.message : String(error),
      });
    }
    if (this.droppedSince !== undefined) {
      span.setAttribute(S.ATTR_TM_STREAM_DROPPED, true);
      // Nothing read: the call ended, for the app, when the stream was handed over.
      span.end(this.firstChunkAt === 0 ? this.droppedSince : undefined);
    } else span.end();
    if (!metricsEnabled()) return;
    const durationSeconds = (performance.now() - this.startedAt) / 1000;
    recordCallMetrics({
      attributes: metricAttributes(spec, this.responseModel, error),
      durationSeconds,
      inputTokens: this.delegated ? undefined : usage?.inputTokens,
      outputTokens: this.delegated ? undefined : usage?.outputTokens,
      costUsd: costUsd === undefined ? undefined : Number(costUsd),
    });
  }

  private price(usage: Usage): string | undefined {
    const result = priceCall({
      provider: this.spec.provider,
      model: this.spec.requestModel,
      responseModel: this.responseModel,
      usage,
      timestamp: new Date(this.startedAtMs),
      batch: this.spec.batch,
    });
    if (result.priced) return this.setCost(result.costUsd, result.priceId, result.priceVersion);
    this.span.setAttribute(S.ATTR_TM_UNPRICED, true);
    return undefined;
  }

  private setCost(costUsd: string, priceId: string, priceVersion: string): string {
    const span = this.span;
    // A decimal string: exact, and what the ingest normaliser reads first.
    span.setAttribute(S.ATTR_GEN_AI_USAGE_COST_AMOUNT, costUsd);
    span.setAttribute(S.ATTR_GEN_AI_USAGE_COST_CURRENCY, S.COST_CURRENCY_USD);
    span.setAttribute(S.ATTR_GEN_AI_USAGE_COST_SOURCE, 'span');
    span.setAttribute(S.ATTR_TM_PRICE_ID, priceId);
    span.setAttribute(S.ATTR_TM_PRICE_VERSION, priceVersion);
    return costUsd;
  }

  private estimate(): Usage | undefined {
    try {
      const read = this.spec.readInput;
      const input = read ? estimateTokens(read(this.spec.input).reduce((s, m) => `${s}${m.content}\n`, '')) : 0;
      const output = estimateTokens(this.outputText);
      if (input === 0 && output === 0) return undefined;
      return { inputTokens: input, outputTokens: output };
    } catch (err) {
      recordFault('call.estimate', err);
      return undefined;
    }
  }

  private estimateOutput(): number {
    try {
      return estimateTokens(this.outputText);
    } catch (err) {
      recordFault('call.estimate', err);
      return 0;
    }
  }

  private captureContent(): void {
    const span = this.span;
    if (this.spec.readInput) {
      span.setAttribute(S.ATTR_GEN_AI_INPUT_MESSAGES, messagesAttribute(this.spec.readInput(this.spec.input)));
    }
    if (this.outputText) {
      span.setAttribute(
        S.ATTR_GEN_AI_OUTPUT_MESSAGES,
        messagesAttribute([{ role: 'assistant', content: this.outputText }]),
      );
    }
  }
}

/**
 * Start a call's span as a child of the active context. Attribution from the usage context and
 * W3C baggage goes on at start, so samplers see it too. `tracer`: the gateway's own (it records
 * calls of other processes); the instrumentation's calls go to the app's.
 */
export function startCall(spec: CallSpec, parentCtx: Context = context.active(), tracer?: Tracer): Call {
  const attributes: Attributes = {
    [S.ATTR_GEN_AI_OPERATION_NAME]: spec.operation,
    [S.ATTR_GEN_AI_PROVIDER_NAME]: S.GEN_AI_PROVIDER_NAMES[spec.provider] ?? spec.provider,
    [S.ATTR_GEN_AI_REQUEST_MODEL]: spec.requestModel,
  };
  if (spec.isStreaming) attributes[S.ATTR_GEN_AI_REQUEST_STREAM] = true;
  if (spec.serverAddress) attributes[S.ATTR_SERVER_ADDRESS] = spec.serverAddress;
  if (spec.serverPort) attributes[S.ATTR_SERVER_PORT] = spec.serverPort;
  if (spec.maxTokens !== undefined) attributes[S.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = spec.maxTokens;
  if (spec.temperature !== undefined) attributes[S.ATTR_GEN_AI_REQUEST_TEMPERATURE] = spec.temperature;
  if (spec.topP !== undefined) attributes[S.ATTR_GEN_AI_REQUEST_TOP_P] = spec.topP;
  if (spec.batch) attributes[S.ATTR_TM_BATCH] = true;
  const usageAttrs = usageAttributes(parentCtx);
  for (const k in usageAttrs) attributes[k] = usageAttrs[k];
  const span = (tracer ?? currentTracer()).startSpan(
    spec.requestModel ? `${spec.operation} ${spec.requestModel}` : spec.operation,
    { kind: SpanKind.CLIENT, attributes },
    parentCtx,
  );
  const parent = parentCtx.getValue(CALL_KEY) as Call | undefined;
  if (!parent) markForeignParent(parentCtx);
  return new Call(spec, span, parentCtx, parent);
}

/** The call of ours in progress in `ctx`, if any. */
export function activeCall(ctx: Context = context.active()): Call | undefined {
  return ctx.getValue(CALL_KEY) as Call | undefined;
}

/**
 * A GenAI call span from another instrumentation (the `ai` SDK's doGenerate, for instance)
 * enclosing ours describes the same call: mark it so that it is never counted twice.
 */
function markForeignParent(ctx: Context): void {
  const parent = trace.getSpan(ctx) as (Span & { attributes?: Record<string, unknown> }) | undefined;
  const a = parent?.attributes;
  if (!a) return;
  const vercelOp = a[S.VERCEL_AI.operationId];
  const isGenAiCall =
    (typeof vercelOp === 'string' && /\.do(Generate|Stream|Embed)$/.test(vercelOp)) ||
    a[S.OPENINFERENCE.spanKind] === 'LLM' ||
    (a[S.ATTR_GEN_AI_PROVIDER_NAME] !== undefined && a[S.ATTR_GEN_AI_REQUEST_MODEL] !== undefined) ||
    a[S.LEGACY_GEN_AI_SYSTEM] !== undefined;
  if (isGenAiCall) parent?.setAttribute(S.ATTR_TM_CALL_DELEGATED, true);
}

export function setUsageAttributes(span: Span, u: Usage): void {
  span.setAttribute(S.ATTR_GEN_AI_USAGE_INPUT_TOKENS, u.inputTokens);
  span.setAttribute(S.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, u.outputTokens);
  if (u.cacheReadTokens) span.setAttribute(S.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, u.cacheReadTokens);
  if (u.cacheWriteTokens) span.setAttribute(S.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, u.cacheWriteTokens);
  if (u.cacheWrite1hTokens) span.setAttribute(S.ATTR_TM_USAGE_CACHE_CREATION_1H_INPUT_TOKENS, u.cacheWrite1hTokens);
  if (u.reasoningTokens) span.setAttribute(S.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, u.reasoningTokens);
  if (u.inputAudioTokens) span.setAttribute(S.ATTR_GEN_AI_USAGE_AUDIO_INPUT_TOKENS, u.inputAudioTokens);
  if (u.cacheAudioReadTokens) span.setAttribute(S.ATTR_TM_USAGE_CACHE_READ_AUDIO_INPUT_TOKENS, u.cacheAudioReadTokens);
  if (u.outputAudioTokens) span.setAttribute(S.ATTR_GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS, u.outputAudioTokens);
  if (u.audioSeconds) span.setAttribute(S.ATTR_TM_USAGE_AUDIO_INPUT_SECONDS, u.audioSeconds);
  if (u.inputCharacters) span.setAttribute(S.ATTR_TM_USAGE_INPUT_CHARACTERS, u.inputCharacters);
  if (u.webSearchCalls) span.setAttribute(S.ATTR_TM_USAGE_WEB_SEARCH_CALLS, u.webSearchCalls);
  if (u.fileSearchCalls) span.setAttribute(S.ATTR_TM_USAGE_FILE_SEARCH_CALLS, u.fileSearchCalls);
}

/** Low-cardinality error type: the HTTP status class of an API error, else the error's class name. */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; constructor?: { name?: string } };
    const ctor = e.constructor?.name;
    // fetch's aborts are DOMExceptions: their name (AbortError, TimeoutError) says what happened.
    if (ctor === 'DOMException' && typeof e.name === 'string' && e.name) return e.name;
    if (ctor && ctor !== 'Error' && ctor !== 'Object') return ctor;
    if (typeof e.name === 'string' && e.name) return e.name;
  }
  return '_OTHER';
}

function metricAttributes(spec: CallSpec, responseModel: string | undefined, error: unknown): Attributes {
  const a: Attributes = {
    [S.ATTR_GEN_AI_OPERATION_NAME]: spec.operation,
    [S.ATTR_GEN_AI_PROVIDER_NAME]: S.GEN_AI_PROVIDER_NAMES[spec.provider] ?? spec.provider,
    [S.ATTR_GEN_AI_REQUEST_MODEL]: spec.requestModel,
  };
  if (responseModel) a[S.ATTR_GEN_AI_RESPONSE_MODEL] = responseModel;
  if (error !== undefined) a[S.ATTR_ERROR_TYPE] = errorType(error);
  return a;
}
