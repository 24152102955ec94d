import { formatScaled } from '@tokenmeter/instrumentation/prices';
import type { BilledDay, ReconciliationRow, Status, TrackedDay } from './types.js';

/**
 * Compare one provider-day of bill and tracked cost (pure). Rows: the total, and each
 * model either side knows. Drift is (tracked − billed) / billed in percent; a side with
 * nothing while the other has cost is 'missing' (a zero bill is not a 100 % drift).
 * Calls carry no project: a project (or workspace) is compared only when
 * TOKENMETER_BILLING_PROJECTS says which services it bills; the bill's whole split by
 * project is in the total row's details either way.
 */
export function compareDay(
  billed: BilledDay,
  tracked: TrackedDay,
  opts: { tenant: string; thresholdPct: number; projects?: Record<string, string[]> },
): ReconciliationRow[] {
  const base = { day: billed.day, tenant: opts.tenant, provider: billed.provider };
  const unpriced = [...tracked.byModel.values()].reduce((a, m) => a + m.unpriced, 0);
  const total = judge(tracked.total, billed.hasData ? billed.total : undefined, opts.thresholdPct);
  const rows: ReconciliationRow[] = [
    {
      ...base,
      dimension: 'total',
      key: '',
      trackedUsd: tracked.total,
      billedUsd: billed.total,
      ...total,
      details: {
        ...(total.missing ? { missing: total.missing } : {}),
        unpricedRequests: unpriced,
        projects: Object.fromEntries([...billed.byProject].map(([k, v]) => [k, formatScaled(v)])),
      },
    },
  ];
  const models = new Set([...billed.byModel.keys(), ...tracked.byModel.keys()]);
  for (const model of [...models].sort()) {
    const t = tracked.byModel.get(model);
    const b = billed.byModel.get(model);
    const j = judge(t?.cost ?? 0n, b, opts.thresholdPct);
    const usage = billed.usageByModel.get(model);
    rows.push({
      ...base,
      dimension: 'model',
      key: model,
      trackedUsd: t?.cost ?? 0n,
      billedUsd: b ?? 0n,
      ...j,
      details: {
        ...(j.missing ? { missing: j.missing } : {}),
        tracked: t
          ? {
              requests: t.requests,
              unpriced: t.unpriced,
              inputTokens: t.inputTokens,
              outputTokens: t.outputTokens,
              cacheReadTokens: t.cacheReadTokens,
            }
          : null,
        billedUsage: usage ?? null,
      },
    });
  }
  for (const [project, services] of Object.entries(opts.projects ?? {}).sort()) {
    const t = services.reduce((a, s) => a + (tracked.byService.get(s) ?? 0n), 0n);
    const b = billed.byProject.get(project);
    const j = judge(t, b, opts.thresholdPct);
    rows.push({
      ...base,
      dimension: 'project',
      key: project,
      trackedUsd: t,
      billedUsd: b ?? 0n,
      ...j,
      details: { ...(j.missing ? { missing: j.missing } : {}), services },
    });
  }
  return rows;
}

function judge(
  tracked: bigint,
  billed: bigint | undefined,
  thresholdPct: number,
): { status: Status; driftPct: number; missing?: 'billed' | 'tracked' } {
  if (billed === undefined || billed === 0n) {
    if (tracked === 0n) return { status: 'match', driftPct: 0 };
    return { status: 'missing', driftPct: 0, missing: 'billed' };
  }
  if (tracked === 0n) return { status: 'missing', driftPct: -100, missing: 'tracked' };
  // Percent with 4 decimals, computed on integers.
  const driftPct = Number(((tracked - billed) * 1_000_000n) / billed) / 10_000;
  return { status: Math.abs(driftPct) > thresholdPct ? 'drift' : 'match', driftPct };
}
