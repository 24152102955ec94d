import type { Store } from '../store/client.js';
import { projectSpend, type Projection } from '../usage/projection.js';
import { formatScaled } from '@tokenmeter/instrumentation/prices';
import { isoDay } from './period.js';
import { budgetDailySpend, periodWindow, statusesOf } from './status.js';
import type { Budget, BudgetStatus } from './types.js';

const DAY_MS = 86_400_000;
/** Complete days the run-rate is taken from (as GET /api/v1/usage/projection). */
export const TRAILING_DAYS = 7;

/** A budget's status with where its spend is heading by period end. */
export interface BudgetForecast extends Projection {
  /** projectedUsd as a percentage of the budget's amount, two decimals. */
  projectedPercent: number;
}

/** The trailing complete days a budget's run-rate is taken from. */
function trailingWindow(budget: Budget, now: Date): { budget: Budget; from: Date; to: Date } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { budget, from: new Date(today - TRAILING_DAYS * DAY_MS), to: new Date(today) };
}

/** Each status's forecast from the daily spend of its trailing window (`budgetDailySpend`'s answer). */
function forecastsOf(
  statuses: readonly BudgetStatus[],
  daily: readonly Map<string, bigint>[],
  now: Date,
): BudgetForecast[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const from = today - TRAILING_DAYS * DAY_MS;
  return statuses.map((s, i) => {
    const byDay = daily[i] ?? new Map<string, bigint>();
    const trailing: number[] = [];
    for (let d = from; d < today; d += DAY_MS)
      trailing.push(Number(formatScaled(byDay.get(isoDay(new Date(d))) ?? 0n)));
    const p = projectSpend({ spentUsd: Number(s.spendUsd), trailingDaily: trailing, now, periodEnd: s.periodEnd });
    const amount = Number(s.budget.amountUsd);
    return { ...p, projectedPercent: amount > 0 ? Math.round((10_000 * p.projectedUsd) / amount) / 100 : 0 };
  });
}

/**
 * The status of each budget and its end-of-period forecast: its spend so far plus the run-rate of
 * the trailing complete days of the same scope (`projectSpend`, the usage API's projection). What
 * the Budgets page shows for a stored budget and what the editor's preview shows while typing.
 * One read of the rollups: each budget's period
 * window and its trailing window are two windows of one `budgetDailySpend` query (two queries
 * were two round trips and two plans per request).
 */
export async function budgetStatusesWithForecasts(
  store: Store,
  budgets: readonly Budget[],
  now: Date,
): Promise<{ statuses: BudgetStatus[]; forecasts: BudgetForecast[] }> {
  const daily = await budgetDailySpend(store, [
    ...budgets.map((b) => periodWindow(b, now)),
    ...budgets.map((b) => trailingWindow(b, now)),
  ]);
  const statuses = statusesOf(budgets, daily.slice(0, budgets.length), now);
  return { statuses, forecasts: forecastsOf(statuses, daily.slice(budgets.length), now) };
}
