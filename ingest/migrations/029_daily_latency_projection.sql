-- Latency over long ranges (issue 13). A t-digest state holds up to a few hundred centroids,
-- so merging ai_rollup_hourly's states over 90 days costs about what the calls cost, and
-- ai_rollup_daily's are no cheaper (fewer rows, fuller states). The latency panels over more
-- than 7 days draw a point per UTC day from this projection: one state per tenant, day,
-- provider and model (dashboards/src/sql.ts, latencyGrouped).

ALTER TABLE {db}.{local:ai_rollup_daily} {on_cluster}
  MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild', lightweight_mutation_projection_mode = 'rebuild';

ALTER TABLE {db}.{local:ai_rollup_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_model_day (
    SELECT tenant, day, provider, model,
      quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles),
      quantilesTDigestIfMerge(0.5, 0.95, 0.99)(ttft_ms_quantiles)
    GROUP BY tenant, day, provider, model
  );

ALTER TABLE {db}.{local:ai_rollup_daily} {on_cluster} MATERIALIZE PROJECTION by_model_day;
