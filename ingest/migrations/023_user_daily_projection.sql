-- ai_user_daily holds a row per user, day and (service, provider, model, team, feature): panels
-- about every user ("All": top spenders, each user's totals, users per team) need only the user,
-- the day and the team. This aggregate projection keeps that, one row per (tenant, day, user,
-- team), and ClickHouse reads it instead of the table whenever a query needs nothing else.
-- Merges and deletes (reprice's rebuild, forget-user) rebuild it.

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild', lightweight_mutation_projection_mode = 'rebuild';

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_user_day (
    SELECT tenant, day, user_id, team, sum(requests), sum(cost_usd) GROUP BY tenant, day, user_id, team
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_user_day;
