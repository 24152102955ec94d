-- Aggregate projections for the panels that read every row of a rollup in their range
-- (issue 13). ai_rollup_hourly holds a row per hour and (service, provider, model, operation,
-- team, feature) in use; a panel with $user "All" that asks only about providers and models
-- (latency, cost or calls by model, tokens, errors) or only about services and teams needs far
-- fewer rows, and merging one t-digest state per rollup row was most of the latency panels'
-- cost. ClickHouse reads a projection instead of the table when the query's columns, filters
-- and aggregates are all in it: a panel has to aggregate each branch of its SQL itself for
-- that (dashboards/src/sql.ts, usageGrouped). Projections follow inserts, merges and deletes
-- (reprice's rebuild, forget-user): nothing to backfill beyond MATERIALIZE.
--
-- ai_user_daily gets two more beside 023's by_user_day: users, calls and cost per team and day
-- (the Teams panel: a uniqExact state per team-day instead of every user-day), and per user,
-- team and month (each user's all-time total: months instead of days).

ALTER TABLE {db}.{local:ai_rollup_hourly} {on_cluster}
  MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild', lightweight_mutation_projection_mode = 'rebuild';

ALTER TABLE {db}.{local:ai_rollup_hourly} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_model_hour (
    SELECT tenant, hour, provider, model,
      sum(requests), sum(errors), sum(unpriced_requests),
      sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens),
      sum(cost_usd), sum(cache_savings_usd), min(hour), max(hour),
      quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles),
      quantilesTDigestIfMerge(0.5, 0.95, 0.99)(ttft_ms_quantiles)
    GROUP BY tenant, hour, provider, model
  );

ALTER TABLE {db}.{local:ai_rollup_hourly} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_service_hour (
    SELECT tenant, hour, service, team, sum(requests), sum(cost_usd) GROUP BY tenant, hour, service, team
  );

ALTER TABLE {db}.{local:ai_rollup_hourly} {on_cluster} MATERIALIZE PROJECTION by_model_hour;

ALTER TABLE {db}.{local:ai_rollup_hourly} {on_cluster} MATERIALIZE PROJECTION by_service_hour;

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_team_day (
    SELECT tenant, day, team, uniqExact(user_id), sum(requests), sum(cost_usd) GROUP BY tenant, day, team
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_user_month (
    SELECT tenant, toStartOfMonth(day), user_id, team, sum(requests), sum(cost_usd)
    GROUP BY tenant, toStartOfMonth(day), user_id, team
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_team_day;

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_user_month;
