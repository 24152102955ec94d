-- Two more projections for panels that merged many aggregate states (issue 13).
--
-- Teams: 027's by_team_day kept a uniqExact state per team and day (a set of 128-bit hashes of
-- every user); merging 90 days of them cost ~0.1 s at 10 M calls. by_team_day_users keeps a
-- uniq state instead (exact hashes up to 65,536 distinct users a state, sampled above; 32-bit
-- hashes, so two users may collide: the Teams panel says "≈"), about 4 times cheaper to merge.
--
-- Latency over 7 days or less: the time series merged one t-digest state per model and hour
-- (by_model_hour). by_hour merges them per tenant and hour when the projection is built, so
-- the "All" series reads one state an hour for each tenant.

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_team_day_users (
    SELECT tenant, day, team, uniq(user_id), sum(requests), sum(cost_usd) GROUP BY tenant, day, team
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} DROP PROJECTION IF EXISTS by_team_day;

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_team_day_users;

ALTER TABLE {db}.{local:ai_rollup_hourly} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_hour (
    SELECT tenant, hour,
      quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles),
      quantilesTDigestIfMerge(0.5, 0.95, 0.99)(ttft_ms_quantiles)
    GROUP BY tenant, hour
  );

ALTER TABLE {db}.{local:ai_rollup_hourly} {on_cluster} MATERIALIZE PROJECTION by_hour;
