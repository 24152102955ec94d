-- One user's calls in order (issue 13). The usage API's per-call distributions (estimate,
-- remaining uses) read a user's calls of the last days from ai_calls, whose key starts (tenant,
-- hour, service, …): one user's calls were every call of the tenant in the window (~3 M rows
-- at 50 M calls over 90 days). This projection keeps the columns those reads filter and measure,
-- ordered by (tenant, user_id, timestamp): ClickHouse reads it instead of the table when a query
-- names the user, and one user's calls are then a key range. It follows inserts, merges (rebuilt
-- after dedup, 035's setting) and deletes; MATERIALIZE fills it for the calls already stored.

ALTER TABLE {db}.{local:ai_calls} {on_cluster}
  ADD PROJECTION IF NOT EXISTS by_user_calls (
    SELECT tenant, user_id, timestamp, service, provider, model, team, feature, status, priced,
      input_tokens, output_tokens, cost_usd
    ORDER BY tenant, user_id, timestamp
  );

ALTER TABLE {db}.{local:ai_calls} {on_cluster} MATERIALIZE PROJECTION by_user_calls;
