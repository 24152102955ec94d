-- One user's calls, a table partitioned by month (issue 13). The usage API's per-call
-- distributions (usage/users/:id, estimate with a user) and "Spend by custom property" with users
-- chosen read one user's calls of the last 30 to 90 days. ai_calls is partitioned by day, so
-- those reads (037's by_user_calls, 039's by_property_user_day) opened 45 to 135 parts, each for a
-- few rows: per-part overhead was the cost (45 parts: ~40 ms at 50 M calls). Here a user's calls
-- are one key range in each of 2 to 4 monthly parts.
-- ReplacingMergeTree keyed on the call like ai_calls: a call inserted twice (a price re-applied
-- by reprice, a retried batch) is one row once merged; readers say FINAL, which on one user's key
-- range costs little. Calls without a user are not kept here. The TTL follows ai_calls' (row by
-- row: a monthly part would outlive the retention by a month if dropped whole).
--
-- The view counts calls inserted from the cutover in user_calls_cutover on, and nothing while
-- it is empty; `tokenmeter migrate` sets it, then copies what ai_calls held before it, a UTC day
-- at a time with a progress bar (ingest/src/store/user-calls-backfill.ts).

CREATE TABLE IF NOT EXISTS {db}.{local:user_calls_cutover} {on_cluster} (
  cutover DateTime64(3, 'UTC'),
  set_at DateTime64(3, 'UTC')
) ENGINE = {engine_everywhere:ReplacingMergeTree(set_at)}
ORDER BY tuple();

CREATE TABLE IF NOT EXISTS {db}.{local:ai_user_calls} {on_cluster} (
  user_id String CODEC(ZSTD(1)),
  tenant LowCardinality(String),
  timestamp DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
  trace_id String CODEC(ZSTD(1)),
  span_id String CODEC(ZSTD(1)),
  service LowCardinality(String),
  provider LowCardinality(String),
  model LowCardinality(String),
  team LowCardinality(String),
  feature LowCardinality(String),
  status LowCardinality(String),
  priced Bool,
  input_tokens UInt64,
  output_tokens UInt64,
  cost_usd Nullable(Decimal(38, 12)),
  properties Map(String, String) CODEC(ZSTD(1)),
  ingested_at DateTime64(3, 'UTC')
) ENGINE = {engine:ReplacingMergeTree(ingested_at)}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (user_id, tenant, timestamp, trace_id, span_id)
TTL toDateTime(timestamp) + toIntervalDay({ttl_days})
SETTINGS non_replicated_deduplication_window = 10000;

-- @distributed ai_user_calls cityHash64(trace_id)

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{local:ai_user_calls_mv} {on_cluster}
TO {db}.{local:ai_user_calls}
AS SELECT user_id, tenant, timestamp, trace_id, span_id, service, provider, model, team, feature, status, priced,
  input_tokens, output_tokens, cost_usd, properties, ingested_at
FROM {db}.{local:ai_calls}
WHERE user_id != ''
  AND ingested_at >= ifNull((SELECT maxOrNull(cutover) FROM {db}.{local:user_calls_cutover}), toDateTime64('2200-01-01 00:00:00', 3, 'UTC'));

CREATE TABLE IF NOT EXISTS {db}.{local:user_calls_backfill} {on_cluster} (
  day Date,
  calls UInt64 COMMENT 'the calls with a user that ai_calls held that day before the cutover',
  done_at DateTime64(3, 'UTC')
) ENGINE = {engine:ReplacingMergeTree(done_at)}
ORDER BY day;

-- @distributed user_calls_backfill cityHash64(day)
