import type { DashboardSpec } from './dashboard.js';
import { DAY_RANGE, DURATION_Q, seriesGrouped, usageGrouped } from './sql.js';
import { filter, NOT_USER } from './variables.js';

const FU = filter(NOT_USER);
/**
 * The usage rows in the range, aggregated by `select` / `groupBy` in each branch (`usageGrouped`):
 * the coarse hourly rollup (its by_model_hour projection) for "All" users, per-user daily otherwise.
 */
const grouped = (select: string, groupBy: string) =>
  usageGrouped('hourly', '$__timeFilter(hour)', '$__dateFilter(day)', FU, select, groupBy);

export const models: DashboardSpec = {
  uid: 'tokenmeter-models',
  title: 'tokenmeter / Models and providers',
  description: 'Which models and providers the money and the calls go to, and how each one behaves.',
  from: 'now-7d',
  variables: ['tenant', 'service', 'provider', 'model', 'user', 'feature'],
  rows: [
    {
      title: 'Models',
      panels: [
        {
          title: 'Models in range',
          description:
            'Per provider and model: calls, failures, tokens, cost, cost per priced call, p95 latency and unpriced calls. ' +
            'Over more than a day, p95 latency counts whole UTC days.',
          kind: 'table',
          format: 'table',
          sql: `SELECT provider, model, calls, failed, round(100 * failed / greatest(calls, 1), 2) AS error_rate,
  input, output, cost, cost / greatest(calls - unpriced, 1) AS cost_per_call, d[2] AS p95_ms, unpriced
FROM ${grouped(
            `provider, model,
    sum(requests) AS calls, sum(errors) AS failed, sum(unpriced_requests) AS unpriced,
    sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cost_usd) AS cost`,
            'provider, model',
          )} AS s
LEFT JOIN ${seriesGrouped(FU, () => `provider, model, ${DURATION_Q} AS d`, 'provider, model', DAY_RANGE)} AS q USING (provider, model)
ORDER BY cost DESC, provider, model`,
          columns: [
            'provider',
            'model',
            'calls',
            'failed',
            'error_rate',
            'input',
            'output',
            'cost',
            'cost_per_call',
            'p95_ms',
            'unpriced',
          ],
          unit: 'short',
          units: {
            provider: 'string',
            model: 'string',
            error_rate: 'percent',
            cost: 'currencyUSD',
            cost_per_call: 'currencyUSD',
            p95_ms: 'ms',
          },
          w: 24,
          h: 10,
        },
        {
          title: 'Cost share by provider',
          description: 'How the cost in the range divides between providers.',
          kind: 'piechart',
          format: 'table',
          sql: `SELECT provider, cost
FROM ${grouped('provider, sum(cost_usd) AS cost', 'provider')}
ORDER BY cost DESC`,
          columns: ['provider', 'cost'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 8,
          h: 9,
        },
        {
          title: 'Calls by model',
          description: 'Calls per interval, stacked by model.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT time, model, calls
FROM ${grouped('$__timeInterval(hour) AS time, model, sum(requests) AS calls', 'time, model')}
ORDER BY time, model`,
          columns: ['time', 'model', 'calls'],
          unit: 'short',
          stacked: true,
          w: 8,
          h: 9,
        },
        {
          title: 'p95 latency by provider',
          description:
            '95th percentile call duration per provider, from the rollups’ t-digests. Over more than 7 days, a point per UTC day.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT time, provider, d[2] AS p95_ms
FROM ${seriesGrouped(FU, (time) => `${time} AS time, provider, ${DURATION_Q} AS d`, 'time, provider')}
ORDER BY time, provider`,
          columns: ['time', 'provider', 'p95_ms'],
          unit: 'ms',
          decimals: 0,
          w: 8,
          h: 9,
        },
        {
          title: 'Unpriced models seen',
          description: 'Models called without a known price: their calls have no cost until a price override exists.',
          kind: 'table',
          format: 'table',
          sql: `SELECT provider, model, calls, first_seen, last_seen
FROM ${grouped(
            'provider, model, sum(unpriced_requests) AS calls, min(hour) AS first_seen, max(hour) AS last_seen',
            'provider, model',
          )}
WHERE calls > 0
ORDER BY calls DESC`,
          columns: ['provider', 'model', 'calls', 'first_seen', 'last_seen'],
          unit: 'short',
          units: { provider: 'string', model: 'string', first_seen: 'dateTimeAsIso', last_seen: 'dateTimeAsIso' },
          w: 24,
          h: 6,
        },
      ],
    },
  ],
};
