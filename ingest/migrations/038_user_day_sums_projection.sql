-- Every measure per user and day (issue 13). GET /api/v1/usage/summary?group_by=user sums each
-- user's period, today and all time; from ai_user_daily's rows (a row per user, day, service,
-- model, team and feature: ~19 M at 50 M calls) that took ~1 s. This projection holds one row
-- per (tenant, day, user) with every sum the usage API returns; the summary aggregates per key
-- and day right on the table so that ClickHouse reads it (ingest/src/usage/queries.ts).

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_user_day_sums (
    SELECT tenant, day, user_id,
      sum(requests), sum(errors), sum(unpriced_requests), sum(input_tokens), sum(output_tokens),
      sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_usd)
    GROUP BY tenant, day, user_id
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_user_day_sums;
