import type { DashboardSpec } from './dashboard.js';
import { filter, NOT_USER } from './variables.js';

/**
 * Hourly cost with its baseline band: the mean and mean + 3σ of the 168 hours (one week)
 * before each hour. Hours without calls count as $0 (WITH FILL), so a quiet night lowers
 * the baseline the way it should.
 */
export const hourlyBand = (F: string) => `SELECT time, cost, baseline, upper
FROM (
  SELECT hour AS time, cost,
    avg(cost) OVER w AS baseline,
    avg(cost) OVER w + 3 * stddevPop(cost) OVER w AS upper
  FROM (
    SELECT hour, toFloat64(sum(cost_usd)) AS cost
    FROM ai_rollup_hourly
    WHERE hour >= toStartOfHour($__fromTime) - INTERVAL 7 DAY AND hour <= $__toTime
      AND ${F}
    GROUP BY hour
    ORDER BY hour WITH FILL FROM toStartOfHour($__fromTime) - INTERVAL 7 DAY TO $__toTime STEP INTERVAL 1 HOUR
  )
  WINDOW w AS (ORDER BY hour ROWS BETWEEN 168 PRECEDING AND 1 PRECEDING)
)
WHERE time >= toStartOfHour($__fromTime)`;

const HOURLY_BAND = hourlyBand(filter(NOT_USER));

export const anomalies: DashboardSpec = {
  uid: 'tokenmeter-anomalies',
  title: 'tokenmeter / Anomalies',
  description: 'Hourly cost against its baseline band, the hours that broke out of it, and the alerts raised.',
  from: 'now-3d',
  // No $user: the band is hourly and per-user rollups are daily (see README, "Which table").
  variables: ['tenant', 'service', 'provider', 'model', 'feature'],
  rows: [
    {
      title: 'Cost against baseline',
      panels: [
        {
          title: 'Hourly cost and baseline band',
          description: 'Cost per hour, the trailing-week mean, and the upper bound (mean + 3σ).',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `${HOURLY_BAND}\nORDER BY time`,
          columns: ['time', 'cost', 'baseline', 'upper'],
          unit: 'currencyUSD',
          decimals: 2,
          w: 24,
          h: 10,
        },
        {
          title: 'Hours above the band',
          description: 'Hours whose cost exceeded the upper bound, by how much.',
          kind: 'table',
          format: 'table',
          sql: `SELECT time, cost, upper, cost - upper AS excess
FROM (
  ${HOURLY_BAND.replace(/\n/g, '\n  ')}
)
WHERE cost > upper AND upper > 0
ORDER BY time DESC`,
          columns: ['time', 'cost', 'upper', 'excess'],
          unit: 'currencyUSD',
          units: { time: 'dateTimeAsIso' },
          decimals: 2,
          w: 12,
          h: 8,
        },
        {
          title: 'Anomaly alerts raised',
          description: 'Cost-spike and error-rate alerts tokenmeter raised in the range.',
          kind: 'table',
          format: 'table',
          sql: `SELECT at AS ts, name AS alertname, sev AS severity, what AS scope, value AS observed, bound AS limit_value, state
FROM (
  SELECT tenant, fingerprint, state, argMax(alertname, ts) AS name, argMax(severity, ts) AS sev,
    argMax(scope, ts) AS what, argMax(observed, ts) AS value, argMax(limit_value, ts) AS bound, max(ts) AS at
  FROM alert_events
  WHERE $__timeFilter(ts)
    AND alertname IN ('CostSpike', 'ErrorRateSpike')
    AND ${filter(['tenant'])}
  GROUP BY tenant, fingerprint, state
)
ORDER BY at DESC`,
          columns: ['ts', 'alertname', 'severity', 'scope', 'observed', 'limit_value', 'state'],
          unit: 'short',
          units: {
            ts: 'dateTimeAsIso',
            alertname: 'string',
            severity: 'string',
            scope: 'string',
            observed: 'currencyUSD',
            limit_value: 'currencyUSD',
            state: 'string',
          },
          w: 12,
          h: 8,
        },
      ],
    },
  ],
};
