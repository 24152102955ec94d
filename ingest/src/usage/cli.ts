import { createWriteStream } from 'node:fs';
import { Option } from 'commander';
import type { AddCommands } from '../cli/context.js';
import { decimal, formatOption, integer, tenantOption, write } from '../cli/context.js';
import { tenantParam } from '../cli/client.js';
import { CliError, usageError } from '../cli/errors.js';
import { formatTable, progressBar, sparkline, usd } from '../cli/format.js';
import { ProgressBar } from '../cli/progress.js';

/**
 * `tokenmeter budgets list|set|rm`, `report` and `export`: tenant-scoped, through the running
 * service's API (--tenant or TOKENMETER_TENANT for an operator key on a store of several tenants).
 */
interface BudgetWithStatus {
  id: string;
  name: string;
  scope: Record<string, string>;
  period: string;
  mode: string;
  amountUsd: string;
  thresholds: number[];
  status: { spendUsd: string; percent: number; periodEnd: string };
}

interface Totals {
  requests: number;
  unpricedRequests: number;
  costUsd: string;
}

/**
 * A cost as the report shows it: a call no price covers adds nothing to the sum, so a total
 * made only of such calls reads "unpriced", never $0.00, and a partly priced one says how many
 * calls it leaves out.
 */
export function costText(t: Totals): string {
  const unpriced = t.unpricedRequests ?? 0;
  if (unpriced > 0 && unpriced === t.requests) return 'unpriced';
  return unpriced > 0 ? `${usd(t.costUsd)} + ${unpriced} unpriced` : usd(t.costUsd);
}

function scopeText(scope: Record<string, string>): string {
  const parts = Object.entries(scope)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : 'global';
}

