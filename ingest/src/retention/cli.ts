import { createHash } from 'node:crypto';
import type { AddCommands } from '../cli/context.js';
import { write } from '../cli/context.js';
import { CliError } from '../cli/errors.js';

/** `tokenmeter forget-user`: a user's rows out of every table, through POST /api/v1/users/forget. */
export const addForgetUserCommand: AddCommands = (program, { client, env }) => {
  program
    .command('forget-user')
    .description("remove a user's rows from every table (admin key); an audit row keeps only a hash")
    .argument('<user-id>', 'the user id as the apps send it')
    .option('--hashed', 'the apps hash user ids (TOKENMETER_HASH_USER_IDS): hash this one the same way')
    .option('--salt <salt>', 'the apps’ salt for --hashed (default: TOKENMETER_USER_ID_SALT)')
    .action(async (raw: string, opts: { hashed?: boolean; salt?: string }) => {
      const id = opts.hashed ? hashUserId(raw, opts.salt ?? env.TOKENMETER_USER_ID_SALT ?? '') : raw;
      const r = await client.json<{
        removed: Record<string, number>;
        remaining: Record<string, number>;
        userSha256: string;
      }>('POST', '/api/v1/users/forget', { user_id: id });
      const total = Object.values(r.removed).reduce((a, b) => a + b, 0);
      write(`removed ${total} row(s): ${JSON.stringify(r.removed)}; audit keeps sha256 ${r.userSha256}\n`);
      if (Object.keys(r.remaining).length > 0)
        throw new CliError(`the id still appears in: ${JSON.stringify(r.remaining)}`);
    });
};

/** The instrumentation's user-id hash (instrumentation/src/core/config.ts): sha256(salt + id), 32 hex. */
export function hashUserId(id: string, salt: string): string {
  return createHash('sha256').update(salt).update(id).digest('hex').slice(0, 32);
}
