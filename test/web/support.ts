import type { Running } from '../../ingest/src/server.ts';
import { ADMIN_KEY, startTestService } from '../support/inprocess.ts';

export { ADMIN_KEY };

/** A real `tokenmeter serve` in this process; the seeded alert history is the fixture, so no evaluator. */
export function startWebService(
  name: string,
  env: Record<string, string> = {},
): Promise<Running & { dataDir: string }> {
  return startTestService(name, { TOKENMETER_RATE_LIMIT_RPS: '0', ...env }, 'web');
}

/** Read-only SQL through the service's own query endpoint, as an operator. */
export { query as sql } from '../support/inprocess.ts';

/** A key made through the keys API (what `tokenmeter keys create` does). */
export async function createKey(svc: { url: string }, tenant: string, role: string): Promise<string> {
  const res = await fetch(`${svc.url}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant, role, name: `web test ${role}` }),
  });
  const body = (await res.json()) as { key?: string; error?: string };
  if (!res.ok || !body.key) throw new Error(`key create failed ${res.status}: ${body.error}`);
  return body.key;
}
