import type { AddCommands } from '../cli/context.js';
import { decimal, formatOption, write } from '../cli/context.js';
import { usageError } from '../cli/errors.js';
import { formatTable } from '../cli/format.js';

/**
 * `tokenmeter prices list|set` (price overrides, in force without a restart) and
 * `tokenmeter reprice` (re-price stored calls and rebuild their rollups), through the API.
 */
export const addPricesCommands: AddCommands = (program, { client }) => {
  const prices = program.command('prices').description('price overrides: custom models, negotiated prices');

  prices
    .command('list')
    .description('the price overrides in force and scheduled')
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts: { format: string }) => {
      const body = await client.json<{ overrides: Record<string, unknown>[] }>('GET', '/api/v1/prices');
      if (opts.format === 'json') return write(`${JSON.stringify(body.overrides, null, 2)}\n`);
      write(
        formatTable(
          ['id', 'tenant', 'provider', 'model', 'effectiveFrom', 'prices', 'note'],
          body.overrides.map((o) => ({
            ...o,
            tenant: o.tenant || '(all)',
            prices: pricesText(o.prices as Record<string, number>),
          })),
        ),
      );
    });

  prices
    .command('set')
    .description('set a price override from a date (new calls use it at once)')
    .requiredOption('--provider <provider>', 'provider, as on the calls (openai, anthropic, …; * with --model *)')
    .requiredOption(
      '--model <model>',
      'model name, as on the calls; <model>:batch for its batch price; * for a default price of models no catalogue knows',
    )
    .option('--tenant <tenant>', "one tenant's price (default: every tenant; a tenant's key sets its own)")
    .requiredOption('--from <ISO-date>', 'first day (UTC) the price applies to')
    .option('--input <USD>', 'USD per million input tokens', decimal)
    .option('--output <USD>', 'USD per million output tokens', decimal)
    .option('--cache-read <USD>', 'USD per million cache-read tokens', decimal)
    .option('--cache-write <USD>', 'USD per million cache-write tokens', decimal)
    .option('--price <key=USD>', 'any other price of the catalogue, repeatable', (v: string, all: string[] = []) => [
      ...all,
      v,
    ])
    .option('--note <text>', 'why (kept with the override)')
    .option('--id <id>', 'change this override instead of adding one')
    .action(
      async (opts: {
        provider: string;
        model: string;
        from: string;
        input?: string;
        output?: string;
        cacheRead?: string;
        cacheWrite?: string;
        price?: string[];
        note?: string;
        id?: string;
        tenant?: string;
      }) => {
        const p: Record<string, number> = {};
        if (opts.input) p.input_mtok = Number(opts.input);
        if (opts.output) p.output_mtok = Number(opts.output);
        if (opts.cacheRead) p.cache_read_mtok = Number(opts.cacheRead);
        if (opts.cacheWrite) p.cache_write_mtok = Number(opts.cacheWrite);
        for (const kv of opts.price ?? []) {
          const [k, v] = kv.split('=');
          if (!k || v === undefined || v.trim() === '' || !Number.isFinite(Number(v)))
            throw usageError(`--price must be key=USD, got ${JSON.stringify(kv)}`);
          p[k] = Number(v);
        }
        const body = await client.json<{ override: { id: string; effectiveFrom: string; tenant: string } }>(
          'PUT',
          '/api/v1/prices',
          {
            id: opts.id,
            tenant: opts.tenant,
            provider: opts.provider,
            model: opts.model,
            effective_from: opts.from,
            prices: p,
            note: opts.note,
          },
        );
        const whose = body.override.tenant ? ` (tenant ${body.override.tenant})` : '';
        write(
          `price override ${body.override.id} set for ${opts.provider}/${opts.model}${whose} from ${body.override.effectiveFrom}; ` +
            `new calls use it now. Re-price stored calls with: tokenmeter reprice --from ${body.override.effectiveFrom} --to <end> --model ${opts.model}\n`,
        );
      },
    );

  program
    .command('reprice')
    .description('re-price stored calls and rebuild their rollups (progress bar on stderr)')
    .requiredOption('--from <ISO>', 'start of the range (inclusive)')
    .requiredOption('--to <ISO>', 'end of the range (exclusive; not in the current hour)')
    .option('--model <model>', 'only this model')
    .action(async (opts: { from: string; to: string; model?: string }) => {
      const r = await client.job<{
        examined: number;
        changed: number;
        aboveCap?: number;
        costBeforeUsd: string;
        costAfterUsd: string;
        days: string[];
      }>('/api/v1/reprice', { from: opts.from, to: opts.to, model: opts.model }, 'reprice');
      write(
        `re-priced ${r.changed} of ${r.examined} calls: $${r.costBeforeUsd} → $${r.costAfterUsd}; ` +
          `rollups rebuilt for ${r.days.length} day(s); audit row written\n`,
      );
      if (r.aboveCap) {
        write(
          `${r.aboveCap} call(s) kept their cost: the new one is above TOKENMETER_MAX_CALL_COST_USD (check the override)\n`,
        );
      }
    });
};

function pricesText(p: Record<string, number>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
