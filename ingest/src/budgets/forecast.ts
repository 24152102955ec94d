import type { Store } from '../store/client.js';
import { projectSpend, type Projection } from '../usage/projection.js';
import { formatScaled } from '@tokenmeter/instrumentation/prices';
import { isoDay } from './period.js';
import { budgetDailySpend } from './status.js';
import type { BudgetStatus } from './types.js';

const DAY_MS = 86_400_000;
/** Complete days the run-rate is taken from (as GET /api/v1/usage/projection). */
export const TRAILING_DAYS = 7;

/** A budget's status with where its spend is heading by period end. */
export interface BudgetForecast extends Projection {
  /** projectedUsd as a percentage of the budget's amount, two decimals. */
  projectedPercent: number;
}

/**
 * The end-of-period forecast of each budget status: its spend so far plus the run-rate of the
 * trailing complete days of the same scope (`projectSpend`, the usage API's projection). What
 * the Budgets page shows for a stored budget and what the editor's preview shows while typing.
 */
export async function budgetForecasts(
  store: Store,
  statuses: readonly BudgetStatus[],
  now: Date,
): Promise<BudgetForecast[]> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const from = today - TRAILING_DAYS * DAY_MS;
  const daily = await budgetDailySpend(
    store,
    statuses.map((s) => ({ budget: s.budget, from: new Date(from), to: new Date(today) })),
  );
  const out: BudgetForecast[] = [];
  statuses.forEach((s, i) => {
    const byDay = daily[i] ?? new Map<string, bigint>();
    const trailing: number[] = [];
    for (let d = from; d < today; d += DAY_MS)
      trailing.push(Number(formatScaled(byDay.get(isoDay(new Date(d))) ?? 0n)));
    const p = projectSpend({ spentUsd: Number(s.spendUsd), trailingDaily: trailing, now, periodEnd: s.periodEnd });
    const amount = Number(s.budget.amountUsd);
    out.push({ ...p, projectedPercent: amount > 0 ? Math.round((10_000 * p.projectedUsd) / amount) / 100 : 0 });
  });
  return out;
}
