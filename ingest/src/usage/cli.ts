import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { api, CliError, type Command, formatTable } from '../cli.js';
import { progressBar, sparkline, usd } from './format.js';

/**
 * tokenmeter budgets set|list|rm, report, export: all through the running service's API
 * (TOKENMETER_URL, TOKENMETER_KEY; --tenant or TOKENMETER_TENANT for an operator key).
 */
export const USAGE_USAGE = `tokenmeter budgets list                       budgets with this period's spend
  tokenmeter budgets set --amount USD --period day|week|month [--mode soft|hard]
        [--team T] [--user U] [--feature F] [--model M] [--name N] [--thresholds 75,90,100] [--id ID]
                                                create (or with --id change) a budget
  tokenmeter budgets rm <id>                    remove a budget
  tokenmeter report [--days 14]                 spend today and month-to-date by model, user and feature, with sparklines
  tokenmeter export [--format csv|ndjson|json] [--from ISO] [--to ISO] [--out FILE]
                                                every call, streamed (progress bar on stderr)
  (an operator key adds --tenant T, or TOKENMETER_TENANT)`;

function tenantQuery(tenant: string | undefined, env: NodeJS.ProcessEnv, first = true): string {
  const t = tenant ?? env.TOKENMETER_TENANT;
  return t ? `${first ? '?' : '&'}tenant=${encodeURIComponent(t)}` : '';
}

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

function scopeText(scope: Record<string, string>): string {
  const parts = Object.entries(scope)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : 'global';
}

const budgets: Command = async (args, env) => {
  const [sub, ...rest] = args;
  if (sub === 'list' || sub === undefined) {
    const { values } = parseArgs({
      args: rest,
      options: { tenant: { type: 'string' }, format: { type: 'string', default: 'table' } },
    });
    const body = (await api(env, 'GET', `/api/v1/budgets${tenantQuery(values.tenant, env)}`)) as {
      budgets: BudgetWithStatus[];
    };
    if (values.format === 'json') {
      process.stdout.write(`${JSON.stringify(body.budgets, null, 2)}\n`);
      return;
    }
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
    process.stdout.write(formatTable(['id', 'name', 'scope', 'period', 'mode', 'amount', 'spent', 'used', ''], rows));
    return;
  }
  if (sub === 'set') {
    const { values } = parseArgs({
      args: rest,
      options: {
        id: { type: 'string' },
        tenant: { type: 'string' },
        name: { type: 'string' },
        amount: { type: 'string' },
        period: { type: 'string' },
        mode: { type: 'string' },
        team: { type: 'string' },
        user: { type: 'string' },
        feature: { type: 'string' },
        model: { type: 'string' },
        thresholds: { type: 'string' },
      },
    });
    const body: Record<string, unknown> = {};
    if (values.name !== undefined) body.name = values.name;
    if (values.amount !== undefined) body.amountUsd = values.amount;
    if (values.period !== undefined) body.period = values.period;
    if (values.mode !== undefined) body.mode = values.mode;
    if (values.thresholds !== undefined) body.thresholds = values.thresholds.split(',').map((t) => Number(t.trim()));
    const scope: Record<string, string> = {};
    for (const k of ['team', 'user', 'feature', 'model'] as const) if (values[k] !== undefined) scope[k] = values[k]!;
    if (Object.keys(scope).length > 0) body.scope = scope;
    if (!values.id && (values.amount === undefined || values.period === undefined)) {
      throw new CliError('usage: tokenmeter budgets set --amount USD --period day|week|month [--mode soft|hard] …', 2);
    }
    const q = tenantQuery(values.tenant, env);
    const saved = (await (values.id
      ? api(env, 'PUT', `/api/v1/budgets/${encodeURIComponent(values.id)}${q}`, body)
      : api(env, 'POST', `/api/v1/budgets${q}`, body))) as {
      id: string;
      amountUsd: string;
      period: string;
      mode: string;
      scope: Record<string, string>;
    };
    process.stdout.write(
      `budget ${saved.id}: ${usd(saved.amountUsd)} per ${saved.period}, ${saved.mode}, scope ${scopeText(saved.scope)}\n`,
    );
    return;
  }
  if (sub === 'rm') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { tenant: { type: 'string' } },
    });
    const id = positionals[0];
    if (!id) throw new CliError('usage: tokenmeter budgets rm <id>', 2);
    await api(env, 'DELETE', `/api/v1/budgets/${encodeURIComponent(id)}${tenantQuery(values.tenant, env)}`);
    process.stdout.write(`budget ${id} removed\n`);
    return;
  }
  throw new CliError(`unknown budgets command '${sub}'\n${USAGE_USAGE}`, 2);
};

