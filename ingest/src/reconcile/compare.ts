import { formatScaled } from '@tokenmeter/instrumentation/prices';
import type { BilledDay, ReconciliationRow, Status, TrackedDay } from './types.js';

/**
 * Drift, tokenmeter's one definition (README "Reconciliation"): what the provider billed beyond
 * what tokenmeter tracked, as a percent of tracked: (billed − tracked) / tracked × 100, to 4
 * decimals, computed on the exact integers. A bill 5 % above tracked is +5; a bill below is
 * negative. null when it has no value: the bill is unknown, or nothing was tracked but
 * something billed. Both zero is 0.
 */
export function driftPercent(tracked: bigint, billed: bigint | null): number | null {
  if (billed === null) return null;
  if (tracked === 0n) return billed === 0n ? 0 : null;
  return Number(((billed - tracked) * 1_000_000n) / tracked) / 10_000;
}

/**
 * Compare one provider-day of bill and tracked cost (pure). Rows: the total, and each
 * model either side knows, each with its drift (driftPercent); a side with nothing while
 * the other has cost is 'missing'.
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
): { status: Status; driftPct: number | null; missing?: 'billed' | 'tracked' } {
  const driftPct = driftPercent(tracked, billed ?? 0n);
  if (billed === undefined || billed === 0n) {
    if (tracked === 0n) return { status: 'match', driftPct };
    return { status: 'missing', driftPct, missing: 'billed' };
  }
  if (tracked === 0n) return { status: 'missing', driftPct, missing: 'tracked' };
  return { status: Math.abs(driftPct as number) > thresholdPct ? 'drift' : 'match', driftPct };
}
