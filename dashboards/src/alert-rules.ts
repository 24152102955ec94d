import { stringify } from 'yaml';
import { DASHBOARDS } from './all.js';
import { budgetStatus } from './budgets.js';
import { DATASOURCE_UID, FORMAT, PLUGIN_ID, PLUGIN_VERSION } from './clickhouse.js';

/**
 * Grafana alert rules as data, written as a file-provisioning YAML (apiVersion 1 groups).
 * Each rule: ClickHouse queries (table format: string columns become the series' labels,
 * the one numeric column its value), then `__expr__` steps: reduce, then threshold or math.
 * The queries use macros only ($__toTime …): alert rules have no template variables.
 */
export type Reducer = 'last' | 'mean' | 'max' | 'min' | 'sum' | 'count';
export type Evaluator = { type: 'gt' | 'lt' | 'within_range' | 'outside_range'; params: number[] };

export interface RuleQuery {
  refId: string;
  sql: string;
  /** Seconds before now the query's time range starts ($__fromTime). */
  lookbackSeconds: number;
}

export type RuleExpression =
  | { refId: string; type: 'reduce'; expression: string; reducer: Reducer }
  | { refId: string; type: 'threshold'; expression: string; evaluator: Evaluator }
  | { refId: string; type: 'math'; expression: string };

export interface AlertRuleSpec {
  uid: string;
  /** Grafana's alertname: the same names the service's own evaluator uses (alert_events.alertname). */
  title: string;
  summary: string;
  description: string;
  severity: 'page' | 'warning';
  /** How long the condition must hold before the alert fires. */
  for: string;
  queries: RuleQuery[];
  expressions: RuleExpression[];
  condition: string;
  noDataState: 'OK' | 'NoData' | 'Alerting';
  /** The dashboard and panel that show what the rule watches (linked from the alert). */
  dashboardUid: string;
  panelTitle: string;
}

/** A spike must cost at least this much per hour to page (small tenants are noisy). */
export const SPIKE_FLOOR_USD = 0.5;
/** Error-rate spikes need this many calls in the last two hours. */
export const ERROR_MIN_CALLS = 20;
/** Minutes without an accepted span before "ingest stalled". */
export const STALL_MINUTES = 15;

const reduceThreshold = (query: string, evaluator: Evaluator, reducer: Reducer = 'last'): RuleExpression[] => [
  { refId: 'B', type: 'reduce', expression: query, reducer },
  { refId: 'C', type: 'threshold', expression: 'B', evaluator },
];

// The budget id is a label too: two budgets may share a name, and series labels must be unique.
const BUDGETS = `SELECT tenant, id AS budget_id, name AS budget, scope, period, toFloat64(pct_used) AS pct_used
FROM (
  ${budgetStatus('1=1').replace(/\n/g, '\n  ')}
)`;

/** Last two hours' cost per tenant against mean + 3σ of the 168 hours before them (gaps count as $0). */
const COST_SPIKE = `SELECT tenant, current / greatest(mean + 3 * sqrt(greatest(sq - mean * mean, 0)), ${SPIKE_FLOOR_USD}) AS spike_ratio
FROM (
  SELECT tenant,
    maxIf(cost, hour >= start) AS current,
    sumIf(cost, hour < start) / 168 AS mean,
    sumIf(cost * cost, hour < start) / 168 AS sq
  FROM (
    SELECT tenant, hour, toStartOfHour($__toTime) - INTERVAL 1 HOUR AS start, toFloat64(sum(cost_usd)) AS cost
    FROM ai_rollup_hourly
    WHERE hour >= toStartOfHour($__toTime) - INTERVAL 169 HOUR AND hour <= $__toTime
    GROUP BY tenant, hour
  )
  GROUP BY tenant
)`;

