import type { AiCall } from '@tokenmeter/instrumentation/normalize';

/** Limits on what one AI call can plausibly report; beyond them the span is rejected, not stored. */
export const CALL_LIMITS = {
  /** Larger than any model's context window and output today, by far. */
  maxTokens: 100_000_000,
  /** A span may start at most this far in the future of the service's clock. */
  maxFutureMs: 60 * 60 * 1000,
};

/** The reason an AI call's fields are not acceptable, or undefined when they are. */
export function checkCall(call: AiCall, nowMs: number): { reason: string; detail: string } | undefined {
  if (call.usageProblem) return { reason: 'invalid_tokens', detail: call.usageProblem };
  for (const [key, value] of Object.entries(call.usage)) {
    if (value === undefined) continue;
    if (!Number.isFinite(value)) return { reason: 'invalid_tokens', detail: `usage.${key} is not a finite number` };
    if (value < 0) return { reason: 'negative_tokens', detail: `usage.${key} is negative (${value})` };
    if (!Number.isInteger(value))
      return { reason: 'invalid_tokens', detail: `usage.${key} is not an integer (${value})` };
    if (value > CALL_LIMITS.maxTokens)
      return { reason: 'absurd_tokens', detail: `usage.${key} = ${value} exceeds ${CALL_LIMITS.maxTokens}` };
  }
  const part = partExceedingTotal(call.usage);
  if (part) return { reason: 'invalid_tokens', detail: part };
  const startMs = Number(call.startTimeUnixNano / 1_000_000n);
  if (startMs > nowMs + CALL_LIMITS.maxFutureMs) {
    return {
      reason: 'future_timestamp',
      detail: `span starts ${new Date(startMs).toISOString()}, more than 1 h ahead`,
    };
  }
  return undefined;
}

/**
 * Each detail count belongs to a total that includes it (instrumentation/src/semconv.ts): cache
 * reads and writes and input audio to the input, reasoning and output audio to the output,
 * 1-hour cache writes to the cache writes. A part larger than its whole is not a usage.
 */
function partExceedingTotal(u: AiCall['usage']): string | undefined {
  const parts: [string, number, string, number][] = [
    ['cache read + write', (u.cacheReadTokens ?? 0) + (u.cacheWriteTokens ?? 0), 'input', u.inputTokens],
    ['input audio', u.inputAudioTokens ?? 0, 'input', u.inputTokens],
    ['reasoning', u.reasoningTokens ?? 0, 'output', u.outputTokens],
    ['output audio', u.outputAudioTokens ?? 0, 'output', u.outputTokens],
    ['1-hour cache write', u.cacheWrite1hTokens ?? 0, 'cache write', u.cacheWriteTokens ?? 0],
    ['cached audio', u.cacheAudioReadTokens ?? 0, 'cache read', u.cacheReadTokens ?? 0],
    ['cached audio', u.cacheAudioReadTokens ?? 0, 'input audio', u.inputAudioTokens ?? 0],
  ];
  for (const [part, n, whole, total] of parts) {
    if (n > total) return `${part} tokens (${n}) exceed ${whole} tokens (${total}), which must include them`;
  }
  return undefined;
}
