import { formatScaled, parseUsd, priceCall } from '@tokenmeter/instrumentation/prices';
import { type CallSpec, modelAlias } from '@tokenmeter/instrumentation/providers';
import type { Logger } from 'pino';
import {
  budgetStatuses,
  type DefaultUserBudget,
  defaultUserBudget,
  defaultUserStatuses,
  explicitUserKeys,
} from '../budgets/status.js';
import { periodBounds } from '../budgets/period.js';
import { listBudgets } from '../budgets/store.js';
import type { Budget, BudgetScope } from '../budgets/types.js';
import type { CallRow } from '../pipeline/rows.js';
import type { Store } from '../store/client.js';
import type { RowListener } from './record.js';

/** Who a call is for, as budget scopes name it. */
export interface CallScope {
  user: string;
  team: string;
  feature: string;
  model: string;
}

/** A call refused before it left: the budget it would overrun. */
export interface Refusal {
  budgetId: string;
  scope: BudgetScope;
  spendUsd: string;
  limitUsd: string;
  periodEnd: string;
  message: string;
}

/** How long a tenant's first call waits for its budgets to be read. */
const FIRST_FETCH_WAIT_MS = 2000;

interface Tracked {
  /** The budget's id; `default-user/<user>` for the configured default per-user budget. */
  key: string;
  budget: Budget;
  limit: bigint;
  periodEnd: string;
  /** Spend in ClickHouse when the view was fetched. */
  stored: bigint;
  /** Calls settled here that the last fetch could not have seen yet. */
  unseen: bigint;
  /** Reservations of calls in flight. */
  reserved: bigint;
}

interface View {
  budgets: Tracked[];
  /** The default per-user budget (hard mode), one per user seen; users with a budget of their own are left out. */
  users: Map<string, Tracked>;
  explicitUsers: Set<string>;
  /** When the fetch that made this view started. */
  fetchedAt: number;
}

interface Settled {
  tenant: string;
  ids: string[];
  cost: bigint;
  writtenAt: number | undefined;
}

interface Reservation {
  tenant: string;
  ids: string[];
  amount: bigint;
}

/**
 * Hard budgets enforced by the gateway before a call leaves, without overshoot from concurrency.
 * Spend = ClickHouse's spend at the last fetch + calls settled here since that ClickHouse may not
 * show yet + the reservations of calls in flight. A call is admitted while that is below the
 * budget, and then reserves what it is expected to cost (the last cost of the same model, else
 * its request priced with max_tokens of output); the reservation is replaced by the real cost
 * when its row is built. So calls in flight at the crossing go through, later ones are refused,
 * and spend passes the budget by at most the crossing call plus each in-flight call's estimate error.
 *
 * Fails open: if the budgets cannot be read (store down), calls go through (and are spooled).
 */
export class GatewayBudgets implements RowListener {
  private readonly views = new Map<string, View>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly failedAt = new Map<string, number>();
  /** For a tenant whose budgets were never read: until when its calls wait for the fetch running. */
  private readonly firstWaitUntil = new Map<string, number>();
  private readonly settled = new Map<string, Settled[]>();
  private readonly bySpan = new Map<string, Reservation>();
  private readonly settledBySpan = new Map<string, Settled>();
  private readonly learnt = new Map<string, bigint>();

