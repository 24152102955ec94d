-- Rollups that roll up (issue 13). The rollups of 003 grouped by user_id, so they held about
-- one row per call; these replace them (022 drops them once they are copied):
-- - ai_rollup_hourly / ai_rollup_daily: no user: tenant-wide panels, alerts, reconciliation;
--   their size follows the number of (tenant, time, service, provider, model, operation,
--   team, feature) combinations, not the calls;
-- - ai_user_daily: per user and day: user-filtered panels, budgets, the usage API. Its key
--   starts (tenant, user_id, day), so one user's rows are one narrow range.
-- Counts are Int64, not UInt64: forgetting a user subtracts the user's calls from the coarse
-- rollups (insert of negative rows) without rebuilding what other users wrote there.
-- Read them with sum() / quantilesTDigestMerge() … GROUP BY: never rely on merges. No TTL.
--
-- The views count calls inserted from the cutover in rollup_cutover on, and nothing while it
-- is empty (a cutover in 2200). `tokenmeter migrate` sets it once the views exist, a moment
-- ahead, then backfills what was inserted before it from ai_calls, or, for days whose raw calls
-- expired, from the 003 rollups, and records each (tenant, day) done in rollup_backfill so an
-- interrupted backfill resumes without counting anything twice (ingest/src/store/backfill.ts).
-- rollup_cutover is replicated to every node of a cluster (one path for all shards), so each
-- shard's views read the same moment locally.

CREATE TABLE IF NOT EXISTS {db}.{local:rollup_cutover} {on_cluster} (
  rollups LowCardinality(String),
  cutover DateTime64(3, 'UTC'),
  set_at DateTime64(3, 'UTC')
) ENGINE = {engine_everywhere:ReplacingMergeTree(set_at)}
ORDER BY rollups;

CREATE TABLE IF NOT EXISTS {db}.{local:ai_rollup_hourly} {on_cluster} (
  tenant LowCardinality(String),
  hour DateTime('UTC'),
  service LowCardinality(String),
  provider LowCardinality(String),
  model LowCardinality(String),
  operation LowCardinality(String),
  team LowCardinality(String),
  feature LowCardinality(String),
  anonymous_requests SimpleAggregateFunction(sum, Int64),
  requests SimpleAggregateFunction(sum, Int64),
  errors SimpleAggregateFunction(sum, Int64),
  unpriced_requests SimpleAggregateFunction(sum, Int64),
  estimated_requests SimpleAggregateFunction(sum, Int64),
  input_tokens SimpleAggregateFunction(sum, Int64),
  output_tokens SimpleAggregateFunction(sum, Int64),
  cache_read_tokens SimpleAggregateFunction(sum, Int64),
  cache_write_tokens SimpleAggregateFunction(sum, Int64),
  reasoning_tokens SimpleAggregateFunction(sum, Int64),
  input_audio_tokens SimpleAggregateFunction(sum, Int64),
  output_audio_tokens SimpleAggregateFunction(sum, Int64),
  cost_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  cache_savings_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  duration_ms_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float64),
  ttft_ms_quantiles AggregateFunction(quantilesTDigestIf(0.5, 0.95, 0.99), Float64, UInt8)
) ENGINE = {engine:AggregatingMergeTree}
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, hour, service, provider, model, operation, team, feature)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{local:ai_rollup_hourly_mv} {on_cluster}
TO {db}.{local:ai_rollup_hourly}
AS SELECT
  tenant,
  toStartOfHour(timestamp) AS hour,
  service, provider, model, operation, team, feature,
  toInt64(countIf(user_id = '')) AS anonymous_requests,
  toInt64(count()) AS requests,
  toInt64(countIf(status = 'error')) AS errors,
  toInt64(countIf(NOT priced)) AS unpriced_requests,
  toInt64(countIf(estimated)) AS estimated_requests,
  toInt64(sum(input_tokens)) AS input_tokens,
  toInt64(sum(output_tokens)) AS output_tokens,
  toInt64(sum(cache_read_tokens)) AS cache_read_tokens,
  toInt64(sum(cache_write_tokens)) AS cache_write_tokens,
  toInt64(sum(reasoning_tokens)) AS reasoning_tokens,
  toInt64(sum(input_audio_tokens)) AS input_audio_tokens,
  toInt64(sum(output_audio_tokens)) AS output_audio_tokens,
  sum(ifNull(cost_usd, toDecimal128(0, 12))) AS cost_usd,
  sum(cache_savings_usd) AS cache_savings_usd,
  quantilesTDigestState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms_quantiles,
  quantilesTDigestIfState(0.5, 0.95, 0.99)(ifNull(ttft_ms, 0), isNotNull(ttft_ms)) AS ttft_ms_quantiles