const ERROR_SPIKE = `SELECT tenant, provider,
  if(calls_now >= ${ERROR_MIN_CALLS}, (errors_now / calls_now) / greatest(3 * errors_base / greatest(calls_base, 1), 0.05), 0) AS error_ratio
FROM (
  SELECT tenant, provider,
    toFloat64(sumIf(requests, hour >= start)) AS calls_now, toFloat64(sumIf(errors, hour >= start)) AS errors_now,
    toFloat64(sumIf(requests, hour < start)) AS calls_base, toFloat64(sumIf(errors, hour < start)) AS errors_base
  FROM (
    SELECT *, toStartOfHour($__toTime) - INTERVAL 1 HOUR AS start
    FROM ai_rollup_hourly
    WHERE hour >= toStartOfHour($__toTime) - INTERVAL 169 HOUR AND hour <= $__toTime
  )
  GROUP BY tenant, provider
)`;

// Calls with no price (hourly rollup) and calls priced only by a default price (cost_source
// 'default', raw calls of the same two hours): both mean the cost shown is not a real price.
const UNPRICED = `SELECT tenant, provider, model, toFloat64(sum(n)) AS unpriced_or_defaulted_calls
FROM (
  SELECT tenant, provider, model, toInt64(sum(unpriced_requests)) AS n
  FROM ai_rollup_hourly
  WHERE hour >= toStartOfHour($__toTime) - INTERVAL 1 HOUR AND hour <= $__toTime
  GROUP BY tenant, provider, model
  UNION ALL
  SELECT tenant, provider, model, toInt64(uniqExact(trace_id, span_id)) AS n
  FROM ai_calls
  WHERE timestamp >= toStartOfHour($__toTime) - INTERVAL 1 HOUR AND timestamp <= $__toTime AND cost_source = 'default'
  GROUP BY tenant, provider, model
)
GROUP BY tenant, provider, model
HAVING unpriced_or_defaulted_calls > 0`;

// Drift as stored: (billed − tracked) / tracked in percent; an unread bill (NULL) or a missing side
// never fires it (the service's own alert fires on status 'drift' alike).
// The value is the signed drift of the day furthest from zero (as the panel and the CLI show it).
const DRIFT = `SELECT tenant, provider, argMax(drift, abs(drift)) AS drift_pct
FROM (
  SELECT tenant, day, provider, argMax(drift_pct, checked_at) AS drift, argMax(status, checked_at) AS check_status
  FROM reconciliation
  WHERE day >= toDate($__toTime, 'UTC') - 3 AND dimension = 'total'
  GROUP BY tenant, day, provider
)
WHERE drift IS NOT NULL AND check_status IN ('match', 'drift')
GROUP BY tenant, provider`;

const SINCE_LAST_SPAN = `SELECT toFloat64(dateDiff('minute', maxIf(ts, metric = 'spans_accepted' AND value > 0), $__toTime)) AS minutes_since_span
FROM ingest_stats
WHERE ts >= $__toTime - INTERVAL 1 DAY AND ts <= $__toTime`;

const SAME_HOUR_YESTERDAY = `SELECT toFloat64(sum(requests)) AS calls_same_hour_yesterday
FROM ai_rollup_hourly
WHERE hour >= toStartOfHour($__toTime) - INTERVAL 25 HOUR AND hour < toStartOfHour($__toTime) - INTERVAL 23 HOUR`;