  constructor(
    private readonly opts: {
      store: Store;
      cacheMs: number;
      log: Logger;
      now?: () => number;
      /** TOKENMETER_DEFAULT_USER_BUDGET_*: enforced here when its mode is hard. */
      defaultUserBudget?: DefaultUserBudget;
    },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * Admit (reserving for `spanId`) or refuse a call. Awaits only the first fetch of a tenant's
   * budgets; later refreshes run in the background.
   */
  async admit(
    tenant: string,
    scope: CallScope,
    spec: CallSpec,
    requestBytes: number,
    spanId: string,
  ): Promise<Refusal | undefined> {
    let view = this.views.get(tenant);
    const stale = !view || this.now() - view.fetchedAt >= this.opts.cacheMs;
    if (stale) {
      const refresh = this.refresh(tenant);
      if (!view) {
        // A store that hangs must not hold the calls: each waits at most until FIRST_FETCH_WAIT_MS
        // after that fetch began (not as long again per call), then goes unchecked.
        const left = (this.firstWaitUntil.get(tenant) ?? 0) - this.now();
        if (left > 0) {
          let timer: NodeJS.Timeout | undefined;
          const waited = new Promise<void>((r) => (timer = setTimeout(r, left)));
          await Promise.race([refresh, waited]);
          clearTimeout(timer);
        }
        view = this.views.get(tenant);
      }
    }
    if (!view) return undefined;
    const perUser = this.perUser(view, tenant, scope.user);
    if (view.budgets.length === 0 && !perUser) return undefined;
    const alias = modelAlias(scope.model);
    const hit: Tracked[] = [];
    if (perUser) {
      const spent = perUser.stored + perUser.unseen + perUser.reserved;
      if (spent >= perUser.limit) return refusal(perUser, spent);
      hit.push(perUser);
    }
    for (const t of view.budgets) {
      const s = t.budget.scope;
      if (s.user && s.user !== scope.user) continue;
      if (s.team && s.team !== scope.team) continue;
      if (s.feature && s.feature !== scope.feature) continue;
      if (s.model && s.model !== scope.model && s.model !== alias) continue;
      const spent = t.stored + t.unseen + t.reserved;
      if (spent >= t.limit) return refusal(t, spent);
      hit.push(t);
    }
    if (hit.length === 0) return undefined;
    const learn = `${tenant}/${spec.provider}/${spec.requestModel}`;
    const amount = this.learnt.get(learn) ?? estimate(spec, requestBytes);
    for (const t of hit) t.reserved += amount;
    this.bySpan.set(spanId, { tenant, ids: hit.map((t) => t.key), amount });
    return undefined;
  }

  /** A call's row is built: its reservation becomes its cost. (No row: the reservation is dropped.) */
  built(spanId: string, row: CallRow | undefined): void {
    // Every exact cost teaches what the next call to the model is expected to cost.
    if (row?.cost_usd && !row.estimated && row.status === 'ok') {
      if (this.learnt.size > 10_000) this.learnt.clear();
      this.learnt.set(`${row.tenant}/${row.provider}/${row.request_model}`, parseUsd(row.cost_usd));
    }
    const r = this.bySpan.get(spanId);
    if (!r) return;
    this.bySpan.delete(spanId);
    const cost = row?.cost_usd ? parseUsd(row.cost_usd) : 0n;
    const view = this.views.get(r.tenant);
    for (const t of view ? tracked(view) : []) {
      if (!r.ids.includes(t.key)) continue;
      t.reserved -= r.amount;
      t.unseen += cost;
    }
    const s: Settled = { tenant: r.tenant, ids: r.ids, cost, writtenAt: undefined };
    let list = this.settled.get(r.tenant);
    if (!list) this.settled.set(r.tenant, (list = []));
    list.push(s);
    this.settledBySpan.set(spanId, s);
  }

  written(spanId: string): void {
    const s = this.settledBySpan.get(spanId);
    if (!s) return;
    this.settledBySpan.delete(spanId);
    s.writtenAt = this.now();
  }

  /** Forget a tenant's view (a budget was changed). */
  invalidate(tenant: string): void {
    const view = this.views.get(tenant);
    if (view) view.fetchedAt = -Infinity;
  }

  private refresh(tenant: string): Promise<void> {
    const running = this.fetching.get(tenant);
    if (running) return running;
    // After a failure, wait a second before asking a store that is down again.
    if (this.now() - (this.failedAt.get(tenant) ?? -Infinity) < 1000) return Promise.resolve();
    const startedAt = this.now();
    if (!this.views.has(tenant)) this.firstWaitUntil.set(tenant, startedAt + FIRST_FETCH_WAIT_MS);
    const p = this.fetch(tenant, startedAt)
      .catch((err: Error) => {
        this.failedAt.set(tenant, this.now());
        this.opts.log.warn({ tenant, err: err.message }, 'gateway: budgets cannot be read; calls go through unchecked');
      })
      .finally(() => this.fetching.delete(tenant));
    this.fetching.set(tenant, p);
    return p;
  }

  /** The default per-user budget of `user`, when it is hard and the user has none of their own. */
  private perUser(view: View, tenant: string, user: string): Tracked | undefined {
    const def = this.opts.defaultUserBudget;
    if (!def || def.mode !== 'hard' || user === '' || view.explicitUsers.has(user)) return undefined;
    let t = view.users.get(user);
    if (!t) {
      // No row yet this period: nothing spent.
      t = track(`default-user/${user}`, defaultUserBudget(def, tenant, user), '0', new Date(this.now()));
      view.users.set(user, t);
    }
    return t;
  }

  private async fetch(tenant: string, startedAt: number): Promise<void> {
    const { store } = this.opts;
    const now = new Date(startedAt);
    const all = await listBudgets(store, tenant);
    const hard = all.filter((b) => b.mode === 'hard');
    const statuses = await budgetStatuses(store, hard, now);
    const def = this.opts.defaultUserBudget;
    const explicit = explicitUserKeys(all);
    const perUser =
      def?.mode === 'hard' ? await defaultUserStatuses(store, def, { tenant, explicit, now, minPercent: 0 }) : [];
    // Settled calls written before this fetch started are in its spend; the others are not yet.
    const keep = (this.settled.get(tenant) ?? []).filter((s) => s.writtenAt === undefined || s.writtenAt >= startedAt);
    this.settled.set(tenant, keep);
    const previous = this.views.get(tenant);
    const old = new Map((previous ? tracked(previous) : []).map((t) => [t.key, t]));
    const carry = (t: Tracked): Tracked => {
      for (const k of keep) if (k.ids.includes(t.key)) t.unseen += k.cost;
      t.reserved = old.get(t.key)?.reserved ?? 0n;
      return t;
    };
    const budgets = statuses.map((s) => carry(track(s.budget.id, s.budget, s.spendUsd, now)));
    const users = new Map(
      perUser.map((s) => [
        s.budget.scope.user,
        carry(track(`default-user/${s.budget.scope.user}`, s.budget, s.spendUsd, now)),
      ]),
    );
    // Users with calls in flight but no row yet keep their reservations.
    for (const t of old.values()) {
      if (t.key.startsWith('default-user/') && !users.has(t.budget.scope.user) && t.reserved > 0n) {
        users.set(t.budget.scope.user, carry(track(t.key, t.budget, '0', now)));
      }
    }
    const explicitUsers = new Set(
      [...explicit].filter((k) => k.startsWith(`${tenant}\0`)).map((k) => k.slice(tenant.length + 1)),
    );
    this.views.set(tenant, { budgets, users, explicitUsers, fetchedAt: startedAt });
    this.firstWaitUntil.delete(tenant);
  }
}

function track(key: string, budget: Budget, spendUsd: string, now: Date): Tracked {
  return {
    key,
    budget,
    limit: parseUsd(budget.amountUsd),
    periodEnd: periodBounds(budget.period, now).end.toISOString(),
    stored: parseUsd(spendUsd),
    unseen: 0n,
    reserved: 0n,
  };
}

function tracked(view: View): Tracked[] {
  return view.users.size === 0 ? view.budgets : [...view.budgets, ...view.users.values()];
}

function refusal(t: Tracked, spent: bigint): Refusal {
  const s = t.budget.scope;
  const parts = (['team', 'user', 'feature', 'model'] as const).filter((f) => s[f]).map((f) => `${f}=${s[f]}`);
  const label = parts.length > 0 ? parts.join(',') : 'global';
  const spendUsd = formatScaled(spent);
  return {
    budgetId: t.budget.id,
    scope: s,
    spendUsd,
    limitUsd: t.budget.amountUsd,
    periodEnd: t.periodEnd,
    message: `budget exceeded: ${label} spent ${spendUsd} USD of ${t.budget.amountUsd} USD (tokenmeter budget ${t.budget.id}, until ${t.periodEnd})`,
  };
}

/** What a call to a model not seen yet is expected to cost: its request (~4 bytes a token) and max_tokens of output. */
function estimate(spec: CallSpec, requestBytes: number): bigint {
  const result = priceCall({
    provider: spec.provider,
    model: spec.requestModel,
    usage: { inputTokens: Math.ceil(requestBytes / 4), outputTokens: spec.maxTokens ?? 1024 },
    timestamp: new Date(),
  });
  return result.priced ? parseUsd(result.costUsd) : 0n;
}
