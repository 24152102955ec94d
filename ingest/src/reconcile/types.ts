/** What a provider billed for one UTC day, in 12-decimal USD integers. */
export interface BilledDay {
  provider: string;
  day: string;
  /** False when the provider had no cost line for the day at all. */
  hasData: boolean;
  total: bigint;
  /** By canonical model name (see canonicalModel); costs without a model under '(other)'. */
  byModel: Map<string, bigint>;
  /** By OpenAI project id / Anthropic workspace id. */
  byProject: Map<string, bigint>;
  /** Token usage from the provider's usage endpoint, by canonical model. */
  usageByModel: Map<string, BilledUsage>;
}

export interface BilledUsage {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
}

/** tokenmeter's own totals for one day and provider (from the daily rollup). */
export interface TrackedDay {
  total: bigint;
  byModel: Map<
    string,
    {
      cost: bigint;
      requests: number;
      unpriced: number;
      inputTokens: number;
      outputTokens: number;
      cacheReadTokens: number;
    }
  >;
  /** Cost by service (to compare with a project's bill through TOKENMETER_BILLING_PROJECTS). */
  byService: Map<string, bigint>;
}

export type Status = 'match' | 'drift' | 'missing' | 'error';

/** One row of `reconciliation`. */
export interface ReconciliationRow {
  day: string;
  tenant: string;
  provider: string;
  dimension: 'total' | 'model' | 'project';
  key: string;
  trackedUsd: bigint;
  /** null: the bill could not be read (status error): unknown, never $0. */
  billedUsd: bigint | null;
  /** (billed − tracked) / tracked in percent (driftPercent); null when it has no value. */
  driftPct: number | null;
  status: Status;
  details: Record<string, unknown>;
}

/** A billing API could not answer (network, 5xx, 429, auth): retried later, never recorded as $0. */
export class BillingUnavailable extends Error {
  constructor(
    readonly provider: string,
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'BillingUnavailable';
  }
}

/**
 * One model name on both sides: billing lines name dated snapshots
 * ('gpt-4o-mini-2024-07-18', 'claude-sonnet-4-5-20250929'), calls often the alias.
 */
export function canonicalModel(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/-\d{4}-\d{2}-\d{2}$/, '')
    .replace(/-\d{8}$/, '')
    .replace(/-latest$/, '');
}
