-- Budgets and the history of every alert tokenmeter raised.
-- A budget's scope is any combination of tenant, team, user, feature and model;
-- an empty field means "any". Rows are versioned: the latest version per id wins,
-- and deleted = 1 marks a removal.

CREATE TABLE IF NOT EXISTS {db}.{local:budgets} {on_cluster} (
  id String,
  tenant LowCardinality(String),
  name String,
  scope_team String,
  scope_user String,
  scope_feature String,
  scope_model String,
  period LowCardinality(String) COMMENT 'day | week | month (UTC)',
  amount_usd Decimal(38, 12),
  mode LowCardinality(String) COMMENT 'soft | hard',
  thresholds Array(UInt16) COMMENT 'percent of amount, default [75, 90, 100]',
  created_at DateTime64(3, 'UTC'),
  updated_at DateTime64(3, 'UTC'),
  deleted UInt8 DEFAULT 0
) ENGINE = {engine:ReplacingMergeTree(updated_at)}
ORDER BY (tenant, id);

CREATE TABLE IF NOT EXISTS {db}.{local:alert_events} {on_cluster} (
  ts DateTime64(3, 'UTC'),
  tenant LowCardinality(String),
  alertname LowCardinality(String) COMMENT 'BudgetThreshold | CostSpike | ErrorRateSpike | UnpricedModel | ReconciliationDrift | …',
  severity LowCardinality(String) COMMENT 'page | warning | info',
  scope String COMMENT 'the budget scope or the anomaly key, as text',
  budget_id String,
  period_start DateTime('UTC'),
  threshold UInt16,
  observed Float64 COMMENT 'spend in USD, or the anomaly measure',
  limit_value Float64 COMMENT 'the budget amount or the baseline bound',
  state LowCardinality(String) COMMENT 'firing | resolved',
  fingerprint String COMMENT 'stable id of the alert: one crossing per period',
  details String
) ENGINE = {engine:ReplacingMergeTree(ts)}
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, fingerprint, state);

-- @distributed budgets cityHash64(tenant)
-- @distributed alert_events cityHash64(tenant)
