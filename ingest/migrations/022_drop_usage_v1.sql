-- The 003 rollups (keyed by user_id, about as large as ai_calls) are gone once 021's backfill
-- has copied them: their views first, so no insert writes to a table being dropped.
-- On a cluster the plain name is the Distributed table and {local:…} the shard tables.

DROP TABLE IF EXISTS {db}.{local:ai_usage_hourly_mv} {on_cluster} SYNC;

DROP TABLE IF EXISTS {db}.{local:ai_usage_daily_mv} {on_cluster} SYNC;

DROP TABLE IF EXISTS {db}.ai_usage_hourly {on_cluster} SYNC;

DROP TABLE IF EXISTS {db}.ai_usage_daily {on_cluster} SYNC;

DROP TABLE IF EXISTS {db}.{local:ai_usage_hourly} {on_cluster} SYNC;

DROP TABLE IF EXISTS {db}.{local:ai_usage_daily} {on_cluster} SYNC;
