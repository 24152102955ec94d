/**
 * Remaining uses of a budget from the per-call cost distribution (pure). The range divides what
 * is left by the 90th and the 10th percentile cost of a call; the confidence says how many
 * calls the distribution stands on.
 */
export type Confidence = 'high' | 'medium' | 'low' | 'none';

export interface RemainingUses {
  min: number;
  max: number;
  /** remaining / median cost per call. */
  expected: number;
  confidence: Confidence;
  /** Calls the estimate rests on. */
  basedOnCalls: number;
}

export function confidenceOf(calls: number): Confidence {
  if (calls >= 100) return 'high';
  if (calls >= 20) return 'medium';
  if (calls >= 1) return 'low';
  return 'none';
}

export function remainingUses(
  remainingUsd: number,
  cost: { p10: number; p50: number; p90: number },
  calls: number,
): RemainingUses | null {
  if (calls === 0 || !(cost.p50 > 0)) return null;
  const left = Math.max(0, remainingUsd);
  const per = (c: number) => Math.floor(left / (c > 0 ? c : cost.p50));
  return {
    min: per(cost.p90),
    max: per(cost.p10),
    expected: per(cost.p50),
    confidence: confidenceOf(calls),
    basedOnCalls: calls,
  };
}
