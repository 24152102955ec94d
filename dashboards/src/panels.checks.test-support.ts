import { DAY_START, MONTH_START, TODAY, USER_IS_ALL } from './sql.js';
import { filter, NOT_USER } from './variables.js';

/**
 * For every panel, one value it shows and the same value computed independently from the
 * raw tables (ai_calls, not the rollups; or the raw rows of the other tables). Keyed by
 * `<dashboard uid> / <panel title>`; the raw SQL goes through the same macro expansion and
 * returns one column `v`.
 */
export interface Check {
  value(rows: Record<string, unknown>[], ctx: { intervalSeconds: number }): number | undefined;
  raw: string;
  /** Relative tolerance: exact sums 1e-9; t-digest quantiles against the raw data looser. */
  tolerance?: number;
  /** The narrow selection may legitimately return no rows. */
  mayBeEmpty?: boolean;
}

type Rows = Record<string, unknown>[];
const num = (v: unknown) => Number(v ?? Number.NaN);
const sum =
  (col: string, where: Record<string, string> = {}) =>
  (rows: Rows) =>
    rows.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v)).reduce((a, r) => a + num(r[col]), 0);
const first = (col: string) => (rows: Rows) => (rows.length ? num(rows[0]?.[col]) : undefined);
const find = (col: string, where: Record<string, string>) => (rows: Rows) => {
  const row = rows.find((r) => Object.entries(where).every(([k, v]) => r[k] === v));
  return row ? num(row[col]) : undefined;
};
const count = () => (rows: Rows) => rows.length;

const F = filter();
const T = filter(['tenant']);
const TF = '$__timeFilter(toStartOfHour(timestamp))';
/** Whole UTC days: what panels read from the per-user daily rollup count. */
const DF = '$__dateFilter(toDate(timestamp))';
/** The range as panels count it: by hour for "All" users, in whole days with users chosen (README, "Which table"). */
const RANGE = `((${USER_IS_ALL}) AND ${TF} OR NOT (${USER_IS_ALL}) AND ${DF})`;
const calls = (select: string, where = '') => `SELECT ${select} AS v FROM ai_calls WHERE ${RANGE} AND ${F}${where}`;
const FU = filter(NOT_USER);
const SPIKE_HOUR = '2026-11-20 10:00:00';

const O = 'tokenmeter-overview';
const M = 'tokenmeter-models';
const U = 'tokenmeter-users';
const B = 'tokenmeter-budgets';
const A = 'tokenmeter-anomalies';
const R = 'tokenmeter-reconciliation';
const H = 'tokenmeter-alerts';
const P = 'tokenmeter-pipeline';

