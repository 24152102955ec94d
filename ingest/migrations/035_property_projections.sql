-- Custom properties at scale (issue 13). "Spend by custom property", the usage API's
-- property filters and the $property variable read ai_calls, since properties are no rollup's
-- key (their cardinality is the app's). Two aggregate projections of ai_calls answer the
-- questions with "All" and with users chosen from a row per (tenant, day, property map) and per
-- (tenant, user, day, property map): a few rows a day for a tenant, one user's rows a key range.
-- A query reads one only if it aggregates right on ai_calls, filters on tenant, user_id and
-- toDate(timestamp) alone, and sums what they sum (dashboards/src/users.ts); anything else (a
-- service chosen, a time of day) reads the raw rows as before. Projections follow inserts,
-- ReplacingMergeTree's merges (rebuilt after dedup: what a query without FINAL sees) and
-- forget-user's deletes; MATERIALIZE fills them for the calls already stored.
-- The properties column is 040's: a new store applies 035 first, so it is added here too
-- (040 then finds it).

ALTER TABLE {db}.{local:ai_calls} {on_cluster} ADD COLUMN IF NOT EXISTS properties Map(String, String) CODEC(ZSTD(1)) AFTER attributes;

-- @distributed-alter ai_calls ADD COLUMN IF NOT EXISTS properties Map(String, String) AFTER attributes

ALTER TABLE {db}.{local:ai_calls} {on_cluster}
  MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild', lightweight_mutation_projection_mode = 'rebuild';

ALTER TABLE {db}.{local:ai_calls} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_property_day (
    SELECT tenant, toDate(timestamp), properties, count(), sum(ifNull(cost_usd, toDecimal128(0, 12)))
    GROUP BY tenant, toDate(timestamp), properties
  );

ALTER TABLE {db}.{local:ai_calls} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_user_property_day (
    SELECT tenant, user_id, toDate(timestamp), properties, count(), sum(ifNull(cost_usd, toDecimal128(0, 12)))
    GROUP BY tenant, user_id, toDate(timestamp), properties
  );

ALTER TABLE {db}.{local:ai_calls} {on_cluster} MATERIALIZE PROJECTION by_property_day;

ALTER TABLE {db}.{local:ai_calls} {on_cluster} MATERIALIZE PROJECTION by_user_property_day;