FROM {db}.{local:ai_calls}
WHERE ingested_at >= ifNull((SELECT maxOrNull(cutover) FROM {db}.{local:rollup_cutover}), toDateTime64('2200-01-01 00:00:00', 3, 'UTC'))
GROUP BY tenant, hour, service, provider, model, operation, team, feature;

CREATE TABLE IF NOT EXISTS {db}.{local:ai_rollup_daily} {on_cluster} (
  tenant LowCardinality(String),
  day Date,
  service LowCardinality(String),
  provider LowCardinality(String),
  model LowCardinality(String),
  operation LowCardinality(String),
  team LowCardinality(String),
  feature LowCardinality(String),
  anonymous_requests SimpleAggregateFunction(sum, Int64),
  requests SimpleAggregateFunction(sum, Int64),
  errors SimpleAggregateFunction(sum, Int64),
  unpriced_requests SimpleAggregateFunction(sum, Int64),
  estimated_requests SimpleAggregateFunction(sum, Int64),
  input_tokens SimpleAggregateFunction(sum, Int64),
  output_tokens SimpleAggregateFunction(sum, Int64),
  cache_read_tokens SimpleAggregateFunction(sum, Int64),
  cache_write_tokens SimpleAggregateFunction(sum, Int64),
  reasoning_tokens SimpleAggregateFunction(sum, Int64),
  input_audio_tokens SimpleAggregateFunction(sum, Int64),
  output_audio_tokens SimpleAggregateFunction(sum, Int64),
  cost_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  cache_savings_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  duration_ms_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float64),
  ttft_ms_quantiles AggregateFunction(quantilesTDigestIf(0.5, 0.95, 0.99), Float64, UInt8)
) ENGINE = {engine:AggregatingMergeTree}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, service, provider, model, operation, team, feature)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{local:ai_rollup_daily_mv} {on_cluster}
TO {db}.{local:ai_rollup_daily}
AS SELECT
  tenant,
  toDate(timestamp) AS day,
  service, provider, model, operation, team, feature,
  toInt64(countIf(user_id = '')) AS anonymous_requests,
  toInt64(count()) AS requests,
  toInt64(countIf(status = 'error')) AS errors,
  toInt64(countIf(NOT priced)) AS unpriced_requests,
  toInt64(countIf(estimated)) AS estimated_requests,
  toInt64(sum(input_tokens)) AS input_tokens,
  toInt64(sum(output_tokens)) AS output_tokens,
  toInt64(sum(cache_read_tokens)) AS cache_read_tokens,
  toInt64(sum(cache_write_tokens)) AS cache_write_tokens,
  toInt64(sum(reasoning_tokens)) AS reasoning_tokens,
  toInt64(sum(input_audio_tokens)) AS input_audio_tokens,
  toInt64(sum(output_audio_tokens)) AS output_audio_tokens,
  sum(ifNull(cost_usd, toDecimal128(0, 12))) AS cost_usd,
  sum(cache_savings_usd) AS cache_savings_usd,
  quantilesTDigestState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms_quantiles,
  quantilesTDigestIfState(0.5, 0.95, 0.99)(ifNull(ttft_ms, 0), isNotNull(ttft_ms)) AS ttft_ms_quantiles
