import type { DashboardSpec } from './dashboard.js';
import { DAY_START, DURATION_Q, seriesGrouped, MONTH_START, TODAY, TTFT_Q, usageGrouped, usageRows } from './sql.js';
import { filter, NOT_USER } from './variables.js';

const FU = filter(NOT_USER);
/** The usage rows in the range: coarse hourly rollup for "All" users, per-user daily otherwise. */
const IN_RANGE = usageRows('hourly', '$__timeFilter(hour)', '$__dateFilter(day)', FU);
/** The same rows, each branch aggregated by itself (`usageGrouped`): what lets "All" read a projection. */
const grouped = (select: string, groupBy: string) =>
  usageGrouped('hourly', '$__timeFilter(hour)', '$__dateFilter(day)', FU, select, groupBy);
/** Since the first of the month, in whole days. */
const MONTH = usageRows(
  'daily',
  `day >= ${MONTH_START} AND day <= ${TODAY}`,
  `day >= ${MONTH_START} AND day <= ${TODAY}`,
  FU,
);

/** Cost over time split by one rollup column, stacked. */
function costBy(column: 'provider' | 'model' | 'service', title: string) {
  return {
    title,
    description:
      `Cost per interval, stacked by ${column}. Unpriced calls count as nothing here (see "Unpriced calls"). ` +
      'Over more than 7 days, a point per UTC day.',
    kind: 'timeseries' as const,
    format: 'timeseries' as const,
    sql: `SELECT time, ${column}, cost
FROM ${seriesGrouped(FU, (time) => `${time} AS time, ${column}, sum(cost_usd) AS cost`, `time, ${column}`)}
ORDER BY time, ${column}`,
    columns: ['time', column, 'cost'],
    unit: 'currencyUSD' as const,
    decimals: 2,
    stacked: true,
    w: 8,
    h: 9,
  };
}

export const overview: DashboardSpec = {
  uid: 'tokenmeter-overview',
  title: 'tokenmeter / Overview',
  description: 'What AI calls cost, where the money goes, and whether the calls are healthy.',
  from: 'now-7d',
  variables: ['tenant', 'service', 'provider', 'model', 'user', 'feature'],
  rows: [
    {
      title: 'Spend',
      panels: [
        {
          title: 'Spend today',
          description: 'Cost of the calls since midnight UTC of the range end.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT sum(cost_usd) AS spend
FROM ${usageRows('hourly', `hour >= ${DAY_START} AND hour <= $__toTime`, `day = ${TODAY}`, FU)}`,
          columns: ['spend'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 4,
          h: 4,
        },
        {
          title: 'Month to date',
          description: 'Cost of the calls since the first of the month (UTC) of the range end.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT sum(cost_usd) AS spend
FROM ${MONTH}`,
          columns: ['spend'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 4,
          h: 4,
        },
        {
          title: 'Projected month',
          description: 'Month-to-date cost extrapolated linearly to the whole month.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT toFloat64(sum(cost_usd)) * toDayOfMonth(toLastDayOfMonth(${TODAY})) * 86400
    / greatest(dateDiff('second', toDateTime(${MONTH_START}, 'UTC'), $__toTime), 3600) AS projected
FROM ${MONTH}`,
          columns: ['projected'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 4,
          h: 4,
        },
        {
          title: 'Cost in range',
          description: 'Cost of the calls in the selected time range.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT sum(cost_usd) AS spend
FROM ${IN_RANGE}`,
          columns: ['spend'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 4,
          h: 4,
        },
        {
          title: 'Saved by cache reads',
          description: 'What cache reads saved against paying the full input price, in the range.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT sum(cache_savings_usd) AS saved
FROM ${IN_RANGE}`,
          columns: ['saved'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 4,
          h: 4,
        },
        {
          title: 'Unpriced calls',
          description: 'Calls whose model has no known price: their cost is missing, never $0. Add a price override.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT sum(unpriced_requests) AS unpriced
FROM ${IN_RANGE}`,
          columns: ['unpriced'],
          unit: 'short',
          w: 4,
          h: 4,
        },
      ],
    },
    {
      title: 'Cost over time',
      panels: [
        costBy('provider', 'Cost by provider'),
        costBy('model', 'Cost by model'),
        costBy('service', 'Cost by service'),
      ],
    },
    {
      title: 'Usage and health',
      panels: [
        {
          title: 'Tokens by kind',
          description:
            'Input split into uncached, cache reads and cache writes; output split into visible and reasoning.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT time, input_uncached, cache_read, cache_write, output_visible, reasoning
FROM ${grouped(
            `$__timeInterval(hour) AS time,
    toInt64(sum(input_tokens)) - sum(cache_read_tokens) - sum(cache_write_tokens) AS input_uncached,
    sum(cache_read_tokens) AS cache_read,
    sum(cache_write_tokens) AS cache_write,
    toInt64(sum(output_tokens)) - sum(reasoning_tokens) AS output_visible,
    sum(reasoning_tokens) AS reasoning`,
            'time',
          )}
ORDER BY time`,
          columns: ['time', 'input_uncached', 'cache_read', 'cache_write', 'output_visible', 'reasoning'],
          unit: 'short',
          stacked: true,
          w: 12,
          h: 9,
        },
        {
          title: 'Requests and errors',
          description: 'Calls per interval, and how many of them failed.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT time, calls, failed
FROM ${grouped('$__timeInterval(hour) AS time, sum(requests) AS calls, sum(errors) AS failed', 'time')}
ORDER BY time`,
          columns: ['time', 'calls', 'failed'],
          unit: 'short',
          bars: true,
          w: 12,
          h: 9,
        },
        {
          title: 'Latency p50 / p95',
          description:
            'Call duration and time to first token (streaming calls), from the rollups’ t-digests. Over more than 7 days, a point per UTC day.',
          kind: 'timeseries',
          format: 'timeseries',
          // Over more than 7 days "All" merges ai_rollup_daily's by_day states (048: one per tenant and
          // day) rather than by_model_day's (20 a tenant and day): both read one mark a part, and
          // ClickHouse takes the first of equals unless the query names one.
          sql: `SELECT time, d[1] AS p50_ms, d[2] AS p95_ms, t[1] AS ttft_p50_ms, t[2] AS ttft_p95_ms
FROM ${seriesGrouped(FU, (time) => `${time} AS time, ${DURATION_Q} AS d, ${TTFT_Q} AS t`, 'time')}
ORDER BY time
SETTINGS preferred_optimize_projection_name = 'by_day'`,
          columns: ['time', 'p50_ms', 'p95_ms', 'ttft_p50_ms', 'ttft_p95_ms'],
          unit: 'ms',
          decimals: 0,
          w: 12,
          h: 9,
        },
        {
          title: 'Savings from cache reads',
          description: 'What cache reads saved per interval against the full input price.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT time, saved
FROM ${grouped('$__timeInterval(hour) AS time, sum(cache_savings_usd) AS saved', 'time')}
ORDER BY time`,
          columns: ['time', 'saved'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 12,
          h: 9,
        },
      ],
    },
  ],
};
