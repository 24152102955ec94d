import type { EnforcementScope, EnforcementView } from './types.js';

/**
 * The enforcement view compiled for the hot path (pure). Entries naming a user are indexed by
 * user, so a call checks only its own user's entries plus those without a user; with no entry at
 * all, a check is two property reads.
 */
export interface CompiledView {
  tenant: string;
  isEmpty: boolean;
  hard: Index;
  soft: Index;
}

interface Index {
  size: number;
  byUser: Map<string, EnforcementScope[]>;
  anyUser: EnforcementScope[];
}

/** A dated snapshot of a model alias: gpt-4o-mini-2024-07-18, claude-3-5-sonnet-20241022. */
const DATE_SUFFIX = /^20\d{2}-?\d{2}-?\d{2}$/;

export function compileView(view: EnforcementView): CompiledView {
  const hard = index(view.hard);
  const soft = index(view.soft);
  return { tenant: view.tenant, isEmpty: hard.size === 0 && soft.size === 0, hard, soft };
}

function index(entries: readonly EnforcementScope[]): Index {
  const byUser = new Map<string, EnforcementScope[]>();
  const anyUser: EnforcementScope[] = [];
  for (const e of entries) {
    if (e.scope.user) {
      const list = byUser.get(e.scope.user) ?? [];
      list.push(e);
      byUser.set(e.scope.user, list);
    } else anyUser.push(e);
  }
  return { size: entries.length, byUser, anyUser };
}

export function modelMatches(budgetModel: string, requestModel: string): boolean {
  if (budgetModel === '' || budgetModel === requestModel) return true;
  return (
    requestModel.length > budgetModel.length + 1 &&
    requestModel.startsWith(budgetModel) &&
    requestModel.charCodeAt(budgetModel.length) === 45 /* '-' */ &&
    DATE_SUFFIX.test(requestModel.slice(budgetModel.length + 1))
  );
}

function matches(e: EnforcementScope, team: string, feature: string, model: string): boolean {
  const s = e.scope;
  return (
    (s.team === '' || s.team === team) && (s.feature === '' || s.feature === feature) && modelMatches(s.model, model)
  );
}

/** The first entry of `idx` whose scope holds the call, if any. */
export function findScope(
  idx: Index,
  user: string | undefined,
  team: string | undefined,
  feature: string | undefined,
  model: string,
): EnforcementScope | undefined {
  if (idx.size === 0) return undefined;
  const t = team ?? '';
  const f = feature ?? '';
  if (user) {
    const own = idx.byUser.get(user);
    if (own) for (const e of own) if (matches(e, t, f, model)) return e;
  }
  for (const e of idx.anyUser) if (matches(e, t, f, model)) return e;
  return undefined;
}
