-- Teams' active users as a fixed-size sketch (issue 13). 036's by_team_day_users kept a uniq
-- state per team and day: up to 65,536 hashes each, so merging 90 days of them (3,640 states at
-- 50 M calls, ~2,000 users each) cost ~100 ms at load 4-7 and 122 ms on a quiet machine.
-- uniqHLL12 keeps a 2.5 KB HyperLogLog sketch (exact up to 16 users, ~1.6 % error above; 0-1.4 %
-- against uniqExact on bench/dashboards' data): merging is a register-wise max, ~4x cheaper.
-- by_team_day_hll replaces by_team_day_users, so an insert still builds one team projection.

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_team_day_hll (
    SELECT tenant, day, team, uniqHLL12(user_id), sum(requests), sum(cost_usd) GROUP BY tenant, day, team
  );

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} DROP PROJECTION IF EXISTS by_team_day_users;

ALTER TABLE {db}.{local:ai_user_daily} {on_cluster} MATERIALIZE PROJECTION by_team_day_hll;
