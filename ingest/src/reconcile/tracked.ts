import { parseUsd } from '@tokenmeter/instrumentation/prices';
import { select, table } from '../retention/sql.js';
import type { Store } from '../store/client.js';
import { canonicalModel, type TrackedDay } from './types.js';

/** tokenmeter's cost for one UTC day and provider, from the daily rollup; tenant '*' is every tenant. */
export async function trackedDay(store: Store, day: string, provider: string, tenant: string): Promise<TrackedDay> {
  const rows = await select<{
    model: string;
    service: string;
    cost: string;
    requests: string;
    unpriced: string;
    input_tokens: string;
    output_tokens: string;
    cache_read_tokens: string;
  }>(
    store,
    `SELECT model, service, toString(sum(cost_usd)) AS cost, sum(requests) AS requests, sum(unpriced_requests) AS unpriced,
            sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens
     FROM ${table(store, 'ai_rollup_daily')}
     WHERE day = {day:Date} AND provider = {provider:String} AND ({tenant:String} = '*' OR tenant = {tenant:String})
     GROUP BY model, service`,
    { day, provider, tenant },
  );
  const tracked: TrackedDay = { total: 0n, byModel: new Map(), byService: new Map() };
  for (const r of rows) {
    const key = canonicalModel(r.model);
    const cost = parseUsd(r.cost);
    tracked.total += cost;
    tracked.byService.set(r.service, (tracked.byService.get(r.service) ?? 0n) + cost);
    const m = tracked.byModel.get(key) ?? {
      cost: 0n,
      requests: 0,
      unpriced: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
    };
    m.cost += cost;
    m.requests += Number(r.requests);
    m.unpriced += Number(r.unpriced);
    m.inputTokens += Number(r.input_tokens);
    m.outputTokens += Number(r.output_tokens);
    m.cacheReadTokens += Number(r.cache_read_tokens);
    tracked.byModel.set(key, m);
  }
  return tracked;
}
