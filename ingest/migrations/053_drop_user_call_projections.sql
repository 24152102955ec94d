-- 037's by_user_calls (one user's calls in order: the usage API's per-call distributions) and
-- 039's by_property_user_day (Spend by custom property with users chosen) are read by nothing
-- since 052: ai_user_calls answers both, from monthly parts instead of a part per day. Dropped, so
-- that an insert into ai_calls no longer builds a second sorted copy of every call beside the one
-- ai_user_calls_mv writes.

ALTER TABLE {db}.{local:ai_calls} {on_cluster} DROP PROJECTION IF EXISTS by_user_calls;

ALTER TABLE {db}.{local:ai_calls} {on_cluster} DROP PROJECTION IF EXISTS by_property_user_day;
