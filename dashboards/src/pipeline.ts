import type { DashboardSpec } from './dashboard.js';

/**
 * ingest_stats: the service's counters, flushed once a minute per instance
 * (ingest/src/pipeline/stats.ts). Counter rows (spans_*, requests_rejected, batches_written,
 * batch_failures, dedup_hits, auth_failures, rate_limited, spool_full, spool_quarantined) hold the increase since
 * the previous flush; gauge rows (spool_bytes, spool_records, spool_age_seconds, pending_rows,
 * insert_ms_p99) hold the value at the flush.
 */
const gauge = (metric: string, alias: string) => `SELECT $__timeInterval(ts) AS time, max(value) AS ${alias}
FROM ingest_stats
WHERE $__timeFilter(ts)
  AND metric = '${metric}'
GROUP BY time
ORDER BY time`;

export const pipeline: DashboardSpec = {
  uid: 'tokenmeter-pipeline',
  title: 'tokenmeter / Pipeline health',
  description:
    'Is the pipeline taking spans in: ingest rates, rejections, deduplication, the spool and ClickHouse inserts.',
  from: 'now-6h',
  variables: [],
  rows: [
    {
      title: 'Ingest',
      panels: [
        {
          title: 'Minutes since last accepted span',
          description: 'How long since any ingest instance accepted a span (alert: ingest stalled).',
          kind: 'stat',
          format: 'table',
          sql: `SELECT dateDiff('minute', maxIf(ts, metric = 'spans_accepted' AND value > 0), $__toTime) AS minutes
FROM ingest_stats
WHERE ts >= $__toTime - INTERVAL 1 DAY AND ts <= $__toTime`,
          columns: ['minutes'],
          unit: 'short',
          w: 6,
          h: 5,
        },
        {
          title: 'Ingest instances reporting',
          description: 'Instances that flushed counters in the last five minutes of the range.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT uniqExact(instance) AS instances
FROM ingest_stats
WHERE ts >= $__toTime - INTERVAL 5 MINUTE AND ts <= $__toTime`,
          columns: ['instances'],
          unit: 'short',
          w: 6,
          h: 5,
        },
        {
          title: 'Rejected share',
          description: 'Rejected spans as a percent of received spans in the range.',
          kind: 'stat',
          format: 'table',
          sql: `SELECT round(100 * sumIf(value, metric = 'spans_rejected') / greatest(sumIf(value, metric = 'spans_received'), 1), 2) AS rejected_pct
FROM ingest_stats
WHERE $__timeFilter(ts)`,
          columns: ['rejected_pct'],
          unit: 'percent',
          w: 6,
          h: 5,
        },
        {
          title: 'Spans per second',
          description: 'Spans received, accepted and rejected, per second, all instances together.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT $__timeInterval(ts) AS time, metric, sum(value) / greatest($__interval_s, 60) AS per_second
FROM ingest_stats
WHERE $__timeFilter(ts)
  AND metric IN ('spans_received', 'spans_accepted', 'spans_rejected')
GROUP BY time, metric
ORDER BY time, metric`,
          columns: ['time', 'metric', 'per_second'],
          unit: 'short',
          w: 12,
          h: 8,
        },
        {
          title: 'Rejections by reason',
          description: 'Rejected spans per interval, by the reason the service gave.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT $__timeInterval(ts) AS time, reason, sum(value) AS spans
FROM ingest_stats
WHERE $__timeFilter(ts)
  AND metric = 'spans_rejected'
GROUP BY time, reason
ORDER BY time, reason`,
          columns: ['time', 'reason', 'spans'],
          unit: 'short',
          bars: true,
          stacked: true,
          w: 12,
          h: 8,
        },
        {
          title: 'Duplicates, refusals and failures',
          description:
            'Per interval: spans dropped as already counted, requests refused (key, rate limit, spool full, invalid), failed ClickHouse batch writes and spans ClickHouse refused as data (quarantined).',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT $__timeInterval(ts) AS time, metric, sum(value) AS events
FROM ingest_stats
WHERE $__timeFilter(ts)
  AND metric IN ('dedup_hits', 'auth_failures', 'rate_limited', 'spool_full', 'requests_rejected', 'batch_failures', 'spool_quarantined')
GROUP BY time, metric
ORDER BY time, metric`,
          columns: ['time', 'metric', 'events'],
          unit: 'short',
          w: 12,
          h: 8,
        },
        {
          title: 'Values repaired and span costs refused',
          description:
            'Per interval, by reason: values in accepted spans the service repaired so ClickHouse takes them (a lone surrogate or invalid UTF-8 replaced by U+FFFD, an empty or repeated attribute key), and costs claimed on spans that it did not believe (not a decimal, above TOKENMETER_MAX_CALL_COST_USD, or outside TOKENMETER_SPAN_COST_FACTOR of the catalogue price) and priced itself instead.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: `SELECT $__timeInterval(ts) AS time, concat(metric, ': ', reason) AS what, sum(value) AS events
FROM ingest_stats
WHERE $__timeFilter(ts)
  AND metric IN ('values_repaired', 'span_costs_refused')
GROUP BY time, what
ORDER BY time, what`,
          columns: ['time', 'what', 'events'],
          unit: 'short',
          bars: true,
          stacked: true,
          w: 12,
          h: 8,
        },
      ],
    },
    {
      title: 'Spool and storage',
      panels: [
        {
          title: 'Spool size',
          description: 'Bytes waiting in the local spool because ClickHouse did not take them yet (largest instance).',
          kind: 'timeseries',
          format: 'timeseries',
          sql: gauge('spool_bytes', 'spool_bytes'),
          columns: ['time', 'spool_bytes'],
          unit: 'bytes',
          w: 8,
          h: 8,
        },
        {
          title: 'Oldest spooled batch',
          description: 'Age of the oldest batch in the spool: how far behind ClickHouse is.',
          kind: 'timeseries',
          format: 'timeseries',
          sql: gauge('spool_age_seconds', 'age_seconds'),
          columns: ['time', 'age_seconds'],
          unit: 's',
          w: 8,
          h: 8,
        },
        {
          title: 'Insert p99',
          description: '99th percentile time to write one batch to ClickHouse (slowest instance).',
          kind: 'timeseries',
          format: 'timeseries',
          sql: gauge('insert_ms_p99', 'insert_p99_ms'),
          columns: ['time', 'insert_p99_ms'],
          unit: 'ms',
          w: 8,
          h: 8,
        },
      ],
    },
  ],
};
