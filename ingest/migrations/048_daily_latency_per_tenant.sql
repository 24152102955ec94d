-- The Latency p50 / p95 series over more than 7 days (issue 13): a point per UTC day merged one
-- t-digest state per tenant, day, provider and model from 029's by_model_day (9,100 states of
-- durations and as many of time to first token over 90 days at 50 M calls: 58 ms p95 on a quiet
-- machine). by_day merges them per tenant and day when the projection is built, as 036's by_hour
-- does for the hourly rollup: 455 states (31 -> 13 ms p50 at load 6, alternate runs). Both read one
-- mark a part on a store this size, so the panel names it (preferred_optimize_projection_name).

ALTER TABLE {db}.{local:ai_rollup_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_day (
    SELECT tenant, day,
      quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles),
      quantilesTDigestIfMerge(0.5, 0.95, 0.99)(ttft_ms_quantiles)
    GROUP BY tenant, day
  );

ALTER TABLE {db}.{local:ai_rollup_daily} {on_cluster} MATERIALIZE PROJECTION by_day;
