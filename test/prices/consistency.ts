import { expect } from 'vitest';
import type { Store } from '../../ingest/src/store/client.ts';
import { rows } from '../support/store.ts';

/** Rollups (coarse hourly and daily, per user daily) equal sums over ai_calls FINAL, key by key: cost, requests, unpriced, savings. */
export async function expectRollupsEqualRaw(store: Store): Promise<void> {
  for (const [rollup, time, expr, keys] of [
    ['ai_rollup_hourly', 'hour', "toStartOfHour(toDateTime(timestamp, 'UTC'))", 'tenant, t, provider, model'],
    ['ai_rollup_daily', 'day', 'toDate(timestamp)', 'tenant, t, provider, model'],
    ['ai_user_daily', 'day', 'toDate(timestamp)', 'tenant, t, provider, model, user_id'],
  ] as const) {
    const diff = await rows(
      store,
      `SELECT * FROM (
         SELECT ${keys.replace(' t,', ` toString(${time}) AS t,`)},
                toString(sum(cost_usd)) AS cost, sum(requests) AS requests, sum(unpriced_requests) AS unpriced,
                toString(sum(cache_savings_usd)) AS savings
         FROM ${store.database}.${rollup} GROUP BY ${keys}
         -- a key whose calls were all subtracted (forget-user) is no key
         HAVING requests != 0 OR cost != '0' OR savings != '0'
       ) AS r
       FULL OUTER JOIN (
         SELECT ${keys.replace(' t,', ` toString(${expr}) AS t,`)},
                toString(sum(ifNull(cost_usd, 0))) AS cost, toInt64(count()) AS requests, toInt64(countIf(NOT priced)) AS unpriced,
                toString(sum(cache_savings_usd)) AS savings
         FROM ${store.database}.ai_calls FINAL GROUP BY ${keys}
       ) AS c USING (${keys})
       WHERE r.cost != c.cost OR r.requests != c.requests OR r.unpriced != c.unpriced OR r.savings != c.savings`,
    );
    expect(diff, rollup).toEqual([]);
  }
}
