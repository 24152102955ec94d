/** The compact view the service's `GET /api/v1/budgets/enforcement` returns (ingest/src/budgets/enforcement.ts). */
export interface EnforcementScope {
  budgetId: string;
  /** '' = any. */
  scope: { team: string; user: string; feature: string; model: string };
  spendUsd: string;
  limitUsd: string;
  percent: number;
  periodEnd: string;
}

export interface EnforcementView {
  tenant: string;
  generatedAt: string;
  refreshAfterMs: number;
  hard: EnforcementScope[];
  soft: EnforcementScope[];
}

export interface BudgetGuardOptions {
  /** The tokenmeter service, e.g. http://tokenmeter:4318. Default: TOKENMETER_URL. */
  url?: string;
  /** An API key of the tenant (an ingest key will do). Default: TOKENMETER_KEY. */
  key?: string;
  /** Only for an operator key (all tenants): which tenant's budgets to enforce. */
  tenant?: string;
  /** How often the view is fetched again (off the hot path). Default: what the service suggests, else 15 s. */
  refreshMs?: number;
  /**
   * When the service cannot be reached (no view yet, or the last good one older than `staleAfterMs`):
   * true (default) lets calls through and counts them; false refuses them with BudgetUnavailableError.
   */
  failOpen?: boolean;
  /** How old the last good view may be before it no longer counts. Default: 5 × refresh interval. */
  staleAfterMs?: number;
  /** Per-request timeout of a refresh. Default 5 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** What the guard has seen, for metrics and health checks. */
export interface BudgetGuardStats {
  /** Calls stopped by a hard budget. */
  blocked: number;
  /** Calls in a soft budget past a threshold (span event added). */
  softWarnings: number;
  /** Calls let through because no current view was available (fail-open). */
  failOpen: number;
  /** Calls refused because no current view was available (fail-closed). */
  failClosed: number;
  refreshes: number;
  refreshFailures: number;
  /** When the last good view was fetched (epoch ms), 0 if never. */
  lastRefreshAt: number;
  lastError: string | undefined;
}
