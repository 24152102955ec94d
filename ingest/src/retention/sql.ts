import type { Store } from '../store/client.js';

/**
 * Table names for statements that change data in place (ALTER … DELETE, MODIFY TTL,
 * OPTIMIZE): on a cluster they must name the shard-local table, ON CLUSTER; inserts
 * and reads go through the Distributed table of the plain name (see store/migrate.ts).
 */
export function localTable(store: Store, name: string): string {
  return `${store.database}.${store.cluster ? `${name}_local` : name}`;
}

export function onCluster(store: Store): string {
  return store.cluster ? ` ON CLUSTER '${store.cluster}'` : '';
}

export function table(store: Store, name: string): string {
  return `${store.database}.${name}`;
}

/**
 * Settings of a mutation that must be finished (on every replica) before the caller goes on.
 * Its WHERE may read other tables (IN subqueries), which Replicated tables refuse unless
 * allowed: every replica reads the same rows here, as the subqueries read only old data.
 */
export const SYNC_MUTATION = { mutations_sync: '2', allow_nondeterministic_mutations: 1 } as const;

/** Rows of a query on the writer connection. */
export async function select<T>(store: Store, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await store.writer.query({ query, format: 'JSONEachRow', query_params: params });
  return rs.json<T>();
}

/** A Date as ClickHouse's DateTime64(3) text, UTC: 'YYYY-MM-DD hh:mm:ss.sss'. */
export function chDateTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}
