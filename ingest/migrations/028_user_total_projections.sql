-- Each user's totals per month and per day, whatever the team (issue 13). 027's by_user_month
-- kept team in its key: a user who calls services of several teams had a row per team and
-- month, ~8 in bench/dashboards' data. These keep one row per (tenant, month or day, user): the
-- Per user panel sums months before the range end's month from by_user_month_total and that
-- month's days from by_user_day_total, and each user's teams from by_user_team (a row per user
-- and team, all time); Top spenders reads by_user_day_total.

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_user_month_total (
    SELECT tenant, toStartOfMonth(day), user_id, sum(requests), sum(cost_usd)
    GROUP BY tenant, toStartOfMonth(day), user_id
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_user_day_total (
    SELECT tenant, day, user_id, sum(requests), sum(cost_usd) GROUP BY tenant, day, user_id
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_user_team (
    SELECT tenant, user_id, team, sum(requests) GROUP BY tenant, user_id, team
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} DROP PROJECTION IF EXISTS by_user_month;

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_user_month_total;

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_user_day_total;

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_user_team;