export const addUsageCommands: AddCommands = (program, { client }) => {
  const budgets = program
    .command('budgets')
    .description("budgets (soft or hard, per scope and period) with this period's spend");

  budgets
    .command('list', { isDefault: true })
    .description("budgets with this period's spend")
    .addOption(tenantOption())
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts: { tenant?: string; format: string }) => {
      const tenant = await client.tenant(opts.tenant);
      const body = await client.json<{ budgets: BudgetWithStatus[] }>('GET', `/api/v1/budgets${tenantParam(tenant)}`);
      if (opts.format === 'json') return write(`${JSON.stringify(body.budgets, null, 2)}\n`);
      const rows = body.budgets.map((b) => ({
        id: b.id,
        name: b.name,
        scope: scopeText(b.scope),
        period: b.period,
        mode: b.mode,
        amount: usd(b.amountUsd),
        spent: usd(b.status.spendUsd),
        used: `${b.status.percent.toFixed(1)}%`,
        '': progressBar(b.status.percent, 100, 20).split(']')[0] + ']',
      }));
      write(formatTable(['id', 'name', 'scope', 'period', 'mode', 'amount', 'spent', 'used', ''], rows));
    });

  budgets
    .command('set')
    .description('create a budget, or with --id change one')
    .option('--id <id>', 'the budget to change (from budgets list)')
    .option('--amount <USD>', 'the amount per period', decimal)
    .addOption(new Option('--period <period>', 'the period').choices(['day', 'week', 'month']))
    .addOption(new Option('--mode <mode>', 'soft: alert only; hard: calls are refused').choices(['soft', 'hard']))
    .option('--team <team>', 'scope: one team')
    .option('--user <user>', 'scope: one user')
    .option('--feature <feature>', 'scope: one feature')
    .option('--model <model>', 'scope: one model')
    .option('--name <name>', 'a name to recognise it by')
    .option('--thresholds <list>', 'alert thresholds in percent, e.g. 75,90,100')
    .addOption(tenantOption())
    .action(
      async (opts: {
        id?: string;
        amount?: string;
        period?: string;
        mode?: string;
        team?: string;
        user?: string;
        feature?: string;
        model?: string;
        name?: string;
        thresholds?: string;
        tenant?: string;
      }) => {
        if (!opts.id && (opts.amount === undefined || opts.period === undefined))
          throw usageError('a new budget needs --amount USD and --period day|week|month (or --id to change one)');
        const body: Record<string, unknown> = {};
        if (opts.name !== undefined) body.name = opts.name;
        if (opts.amount !== undefined) body.amountUsd = opts.amount;
        if (opts.period !== undefined) body.period = opts.period;
        if (opts.mode !== undefined) body.mode = opts.mode;
        if (opts.thresholds !== undefined) body.thresholds = opts.thresholds.split(',').map((t) => Number(t.trim()));
        const scope: Record<string, string> = {};
        for (const k of ['team', 'user', 'feature', 'model'] as const) if (opts[k] !== undefined) scope[k] = opts[k]!;
        if (Object.keys(scope).length > 0) body.scope = scope;
        const q = tenantParam(await client.tenant(opts.tenant));
        const saved = await client.json<{
          id: string;
          amountUsd: string;
          period: string;
          mode: string;
          scope: Record<string, string>;
        }>(
          opts.id ? 'PUT' : 'POST',
          opts.id ? `/api/v1/budgets/${encodeURIComponent(opts.id)}${q}` : `/api/v1/budgets${q}`,
          body,
        );
        write(
          `budget ${saved.id}: ${usd(saved.amountUsd)} per ${saved.period}, ${saved.mode}, scope ${scopeText(saved.scope)}\n`,
        );
      },
    );

  budgets
    .command('rm')
    .description('remove a budget')
    .argument('<id>', 'the budget id (from budgets list)')
    .addOption(tenantOption())
    .action(async (id: string, opts: { tenant?: string }) => {
      const q = tenantParam(await client.tenant(opts.tenant));
      await client.json('DELETE', `/api/v1/budgets/${encodeURIComponent(id)}${q}`);
      write(`budget ${id} removed\n`);
    });

  program
    .command('report')
    .description('spend today and month to date by model, user and feature, with sparklines')
    .option('--days <n>', 'days in the sparklines', integer(2, 90), 14)
    .option('--top <n>', 'rows per table', integer(1, 1000), 10)
    .addOption(tenantOption())
    .action(async (opts: { days: number; top: number; tenant?: string }) => {
      const { days, top } = opts;
      const to = new Date();
      const from = new Date(to.getTime() - (days - 1) * 86_400_000);
      const q = tenantParam(await client.tenant(opts.tenant), false);
      const d = (x: Date) => x.toISOString().slice(0, 10);
      const out: string[] = [];
      const overall = await client.json<{ tenant: string; totals: { today: Totals; period: Totals } }>(
        'GET',
        `/api/v1/usage/summary?period=month${q}`,
      );
      const series = await client.json<{ series: (Totals & { day: string })[] }>(
        'GET',
        `/api/v1/usage/daily?from=${d(from)}&to=${d(to)}${q}`,
      );
      out.push(
        `tokenmeter report — tenant ${overall.tenant}, ${d(to)} (UTC)\n` +
          `today ${costText(overall.totals.today)} (${overall.totals.today.requests} calls)   ` +
          `month to date ${costText(overall.totals.period)} (${overall.totals.period.requests} calls)   ` +
          `last ${days} days ${sparkline(series.series.map((p) => Number(p.costUsd)))}\n`,
      );
      for (const dim of ['model', 'user', 'feature'] as const) {
        const summary = await client.json<{ groups: ({ today: Totals; period: Totals } & Record<string, unknown>)[] }>(
          'GET',
          `/api/v1/usage/summary?period=month&group_by=${dim}${q}`,
        );
        const daily = await client.json<{
          groups: ({ series: (Totals & { day: string })[] } & Record<string, unknown>)[];
        }>('GET', `/api/v1/usage/daily?from=${d(from)}&to=${d(to)}&group_by=${dim}${q}`);
        const spark = new Map(
          daily.groups.map((g) => [String(g[dim]), sparkline(g.series.map((p) => Number(p.costUsd)))]),
        );
        const rows = summary.groups
          .filter((g) => g.period.requests > 0)
          .slice(0, top)
          .map((g) => ({
            [dim]: String(g[dim]) || '(none)',
            today: costText(g.today),
            'month to date': costText(g.period),
            calls: g.period.requests,
            [`last ${days} days`]: spark.get(String(g[dim])) ?? '',
          }));
        out.push(`by ${dim}\n${formatTable([dim, 'today', 'month to date', 'calls', `last ${days} days`], rows)}`);
      }
      write(out.join('\n'));
    });

  program
    .command('export')
    .description('every call, streamed to stdout or --out (progress bar on stderr)')
    .addOption(formatOption(['csv', 'ndjson', 'json'], 'csv'))
    .option('--from <ISO>', 'start (default: the start of retention)')
    .option('--to <ISO>', 'end (default: now)')
    .option('--out <file>', 'write to this file instead of stdout')
    .option(
      '--property <name=value>',
      'only calls with this custom property, repeatable',
      (v: string, all: string[] = []) => [...all, v],
    )
    .addOption(tenantOption())
    .action(
      async (opts: {
        format: string;
        from?: string;
        to?: string;
        out?: string;
        property?: string[];
        tenant?: string;
      }) => {
        const params = new URLSearchParams({ format: opts.format });
        if (opts.from) params.set('from', opts.from);
        if (opts.to) params.set('to', opts.to);
        for (const p of opts.property ?? []) {
          const eq = p.indexOf('=');
          if (eq <= 0) throw usageError(`--property must be name=value, got ${JSON.stringify(p)}`);
          params.append(`property.${p.slice(0, eq)}`, p.slice(eq + 1));
        }
        const tenant = await client.tenant(opts.tenant);
        if (tenant) params.set('tenant', tenant);
        const res = await client.request('GET', `/api/v1/export?${params}`);
        if (!res.ok || !res.body) {
          const text = await res.text();
          const reason = (() => {
            try {
              return (JSON.parse(text) as { error?: string }).error ?? text;
            } catch {
              return text;
            }
          })();
          throw new CliError(`export failed with ${res.status}: ${reason}`, res.status < 500 ? 2 : 1);
        }
        const total = Number(res.headers.get('x-total-rows') ?? 0);
        const sink: NodeJS.WritableStream = opts.out ? createWriteStream(opts.out) : process.stdout;
        // A header line (csv) or the opening bracket (json) is not a row.
        const framing = opts.format === 'ndjson' ? 0 : 1;
        const bar = new ProgressBar('export');
        let lines = 0;
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
          if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
          bar.update(Math.min(Math.max(0, lines - framing), total), total);
        }
        bar.update(total, total);
        bar.finish();
        if (opts.out) await new Promise<void>((r) => sink.end(() => r()));
      },
    );
};
