import { insertSettings, type Store } from '../store/client.js';
import { chDateTime, table } from './sql.js';

/** One row of `audit_log`: who did what (reprice, forget_user, price_set, …), never the data itself. */
export async function recordAudit(
  store: Store,
  entry: { tenant: string; action: string; actor: string; details: unknown; token: string; now?: Date },
): Promise<void> {
  await store.writer.insert({
    table: table(store, 'audit_log'),
    format: 'JSONEachRow',
    values: [
      {
        ts: chDateTime(entry.now ?? new Date()),
        tenant: entry.tenant,
        action: entry.action,
        actor: entry.actor,
        details: JSON.stringify(entry.details),
      },
    ],
    clickhouse_settings: insertSettings(`audit-${entry.token}`),
  });
}
