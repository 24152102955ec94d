/** A budget, as the API and the evaluator see it. Amounts are decimal strings (USD), never floats. */
export type Period = 'day' | 'week' | 'month';
export type BudgetMode = 'soft' | 'hard';

export const PERIODS: readonly Period[] = ['day', 'week', 'month'];
export const MODES: readonly BudgetMode[] = ['soft', 'hard'];
export const DEFAULT_THRESHOLDS: readonly number[] = [75, 90, 100];

/** Which calls count against a budget. An empty field means "any"; all empty is the tenant's global budget. */
export interface BudgetScope {
  team: string;
  user: string;
  feature: string;
  model: string;
}
export const SCOPE_FIELDS = ['team', 'user', 'feature', 'model'] as const;

export interface Budget {
  id: string;
  tenant: string;
  name: string;
  scope: BudgetScope;
  period: Period;
  amountUsd: string;
  mode: BudgetMode;
  /** Percent of amountUsd, ascending. */
  thresholds: number[];
  createdAt: string;
  updatedAt: string;
}

/** A budget's spend in its current period. */
export interface BudgetStatus {
  budget: Budget;
  periodStart: Date;
  periodEnd: Date;
  spendUsd: string;
  percent: number;
  /** Thresholds reached in this period, ascending. */
  crossed: number[];
}

/** `team=search,user=alice` or `global`: the scope as one stable label value. */
export function scopeText(scope: BudgetScope): string {
  const parts = SCOPE_FIELDS.filter((f) => scope[f] !== '').map((f) => `${f}=${scope[f]}`);
  return parts.length === 0 ? 'global' : parts.join(',');
}
