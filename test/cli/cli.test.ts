import { spawnSync } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { completionCandidates } from '../../ingest/src/cli/completion.ts';
import { buildProgram } from '../../ingest/src/cli/program.ts';
import { UNPRICED_MODEL, seedCalls } from '../support/seed.ts';
import { ADMIN_KEY, startBudgetService } from '../budgets/service.ts';

/** The command tree in this process: exit codes, one-line errors, tenants, completion. */
let svc: Awaited<ReturnType<typeof startBudgetService>>;
const HOUR = 3_600_000;

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(argv, { TOKENMETER_URL: svc.url, TOKENMETER_KEY: ADMIN_KEY, ...env });
}

/** A port nothing listens on: one the system just handed out and took back. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function oneLine(text: string): string {
  const lines = text.trimEnd().split('\n');
  expect(lines, text).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

beforeAll(async () => {
  svc = await startBudgetService('cli_tree');
}, 60_000);
afterAll(() => svc?.close());

describe('user errors: one line on stderr, exit 2', () => {
  it.each([
    [['repot'], /unknown command 'repot' \(did you mean report\?\)/],
    [['report', '--dayz', '3'], /^tokenmeter report: unknown option '--dayz' \(did you mean --days\?\)/],
    [['report', '--days', 'many'], /^tokenmeter report: option '--days <n>' argument 'many' is invalid/],
    [
      ['budgets', 'set', '--period', 'fortnight'],
      /^tokenmeter budgets set: option .* Allowed choices are day, week, month/,
    ],
    [['budgets', 'set', '--amount', '5'], /^tokenmeter budgets set: a new budget needs --amount USD and --period/],
    [['budgets', 'rm'], /^tokenmeter budgets rm: missing required argument 'id'/],
    [['reconcile'], /^tokenmeter reconcile: required option '--date <YYYY-MM-DD>' not specified/],
    [
      ['keys', 'create', '--role', 'root'],
      /^tokenmeter keys create: option '--role <role>' argument 'root' is invalid/,
    ],
    [['completion', 'fish'], /^tokenmeter completion: .*Allowed choices are bash, zsh/],
  ])('%j', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(message);
    expect(r.out).toBe('');
  });

  it('a value the service refuses (4xx) is exit 2 with its reason; an unreachable service is exit 1', async () => {
    const bad = await run(['budgets', 'set', '--amount', '-5', '--period', 'day', '--tenant', 'acme']);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.err)).toMatch(/^tokenmeter budgets set: POST \/api\/v1\/budgets failed with 400: .*amount/i);
    const closed = await closedPort();
    const away = await run(['report', '--tenant', 'acme'], { TOKENMETER_URL: `http://127.0.0.1:${closed}` });
    expect(away.code).toBe(1);
    expect(oneLine(away.err)).toBe(
      `tokenmeter report: cannot reach tokenmeter at http://127.0.0.1:${closed} (ECONNREFUSED): is 'tokenmeter serve' running? set TOKENMETER_URL`,
    );
  });

  it('migrate on a data directory another process holds: exit 1 and what to do, not an internal error', async () => {
    // This process's service holds svc.dataDir (embedded ClickHouse locks it): a second process cannot open it.
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'ingest/src/cli.ts', 'migrate'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { PATH: process.env.PATH ?? '', TOKENMETER_DATA_DIR: svc.dataDir, TOKENMETER_LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(1);
    // chdb itself prints its own line first (the lock); ours is the last, one line.
    const last = r.stderr.trimEnd().split('\n').at(-1) ?? '';
    expect(last).toContain(
      `tokenmeter migrate: embedded ClickHouse cannot open ${svc.dataDir}: another process holds it`,
    );
    expect(last).not.toContain('internal error');
    expect(r.stdout).not.toContain('applied');
  }, 60_000);

  it('help and version: exit 0 on stdout', async () => {
    const help = await run(['budgets', 'set', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: tokenmeter budgets set [options]');
    expect(help.out).toContain('--thresholds <list>');
    const version = await run(['--version']);
    expect(version).toMatchObject({ code: 0, out: '0.1.0\n' });
  });
});

describe('an operator key and tenants', () => {
  it('on an empty store it asks for --tenant; on one tenant it uses it; on several it lists them', async () => {
    const none = await run(['budgets', 'list']);
    expect(none.code).toBe(2);
    expect(oneLine(none.err)).toContain('the store has none yet: pass --tenant <tenant>');

    const end = new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR);
    await seedCalls(svc.store, { tenant: 'acme', days: 2, end, seed: 3, callsPerHour: 4 });
    const set = await run(['budgets', 'set', '--amount', '100', '--period', 'month', '--team', 'search']);
    expect(set.code, set.err).toBe(0);
    const list = await run(['budgets', 'list', '--format', 'json']);
    expect(list.code, list.err).toBe(0);
    const budgets = JSON.parse(list.out) as { scope: { team: string }; amountUsd: string }[];
    expect(budgets.map((b) => [b.scope.team, Number(b.amountUsd)])).toEqual([['search', 100]]);
    const report = await run(['report', '--days', '3']);
    expect(report.code, report.err).toBe(0);
    expect(report.out).toContain('tokenmeter report — tenant acme');

    await seedCalls(svc.store, { tenant: 'globex', days: 1, end, seed: 4, callsPerHour: 2 });
    const several = await run(['report']);
    expect(several.code).toBe(2);
    expect(oneLine(several.err)).toBe(
      'tokenmeter report: this operator key covers 2 tenants (acme, globex): pass --tenant <tenant> (or set TOKENMETER_TENANT)',
    );
    const chosen = await run(['report', '--tenant', 'globex']);
    expect(chosen.out).toContain('tenant globex');
    const fromEnv = await run(['budgets', 'list'], { TOKENMETER_TENANT: 'acme' });
    expect(fromEnv.out).toMatch(/team=search\s+month/);
  });

  it("a tenant key needs no --tenant: the service knows the key's tenant", async () => {
    const created = await run(['keys', 'create', '--tenant', 'globex', '--role', 'read', '--name', 'cli test']);
    expect(created.code, created.err).toBe(0);
    const key = /key: (\S+)/.exec(created.out)?.[1];
    const r = await run(['report'], { TOKENMETER_KEY: key });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('tenant globex');
  });
});

describe('report', () => {
  it('shows a model no price covers as unpriced, never $0.00, and says how many calls a total leaves out', async () => {
    const end = new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR);
    const seeded = await seedCalls(svc.store, {
      tenant: 'initech',
      days: 1,
      end,
      seed: 5,
      callsPerHour: 6,
      unpricedRate: 0.3,
    });
    expect(seeded.unpriced).toBeGreaterThan(0);
    const r = await run(['report', '--days', '2', '--tenant', 'initech']);
    expect(r.code, r.err).toBe(0);
    const byModel = r.out.split('by model\n')[1]!.split('\nby user')[0]!;
    const unpricedLine = byModel.split('\n').find((l) => l.startsWith(UNPRICED_MODEL.model));
    expect(unpricedLine, byModel).toBeDefined();
    const calls = /^\S+\s+unpriced\s+unpriced\s+(\d+)/.exec(unpricedLine!)?.[1];
    expect(unpricedLine).not.toContain('$0.00');
    // The month's headline counts every call and names the ones its dollar figure leaves out:
    // as many as the unpriced model's row (the seed's days may straddle a month's start).
    const month = /month to date \$[\d,]+\.\d+ \+ (\d+) unpriced \(\d+ calls\)/.exec(r.out);
    expect(month, r.out).not.toBeNull();
    expect(Number(month![1])).toBe(Number(calls));
    expect(Number(calls)).toBeGreaterThan(0);
    expect(Number(calls)).toBeLessThanOrEqual(seeded.unpriced);
  });
});

describe('shell completion', () => {
  const program = buildProgram({});
  it.each([
    [[''], ['advice', 'budgets', 'completion', 'export', 'forget-user', 'help', 'keys', 'migrate']],
    [['re'], ['reconcile', 'report', 'reprice']],
    [
      ['budgets', ''],
      ['help', 'list', 'rm', 'set'],
    ],
    [
      ['budgets', 'set', '--t'],
      ['--team', '--tenant', '--thresholds'],
    ],
    [
      ['prices', 'set', '--cache'],
      ['--cache-read', '--cache-write'],
    ],
  ])('%j → %j', (words, expected) => {
    const found = completionCandidates(program, words);
    expect(found.slice(0, expected.length)).toEqual(expected);
  });
  it('the scripts call back into the tree', async () => {
    const bash = await run(['completion', 'bash']);
    expect(bash.out).toContain('complete -o default -F _tokenmeter_complete tokenmeter');
    const zsh = await run(['completion', 'zsh']);
    expect(zsh.out).toContain('compdef _tokenmeter tokenmeter');
    const words = await run(['__complete', '--', 'budgets', 's']);
    expect(words.out).toBe('set\n');
  });
});