FROM {db}.{local:ai_calls}
WHERE ingested_at >= ifNull((SELECT maxOrNull(cutover) FROM {db}.{local:rollup_cutover}), toDateTime64('2200-01-01 00:00:00', 3, 'UTC'))
GROUP BY tenant, day, service, provider, model, operation, team, feature;

CREATE TABLE IF NOT EXISTS {db}.{local:ai_user_daily} {on_cluster} (
  tenant LowCardinality(String),
  day Date,
  user_id String,
  service LowCardinality(String),
  provider LowCardinality(String),
  model LowCardinality(String),
  team LowCardinality(String),
  feature LowCardinality(String),
  requests SimpleAggregateFunction(sum, Int64),
  errors SimpleAggregateFunction(sum, Int64),
  unpriced_requests SimpleAggregateFunction(sum, Int64),
  estimated_requests SimpleAggregateFunction(sum, Int64),
  input_tokens SimpleAggregateFunction(sum, Int64),
  output_tokens SimpleAggregateFunction(sum, Int64),
  cache_read_tokens SimpleAggregateFunction(sum, Int64),
  cache_write_tokens SimpleAggregateFunction(sum, Int64),
  reasoning_tokens SimpleAggregateFunction(sum, Int64),
  input_audio_tokens SimpleAggregateFunction(sum, Int64),
  output_audio_tokens SimpleAggregateFunction(sum, Int64),
  cost_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  cache_savings_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  duration_ms_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float64),
  ttft_ms_quantiles AggregateFunction(quantilesTDigestIf(0.5, 0.95, 0.99), Float64, UInt8)
) ENGINE = {engine:AggregatingMergeTree}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, user_id, day, service, provider, model, team, feature)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{local:ai_user_daily_mv} {on_cluster}
TO {db}.{local:ai_user_daily}
AS SELECT
  tenant,
  toDate(timestamp) AS day,
  user_id, service, provider, model, team, feature,
  toInt64(count()) AS requests,
  toInt64(countIf(status = 'error')) AS errors,
  toInt64(countIf(NOT priced)) AS unpriced_requests,
  toInt64(countIf(estimated)) AS estimated_requests,
  toInt64(sum(input_tokens)) AS input_tokens,
  toInt64(sum(output_tokens)) AS output_tokens,
  toInt64(sum(cache_read_tokens)) AS cache_read_tokens,
  toInt64(sum(cache_write_tokens)) AS cache_write_tokens,
  toInt64(sum(reasoning_tokens)) AS reasoning_tokens,
  toInt64(sum(input_audio_tokens)) AS input_audio_tokens,
  toInt64(sum(output_audio_tokens)) AS output_audio_tokens,
  sum(ifNull(cost_usd, toDecimal128(0, 12))) AS cost_usd,
  sum(cache_savings_usd) AS cache_savings_usd,
  quantilesTDigestState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms_quantiles,
  quantilesTDigestIfState(0.5, 0.95, 0.99)(ifNull(ttft_ms, 0), isNotNull(ttft_ms)) AS ttft_ms_quantiles
FROM {db}.{local:ai_calls}
WHERE ingested_at >= ifNull((SELECT maxOrNull(cutover) FROM {db}.{local:rollup_cutover}), toDateTime64('2200-01-01 00:00:00', 3, 'UTC'))
GROUP BY tenant, day, user_id, service, provider, model, team, feature;

CREATE TABLE IF NOT EXISTS {db}.{local:rollup_backfill} {on_cluster} (
  tenant LowCardinality(String),
  day Date,
  source LowCardinality(String) COMMENT 'raw: from ai_calls; copied: from the 003 rollups (raw expired)',
  requests UInt64,
  done_at DateTime64(3, 'UTC')
) ENGINE = {engine:ReplacingMergeTree(done_at)}
ORDER BY (tenant, day);

-- @distributed ai_rollup_hourly cityHash64(tenant)
-- @distributed ai_rollup_daily cityHash64(tenant)
-- @distributed ai_user_daily cityHash64(tenant)
-- @distributed rollup_backfill cityHash64(tenant)
