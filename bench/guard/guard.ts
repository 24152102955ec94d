/**
 * bench/guard: the budget guard's cost per call, against a baseline measured in the same run.
 *
 *   npx tsx bench/guard/guard.ts [--calls 5000000]
 *
 * The guard's view is fed by a local fetch stub (the refresh is off the hot path and not what
 * is measured). Each case runs the same loop over the same pre-built call descriptions:
 * - baseline: the loop calling a no-op function with the description;
 * - guard.check with an empty view, with 20 scopes, and with 2,000 scopes over 500 users,
 *   for calls that pass (the common path);
 * - the lifecycle's whole pre-call step (`checkGuard(describe)`, usage context read included)
 *   with and without the guard installed.
 * Each case runs in its own process, so that one case's JIT feedback cannot slow another's loop.
 * Goal: guard.check ≤ 1 µs per call over the baseline.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { checkGuard, setCallGuard } from '../../instrumentation/src/core/guard.ts';
import { getUsageContext, withUsageContext } from '../../instrumentation/src/core/usage-context.ts';
import { BudgetGuard } from '../../instrumentation/src/guard/index.ts';
import type { EnforcementScope, EnforcementView } from '../../instrumentation/src/guard/types.ts';
import type { CallDescription } from '../../instrumentation/src/types.ts';

const { values: args } = parseArgs({
  options: { calls: { type: 'string', default: '5000000' }, case: { type: 'string' } },
});
const CALLS = Number(args.calls);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const USERS = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
const TEAMS = ['search', 'support', 'growth', 'infra'];
const FEATURES = ['chat', 'summarize', 'classify'];
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4-5'];

function entry(i: number, scope: Partial<EnforcementScope['scope']>): EnforcementScope {
  return {
    budgetId: `b_${i}`,
    scope: { team: '', user: '', feature: '', model: '', ...scope },
    spendUsd: '12.5',
    limitUsd: '10',
    percent: 125,
    periodEnd: '2026-12-01T00:00:00.000Z',
  };
}

function view(n: number): EnforcementView {
  // Hard and soft scopes the benchmark's calls never fall in (users 500+ only, team 'legal').
  const hard: EnforcementScope[] = [];
  const soft: EnforcementScope[] = [];
  for (let i = 0; i < n; i++) {
    const e =
      i % 4 === 0
        ? entry(i, { team: 'legal', model: MODELS[i % MODELS.length] })
        : entry(i, { user: `user-${500 + (i % 500)}`, feature: FEATURES[i % 3] });
    (i % 2 === 0 ? hard : soft).push(e);
  }
  return { tenant: 'acme', generatedAt: new Date().toISOString(), refreshAfterMs: 15_000, hard, soft };
}

async function guardWith(n: number): Promise<BudgetGuard> {
  const body = JSON.stringify(view(n));
  const g = new BudgetGuard({
    url: 'http://tokenmeter.invalid',
    key: 'k',
    refreshMs: 3_600_000,
    fetch: (async () => new Response(body, { headers: { 'content-type': 'application/json' } })) as typeof fetch,
  });
  if (!(await g.start())) throw new Error('view not loaded');
  g.stop();
  return g;
}

const calls: CallDescription[] = Array.from({ length: 4096 }, (_, i) => ({
  provider: 'openai',
  operation: 'chat',
  requestModel: MODELS[i % MODELS.length]!,
  isStreaming: false,
  context: {
    tenant: 'acme',
    userId: USERS[i % 500],
    team: TEAMS[i % TEAMS.length],
    feature: FEATURES[i % FEATURES.length],
  },
}));

let sink = 0;
function noop(d: CallDescription): void {
  sink += d.requestModel.length & 1;
}

function time(label: string, fn: (d: CallDescription) => void): number {
  for (let i = 0; i < 200_000; i++) fn(calls[i & 4095]!);
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) fn(calls[i & 4095]!);
    runs.push(Number(process.hrtime.bigint() - t0) / CALLS);
  }
  runs.sort((a, b) => a - b);
  const median = runs[2]!;
  results.push({ label, nsPerCall: median });
  return median;
}

const results: { label: string; nsPerCall: number }[] = [];

const CASES: Record<string, () => Promise<void>> = {
  async baseline() {
    time('baseline: no-op call per description', noop);
  },
  async empty() {
    time('guard.check, empty view', (await guardWith(0)).check);
  },
  async small() {
    time('guard.check, 20 scopes', (await guardWith(20)).check);
  },
  async big() {
    const big = await guardWith(2000);
    time('guard.check, 2000 scopes / 500 users', big.check);
    if (big.stats.blocked !== 0 || big.stats.failOpen !== 0) throw new Error('bench calls must pass');
  },
  async blocked() {
    // A call that is refused: building and throwing the error dominates (not the common path).
    const g = await guardWith(20);
    const d = { ...calls[0]!, context: { tenant: 'acme', userId: 'user-501', team: 'search', feature: 'summarize' } };
    time('guard.check, call refused (throw + catch)', () => {
      try {
        g.check(d);
      } catch {
        sink++;
      }
    });
  },
  async precall() {
    await precall(false);
  },
  async precallGuard() {
    await precall(true);
  },
};

/** The lifecycle's whole pre-call step, inside a usage context, with or without the guard. */
async function precall(withGuard: boolean) {
  const big = await guardWith(2000);
  const d = calls[1]!;
  const describe = () => ({
    provider: d.provider,
    operation: d.operation,
    requestModel: d.requestModel,
    isStreaming: false,
    context: getUsageContext(),
  });
  setCallGuard(withGuard ? big.check : undefined);
  await withUsageContext({ tenant: 'acme', userId: 'user-1', team: 'search', feature: 'chat' }, async () => {
    time(withGuard ? 'pre-call step, guard installed (2000 scopes)' : 'pre-call step, no guard', () =>
      checkGuard(describe),
    );
  });
  setCallGuard(undefined);
}

async function main() {
  if (args.case) {
    await CASES[args.case]!();
    process.stdout.write(`${JSON.stringify(results[0])}\n`);
    if (sink < 0) console.log(sink);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  for (const name of Object.keys(CASES)) {
    const out = execFileSync(process.execPath, [...process.execArgv, self, '--case', name, '--calls', String(CALLS)], {
      encoding: 'utf8',
    });
    results.push(JSON.parse(out.trim().split('\n').at(-1)!));
  }
  const baseline = results[0]!.nsPerCall;
  const width = Math.max(...results.map((r) => r.label.length));
  console.log(
    `bench/guard — ${CALLS.toLocaleString()} calls per run, median of 5 runs, one process per case, node ${process.version}`,
  );
  for (const r of results) {
    const over = r.nsPerCall - baseline;
    console.log(
      `${r.label.padEnd(width)}  ${r.nsPerCall.toFixed(1).padStart(7)} ns/call  (+${over.toFixed(1)} ns over baseline, ×${(r.nsPerCall / baseline).toFixed(2)})`,
    );
  }
  const passing = results.filter((r) => r.label.startsWith('guard.check') && !r.label.includes('refused'));
  const worst = Math.max(...passing.map((r) => r.nsPerCall - baseline));
  console.log(
    `guard.check (calls that pass) worst case: ${worst.toFixed(1)} ns over baseline — goal ≤ 1000 ns: ${worst <= 1000 ? 'met' : 'MISSED'}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
