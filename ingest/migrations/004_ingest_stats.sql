-- The service's own counters, flushed once a minute, so the pipeline-health
-- dashboard can read ingest rates, rejections and spool state from ClickHouse
-- (the same figures /metrics exposes to Prometheus).
-- metric: spans_received | spans_accepted | spans_rejected | batches_written | dedup_hits |
--         auth_failures | spool_bytes | spool_age_seconds | insert_ms_p99 …; reason: rejection reason or ''.

CREATE TABLE IF NOT EXISTS {db}.{local:ingest_stats} {on_cluster} (
  ts DateTime('UTC'),
  instance LowCardinality(String),
  metric LowCardinality(String),
  reason LowCardinality(String),
  value Float64
) ENGINE = {engine:MergeTree}
PARTITION BY toYYYYMM(ts)
ORDER BY (metric, reason, ts, instance)
TTL ts + toIntervalDay({ttl_days});

-- @distributed ingest_stats rand()
