/**
 * End-of-period spend forecast (pure): what is spent so far, plus the mean daily spend of the
 * trailing complete days times the days left, with a band of ±1.28·σ·√(days left) (about 80 %
 * if days are independent and roughly normal). The method goes out with the figures.
 */
export interface Projection {
  method: string;
  spentUsd: number;
  projectedUsd: number;
  lowUsd: number;
  highUsd: number;
  dailyMeanUsd: number;
  dailyStdDevUsd: number;
  daysRemaining: number;
  basedOnDays: number;
}

export const PROJECTION_METHOD =
  'run-rate: spend so far in the period + mean daily spend over the trailing complete days × days remaining; ' +
  'band ±1.28 × daily standard deviation × √(days remaining)';

const DAY_MS = 86_400_000;

export function projectSpend(q: {
  spentUsd: number;
  /** Spend of each trailing complete day (zeros included). */
  trailingDaily: number[];
  now: Date;
  periodEnd: Date;
}): Projection {
  const n = q.trailingDaily.length;
  const mean = n > 0 ? q.trailingDaily.reduce((a, b) => a + b, 0) / n : 0;
  const variance = n > 1 ? q.trailingDaily.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const sd = Math.sqrt(variance);
  const daysRemaining = Math.max(0, (q.periodEnd.getTime() - q.now.getTime()) / DAY_MS);
  const projected = q.spentUsd + mean * daysRemaining;
  const band = 1.28 * sd * Math.sqrt(daysRemaining);
  return {
    method: PROJECTION_METHOD,
    spentUsd: round6(q.spentUsd),
    projectedUsd: round6(projected),
    lowUsd: round6(Math.max(q.spentUsd, projected - band)),
    highUsd: round6(projected + band),
    dailyMeanUsd: round6(mean),
    dailyStdDevUsd: round6(sd),
    daysRemaining: Math.round(daysRemaining * 1000) / 1000,
    basedOnDays: n,
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
