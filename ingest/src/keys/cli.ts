import { Option } from 'commander';
import type { AddCommands } from '../cli/context.js';
import { formatOption, write } from '../cli/context.js';
import { formatTable } from '../cli/format.js';
import type { ApiKey } from './store.js';

/** `tokenmeter keys create|list|revoke`, through the running service's /api/v1/keys (admin keys). */
export const addKeysCommands: AddCommands = (program, { client }) => {
  const keys = program.command('keys').description('API keys: create (secret shown once), list, revoke');

  keys
    .command('create')
    .description('create an API key; its secret is printed once')
    .option('--tenant <tenant>', "the key's tenant (an operator key must give it; '*' for another operator key)")
    .addOption(
      new Option('--role <role>', 'what the key may do')
        .choices(['ingest', 'read', 'user', 'admin'])
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'a name to recognise it by', '')
    .action(async (opts: { tenant?: string; role: string; name: string }) => {
      const created = await client.json<ApiKey & { key: string }>('POST', '/api/v1/keys', {
        tenant: opts.tenant,
        role: opts.role,
        name: opts.name,
      });
      write(
        `created ${created.id} (tenant ${created.tenant}, role ${created.role})\n` +
          `key: ${created.key}\n(the key is shown only now: store it in a secret manager)\n`,
      );
    });

  keys
    .command('list')
    .description('keys with their tenant, role and state (never their secrets)')
    .option('--tenant <tenant>', 'only this tenant’s keys')
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts: { tenant?: string; format: string }) => {
      const q = opts.tenant ? `?tenant=${encodeURIComponent(opts.tenant)}` : '';
      const { keys: list } = await client.json<{ keys: ApiKey[] }>('GET', `/api/v1/keys${q}`);
      if (opts.format === 'json') return write(`${JSON.stringify(list, null, 2)}\n`);
      write(
        formatTable(
          ['id', 'tenant', 'role', 'name', 'created_at', 'revoked_at'],
          list as unknown as Record<string, unknown>[],
        ),
      );
    });

  keys
    .command('revoke')
    .description('revoke a key (at once here, within TOKENMETER_KEY_CACHE_MS on other replicas)')
    .argument('<id>', 'the key id (from keys list)')
    .action(async (id: string) => {
      await client.json('DELETE', `/api/v1/keys/${encodeURIComponent(id)}`);
      write(`revoked ${id}\n`);
    });
};
