-- Every measure per user and month (issue 13). GET /api/v1/usage/summary?group_by=user read a
-- row per user and day from 038's by_user_day_sums: ~182,000 rows for a tenant of 2,000 users
-- over 91 days at 50 M calls (107 ms on a quiet machine). It now sums the months before the
-- period from this projection (a row per user and month) and only the period's days from
-- by_user_day_sums: ~46,000 rows a week into a month. It also answers what 028's
-- by_user_month_total did (requests and cost per user and month, the Per user panel's months
-- before this one), so that one is dropped and an insert still builds one monthly user projection.

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_user_month_sums (
    SELECT tenant, toStartOfMonth(day), user_id,
      sum(requests), sum(errors), sum(unpriced_requests), sum(input_tokens), sum(output_tokens),
      sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_usd)
    GROUP BY tenant, toStartOfMonth(day), user_id
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} DROP PROJECTION IF EXISTS by_user_month_total;

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_user_month_sums;