interface Totals {
  requests: number;
  costUsd: string;
}

const report: Command = async (args, env) => {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      days: { type: 'string', default: '14' },
      top: { type: 'string', default: '10' },
    },
  });
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 2 || days > 90) throw new CliError('--days must be 2 to 90', 2);
  const top = Number(values.top);
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86_400_000);
  const q = tenantQuery(values.tenant, env, false);
  const d = (x: Date) => x.toISOString().slice(0, 10);
  const out: string[] = [];
  const overall = (await api(env, 'GET', `/api/v1/usage/summary?period=month${q}`)) as {
    tenant: string;
    totals: { today: Totals; period: Totals };
  };
  const series = (await api(env, 'GET', `/api/v1/usage/daily?from=${d(from)}&to=${d(to)}${q}`)) as {
    series: (Totals & { day: string })[];
  };
  out.push(
    `tokenmeter report — tenant ${overall.tenant}, ${d(to)} (UTC)\n` +
      `today ${usd(overall.totals.today.costUsd)} (${overall.totals.today.requests} calls)   ` +
      `month to date ${usd(overall.totals.period.costUsd)} (${overall.totals.period.requests} calls)   ` +
      `last ${days} days ${sparkline(series.series.map((p) => Number(p.costUsd)))}\n`,
  );
  for (const dim of ['model', 'user', 'feature'] as const) {
    const summary = (await api(env, 'GET', `/api/v1/usage/summary?period=month&group_by=${dim}${q}`)) as {
      groups: ({ today: Totals; period: Totals } & Record<string, unknown>)[];
    };
    const daily = (await api(env, 'GET', `/api/v1/usage/daily?from=${d(from)}&to=${d(to)}&group_by=${dim}${q}`)) as {
      groups: ({ series: (Totals & { day: string })[] } & Record<string, unknown>)[];
    };
    const spark = new Map(daily.groups.map((g) => [String(g[dim]), sparkline(g.series.map((p) => Number(p.costUsd)))]));
    const rows = summary.groups
      .filter((g) => g.period.requests > 0)
      .slice(0, top)
      .map((g) => ({
        [dim]: String(g[dim]) || '(none)',
        today: usd(g.today.costUsd),
        'month to date': usd(g.period.costUsd),
        calls: g.period.requests,
        [`last ${days} days`]: spark.get(String(g[dim])) ?? '',
      }));
    out.push(`by ${dim}\n${formatTable([dim, 'today', 'month to date', 'calls', `last ${days} days`], rows)}`);
  }
  process.stdout.write(out.join('\n'));
};

const exportCommand: Command = async (args, env) => {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      format: { type: 'string', default: 'csv' },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const base = (env.TOKENMETER_URL || `http://127.0.0.1:${env.PORT || 4318}`).replace(/\/$/, '');
  const key = env.TOKENMETER_KEY || env.TOKENMETER_ADMIN_KEY;
  if (!key) throw new CliError('set TOKENMETER_KEY (or TOKENMETER_ADMIN_KEY) to an API key of the running service');
  const params = new URLSearchParams({ format: values.format ?? 'csv' });
  if (values.from) params.set('from', values.from);
  if (values.to) params.set('to', values.to);
  const tenant = values.tenant ?? env.TOKENMETER_TENANT;
  if (tenant) params.set('tenant', tenant);
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/export?${params}`, { headers: { authorization: `Bearer ${key}` } });
  } catch (err) {
    throw new CliError(`cannot reach tokenmeter at ${base}: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new CliError(`export failed with ${res.status}: ${await res.text()}`);
  const total = Number(res.headers.get('x-total-rows') ?? 0);
  const sink: NodeJS.WritableStream = values.out ? createWriteStream(values.out) : process.stdout;
  const showProgress = process.stderr.isTTY || Boolean(values.out);
  let lines = 0;
  let lastDraw = 0;
  const draw = (final = false) => {
    if (!showProgress) return;
    const rows = Math.max(0, values.format === 'csv' ? lines - 1 : values.format === 'json' ? lines - 1 : lines);
    process.stderr.write(`\r${progressBar(Math.min(rows, total), total)}${final ? '\n' : ''}`);
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
    if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
    if (Date.now() - lastDraw > 100) {
      draw();
      lastDraw = Date.now();
    }
  }
  draw(true);
  if (values.out) await new Promise<void>((r) => sink.end(() => r()));
};

export const USAGE_COMMANDS: Record<string, Command> = { budgets, report, export: exportCommand };
