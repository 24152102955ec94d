-- Hourly and daily rollups, fed by materialized views from ai_calls at insert time.
-- Read them with sum() / quantilesTDigestMerge() … GROUP BY: never rely on merges
-- having run. Kept when raw rows expire (no TTL here).

CREATE TABLE IF NOT EXISTS {db}.{local:ai_usage_hourly} {on_cluster} (
  tenant LowCardinality(String),
  hour DateTime('UTC'),
  service LowCardinality(String),
  provider LowCardinality(String),
  model LowCardinality(String),
  operation LowCardinality(String),
  user_id String,
  team LowCardinality(String),
  feature LowCardinality(String),
  requests SimpleAggregateFunction(sum, UInt64),
  errors SimpleAggregateFunction(sum, UInt64),
  unpriced_requests SimpleAggregateFunction(sum, UInt64),
  estimated_requests SimpleAggregateFunction(sum, UInt64),
  input_tokens SimpleAggregateFunction(sum, UInt64),
  output_tokens SimpleAggregateFunction(sum, UInt64),
  cache_read_tokens SimpleAggregateFunction(sum, UInt64),
  cache_write_tokens SimpleAggregateFunction(sum, UInt64),
  reasoning_tokens SimpleAggregateFunction(sum, UInt64),
  input_audio_tokens SimpleAggregateFunction(sum, UInt64),
  output_audio_tokens SimpleAggregateFunction(sum, UInt64),
  cost_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  cache_savings_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  duration_ms_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float64),
  ttft_ms_quantiles AggregateFunction(quantilesTDigestIf(0.5, 0.95, 0.99), Float64, UInt8)
) ENGINE = {engine:AggregatingMergeTree}
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, hour, service, provider, model, operation, user_id, team, feature)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{local:ai_usage_hourly_mv} {on_cluster}
TO {db}.{local:ai_usage_hourly}
AS SELECT
  tenant,
  toStartOfHour(timestamp) AS hour,
  service, provider, model, operation, user_id, team, feature,
  count() AS requests,
  countIf(status = 'error') AS errors,
  countIf(NOT priced) AS unpriced_requests,
  countIf(estimated) AS estimated_requests,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  sum(reasoning_tokens) AS reasoning_tokens,
  sum(input_audio_tokens) AS input_audio_tokens,
  sum(output_audio_tokens) AS output_audio_tokens,
  sum(ifNull(cost_usd, toDecimal128(0, 12))) AS cost_usd,
  sum(cache_savings_usd) AS cache_savings_usd,
  quantilesTDigestState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms_quantiles,
  quantilesTDigestIfState(0.5, 0.95, 0.99)(ifNull(ttft_ms, 0), isNotNull(ttft_ms)) AS ttft_ms_quantiles
FROM {db}.{local:ai_calls}
GROUP BY tenant, hour, service, provider, model, operation, user_id, team, feature;

CREATE TABLE IF NOT EXISTS {db}.{local:ai_usage_daily} {on_cluster} (
  tenant LowCardinality(String),
  day Date,
  service LowCardinality(String),
  provider LowCardinality(String),
  model LowCardinality(String),
  operation LowCardinality(String),
  user_id String,
  team LowCardinality(String),
  feature LowCardinality(String),
  requests SimpleAggregateFunction(sum, UInt64),
  errors SimpleAggregateFunction(sum, UInt64),
  unpriced_requests SimpleAggregateFunction(sum, UInt64),
  estimated_requests SimpleAggregateFunction(sum, UInt64),
  input_tokens SimpleAggregateFunction(sum, UInt64),
  output_tokens SimpleAggregateFunction(sum, UInt64),
  cache_read_tokens SimpleAggregateFunction(sum, UInt64),
  cache_write_tokens SimpleAggregateFunction(sum, UInt64),
  reasoning_tokens SimpleAggregateFunction(sum, UInt64),
  input_audio_tokens SimpleAggregateFunction(sum, UInt64),
  output_audio_tokens SimpleAggregateFunction(sum, UInt64),
  cost_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  cache_savings_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
  duration_ms_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float64),
  ttft_ms_quantiles AggregateFunction(quantilesTDigestIf(0.5, 0.95, 0.99), Float64, UInt8)
) ENGINE = {engine:AggregatingMergeTree}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, service, provider, model, operation, user_id, team, feature)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{local:ai_usage_daily_mv} {on_cluster}
TO {db}.{local:ai_usage_daily}
AS SELECT
  tenant,
  toDate(timestamp) AS day,
  service, provider, model, operation, user_id, team, feature,
  count() AS requests,
  countIf(status = 'error') AS errors,
  countIf(NOT priced) AS unpriced_requests,
  countIf(estimated) AS estimated_requests,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  sum(reasoning_tokens) AS reasoning_tokens,
  sum(input_audio_tokens) AS input_audio_tokens,
  sum(output_audio_tokens) AS output_audio_tokens,
  sum(ifNull(cost_usd, toDecimal128(0, 12))) AS cost_usd,
  sum(cache_savings_usd) AS cache_savings_usd,
  quantilesTDigestState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms_quantiles,
  quantilesTDigestIfState(0.5, 0.95, 0.99)(ifNull(ttft_ms, 0), isNotNull(ttft_ms)) AS ttft_ms_quantiles
FROM {db}.{local:ai_calls}
GROUP BY tenant, day, service, provider, model, operation, user_id, team, feature;

-- @distributed ai_usage_hourly cityHash64(tenant)
-- @distributed ai_usage_daily cityHash64(tenant)
