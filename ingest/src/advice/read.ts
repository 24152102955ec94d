import { select, table } from '../retention/sql.js';
import type { Store } from '../store/client.js';

/** One group of a tenant's traffic: the calls of one model in one feature of one service. */
export interface TrafficGroup {
  service: string;
  feature: string;
  provider: string;
  model: string;
  requests: number;
  errors: number;
  unpriced: number;
  /** Requests with no end user (user_id empty). */
  anonymous: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: string;
  /** True when some calls streamed (a time to first token was recorded). */
  streamed: boolean;
}

/** The tenant's rollup for the last `days` whole UTC days before `end`, and on how many of them it had traffic. */
export async function readTraffic(
  store: Store,
  q: { tenant: string; days: number; end: Date },
): Promise<{ groups: TrafficGroup[]; daysObserved: number; from: string; to: string }> {
  const endDay = new Date(Date.UTC(q.end.getUTCFullYear(), q.end.getUTCMonth(), q.end.getUTCDate()));
  const from = new Date(endDay.getTime() - q.days * 86_400_000).toISOString().slice(0, 10);
  const to = endDay.toISOString().slice(0, 10);
  const params = { tenant: q.tenant, from, to };
  const rows = await select<Record<string, unknown>>(
    store,
    `SELECT service, feature, provider, model,
            sum(requests) AS g_requests, sum(errors) AS g_errors, sum(unpriced_requests) AS g_unpriced,
            sum(anonymous_requests) AS g_anonymous,
            sum(input_tokens) AS g_input_tokens, sum(output_tokens) AS g_output_tokens,
            sum(cache_read_tokens) AS g_cache_read_tokens, sum(cache_write_tokens) AS g_cache_write_tokens,
            toString(sum(cost_usd)) AS g_cost_usd,
            NOT isNaN(quantilesTDigestIfMerge(0.5, 0.95, 0.99)(ttft_ms_quantiles)[1]) AS g_streamed
     FROM ${table(store, 'ai_rollup_daily')}
     WHERE tenant = {tenant:String} AND day >= {from:Date} AND day < {to:Date}
     GROUP BY service, feature, provider, model
     ORDER BY service, feature, provider, model`,
    params,
  );
  const [d] = await select<{ n: string }>(
    store,
    `SELECT uniqExact(day) AS n FROM ${table(store, 'ai_rollup_daily')}
     WHERE tenant = {tenant:String} AND day >= {from:Date} AND day < {to:Date}`,
    params,
  );
  return {
    from,
    to,
    daysObserved: Number(d?.n ?? 0),
    groups: rows.map((r) => ({
      service: String(r.service),
      feature: String(r.feature),
      provider: String(r.provider),
      model: String(r.model),
      requests: Number(r.g_requests),
      errors: Number(r.g_errors),
      unpriced: Number(r.g_unpriced),
      anonymous: Number(r.g_anonymous),
      inputTokens: Number(r.g_input_tokens),
      outputTokens: Number(r.g_output_tokens),
      cacheReadTokens: Number(r.g_cache_read_tokens),
      cacheWriteTokens: Number(r.g_cache_write_tokens),
      costUsd: String(r.g_cost_usd),
      streamed: r.g_streamed === true || r.g_streamed === 1 || r.g_streamed === '1' || r.g_streamed === 'true',
    })),
  };
}
