import type { Store } from '../store/client.js';
import { readRows } from '../usage/read.js';

export interface HourlyKeyRow {
  tenant: string;
  service: string;
  model: string;
  /** Epoch ms of the hour's start. */
  hour: number;
  cost: number;
  requests: number;
  errors: number;
}

/** Cost, requests and errors per tenant, service, model and hour in [from, to), from the hourly rollup. */
export async function hourlyByKey(store: Store, from: Date, to: Date): Promise<HourlyKeyRow[]> {
  const rows = await readRows<Record<string, string | number>>(
    store,
    `SELECT tenant, service, model, toUnixTimestamp(hour) AS hour, toFloat64(sum(cost_usd)) AS cost,
            sum(requests) AS requests, sum(errors) AS errors
     FROM ai_rollup_hourly
     WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}
     GROUP BY tenant, service, model, hour`,
    { from: Math.floor(from.getTime() / 1000), to: Math.floor(to.getTime() / 1000) },
  );
  return rows.map((r) => ({
    tenant: String(r.tenant),
    service: String(r.service),
    model: String(r.model),
    hour: Number(r.hour) * 1000,
    cost: Number(r.cost),
    requests: Number(r.requests),
    errors: Number(r.errors),
  }));
}

export interface UnpricedRow {
  tenant: string;
  provider: string;
  model: string;
  /** Calls nobody could price. */
  requests: number;
  /** Calls priced only by a default price (cost_source 'default'): a guess, not a real price. */
  defaulted: number;
}

/**
 * Models with calls nobody could price, or priced only by a default price, in [from, to): the
 * unpriced count from the hourly rollup, the defaulted count from raw calls (bounded range).
 */
export async function unpricedModels(store: Store, from: Date, to: Date): Promise<UnpricedRow[]> {
  const rows = await readRows<Record<string, string | number>>(
    store,
    `SELECT tenant, provider, model, sum(unpriced) AS n, sum(defaulted) AS d
     FROM (
       SELECT tenant, provider, model, toUInt64(sum(unpriced_requests)) AS unpriced, toUInt64(0) AS defaulted
       FROM ai_rollup_hourly
       WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}
       GROUP BY tenant, provider, model
       UNION ALL
       SELECT tenant, provider, model, toUInt64(0) AS unpriced, uniqExact(trace_id, span_id) AS defaulted
       FROM ai_calls
       WHERE timestamp >= {from:DateTime('UTC')} AND timestamp < {to:DateTime('UTC')} AND cost_source = 'default'
       GROUP BY tenant, provider, model
     )
     GROUP BY tenant, provider, model HAVING n > 0 OR d > 0 ORDER BY tenant, provider, model`,
    { from: Math.floor(from.getTime() / 1000), to: Math.floor(to.getTime() / 1000) },
  );
  return rows.map((r) => ({
    tenant: String(r.tenant),
    provider: String(r.provider),
    model: String(r.model),
    requests: Number(r.n),
    defaulted: Number(r.d),
  }));
}
