import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { type Command, CliError, formatTable } from '../cli.js';
import { ProgressBar } from './progress.js';

/**
 * `tokenmeter reconcile|prices|reprice|forget-user|advice`: each calls the running service
 * (embedded ClickHouse belongs to one process), with TOKENMETER_URL and TOKENMETER_KEY.
 * Loaded by cli.ts when one of them is run.
 */
export const COST_COMMANDS: Record<string, Command> = {
  async reconcile(args, env) {
    const { values } = parseArgs({ args, options: { date: { type: 'string' }, provider: { type: 'string' } } });
    if (!values.date)
      throw new CliError('usage: tokenmeter reconcile --date YYYY-MM-DD [--provider openai|anthropic]', 2);
    const result = (await stream(
      env,
      '/api/v1/reconcile',
      { date: values.date, provider: values.provider },
      'reconcile',
    )) as {
      provider: string;
      status: string;
      error?: string;
      rows: {
        dimension: string;
        key: string;
        trackedUsd: string;
        billedUsd: string;
        driftPct: number;
        status: string;
      }[];
    }[];
    for (const o of result) {
      process.stdout.write(
        `${o.provider} ${values.date}: ${o.status}${o.error ? ` (${o.error}; retried by the daily job)` : ''}\n`,
      );
      process.stdout.write(
        formatTable(
          ['dimension', 'key', 'tracked_usd', 'billed_usd', 'drift_pct', 'status'],
          o.rows.map((r) => ({
            dimension: r.dimension,
            key: r.key,
            tracked_usd: r.trackedUsd,
            billed_usd: r.status === 'error' ? 'unknown' : r.billedUsd,
            drift_pct: r.driftPct.toFixed(2),
            status: r.status,
          })),
        ),
      );
    }
    if (result.some((o) => o.status === 'error')) throw new CliError('a provider bill could not be read');
  },

  async prices(args, env) {
    const [sub, ...rest] = args;
    if (sub === 'list') {
      const { values } = parseArgs({ args: rest, options: { format: { type: 'string', default: 'table' } } });
      const body = (await call(env, 'GET', '/api/v1/prices')) as { overrides: Record<string, unknown>[] };
      if (values.format === 'json') process.stdout.write(`${JSON.stringify(body.overrides, null, 2)}\n`);
      else
        process.stdout.write(
          formatTable(
            ['id', 'provider', 'model', 'effectiveFrom', 'prices', 'note'],
            body.overrides.map((o) => ({ ...o, prices: pricesText(o.prices as Record<string, number>) })),
          ),
        );
      return;
    }
    if (sub === 'set') {
      const { values } = parseArgs({
        args: rest,
        options: {
          provider: { type: 'string' },
          model: { type: 'string' },
          from: { type: 'string' },
          input: { type: 'string' },
          output: { type: 'string' },
          'cache-read': { type: 'string' },
          'cache-write': { type: 'string' },
          price: { type: 'string', multiple: true },
          note: { type: 'string' },
          id: { type: 'string' },
        },
      });
      if (!values.provider || !values.model || !values.from) {
        throw new CliError(
          'usage: tokenmeter prices set --provider P --model M --from ISO-DATE --input USD/1M --output USD/1M [--cache-read USD/1M] [--cache-write USD/1M] [--price key=USD …] [--note TEXT] [--id ID]',
          2,
        );
      }
      const prices: Record<string, number> = {};
      const num = (flag: string, v: string) => {
        const n = Number(v);
        if (v.trim() === '' || !Number.isFinite(n))
          throw new CliError(`--${flag} must be a number of USD, got ${JSON.stringify(v)}`, 2);
        return n;
      };
      if (values.input) prices.input_mtok = num('input', values.input);
      if (values.output) prices.output_mtok = num('output', values.output);
      if (values['cache-read']) prices.cache_read_mtok = num('cache-read', values['cache-read']);
      if (values['cache-write']) prices.cache_write_mtok = num('cache-write', values['cache-write']);
      for (const kv of values.price ?? []) {
        const [k, v] = kv.split('=');
        if (!k || v === undefined) throw new CliError(`--price must be key=USD, got ${JSON.stringify(kv)}`, 2);
        prices[k] = num('price', v);
      }
      const body = (await call(env, 'PUT', '/api/v1/prices', {
        id: values.id,
        provider: values.provider,
        model: values.model,
        effective_from: values.from,
        prices,
        note: values.note,
      })) as { override: { id: string; effectiveFrom: string } };
      process.stdout.write(
        `price override ${body.override.id} set for ${values.provider}/${values.model} from ${body.override.effectiveFrom}; ` +
          `new calls use it now. Re-price stored calls with: tokenmeter reprice --from ${body.override.effectiveFrom} --to <end> --model ${values.model}\n`,
      );
      return;
    }
    throw new CliError('usage: tokenmeter prices list [--format table|json] | tokenmeter prices set …', 2);
  },

  async reprice(args, env) {
    const { values } = parseArgs({
      args,
      options: { from: { type: 'string' }, to: { type: 'string' }, model: { type: 'string' } },
    });
    if (!values.from || !values.to) throw new CliError('usage: tokenmeter reprice --from ISO --to ISO [--model M]', 2);
    const r = (await stream(
      env,
      '/api/v1/reprice',
      { from: values.from, to: values.to, model: values.model },
      'reprice',
    )) as {
      examined: number;
      changed: number;
      costBeforeUsd: string;
      costAfterUsd: string;
      days: string[];
    };
    process.stdout.write(
      `re-priced ${r.changed} of ${r.examined} calls: $${r.costBeforeUsd} → $${r.costAfterUsd}; ` +
        `rollups rebuilt for ${r.days.length} day(s); audit row written\n`,
    );
  },

  async 'forget-user'(args, env) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { hashed: { type: 'boolean', default: false }, salt: { type: 'string' } },
    });
    const [raw, ...rest] = positionals;
    if (!raw || rest.length > 0) {
      throw new CliError('usage: tokenmeter forget-user <user-id> [--hashed [--salt S]]', 2);
    }
    // --hashed: the apps hash user ids (TOKENMETER_HASH_USER_IDS), so the stored id is the hash.
    const id = values.hashed ? hashUserId(raw, values.salt ?? env.TOKENMETER_USER_ID_SALT ?? '') : raw;
    const r = (await call(env, 'POST', '/api/v1/users/forget', { user_id: id })) as {
      removed: Record<string, number>;
      remaining: Record<string, number>;
      userSha256: string;
    };
    const total = Object.values(r.removed).reduce((a, b) => a + b, 0);
    process.stdout.write(`removed ${total} row(s): ${JSON.stringify(r.removed)}; audit keeps sha256 ${r.userSha256}\n`);
    if (Object.keys(r.remaining).length > 0) {
      throw new CliError(`the id still appears in: ${JSON.stringify(r.remaining)}`);
    }
  },

  async advice(args, env) {
    const { values } = parseArgs({
      args,
      options: {
        days: { type: 'string', default: '30' },
        tenant: { type: 'string' },
        format: { type: 'string', default: 'table' },
      },
    });
    const q = new URLSearchParams({ days: values.days });
    if (values.tenant) q.set('tenant', values.tenant);
    const body = (await call(env, 'GET', `/api/v1/advice?${q}`)) as {
      advice: { kind: string; title: string; monthlySavings: number }[];
    };
    if (values.format === 'json') process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    else
      process.stdout.write(
        formatTable(
          ['monthly_usd', 'kind', 'advice'],
          body.advice.map((a) => ({ monthly_usd: a.monthlySavings.toFixed(2), kind: a.kind, advice: a.title })),
        ),
      );
  },
};

