import type { Running } from '../../ingest/src/server.ts';
import { ADMIN_KEY, startTestService } from '../support/inprocess.ts';

export { ADMIN_KEY };

/** `tokenmeter serve` in this process on an ephemeral port, embedded ClickHouse in a temp dir. */
export function startBudgetService(
  name: string,
  env: Record<string, string> = {},
): Promise<Running & { dataDir: string }> {
  return startTestService(name, env, 'bud');
}

/** Create an API key of `role` for `tenant` through the service's own API; returns the secret. */
export async function createKey(svc: { url: string }, tenant: string, role: string): Promise<string> {
  const res = await fetch(`${svc.url}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant, role, name: `test ${role}` }),
  });
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}
