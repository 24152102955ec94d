/**
 * Anomaly rules (pure). The evaluator feeds them hourly figures from the rollup.
 *
 * Cost spike: an hour's cost against the same hour of day on each of the trailing
 * `baselineDays` days (hours without usage count as $0). With mean μ and standard deviation σ
 * of those samples, the hour pages when
 *   cost ≥ minHourlyUsd  (a floor, so that cents of noise never page)
 *   cost ≥ μ + z·max(σ, 10 % of μ)  (z-score against the same-hour band)
 *   cost ≥ minRatio·μ  (and it is a multiple of the usual, not just a wide band's edge).
 *
 * Error-rate spike: an hour's error share against the trailing baseline share p₀ (smoothed),
 * with a binomial z-score z = (p − p₀)/√(p₀(1−p₀)/n); pages when n ≥ minRequests, p ≥ minRate
 * and z ≥ z threshold.
 */
export interface SpikeRules {
  minHourlyUsd: number;
  z: number;
  minRatio: number;
  baselineDays: number;
  /** Fewer baseline days with data than this: no verdict (a new service has no baseline). */
  minBaselineDays: number;
}

export interface ErrorRules {
  minRequests: number;
  minRate: number;
  z: number;
  baselineDays: number;
}

export const DEFAULT_SPIKE_RULES: SpikeRules = {
  minHourlyUsd: 1,
  z: 4,
  minRatio: 3,
  baselineDays: 14,
  minBaselineDays: 7,
};
export const DEFAULT_ERROR_RULES: ErrorRules = { minRequests: 20, minRate: 0.1, z: 4, baselineDays: 7 };

export interface SpikeVerdict {
  isSpike: boolean;
  value: number;
  mean: number;
  stdDev: number;
  /** The cost above which the hour pages. */
  bound: number;
  z: number;
  samples: number;
}

export function costSpike(cost: number, baseline: readonly number[], rules: SpikeRules): SpikeVerdict {
  const n = baseline.length;
  const mean = n > 0 ? baseline.reduce((a, b) => a + b, 0) / n : 0;
  const sd = n > 1 ? Math.sqrt(baseline.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const scale = Math.max(sd, 0.1 * mean, 1e-9);
  const bound = Math.max(rules.minHourlyUsd, mean + rules.z * scale, rules.minRatio * mean);
  const withData = baseline.filter((x) => x > 0).length;
  return {
    isSpike: withData >= rules.minBaselineDays && cost >= bound,
    value: cost,
    mean,
    stdDev: sd,
    bound,
    z: (cost - mean) / scale,
    samples: n,
  };
}

export interface ErrorVerdict {
  isSpike: boolean;
  rate: number;
  baselineRate: number;
  z: number;
  requests: number;
}

export function errorSpike(
  current: { errors: number; requests: number },
  baseline: { errors: number; requests: number },
  rules: ErrorRules,
): ErrorVerdict {
  const n = current.requests;
  const rate = n > 0 ? current.errors / n : 0;
  // Laplace-smoothed, so an error-free baseline does not make every error infinitely surprising.
  const p0 = (baseline.errors + 1) / (baseline.requests + 2);
  const z = n > 0 ? (rate - p0) / Math.sqrt((p0 * (1 - p0)) / n) : 0;
  return {
    isSpike: n >= rules.minRequests && rate >= rules.minRate && z >= rules.z,
    rate,
    baselineRate: p0,
    z,
    requests: n,
  };
}
