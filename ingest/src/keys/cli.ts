import { parseArgs } from 'node:util';
import type { ApiKey } from './store.js';

type Api = (env: NodeJS.ProcessEnv, method: string, path: string, body?: unknown) => Promise<unknown>;
type Fail = (message: string, exitCode?: number) => Error;

export const KEYS_USAGE = `tokenmeter keys create --tenant <t> --role ingest|read|user|admin [--name <n>]
                                   create an API key; its secret is printed once
  tokenmeter keys list [--tenant <t>] [--format table|json]
  tokenmeter keys revoke <id>      revoke a key (at once here, within TOKENMETER_KEY_CACHE_MS on other replicas)`;

/** `tokenmeter keys create|list|revoke`, through the running service's /api/v1/keys. */
export async function keysCommand(
  args: string[],
  env: NodeJS.ProcessEnv,
  io: { api: Api; fail: Fail; table: (columns: string[], rows: Record<string, unknown>[]) => string },
): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      format: { type: 'string', default: 'table' },
    },
  });
  if (sub === 'create') {
    if (!values.role) throw io.fail(`usage: ${KEYS_USAGE}`, 2);
    const created = (await io.api(env, 'POST', '/api/v1/keys', {
      tenant: values.tenant,
      role: values.role,
      name: values.name ?? '',
    })) as ApiKey & { key: string };
    process.stdout.write(
      `created ${created.id} (tenant ${created.tenant}, role ${created.role})\n` +
        `key: ${created.key}\n(the key is shown only now: store it in a secret manager)\n`,
    );
    return;
  }
  if (sub === 'list') {
    const q = values.tenant ? `?tenant=${encodeURIComponent(values.tenant)}` : '';
    const { keys } = (await io.api(env, 'GET', `/api/v1/keys${q}`)) as { keys: ApiKey[] };
    if (values.format === 'json') process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    else
      process.stdout.write(
        io.table(
          ['id', 'tenant', 'role', 'name', 'created_at', 'revoked_at'],
          keys as unknown as Record<string, unknown>[],
        ),
      );
    return;
  }
  if (sub === 'revoke') {
    const id = positionals[0];
    if (!id) throw io.fail('usage: tokenmeter keys revoke <id>', 2);
    await io.api(env, 'DELETE', `/api/v1/keys/${encodeURIComponent(id)}`);
    process.stdout.write(`revoked ${id}\n`);
    return;
  }
  throw io.fail(`usage: ${KEYS_USAGE}`, 2);
}