export const ALERT_RULES: readonly AlertRuleSpec[] = [
  {
    uid: 'tokenmeter-budget-threshold',
    title: 'BudgetThreshold',
    summary: 'Budget {{ $labels.budget }} ({{ $labels.tenant }}) is {{ $values.B.Value | printf "%.0f" }}% used',
    description: 'Spend in the current {{ $labels.period }} for {{ $labels.scope }} passed 90% of the budget.',
    severity: 'warning',
    for: '0m',
    queries: [{ refId: 'A', sql: BUDGETS, lookbackSeconds: 3600 }],
    expressions: reduceThreshold('A', { type: 'gt', params: [90] }),
    condition: 'C',
    noDataState: 'OK',
    dashboardUid: 'tokenmeter-budgets',
    panelTitle: 'Percent used',
  },
  {
    uid: 'tokenmeter-budget-exhausted',
    title: 'BudgetExhausted',
    summary: 'Budget {{ $labels.budget }} ({{ $labels.tenant }}) is used up',
    description: 'Spend in the current {{ $labels.period }} for {{ $labels.scope }} reached the budget.',
    severity: 'page',
    for: '0m',
    queries: [{ refId: 'A', sql: BUDGETS, lookbackSeconds: 3600 }],
    expressions: reduceThreshold('A', { type: 'gt', params: [99.99] }),
    condition: 'C',
    noDataState: 'OK',
    dashboardUid: 'tokenmeter-budgets',
    panelTitle: 'Hard-limited scopes',
  },
  {
    uid: 'tokenmeter-cost-spike',
    title: 'CostSpike',
    summary: 'Cost of {{ $labels.tenant }} is {{ $values.B.Value | printf "%.1f" }}× its baseline band',
    description: `The last two hours' cost broke out of mean + 3σ of the previous week (floor $${SPIKE_FLOOR_USD}/h).`,
    severity: 'page',
    for: '0m',
    queries: [{ refId: 'A', sql: COST_SPIKE, lookbackSeconds: 170 * 3600 }],
    expressions: reduceThreshold('A', { type: 'gt', params: [1] }),
    condition: 'C',
    noDataState: 'OK',
    dashboardUid: 'tokenmeter-anomalies',
    panelTitle: 'Hourly cost and baseline band',
  },
  {
    uid: 'tokenmeter-error-rate-spike',
    title: 'ErrorRateSpike',
    summary: 'Errors calling {{ $labels.provider }} ({{ $labels.tenant }}) spiked',
    description: `The last two hours' error rate is above 3× the previous week's and above 5% (at least ${ERROR_MIN_CALLS} calls).`,
    severity: 'page',
    for: '5m',
    queries: [{ refId: 'A', sql: ERROR_SPIKE, lookbackSeconds: 170 * 3600 }],
    expressions: reduceThreshold('A', { type: 'gt', params: [1] }),
    condition: 'C',
    noDataState: 'OK',
    dashboardUid: 'tokenmeter-overview',
    panelTitle: 'Requests and errors',
  },
  {
    uid: 'tokenmeter-unpriced-model',
    title: 'UnpricedModel',
    summary: '{{ $labels.provider }}/{{ $labels.model }} has no price, or only a default price ({{ $labels.tenant }})',
    description:
      'Calls to a model with no known price have no cost; calls priced by a tenant default price (cost_source = default) have a guessed one. Add a price override (tokenmeter prices set).',
    severity: 'warning',
    for: '0m',
    queries: [{ refId: 'A', sql: UNPRICED, lookbackSeconds: 7200 }],
    expressions: reduceThreshold('A', { type: 'gt', params: [0] }),
    condition: 'C',
    noDataState: 'OK',
    dashboardUid: 'tokenmeter-models',
    panelTitle: 'Unpriced models seen',
  },
  {
    uid: 'tokenmeter-reconciliation-drift',
    title: 'ReconciliationDrift',
    summary:
      '{{ $labels.provider }} bill differs from tracked cost: drift {{ $values.B.Value | printf "%+.1f" }}% ({{ $labels.tenant }})',
    description:
      'A provider bill in the last three days differs from what tokenmeter tracked by more than 2% either way (the default of TOKENMETER_DRIFT_THRESHOLD_PCT, which the service alerts on); drift = (billed − tracked) / tracked.',
    severity: 'warning',
    for: '0m',
    queries: [{ refId: 'A', sql: DRIFT, lookbackSeconds: 4 * 86400 }],
    expressions: reduceThreshold('A', { type: 'outside_range', params: [-2, 2] }),
    condition: 'C',
    noDataState: 'OK',
    dashboardUid: 'tokenmeter-reconciliation',
    panelTitle: 'Drift by provider',
  },
  {
    uid: 'tokenmeter-ingest-stalled',
    title: 'IngestStalled',
    summary: 'No span accepted for {{ $values.RA.Value | printf "%.0f" }} minutes',
    description: `No ingest instance accepted a span for ${STALL_MINUTES} minutes, while the same hour yesterday had calls.`,
    severity: 'page',
    for: '0m',
    queries: [
      { refId: 'A', sql: SINCE_LAST_SPAN, lookbackSeconds: 86400 },
      { refId: 'Y', sql: SAME_HOUR_YESTERDAY, lookbackSeconds: 26 * 3600 },
    ],
    expressions: [
      { refId: 'RA', type: 'reduce', expression: 'A', reducer: 'last' },
      { refId: 'RY', type: 'reduce', expression: 'Y', reducer: 'last' },
      { refId: 'C', type: 'math', expression: `$RA > ${STALL_MINUTES} && $RY > 0` },
    ],
    condition: 'C',
    noDataState: 'Alerting',
    dashboardUid: 'tokenmeter-pipeline',
    panelTitle: 'Minutes since last accepted span',
  },
];

