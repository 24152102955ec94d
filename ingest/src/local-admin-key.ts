import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * On embedded ClickHouse with no TOKENMETER_ADMIN_KEY (the README's `npm start` on a fresh
 * machine), a bootstrap admin key is generated once into the data directory (mode 0600),
 * so the first run can be signed in to; the key itself is never printed or logged, only
 * where it is. A server deployment (CLICKHOUSE_URL) must set TOKENMETER_ADMIN_KEY itself.
 */
export function localAdminKeyPath(dataDir: string): string {
  return join(resolve(dataDir), 'admin-key');
}

export function readOrCreateLocalAdminKey(dataDir: string): { key: string; path: string; created: boolean } {
  const path = localAdminKeyPath(dataDir);
  if (existsSync(path)) return { key: readFileSync(path, 'utf8').trim(), path, created: false };
  mkdirSync(resolve(dataDir), { recursive: true });
  const key = `tm_admin_${randomBytes(24).toString('base64url')}`;
  writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { key, path, created: true };
}

/** The local key if one was generated, for CLI commands run beside `npm start`. */
export function readLocalAdminKey(dataDir: string): string | undefined {
  const path = localAdminKeyPath(dataDir);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
}
