import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { rows } from '../support/store.ts';
import { progressBar, sparkline, usd } from '../../ingest/src/cli/format.ts';
import { type SeedSummary, seedCalls } from '../support/seed.ts';
import { ADMIN_KEY, startBudgetService } from './service.ts';

/** tokenmeter budgets / report / export against a running service, output captured. */
let svc: Awaited<ReturnType<typeof startBudgetService>>;
let summary: SeedSummary;
const HOUR = 3_600_000;

function run(args: string[]) {
  return runCli(args, { TOKENMETER_URL: svc.url, TOKENMETER_KEY: ADMIN_KEY, TOKENMETER_TENANT: 'acme' });
}

beforeAll(async () => {
  svc = await startBudgetService('cli');
  summary = await seedCalls(svc.store, {
    days: 5,
    end: new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR),
    seed: 9,
  });
});
afterAll(() => svc?.close());

describe('terminal rendering', () => {
  it.each([
    [[0, 0, 0], '▁▁▁'],
    [[1, 2, 4, 8], '▂▃▅█'],
    [[5, 0, 5], '█▁█'],
  ])('sparkline(%j) = %s', (values, expected) => {
    expect(sparkline(values)).toBe(expected);
  });
  it('progress bar and money cells', () => {
    expect(progressBar(250, 1000, 10)).toBe('[###.......]  25%  250/1,000');
    expect(progressBar(0, 0, 4)).toBe('[....]   0%  0/0');
    expect(usd('12.3456')).toBe('$12.35');
    expect(usd('0.01234')).toBe('$0.0123');
  });
});

describe('tokenmeter budgets, report, export', () => {
  it('budgets set, list, rm', async () => {
    const set = await run([
      'budgets',
      'set',
      '--amount',
      '250',
      '--period',
      'month',
      '--mode',
      'hard',
      '--team',
      'search',
      '--name',
      'search monthly',
    ]);
    expect(set.code).toBe(0);
    const id = /budget (b_\w+)/.exec(set.out)?.[1];
    expect(id).toBeDefined();
    expect(set.out).toContain('$250.00 per month, hard, scope team=search');
    const list = await run(['budgets', 'list']);
    expect(list.out).toMatch(new RegExp(`${id}\\s+search monthly\\s+team=search\\s+month\\s+hard\\s+\\$250\\.00`));
    const changed = await run(['budgets', 'set', '--id', id!, '--amount', '300']);
    expect(changed.out).toContain('$300.00 per month, hard');
    expect((await run(['budgets', 'rm', id!])).out).toContain('removed');
    expect((await run(['budgets', 'list'])).out).toContain('(0 rows)');
  });

  it('report: today and month to date by model, user and feature, with sparklines', async () => {
    const { code, out } = await run(['report', '--days', '7']);
    expect(code).toBe(0);
    expect(out).toMatch(/tokenmeter report — tenant acme/);
    for (const section of ['by model', 'by user', 'by feature']) expect(out).toContain(section);
    for (const model of Object.keys(summary.byModel)) expect(out).toContain(model);
    expect(out).toMatch(/[▁▂▃▄▅▆▇█]{7}/);
  });

  it('export --out: the file holds every call', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tm-cli-export-')), 'calls.ndjson');
    const { code } = await run(['export', '--format', 'ndjson', '--to', '2100-01-01', '--out', file]);
    expect(code).toBe(0);
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(summary.calls);
  });

  it('export --property: only the calls with that custom property', async () => {
    const [{ n }] = await rows<{ n: string }>(
      svc.store,
      "SELECT count() AS n FROM ai_calls FINAL WHERE tenant = 'acme' AND properties['plan'] = 'pro'",
    );
    expect(Number(n)).toBeGreaterThan(0);
    expect(Number(n)).toBeLessThan(summary.calls);
    const { code, out } = await run(['export', '--format', 'ndjson', '--to', '2100-01-01', '--property', 'plan=pro']);
    expect(code).toBe(0);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { properties: Record<string, string> });
    expect(lines).toHaveLength(Number(n));
    expect(lines.every((c) => c.properties.plan === 'pro')).toBe(true);
    const bad = await run(['export', '--property', 'plan']);
    expect(bad.code).toBe(2);
  });
});