export const CHECKS: Record<string, Check> = {
  [`${O} / Spend today`]: {
    value: first('spend'),
    raw: `SELECT sum(cost_usd) AS v FROM ai_calls WHERE ((${USER_IS_ALL}) AND toStartOfHour(timestamp) >= ${DAY_START} AND toStartOfHour(timestamp) <= $__toTime
            OR NOT (${USER_IS_ALL}) AND toDate(timestamp) = ${TODAY}) AND ${F}`,
  },
  [`${O} / Month to date`]: {
    value: first('spend'),
    raw: `SELECT sum(cost_usd) AS v FROM ai_calls WHERE toDate(timestamp) BETWEEN ${MONTH_START} AND ${TODAY} AND ${F}`,
  },
  [`${O} / Projected month`]: {
    value: first('projected'),
    // November has 30 days; the range ends 2026-11-20 12:00 UTC, 19.5 days into it.
    raw: `SELECT toFloat64(sum(cost_usd)) * 30 / 19.5 AS v FROM ai_calls WHERE timestamp >= '2026-11-01' AND toDate(timestamp) <= ${TODAY} AND ${F}`,
  },
  [`${O} / Cost in range`]: { value: first('spend'), raw: calls('sum(cost_usd)') },
  [`${O} / Saved by cache reads`]: { value: first('saved'), raw: calls('sum(cache_savings_usd)') },
  [`${O} / Unpriced calls`]: { value: first('unpriced'), raw: calls('countIf(NOT priced)') },
  [`${O} / Cost by provider`]: {
    value: sum('cost', { provider: 'openai' }),
    raw: calls('sum(cost_usd)', " AND provider = 'openai'"),
  },
  [`${O} / Cost by model`]: {
    value: sum('cost', { model: 'claude-sonnet-4-5' }),
    raw: calls('sum(cost_usd)', " AND model = 'claude-sonnet-4-5'"),
  },
  [`${O} / Cost by service`]: {
    value: sum('cost', { service: 'chat-api' }),
    raw: calls('sum(cost_usd)', " AND service = 'chat-api'"),
  },
  [`${O} / Tokens by kind`]: { value: sum('cache_read'), raw: calls('sum(cache_read_tokens)') },
  [`${O} / Requests and errors`]: { value: sum('failed'), raw: calls("countIf(status = 'error')") },
  [`${O} / Latency p50 / p95`]: {
    value: first('p50_ms'),
    raw: `SELECT quantileExact(0.5)(duration_ms) AS v FROM ai_calls WHERE ${RANGE} AND ${F}
          GROUP BY $__timeInterval(if(${USER_IS_ALL}, toStartOfHour(timestamp), toStartOfDay(timestamp))) AS t ORDER BY t LIMIT 1`,
    tolerance: 0.35,
  },
  [`${O} / Savings from cache reads`]: { value: sum('saved'), raw: calls('sum(cache_savings_usd)') },

  [`${M} / Models in range`]: {
    value: find('cost', { provider: 'openai', model: 'gpt-4o' }),
    raw: calls('sum(cost_usd)', " AND provider = 'openai' AND model = 'gpt-4o'"),
  },
  [`${M} / Cost share by provider`]: {
    value: find('cost', { provider: 'anthropic' }),
    raw: calls('sum(cost_usd)', " AND provider = 'anthropic'"),
  },
  [`${M} / Calls by model`]: {
    value: sum('calls', { model: 'gpt-4o-mini' }),
    raw: calls('count()', " AND model = 'gpt-4o-mini'"),
  },
  [`${M} / p95 latency by provider`]: {
    value: (rows) => sum('p95_ms')(rows) / Math.max(rows.length, 1),
    raw: `SELECT avg(p) AS v FROM (SELECT quantileExact(0.95)(duration_ms) AS p FROM ai_calls WHERE ${RANGE} AND ${F}
          GROUP BY $__timeInterval(if(${USER_IS_ALL}, toStartOfHour(timestamp), toStartOfDay(timestamp))) AS t, provider)`,
    tolerance: 0.1,
  },
  [`${M} / Unpriced models seen`]: {
    value: (rows) => sum('calls')(rows),
    raw: calls('countIf(NOT priced)'),
    mayBeEmpty: true,
  },

  [`${U} / Top spenders`]: {
    value: find('cost', { user_id: 'alice' }),
    raw: `SELECT sum(cost_usd) AS v FROM ai_calls WHERE ${DF} AND ${F} AND user_id = 'alice'`,
  },
  [`${U} / Per user: today, month, all time`]: {
    value: find('month_to_date', { user_id: 'alice' }),
    raw: `SELECT sum(cost_usd) AS v FROM ai_calls WHERE toDate(timestamp) BETWEEN ${MONTH_START} AND ${TODAY} AND ${F} AND user_id = 'alice'`,
  },
  [`${U} / Spend by team`]: {
    value: sum('cost', { team: 'search' }),
    raw: calls('sum(cost_usd)', " AND team = 'search'"),
  },
  [`${U} / Spend by feature`]: {
    value: find('cost', { feature: 'chat' }),
    raw: calls('sum(cost_usd)', " AND feature = 'chat'"),
  },
  [`${U} / Teams`]: {
    value: find('calls', { team: 'support' }),
    raw: `SELECT count() AS v FROM ai_calls WHERE ${DF} AND ${F} AND team = 'support'`,
  },
  [`${U} / Spend by custom property`]: {
    value: find('cost', { property: 'plan=pro' }),
    // Reads ai_calls' property projections: whole UTC days whatever $user is.
    raw: `SELECT sum(cost_usd) AS v FROM ai_calls WHERE ${DF} AND ${F} AND properties['plan'] = 'pro'`,
  },

  [`${B} / Percent used`]: {
    value: find('pct_used', { name: 'Acme monthly' }),
    raw: `SELECT 100 * toFloat64(sum(cost_usd)) / 50 AS v FROM ai_calls
          WHERE tenant = 'acme' AND timestamp >= '2026-11-01' AND toDate(timestamp) <= ${TODAY} AND ${T}`,
    tolerance: 1e-3, // pct_used is rounded to 2 decimals
  },
  [`${B} / Burn rate and forecast`]: {
    value: find('spent_usd', { name: 'Alice daily' }),
    raw: `SELECT sum(cost_usd) AS v FROM ai_calls WHERE tenant = 'acme' AND user_id = 'alice' AND toDate(timestamp) = ${TODAY} AND ${T}`,
  },
  [`${B} / Hard-limited scopes`]: {
    value: find('spent_usd', { name: 'Search weekly' }),
    // 2026-11-20 is a Friday: the ISO week began on Monday the 16th.
    raw: `SELECT sum(cost_usd) AS v FROM ai_calls WHERE tenant = 'acme' AND team = 'search' AND timestamp >= '2026-11-16' AND toDate(timestamp) <= ${TODAY} AND ${T}`,
  },

  [`${A} / Hourly cost and baseline band`]: {
    value: find('cost', { time: SPIKE_HOUR }),
    raw: `SELECT toFloat64(sum(cost_usd)) AS v FROM ai_calls WHERE toStartOfHour(timestamp) = '${SPIKE_HOUR}' AND ${FU}`,
    tolerance: 1e-9,
  },
  [`${A} / Hours above the band`]: {
    value: find('cost', { time: SPIKE_HOUR }),
    raw: `SELECT toFloat64(sum(cost_usd)) AS v FROM ai_calls WHERE toStartOfHour(timestamp) = '${SPIKE_HOUR}' AND ${FU}`,
    mayBeEmpty: true,
  },
  [`${A} / Anomaly alerts raised`]: {
    value: count(),
    raw: `SELECT count() AS v FROM (SELECT DISTINCT tenant, fingerprint, state FROM alert_events
          WHERE $__timeFilter(ts) AND alertname IN ('CostSpike', 'ErrorRateSpike') AND ${T})`,
  },

  [`${R} / Tracked vs billed per day`]: {
    // Days whose bill is unknown have no billed value: the sum is over days with every bill read.
    value: (rows) => rows.filter((r) => r.billed_usd !== null).reduce((a, r) => a + num(r.billed_usd), 0),
    raw: `SELECT sum(billed_usd) AS v FROM reconciliation WHERE $__dateFilter(day) AND dimension = 'total' AND ${filter(['tenant', 'provider'])}
          AND day NOT IN (SELECT day FROM reconciliation WHERE billed_usd IS NULL AND dimension = 'total' AND ${filter(['tenant', 'provider'])})`,
  },
  [`${R} / Bills unknown`]: {
    value: first('days'),
    raw: `SELECT count() AS v FROM reconciliation WHERE $__dateFilter(day) AND dimension = 'total' AND billed_usd IS NULL AND ${filter(['tenant', 'provider'])}`,
  },
  [`${R} / Drift by provider`]: {
    value: (rows) => Math.max(...rows.filter((r) => r.provider === 'anthropic').map((r) => num(r.drift_pct))),
    raw: `SELECT max(drift_pct) AS v FROM reconciliation WHERE $__dateFilter(day) AND provider = 'anthropic' AND ${filter(['tenant', 'provider'])}`,
  },
  [`${R} / Days with drift`]: {
    value: first('days'),
    raw: `SELECT countIf(status = 'drift') AS v FROM reconciliation WHERE $__dateFilter(day) AND ${filter(['tenant', 'provider'])}`,
  },
  [`${R} / Latest checks`]: {
    value: count(),
    raw: `SELECT count() AS v FROM reconciliation WHERE $__dateFilter(day) AND ${filter(['tenant', 'provider'])}`,
  },

  [`${H} / Firing now`]: {
    value: first('firing'),
    raw: `SELECT count() AS v FROM alert_events WHERE state = 'firing' AND ${T}
          AND fingerprint NOT IN (SELECT fingerprint FROM alert_events WHERE state = 'resolved')`,
  },
  [`${H} / Alerts per day`]: {
    value: sum('alerts'),
    raw: `SELECT count() AS v FROM alert_events WHERE state = 'firing' AND $__timeFilter(ts) AND ${T}`,
  },
  [`${H} / History`]: { value: count(), raw: `SELECT count() AS v FROM alert_events WHERE $__timeFilter(ts) AND ${T}` },

  [`${P} / Minutes since last accepted span`]: {
    value: first('minutes'),
    raw: `SELECT dateDiff('minute', max(ts), $__toTime) AS v FROM ingest_stats WHERE metric = 'spans_accepted' AND value > 0`,
  },
  [`${P} / Ingest instances reporting`]: {
    value: first('instances'),
    raw: 'SELECT count(DISTINCT instance) AS v FROM ingest_stats WHERE ts > $__toTime - 300',
  },
  [`${P} / Rejected share`]: {
    value: first('rejected_pct'),
    raw: 'SELECT 100 * 3 / 120 AS v',
  },
  [`${P} / Spans per second`]: {
    value: (rows, ctx) => sum('per_second', { metric: 'spans_received' })(rows) * Math.max(ctx.intervalSeconds, 60),
    raw: "SELECT sum(value) AS v FROM ingest_stats WHERE $__timeFilter(ts) AND metric = 'spans_received'",
  },
  [`${P} / Rejections by reason`]: {
    value: sum('spans', { reason: 'invalid_usage' }),
    raw: "SELECT sum(value) AS v FROM ingest_stats WHERE $__timeFilter(ts) AND reason = 'invalid_usage'",
  },
  [`${P} / Duplicates, refusals and failures`]: {
    value: sum('events', { metric: 'dedup_hits' }),
    raw: "SELECT sum(value) AS v FROM ingest_stats WHERE $__timeFilter(ts) AND metric = 'dedup_hits'",
  },
  [`${P} / Values repaired and span costs refused`]: {
    value: sum('events', { what: 'span_costs_refused: above_cap' }),
    raw: "SELECT sum(value) AS v FROM ingest_stats WHERE $__timeFilter(ts) AND metric = 'span_costs_refused' AND reason = 'above_cap'",
  },
  [`${P} / Spool size`]: {
    value: (rows) => Math.max(...rows.map((r) => num(r.spool_bytes))),
    raw: "SELECT max(value) AS v FROM ingest_stats WHERE metric = 'spool_bytes'",
  },
  [`${P} / Oldest spooled batch`]: {
    value: (rows) => Math.max(...rows.map((r) => num(r.age_seconds))),
    raw: "SELECT max(value) AS v FROM ingest_stats WHERE metric = 'spool_age_seconds'",
  },
  [`${P} / Insert p99`]: {
    value: (rows) => Math.max(...rows.map((r) => num(r.insert_p99_ms))),
    raw: "SELECT max(value) AS v FROM ingest_stats WHERE metric = 'insert_ms_p99'",
  },
};
