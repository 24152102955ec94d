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
     FROM ai_usage_hourly
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
  requests: number;
  firstHour: number;
}

/** Models with calls nobody could price in [from, to). */
export async function unpricedModels(store: Store, from: Date, to: Date): Promise<UnpricedRow[]> {
  const rows = await readRows<Record<string, string | number>>(
    store,
    `SELECT tenant, provider, model, sum(unpriced_requests) AS n, toUnixTimestamp(minIf(hour, unpriced_requests > 0)) AS first
     FROM ai_usage_hourly
     WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}
     GROUP BY tenant, provider, model HAVING n > 0 ORDER BY tenant, provider, model`,
    { from: Math.floor(from.getTime() / 1000), to: Math.floor(to.getTime() / 1000) },
  );
  return rows.map((r) => ({
    tenant: String(r.tenant),
    provider: String(r.provider),
    model: String(r.model),
    requests: Number(r.n),
    firstHour: Number(r.first) * 1000,
  }));
}
