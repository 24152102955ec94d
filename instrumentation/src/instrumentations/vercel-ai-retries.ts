import { context, type Span, trace } from '@opentelemetry/api';
import type { Call } from '../core/call.js';
import { recordFault } from '../core/faults.js';
import * as S from '../semconv.js';

/**
 * The `ai` SDK retries a failed provider request itself (a 429, a 5xx): it calls the model's
 * `doGenerate`/`doStream`/`doEmbed` again, up to `maxRetries` times. That is one logical call,
 * so a failed attempt that `ai` will retry keeps its span open, and the retry continues it
 * (one span, one cost, `tokenmeter.request.retries`). Which failures `ai` retries is its rule,
 * mirrored here from `retryWithExponentialBackoff` (@ai-sdk/provider-utils) and
 * `retryWithExponentialBackoffRespectingRetryHeaders` (ai 5 and 6): not an abort, an error
 * flagged `isRetryable` (APICallError, GatewayError), and attempts left.
 */

export type ModelOperation = 'generate' | 'stream' | 'embed';

/** ai waits a retry-after header under 60 s, else 2 s doubling per attempt; past that, no retry is coming. */
const waitLimitMs = (attempt: number) => Math.max(60_000, 2_000 * 2 ** (attempt - 1)) + 10_000;

interface Held {
  call: Call;
  operation: ModelOperation;
  error: unknown;
  release: () => void;
}

/** Failed attempts of one `ai` call (one entry-point invocation) waiting for their retry. */
export class RetryHolds {
  private held: Held[] = [];

  constructor(private readonly maxRetries: number) {}

  /** Keep `call` open if `ai` will retry after `error`; false when it will not (end the call then). */
  hold(call: Call, operation: ModelOperation, error: unknown, signal: AbortSignal | undefined): boolean {
    const attempt = call.retries + 1;
    if (!(this.maxRetries > 0 && attempt <= this.maxRetries && isRetried(error)) || signal?.aborted) return false;
    const entry: Held = { call, operation, error, release: () => undefined };
    const giveUp = () => {
      this.drop(entry);
      call.end(error);
    };
    const timer = setTimeout(giveUp, waitLimitMs(attempt));
    timer.unref?.();
    // An abort during ai's back-off ends the call: no retry follows.
    signal?.addEventListener('abort', giveUp, { once: true });
    entry.release = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', giveUp);
    };
    this.held.push(entry);
    return true;
  }

  /** The held call this new attempt retries, if any: the attempt continues it. */
  take(operation: ModelOperation): Call | undefined {
    const i = this.held.findIndex((h) => h.operation === operation);
    if (i < 0) return undefined;
    const [entry] = this.held.splice(i, 1);
    entry!.release();
    entry!.call.retries++;
    return entry!.call;
  }

  private drop(entry: Held): void {
    entry.release();
    const i = this.held.indexOf(entry);
    if (i >= 0) this.held.splice(i, 1);
  }
}

function isRetried(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'AbortError' || error.name === 'ResponseAborted' || error.name === 'TimeoutError') return false;
  return (error as { isRetryable?: unknown }).isRetryable === true;
}

/**
 * Run a retry attempt inside the held call's context, so that an inner instrumented SDK call
 * still delegates to it. The `ai` SDK's own span for this attempt (its telemetry, when on)
 * describes the same call: it is marked delegated, as the first attempt's was when our span started.
 */
export function continueCall<T>(call: Call, invoke: () => T): T {
  try {
    const parent = trace.getSpan(context.active()) as (Span & { attributes?: Record<string, unknown> }) | undefined;
    const op = parent?.attributes?.[S.VERCEL_AI.operationId];
    if (typeof op === 'string' && /\.do(Generate|Stream|Embed)$/.test(op)) {
      parent?.setAttribute(S.ATTR_TM_CALL_DELEGATED, true);
    }
  } catch (err) {
    recordFault('vercel-ai.retry', err);
  }
  return context.with(call.ctx, invoke);
}
