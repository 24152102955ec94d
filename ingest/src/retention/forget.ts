import { createHash, randomUUID } from 'node:crypto';
import { ROLLUP_TOKEN_COLUMNS } from '../store/backfill.js';
import { insertSettings, type Store } from '../store/client.js';
import { recordAudit } from './audit.js';
import { localTable, onCluster, SYNC_MUTATION, select, table } from './sql.js';

export interface ForgetResult {
  /** sha256 of the user id: what the audit row keeps instead of the id. */
  userSha256: string;
  /** Rows removed, by table. */
  removed: Record<string, number>;
  /** Tables tokenmeter does not know that still mention the id (should be empty). */
  remaining: Record<string, number>;
}

export class ForgetError extends Error {}

/** Attribute keys that name a user (user.id, enduser.id, ai.telemetry.metadata.userId, …). */
const USER_KEY = `positionCaseInsensitive(k, 'user') > 0`;

/**
 * Remove one user's rows from every table (right to erasure), then record that it was done.
 *
 * - ai_calls, ai_user_calls and ai_user_daily: rows with that user_id;
 * - the coarse rollups (ai_rollup_hourly/daily, no user in their key): the user's calls still
 *   in ai_calls are subtracted (negative rows: the other users' sums stay exact, and a call
 *   arriving meanwhile is not disturbed). Their t-digests keep the user's durations (numbers
 *   without an id), and days whose raw calls expired keep the user's share in the tenant's
 *   totals, as the rollups keep any expired day;
 * - otel_traces: the spans of those calls, and any span or resource attribute naming a user
 *   with that value;
 * - budgets scoped to the user and their alert events (scope "…user=<id>…").
 * Deletes are mutations run to completion (mutations_sync = 2): the data is rewritten away,
 * not only hidden. The audit row keeps the sha256 of the id (so "was X forgotten?" can be
 * answered by hashing X) and the counts, never the id. A tenant-bound admin forgets only
 * in its tenant; '*' in all. Rows still waiting in an ingest spool are not reached.
 */
export async function forgetUser(
  store: Store,
  opts: { userId: string; tenant: string; actor: string; now?: Date },
): Promise<ForgetResult> {
  const id = opts.userId;
  if (!id || id.length > 1024) throw new ForgetError('user id must be 1 to 1024 characters');
  const params = { id, tenant: opts.tenant };
  const inTenant = (col: string) => `({tenant:String} = '*' OR ${col} = {tenant:String})`;
  const userSpans = `SELECT span_id FROM ${table(store, 'ai_calls')} WHERE user_id = {id:String} AND ${inTenant('tenant')}`;
  const spanMatch = `(SpanId IN (${userSpans})
      OR arrayExists((k, v) -> v = {id:String} AND ${USER_KEY}, mapKeys(SpanAttributes), mapValues(SpanAttributes))
      OR arrayExists((k, v) -> v = {id:String} AND ${USER_KEY}, mapKeys(ResourceAttributes), mapValues(ResourceAttributes)))
    AND ${inTenant('TenantId')}`;
  const budgetMatch = `scope_user = {id:String} AND ${inTenant('tenant')}`;
  const alertMatch = `(has(splitByChar(',', scope), concat('user=', {id:String}))
      OR budget_id IN (SELECT id FROM ${table(store, 'budgets')} WHERE ${budgetMatch}))
    AND ${inTenant('tenant')}`;
  // Order matters: spans are found through ai_calls, alert events through budgets.
  const targets: [string, string][] = [
    ['otel_traces', spanMatch],
    ['ai_calls', `user_id = {id:String} AND ${inTenant('tenant')}`],
    ['ai_user_calls', `user_id = {id:String} AND ${inTenant('tenant')}`],
    ['ai_user_daily', `user_id = {id:String} AND ${inTenant('tenant')}`],
    ['alert_events', alertMatch],
    ['budgets', budgetMatch],
  ];
  const removed: Record<string, number> = {};
  const runId = randomUUID();
  // A retry after a failure part-way must not subtract twice: the token names what is subtracted.
  const [mine] = await select<{ n: string; cost: string; last: string }>(
    store,
    `SELECT count() AS n, toString(sum(ifNull(cost_usd, 0))) AS cost, toString(max(ingested_at)) AS last
     FROM ${table(store, 'ai_calls')} FINAL WHERE user_id = {id:String} AND ${inTenant('tenant')}`,
    params,
  );
  const subtraction = createHash('sha256')
    .update(JSON.stringify([id, opts.tenant, mine?.n, mine?.cost, mine?.last]))
    .digest('hex')
    .slice(0, 32);
  for (const [name, time] of [
    ['ai_rollup_hourly', 'toStartOfHour(timestamp)'],
    ['ai_rollup_daily', 'toDate(timestamp)'],
  ] as const) {
    await store.writer.command({
      query: subtractUser(store, name, time, `user_id = {id:String} AND ${inTenant('tenant')}`),
      query_params: params,
      clickhouse_settings: insertSettings(`forget-${subtraction}-${name}`),
    });
  }
  for (const [name, where] of targets) {
    const [row] = await select<{ n: string }>(
      store,
      `SELECT count() AS n FROM ${table(store, name)} WHERE ${where}`,
      params,
    );
    removed[name] = Number(row?.n ?? 0);
    if (removed[name] === 0) continue;
    await store.writer.command({
      query: `ALTER TABLE ${localTable(store, name)}${onCluster(store)} DELETE WHERE ${where}`,
      query_params: params,
      clickhouse_settings: SYNC_MUTATION,
    });
  }
  const remaining = await mentions(store, id, new Set([...targets.map(([n]) => n), 'audit_log']));
  const userSha256 = createHash('sha256').update(id).digest('hex');
  await recordAudit(store, {
    tenant: opts.tenant,
    action: 'forget_user',
    actor: opts.actor,
    details: { userSha256, removed, remaining },
    token: `forget-${runId}`,
    now: opts.now,
  });
  return { userSha256, removed, remaining };
}

