-- Price overrides (custom and fine-tuned models, negotiated discounts) with an
-- effective date, and the daily reconciliation of tracked cost against provider bills.

CREATE TABLE IF NOT EXISTS {db}.{local:price_overrides} {on_cluster} (
  id String,
  provider LowCardinality(String),
  model String,
  effective_from DateTime64(3, 'UTC'),
  prices Map(String, Float64) COMMENT '@pydantic/genai-prices keys: input_mtok, output_mtok, cache_read_mtok, …',
  note String,
  updated_at DateTime64(3, 'UTC'),
  deleted UInt8 DEFAULT 0
) ENGINE = {engine:ReplacingMergeTree(updated_at)}
ORDER BY (provider, model, id);

CREATE TABLE IF NOT EXISTS {db}.{local:reconciliation} {on_cluster} (
  day Date,
  tenant LowCardinality(String),
  provider LowCardinality(String),
  dimension LowCardinality(String) COMMENT 'total | model | project',
  key String COMMENT 'the model or project id; empty for the total',
  tracked_usd Decimal(38, 12),
  billed_usd Decimal(38, 12),
  drift_pct Float64,
  status LowCardinality(String) COMMENT 'match | drift | missing | error',
  checked_at DateTime64(3, 'UTC'),
  details String
) ENGINE = {engine:ReplacingMergeTree(checked_at)}
ORDER BY (tenant, day, provider, dimension, key);

CREATE TABLE IF NOT EXISTS {db}.{local:audit_log} {on_cluster} (
  ts DateTime64(3, 'UTC'),
  tenant LowCardinality(String),
  action LowCardinality(String) COMMENT 'reprice | forget_user | price_set | key_create | key_revoke | …',
  actor String,
  details String
) ENGINE = {engine:MergeTree}
ORDER BY (tenant, ts);

-- @distributed price_overrides rand()
-- @distributed reconciliation cityHash64(tenant)
-- @distributed audit_log cityHash64(tenant)
