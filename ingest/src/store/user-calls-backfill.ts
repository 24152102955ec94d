import { insertSelect, rowsOf, setCutover, type BackfillProgress } from './backfill.js';
import type { Store } from './client.js';

/** The columns of ai_user_calls (migration 052), as its view selects them from ai_calls. */
export const USER_CALL_COLUMNS = `user_id, tenant, timestamp, trace_id, span_id, service, provider, model, team, feature,
  status, priced, input_tokens, output_tokens, cost_usd, properties, ingested_at`;

/**
 * Fill ai_user_calls (migration 052) with the calls ai_calls held before its view's cutover, a
 * UTC day at a time, oldest first. Calls from the cutover on are the view's; none is copied by
 * both. The rows are copied as stored, without FINAL (which made the copy ~6× slower: 45 minutes
 * for 50 M calls): ai_user_calls is a ReplacingMergeTree keyed on the call and read with FINAL, so
 * a call stored twice in ai_calls is one row there, the newest, as ai_calls FINAL has it. Each day
 * copied is recorded in user_calls_backfill, so a resumed run skips it; a day copied again after a
 * crash between insert and record is one row a call for the same reason. Days whose raw calls
 * expired have nothing to copy: this table holds what ai_calls holds, no more.
 */
export async function backfillUserCalls(
  store: Store,
  opts: { settleMs: number; onProgress?: BackfillProgress; log?: (msg: string) => void },
): Promise<void> {
  const db = store.database;
  const cutover = await setCutover(store, 'user_calls_cutover', {}, opts.log);
  const wait = Date.parse(`${cutover.replace(' ', 'T')}Z`) + opts.settleMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));

  const done = new Set(
    (await rowsOf<{ day: string }>(store, `SELECT DISTINCT toString(day) AS day FROM ${db}.user_calls_backfill`)).map(
      (r) => r.day,
    ),
  );
  const days = (
    await rowsOf<{ day: string; n: string }>(
      store,
      `SELECT toString(toDate(timestamp)) AS day, toString(count()) AS n FROM ${db}.ai_calls
      WHERE user_id != '' AND ingested_at < toDateTime64({cutover:String}, 3, 'UTC')
      GROUP BY day ORDER BY day`,
      { cutover },
    )
  ).filter((r) => !done.has(r.day));
  if (days.length > 0) opts.log?.(`copying users' calls of ${days.length} day(s) before ${cutover} UTC`);
  opts.onProgress?.(0, days.length, 'user calls');
  let n = 0;
  for (const { day, n: calls } of days) {
    await insertSelect(
      store,
      'ai_user_calls',
      `SELECT ${USER_CALL_COLUMNS}
      FROM ${db}.ai_calls
      WHERE toDate(timestamp) = {day:Date} AND user_id != '' AND ingested_at < toDateTime64({cutover:String}, 3, 'UTC')`,
      { params: { day, cutover }, token: `user-calls-backfill-${day}` },
    );
    await store.writer.insert({
      table: `${db}.user_calls_backfill`,
      values: [{ day, calls, done_at: Date.now() }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `user-calls-done-${day}`, insert_deduplicate: 1 },
    });
    opts.onProgress?.(++n, days.length, day);
  }
}