const SUBTRACTED = [
  ['requests', 'count()'],
  ['errors', "countIf(status = 'error')"],
  ['unpriced_requests', 'countIf(NOT priced)'],
  ['estimated_requests', 'countIf(estimated)'],
  ...ROLLUP_TOKEN_COLUMNS.map((c) => [c, `sum(${c})`]),
] as const;

/** The user's calls in ai_calls, negated, as rows of a coarse rollup (t-digest columns left empty). */
function subtractUser(store: Store, rollup: string, time: string, where: string): string {
  const dims = 'tenant, service, provider, model, operation, team, feature';
  const timeCol = rollup === 'ai_rollup_hourly' ? 'hour' : 'day';
  const cols = SUBTRACTED.map(([c]) => c);
  return `INSERT INTO ${table(store, rollup)} (${timeCol}, ${dims}, ${cols.join(', ')}, cost_usd, cache_savings_usd)
SELECT ${time} AS ${timeCol}, ${dims}, ${SUBTRACTED.map(([, e]) => `-toInt64(${e})`).join(', ')},
  -sum(ifNull(cost_usd, toDecimal128(0, 12))), -sum(cache_savings_usd)
FROM ${table(store, 'ai_calls')} FINAL
WHERE ${where}
GROUP BY ${timeCol}, ${dims}`;
}

/**
 * Tables other than `skip` (the ones handled above) with a text column containing the id:
 * a table added later that keeps user ids shows up here instead of silently keeping them.
 */
export async function mentions(
  store: Store,
  id: string,
  skip: ReadonlySet<string> = new Set(),
): Promise<Record<string, number>> {
  const cols = await select<{ table: string; name: string }>(
    store,
    `SELECT c.table AS table, c.name AS name FROM system.columns AS c
     INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
     WHERE c.database = {db:String} AND t.engine NOT IN ('MaterializedView', 'View', 'Distributed')
       AND match(c.type, '^(LowCardinality\\\\(|Nullable\\\\()*(String|FixedString|Map|Array)')
     ORDER BY c.table, c.position`,
    { db: store.database },
  );
  const byTable = new Map<string, string[]>();
  for (const c of cols) {
    const base = store.cluster ? c.table.replace(/_local$/, '') : c.table;
    if (skip.has(base)) continue;
    byTable.set(c.table, [...(byTable.get(c.table) ?? []), c.name]);
  }
  const found: Record<string, number> = {};
  for (const [t, names] of byTable) {
    const where = names.map((n) => `position(toString(\`${n.replaceAll('`', '')}\`), {id:String}) > 0`).join(' OR ');
    const [row] = await select<{ n: string }>(
      store,
      `SELECT count() AS n FROM ${store.database}.\`${t.replaceAll('`', '')}\` WHERE ${where}`,
      { id },
    );
    if (Number(row?.n ?? 0) > 0) found[t] = Number(row?.n);
  }
  return found;
}
