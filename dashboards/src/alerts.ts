import type { DashboardSpec } from './dashboard.js';
import { filter } from './variables.js';

const T = filter(['tenant']);

/**
 * alert_events keeps one row per (tenant, fingerprint, state), versioned by ts: read the
 * latest of each with argMax, never relying on merges.
 */
const LATEST = `SELECT tenant, fingerprint, state, max(ts) AS at, argMax(alertname, ts) AS name,
    argMax(severity, ts) AS sev, argMax(scope, ts) AS what, argMax(observed, ts) AS value,
    argMax(limit_value, ts) AS bound
  FROM alert_events
  WHERE $__timeFilter(ts)
    AND ${T}
  GROUP BY tenant, fingerprint, state`;

export const alerts: DashboardSpec = {
  uid: 'tokenmeter-alerts',
  title: 'tokenmeter / Alert history',
  description: 'Every alert tokenmeter raised or resolved: budgets, spikes, unpriced models, drift.',
  from: 'now-30d',
  variables: ['tenant'],
  rows: [
    {
      title: 'Alerts',
      panels: [
        {
          title: 'Firing now',
          description: 'Alerts whose latest event (up to the range end) is "firing".',
          kind: 'stat',
          format: 'table',
          sql: `SELECT countIf(last_state = 'firing') AS firing
FROM (
  SELECT tenant, fingerprint, argMax(state, ts) AS last_state
  FROM alert_events
  WHERE ts <= $__toTime
    AND ${T}
  GROUP BY tenant, fingerprint
)`,
          columns: ['firing'],
          unit: 'short',
          w: 6,
          h: 6,
        },
        {
          title: 'Alerts per day',
          description: 'Alerts that started firing, per day and alert name.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT toDateTime(toDate(at, 'UTC'), 'UTC') AS time, name AS alertname, count() AS alerts
FROM (
  ${LATEST}
)
WHERE state = 'firing'
GROUP BY time, alertname
ORDER BY time, alertname`,
          columns: ['time', 'alertname', 'alerts'],
          unit: 'short',
          bars: true,
          stacked: true,
          w: 18,
          h: 6,
        },
        {
          title: 'History',
          description: 'Each alert’s firing and resolved events, newest first.',
          kind: 'table',
          format: 'table',
          sql: `SELECT at AS ts, name AS alertname, sev AS severity, tenant, what AS scope, value AS observed,
  bound AS limit_value, state
FROM (
  ${LATEST}
)
ORDER BY ts DESC
LIMIT 500`,
          columns: ['ts', 'alertname', 'severity', 'tenant', 'scope', 'observed', 'limit_value', 'state'],
          unit: 'short',
          units: {
            ts: 'dateTimeAsIso',
            alertname: 'string',
            severity: 'string',
            tenant: 'string',
            scope: 'string',
            state: 'string',
          },
          w: 24,
          h: 10,
        },
      ],
    },
  ],
};