/** The instrumentation's user-id hash (instrumentation/src/core/config.ts): sha256(salt + id), 32 hex. */
export function hashUserId(id: string, salt: string): string {
  return createHash('sha256').update(salt).update(id).digest('hex').slice(0, 32);
}

function pricesText(p: Record<string, number>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function target(env: NodeJS.ProcessEnv): { base: string; key: string } {
  const base = (env.TOKENMETER_URL || `http://127.0.0.1:${env.PORT || 4318}`).replace(/\/$/, '');
  const key = env.TOKENMETER_KEY || env.TOKENMETER_ADMIN_KEY;
  if (!key) throw new CliError('set TOKENMETER_KEY (or TOKENMETER_ADMIN_KEY) to an API key of the running service');
  return { base, key };
}

async function request(env: NodeJS.ProcessEnv, method: string, path: string, body?: unknown): Promise<Response> {
  const { base, key } = target(env);
  try {
    return await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new CliError(
      `cannot reach tokenmeter at ${base}: ${(err as Error).message} (is 'tokenmeter serve' running?)`,
    );
  }
}

async function call(env: NodeJS.ProcessEnv, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await request(env, method, path, body);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok)
    throw new CliError(`${method} ${path} failed with ${res.status}: ${(parsed as { error?: string })?.error ?? text}`);
  return parsed;
}

/** POST a job and draw its NDJSON progress as a bar on stderr; returns the job's result. */
async function stream(env: NodeJS.ProcessEnv, path: string, body: unknown, label: string): Promise<unknown> {
  const res = await request(env, 'POST', path, body);
  if (!res.ok || !(res.headers.get('content-type') ?? '').includes('ndjson')) {
    const text = await res.text();
    let parsed: { result?: unknown; error?: string } | undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw new CliError(`POST ${path} failed with ${res.status}: ${parsed?.error ?? text}`);
    return parsed?.result;
  }
  const bar = new ProgressBar(label, process.stderr);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let result: unknown;
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
      if (!line) continue;
      const msg = JSON.parse(line) as {
        progress?: { done: number; total: number; label: string };
        result?: unknown;
        error?: string;
      };
      if (msg.progress) bar.update(msg.progress.done, msg.progress.total, msg.progress.label);
      if (msg.error) {
        bar.finish();
        throw new CliError(`${label} failed: ${msg.error}`);
      }
      if ('result' in msg) result = msg.result;
    }
    if (done) break;
  }
  bar.finish();
  return result;
}
