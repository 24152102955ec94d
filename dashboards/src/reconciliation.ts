import type { DashboardSpec } from './dashboard.js';
import { filter } from './variables.js';

const F = filter(['tenant', 'provider']);

/**
 * The latest check of each (tenant, day, provider, dimension, key): rows are versioned by
 * checked_at. `billed` is NULL where the bill could not be read, `drift` is (billed − tracked) /
 * tracked in percent (NULL without a value): no panel may sum an unread bill as $0.
 */
export const LATEST_RECONCILIATION = `SELECT tenant, day, provider, dimension, key,
    argMax(tracked_usd, checked_at) AS tracked, argMax(billed_usd, checked_at) AS billed,
    argMax(drift_pct, checked_at) AS drift, argMax(status, checked_at) AS check_status
  FROM reconciliation
  WHERE $__dateFilter(day)
    AND ${F}
  GROUP BY tenant, day, provider, dimension, key`;

export const reconciliation: DashboardSpec = {
  uid: 'tokenmeter-reconciliation',
  title: 'tokenmeter / Reconciliation',
  description: 'What tokenmeter tracked against what the providers billed, day by day, and where they drift apart.',
  from: 'now-30d',
  variables: ['tenant', 'provider'],
  rows: [
    {
      title: 'Tracked against billed',
      panels: [
        {
          title: 'Tracked vs billed per day',
          description:
            'Daily totals over all providers: tokenmeter’s tracked cost and the providers’ bills. A day with any bill that could not be read has no billed value (a gap, never $0).',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT toDateTime(day, 'UTC') AS time, sum(tracked) AS tracked_usd,
  if(countIf(billed IS NULL) > 0, NULL, sum(billed)) AS billed_usd
FROM (
  ${LATEST_RECONCILIATION}
)
WHERE dimension = 'total'
GROUP BY time
ORDER BY time`,
          columns: ['time', 'tracked_usd', 'billed_usd'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 12,
          h: 9,
        },
        {
          title: 'Drift by provider',
          description:
            'Drift = (billed − tracked) / tracked, in percent, per provider and day: +5 % is a bill 5 % above what tokenmeter tracked. No point where the bill is unknown.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT toDateTime(day, 'UTC') AS time, provider, drift AS drift_pct
FROM (
  ${LATEST_RECONCILIATION}
)
WHERE dimension = 'total'
ORDER BY time, provider`,
          columns: ['time', 'provider', 'drift_pct'],
          unit: 'percent',
          decimals: 1,
          w: 12,
          h: 9,
        },
        {
          title: 'Days with drift',
          description: 'Provider-days whose bill differs from the tracked cost beyond the tolerance.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT countIf(check_status = 'drift') AS days
FROM (
  ${LATEST_RECONCILIATION}
)
WHERE dimension = 'total'`,
          columns: ['days'],
          unit: 'short',
          w: 3,
          h: 7,
        },
        {
          title: 'Bills unknown',
          description:
            'Provider-days whose bill could not be read (the billing API failed): their billed amount is unknown, not $0. Retried by the daily job.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT countIf(billed IS NULL) AS days
FROM (
  ${LATEST_RECONCILIATION}
)
WHERE dimension = 'total'`,
          columns: ['days'],
          unit: 'short',
          w: 3,
          h: 7,
        },
        {
          title: 'Latest checks',
          description:
            'Every reconciliation line in the range, latest check first. drift_pct = (billed − tracked) / tracked; an unread bill is empty and its status says "bill unknown".',
          kind: 'table',
          format: 'table',
          sql: `SELECT day, provider, dimension, key, tracked AS tracked_usd, billed AS billed_usd, drift AS drift_pct,
  if(billed IS NULL, 'bill unknown', check_status) AS status
FROM (
  ${LATEST_RECONCILIATION}
)
ORDER BY day DESC, provider, dimension, key
LIMIT 500`,
          columns: ['day', 'provider', 'dimension', 'key', 'tracked_usd', 'billed_usd', 'drift_pct', 'status'],
          unit: 'currencyUSD',
          units: {
            day: 'dateTimeAsIso',
            provider: 'string',
            dimension: 'string',
            key: 'string',
            drift_pct: 'percent',
            status: 'string',
          },
          decimals: 2,
          w: 18,
          h: 7,
        },
      ],
    },
  ],
};
