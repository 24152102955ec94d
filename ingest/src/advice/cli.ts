import type { AddCommands } from '../cli/context.js';
import { formatOption, integer, tenantOption, write } from '../cli/context.js';
import { tenantParam } from '../cli/client.js';
import { formatTable } from '../cli/format.js';

/** `tokenmeter advice`: savings advice from a tenant's own usage, through GET /api/v1/advice. */
export const addAdviceCommand: AddCommands = (program, { client }) => {
  program
    .command('advice')
    .description("savings advice from the tenant's own usage, with the monthly saving of each")
    .option('--days <n>', 'days of usage to learn from', integer(1, 365), 30)
    .addOption(tenantOption())
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts: { days: number; tenant?: string; format: string }) => {
      const tenant = await client.tenant(opts.tenant);
      const body = await client.json<{ advice: { kind: string; title: string; monthlySavings: number }[] }>(
        'GET',
        `/api/v1/advice?days=${opts.days}${tenantParam(tenant, false)}`,
      );
      if (opts.format === 'json') return write(`${JSON.stringify(body, null, 2)}\n`);
      write(
        formatTable(
          ['monthly_usd', 'kind', 'advice'],
          body.advice.map((a) => ({ monthly_usd: a.monthlySavings.toFixed(2), kind: a.kind, advice: a.title })),
        ),
      );
    });
};
