import type { BudgetScope, BudgetStatus } from './types.js';

/**
 * What the instrumentation's budget guard fetches: the scopes of one tenant that are over a
 * hard budget (calls there are refused before the provider is called) and the soft budgets
 * past a threshold (calls there get a span event). Compact: nothing else is sent.
 */
export interface EnforcementScope {
  budgetId: string;
  scope: BudgetScope;
  spendUsd: string;
  limitUsd: string;
  percent: number;
  periodEnd: string;
}

export interface EnforcementView {
  tenant: string;
  generatedAt: string;
  /** How long the guard may trust this view before fetching again. */
  refreshAfterMs: number;
  hard: EnforcementScope[];
  soft: EnforcementScope[];
}

export function enforcementView(
  tenant: string,
  statuses: readonly BudgetStatus[],
  now: Date,
  refreshAfterMs: number,
): EnforcementView {
  const entry = (s: BudgetStatus): EnforcementScope => ({
    budgetId: s.budget.id,
    scope: s.budget.scope,
    spendUsd: s.spendUsd,
    limitUsd: s.budget.amountUsd,
    percent: s.percent,
    periodEnd: s.periodEnd.toISOString(),
  });
  const mine = statuses.filter((s) => s.budget.tenant === tenant);
  return {
    tenant,
    generatedAt: now.toISOString(),
    refreshAfterMs,
    // A hard budget stops calls once spend reaches its amount (100 %), whatever its thresholds.
    hard: mine.filter((s) => s.budget.mode === 'hard' && s.percent >= 100).map(entry),
    soft: mine.filter((s) => s.budget.mode === 'soft' && s.crossed.length > 0).map(entry),
  };
}
