-- Custom properties of a call (the app's `tokenmeter.property.<name>` attributes), bounded at
-- ingest (TOKENMETER_MAX_PROPERTIES, …_NAME_LENGTH, …_VALUE_LENGTH). Read from raw rows within
-- a bounded time range; never part of a rollup's key (their cardinality is the app's).
-- On a cluster the Distributed table gets the column too (@distributed-alter).

ALTER TABLE {db}.{local:ai_calls} {on_cluster} ADD COLUMN IF NOT EXISTS properties Map(String, String) CODEC(ZSTD(1)) AFTER attributes;

-- @distributed-alter ai_calls ADD COLUMN IF NOT EXISTS properties Map(String, String) AFTER attributes
