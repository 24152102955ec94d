import { expect } from 'vitest';
import type { Store } from '../../ingest/src/store/client.ts';
import { rows } from '../support/store.ts';

/** Rollups (hourly, daily) equal sums over ai_calls FINAL, key by key: cost, requests, unpriced, savings. */
export async function expectRollupsEqualRaw(store: Store): Promise<void> {
  for (const [rollup, time, expr] of [
    ['ai_usage_hourly', 'hour', "toStartOfHour(toDateTime(timestamp, 'UTC'))"],
    ['ai_usage_daily', 'day', 'toDate(timestamp)'],
  ] as const) {
    const diff = await rows(
      store,
      `SELECT * FROM (
         SELECT tenant, toString(${time}) AS t, provider, model, user_id,
                toString(sum(cost_usd)) AS cost, sum(requests) AS requests, sum(unpriced_requests) AS unpriced,
                toString(sum(cache_savings_usd)) AS savings
         FROM ${store.database}.${rollup} GROUP BY tenant, t, provider, model, user_id
       ) AS r
       FULL OUTER JOIN (
         SELECT tenant, toString(${expr}) AS t, provider, model, user_id,
                toString(sum(ifNull(cost_usd, 0))) AS cost, count() AS requests, countIf(NOT priced) AS unpriced,
                toString(sum(cache_savings_usd)) AS savings
         FROM ${store.database}.ai_calls FINAL GROUP BY tenant, t, provider, model, user_id
       ) AS c USING (tenant, t, provider, model, user_id)
       WHERE r.cost != c.cost OR r.requests != c.requests OR r.unpriced != c.unpriced OR r.savings != c.savings`,
    );
    expect(diff, rollup).toEqual([]);
  }
}
