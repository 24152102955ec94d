export {
  BudgetGuard,
  budgetGuardFromEnv,
  installBudgetGuard,
  SOFT_BUDGET_EVENT,
  uninstallBudgetGuard,
} from './budget-guard.js';
export { BudgetExceededError, BudgetUnavailableError } from './errors.js';
export { compileView, findScope, modelAlias, modelMatches } from './matcher.js';
export type { BudgetGuardOptions, BudgetGuardStats, EnforcementScope, EnforcementView } from './types.js';
