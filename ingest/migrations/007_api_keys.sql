-- API keys, stored hashed (sha256 of the secret), each bound to a tenant with a role.

CREATE TABLE IF NOT EXISTS {db}.{local:api_keys} {on_cluster} (
  id String,
  tenant LowCardinality(String),
  role LowCardinality(String) COMMENT 'ingest | read | admin | user (read without money)',
  name String,
  key_hash String,
  created_at DateTime64(3, 'UTC'),
  revoked_at Nullable(DateTime64(3, 'UTC')),
  updated_at DateTime64(3, 'UTC')
) ENGINE = {engine:ReplacingMergeTree(updated_at)}
ORDER BY id;

-- @distributed api_keys rand()
