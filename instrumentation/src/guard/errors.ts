import { CallBlockedError } from '../types.js';
import type { EnforcementScope } from './types.js';

/**
 * Thrown before the provider is called when the call falls in a scope over a hard budget.
 * The provider never sees the request.
 */
export class BudgetExceededError extends CallBlockedError {
  override readonly name: string = 'BudgetExceededError';
  readonly scope: EnforcementScope['scope'];
  readonly budgetId: string;
  readonly spendUsd: string;
  readonly limitUsd: string;
  readonly periodEnd: string;

  constructor(hit: EnforcementScope) {
    super(
      `budget exceeded: ${scopeLabel(hit.scope)} spent ${hit.spendUsd} USD of ${hit.limitUsd} USD (budget ${hit.budgetId}, until ${hit.periodEnd})`,
      'budget_exceeded',
    );
    this.scope = hit.scope;
    this.budgetId = hit.budgetId;
    this.spendUsd = hit.spendUsd;
    this.limitUsd = hit.limitUsd;
    this.periodEnd = hit.periodEnd;
  }
}

/** Thrown only with `failOpen: false`, when the guard has no current view of the budgets. */
export class BudgetUnavailableError extends CallBlockedError {
  override readonly name: string = 'BudgetUnavailableError';
  constructor(detail: string) {
    super(`budget status unavailable, call refused (failOpen is false): ${detail}`, 'budget_unavailable');
  }
}

export function scopeLabel(scope: EnforcementScope['scope']): string {
  const parts = (['team', 'user', 'feature', 'model'] as const).filter((f) => scope[f]).map((f) => `${f}=${scope[f]}`);
  return parts.length > 0 ? parts.join(',') : 'global';
}
