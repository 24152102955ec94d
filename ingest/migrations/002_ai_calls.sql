-- One typed row per AI call. Cost is a Decimal, never a float, and NULL when no
-- price is known (priced = false): an unpriced call is never $0.
-- input_tokens is the TOTAL input, cache reads and writes included (semconv).

CREATE TABLE IF NOT EXISTS {db}.{local:ai_calls} {on_cluster} (
  timestamp DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
  tenant LowCardinality(String),
  service LowCardinality(String),
  trace_id String CODEC(ZSTD(1)),
  span_id String CODEC(ZSTD(1)),
  parent_span_id String CODEC(ZSTD(1)),
  scope_name LowCardinality(String),
  convention LowCardinality(String),
  provider LowCardinality(String),
  operation LowCardinality(String),
  request_model LowCardinality(String),
  response_model LowCardinality(String),
  model LowCardinality(String) COMMENT 'response model, else request model: what rollups group by',
  response_id String CODEC(ZSTD(1)),
  finish_reasons Array(LowCardinality(String)),
  user_id String CODEC(ZSTD(1)),
  team LowCardinality(String),
  feature LowCardinality(String),
  session_id String CODEC(ZSTD(1)),
  request_id String CODEC(ZSTD(1)),
  input_tokens UInt64,
  output_tokens UInt64,
  cache_read_tokens UInt64,
  cache_write_tokens UInt64,
  cache_write_1h_tokens UInt64,
  reasoning_tokens UInt64,
  input_audio_tokens UInt64,
  output_audio_tokens UInt64,
  estimated Bool COMMENT 'tokens counted with a tokenizer because the provider gave no usage',
  is_streaming Bool,
  is_batch Bool,
  priced Bool,
  cost_usd Nullable(Decimal(38, 12)),
  cost_source LowCardinality(String) COMMENT 'span: cost came on the span; ingest: priced here; empty when unpriced',
  price_id LowCardinality(String),
  price_version LowCardinality(String),
  cache_savings_usd Decimal(38, 12) COMMENT 'what the cache reads saved against the full input price',
  duration_ms Float64,
  ttft_ms Nullable(Float64),
  status LowCardinality(String),
  error_type LowCardinality(String),
  attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
  INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_user user_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = {engine:ReplacingMergeTree(ingested_at)}
PARTITION BY toDate(timestamp)
ORDER BY (tenant, toStartOfHour(timestamp), service, provider, model, trace_id, span_id)
TTL toDateTime(timestamp) + toIntervalDay({ttl_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

-- @distributed ai_calls cityHash64(trace_id)