/** The id the generated dashboard gives a panel (rows and panels are numbered in order). */
export function panelId(dashboardUid: string, title: string): number {
  const d = DASHBOARDS.find((x) => x.uid === dashboardUid);
  let id = 0;
  for (const row of d?.rows ?? []) {
    id++;
    for (const p of row.panels) {
      id++;
      if (p.title === title) return id;
    }
  }
  throw new Error(`no panel "${title}" on dashboard ${dashboardUid}`);
}

/** The rules as Grafana's file-provisioning document. */
export function alertRulesDocument(rules: readonly AlertRuleSpec[] = ALERT_RULES) {
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: 'tokenmeter',
        folder: 'tokenmeter',
        interval: '1m',
        rules: rules.map((r) => ({
          uid: r.uid,
          title: r.title,
          condition: r.condition,
          data: [
            ...r.queries.map((q) => ({
              refId: q.refId,
              relativeTimeRange: { from: q.lookbackSeconds, to: 0 },
              datasourceUid: DATASOURCE_UID,
              model: {
                refId: q.refId,
                datasource: { type: PLUGIN_ID, uid: DATASOURCE_UID },
                pluginVersion: PLUGIN_VERSION,
                editorType: 'sql',
                rawSql: q.sql,
                format: FORMAT.table,
                queryType: 'table',
                intervalMs: 60000,
                maxDataPoints: 43200,
              },
            })),
            ...r.expressions.map((e) => ({
              refId: e.refId,
              relativeTimeRange: { from: 0, to: 0 },
              datasourceUid: '__expr__',
              model: {
                refId: e.refId,
                datasource: { type: '__expr__', uid: '__expr__' },
                type: e.type,
                expression: e.expression,
                ...(e.type === 'reduce' ? { reducer: e.reducer, settings: { mode: 'dropNN' } } : {}),
                ...(e.type === 'threshold' ? { conditions: [{ evaluator: e.evaluator }] } : {}),
              },
            })),
          ],
          noDataState: r.noDataState,
          execErrState: 'Error',
          for: r.for,
          annotations: {
            summary: r.summary,
            description: r.description,
            __dashboardUid__: r.dashboardUid,
            __panelId__: String(panelId(r.dashboardUid, r.panelTitle)),
          },
          labels: { severity: r.severity, source: 'tokenmeter' },
          isPaused: false,
        })),
      },
    ],
  };
}

export function renderAlertRules(): string {
  return `# Generated by \`npm run dashboards\` from dashboards/src/alert-rules.ts. Do not edit.\n${stringify(
    alertRulesDocument(),
    { lineWidth: 0 },
  )}`;
}
