import type { Store } from '../store/client.js';
import { projectSpend, type Projection } from '../usage/projection.js';
import { readRows } from '../usage/read.js';
import { isoDay } from './period.js';
import { scopeSource } from './status.js';
import type { BudgetStatus } from './types.js';

const DAY_MS = 86_400_000;
/** Complete days the run-rate is taken from (as GET /api/v1/usage/projection). */
export const TRAILING_DAYS = 7;

const dailySpend = (src: { table: string; where: string }) => `
SELECT toString(day) AS d, toFloat64(sum(cost_usd)) AS spend
FROM ${src.table}
WHERE tenant = {tenant:String} AND day >= {start:Date} AND day < {end:Date}
  AND ${src.where}
GROUP BY d`;

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
  const out: BudgetForecast[] = [];
  for (const s of statuses) {
    const rows = await readRows<{ d: string; spend: number }>(store, dailySpend(scopeSource(s.budget.scope)), {
      tenant: s.budget.tenant,
      start: isoDay(new Date(from)),
      end: isoDay(new Date(today)),
      ...s.budget.scope,
    });
    const byDay = new Map(rows.map((r) => [r.d, Number(r.spend)]));
    const trailing: number[] = [];
    for (let d = from; d < today; d += DAY_MS) trailing.push(byDay.get(isoDay(new Date(d))) ?? 0);
    const p = projectSpend({ spentUsd: Number(s.spendUsd), trailingDaily: trailing, now, periodEnd: s.periodEnd });
    const amount = Number(s.budget.amountUsd);
    out.push({ ...p, projectedPercent: amount > 0 ? Math.round((10_000 * p.projectedUsd) / amount) / 100 : 0 });
  }
  return out;
}
