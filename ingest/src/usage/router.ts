import { type Request, Router } from 'express';
import type { Logger } from 'pino';
import { periodBounds } from '../budgets/period.js';
import { remaining } from '../budgets/router.js';
import { budgetStatus, type DefaultUserBudget, defaultUserBudget } from '../budgets/status.js';
import { listBudgets } from '../budgets/store.js';
import { type Budget, PERIODS, type Period, scopeText } from '../budgets/types.js';
import { type KeyResolver, requireRole } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/client.js';
import { remainingUses } from './estimate.js';
import { withoutMoney } from './money.js';
import { projectSpend } from './projection.js';
import {
  callDistribution,
  FILTER_NAMES,
  GROUP_BY_NAMES,
  type GroupBy,
  type Grouping,
  type Totals,
  type UsageFilters,
  usageBetween,
  usageDaily,
  summaryTotals,
  usageSummary,
} from './queries.js';
import {
  HttpError,
  handle,
  isUserView,
  PROPERTY_PARAM,
  propertyFilters,
  propertyName,
  queryDay,
  queryEnum,
  queryString,
  tenantOf,
} from './request.js';

export interface UsageRouterDeps {
  store: Store;
  keys: KeyResolver;
  metrics: Metrics;
  log: Logger;
  defaultUserBudget: DefaultUserBudget | undefined;
  now?: () => Date;
}

const DAY_MS = 86_400_000;
/** The trailing window per-call distributions (estimates, remaining uses) are taken from. */
const DISTRIBUTION_DAYS = 30;

/**
 * /api/v1/usage/*: tenant-scoped reads of the rollups. `user` keys (and `view=user`) get the
 * end-user view: requests, tokens, percentages and uses, never a dollar amount.
 */
export function usageRouter(deps: UsageRouterDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  const anyReader = requireRole('user', deps.keys, deps.metrics);
  const send = (req: Request, res: import('express').Response, body: unknown) => {
    res.json(isUserView(req) ? withoutMoney(body) : body);
  };

  router.get(
    '/api/v1/usage/summary',
    anyReader,
    handle(deps.log, async (req, res) => {
      const tenant = tenantOf(req);
      const groupBy = optionalGroupBy(req);
      const period = queryEnum<Period>(req, 'period', PERIODS, 'month');
      const t = now();
      const { start, end } = periodBounds(period, t);
      const rows = await usageSummary(deps.store, {
        tenant,
        periodStart: start,
        periodEnd: end,
        today: t,
        groupBy,
        filters: filters(req),
      });
      const zero = { period: emptyOf(), today: emptyOf(), allTime: emptyOf() };
      const totals = groupBy ? summaryTotals(rows) : (rows[0] ?? zero);
      send(req, res, {
        tenant,
        period: { name: period, start: start.toISOString(), end: end.toISOString() },
        today: t.toISOString().slice(0, 10),
        totals: { period: totals.period, today: totals.today, allTime: totals.allTime },
        ...(groupBy
          ? {
              groupBy: groupName(groupBy),
              groups: rows.map((r) => ({
                [groupName(groupBy)]: r.key,
                period: r.period,
                today: r.today,
                allTime: r.allTime,
              })),
            }
          : {}),
      });
    }),
  );

  router.get(
    '/api/v1/usage/daily',
    anyReader,
    handle(deps.log, async (req, res) => {
      const tenant = tenantOf(req);
      const t = now();
      const to = queryDay(req, 'to') ?? new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
      const from = queryDay(req, 'from') ?? new Date(to.getTime() - 29 * DAY_MS);
      if (from > to) throw new HttpError(400, 'from must not be after to');
      if ((to.getTime() - from.getTime()) / DAY_MS > 3660)
        throw new HttpError(400, 'from..to spans more than 10 years');
      const groupBy = optionalGroupBy(req);
      const rows = await usageDaily(deps.store, { tenant, from, to, groupBy, filters: filters(req) });
      const days: string[] = [];
      for (let d = from.getTime(); d <= to.getTime(); d += DAY_MS) days.push(new Date(d).toISOString().slice(0, 10));
      const seriesOf = (key: string) => {
        const byDay = new Map(rows.filter((r) => r.key === key).map((r) => [r.day, r]));
        return days.map((day) => {
          const r = byDay.get(day);
          const { key: _k, day: _d, ...totals } = r ?? { key, day, ...emptyOf() };
          return { day, ...totals };
        });
      };
      const base = { tenant, from: days[0], to: days.at(-1), filters: filters(req) };
      if (!groupBy) {
        send(req, res, { ...base, series: seriesOf('') });
        return;
      }
      const keys = [...new Set(rows.map((r) => r.key))];
      const name = groupName(groupBy);
      send(req, res, { ...base, groupBy: name, groups: keys.map((k) => ({ [name]: k, series: seriesOf(k) })) });
    }),
  );

  router.get(
    '/api/v1/usage/users/:id',
    anyReader,
    handle(deps.log, async (req, res) => {
      const tenant = tenantOf(req);
      const user = String(req.params.id);
      if (user === '' || user.length > 256) throw new HttpError(400, 'user id must be 1 to 256 characters');
      const t = now();
      const budget = userBudget(await listBudgets(deps.store, tenant), deps.defaultUserBudget, tenant, user);
      const period = budget?.period ?? 'month';
      const { start, end } = periodBounds(period, t);
      const f = { ...noFilters(), user };
      const [row] = await usageSummary(deps.store, {
        tenant,
        periodStart: start,
        periodEnd: end,
        today: t,
        filters: f,
      });
      const current = row ?? { key: '', period: emptyOf(), today: emptyOf(), allTime: emptyOf() };
      const status = budget ? budgetStatus(budget, current.period.costUsd, t) : undefined;
      const dist = await callDistribution(deps.store, {
        tenant,
        from: new Date(t.getTime() - DISTRIBUTION_DAYS * DAY_MS),
        to: t,
        filters: f,
      });
      const left = status ? remaining(status) : undefined;
      const uses =
        left === undefined
          ? null
          : remainingUses(Number(left), { p10: dist.costP10, p50: dist.costP50, p90: dist.costP90 }, dist.calls);
      const tokens = (x: Totals) => ({
        requests: x.requests,
        inputTokens: x.inputTokens,
        outputTokens: x.outputTokens,
        cacheReadTokens: x.cacheReadTokens,
        totalTokens: x.inputTokens + x.outputTokens,
      });
      if (isUserView(req)) {
        send(req, res, {
          user,
          period: {
            name: period,
            start: start.toISOString(),
            end: end.toISOString(),
            ...tokens(current.period),
            hasBudget: status !== undefined,
            percentUsed: status?.percent ?? null,
            remainingUses: uses,
          },
          today: tokens(current.today),
          allTime: tokens(current.allTime),
        });
        return;
      }
      send(req, res, {
        tenant,
        user,
        period: {
          name: period,
          start: start.toISOString(),
          end: end.toISOString(),
          ...tokens(current.period),
          costUsd: current.period.costUsd,
          budget: budget
            ? { id: budget.id, amountUsd: budget.amountUsd, mode: budget.mode, scope: scopeText(budget.scope) }
            : null,
          percentUsed: status?.percent ?? null,
          remainingUsd: left ?? null,
          remainingUses: uses,
        },
        today: { ...tokens(current.today), costUsd: current.today.costUsd },
        allTime: { ...tokens(current.allTime), costUsd: current.allTime.costUsd },
      });
    }),
  );

  router.get(
    '/api/v1/usage/estimate',
    anyReader,
    handle(deps.log, async (req, res) => {
      const tenant = tenantOf(req);
      const t = now();
      const f = filters(req);
      const dist = await callDistribution(deps.store, {
        tenant,
        from: new Date(t.getTime() - DISTRIBUTION_DAYS * DAY_MS),
        to: t,
        filters: f,
      });
      let remainingOf: { budgetId: string; remainingUsd: string; percentUsed: number } | null = null;
      const budgets = await listBudgets(deps.store, tenant);
      const budget = f.user
        ? userBudget(budgets, deps.defaultUserBudget, tenant, f.user)
        : budgets.find((b) => scopeText(b.scope) === 'global');
      if (budget) {
        const { start, end } = periodBounds(budget.period, t);
        const spent = await usageBetween(deps.store, {
          tenant,
          from: start,
          to: end,
          filters: { ...noFilters(), ...pick(budget) },
        });
        const s = budgetStatus(budget, spent.costUsd, t);
        remainingOf = { budgetId: budget.id, remainingUsd: remaining(s), percentUsed: s.percent };
      }
      const uses = remainingOf
        ? remainingUses(
            Number(remainingOf.remainingUsd),
            { p10: dist.costP10, p50: dist.costP50, p90: dist.costP90 },
            dist.calls,
          )
        : null;
      send(req, res, {
        tenant,
        filters: f,
        window: { from: dist.from.toISOString(), to: t.toISOString() },
        calls: dist.calls,
        tokensPerCall: {
          median: dist.tokensP50,
          p10: dist.tokensP10,
          p90: dist.tokensP90,
          variance: Math.round(dist.tokensVariance * 100) / 100,
          medianInput: dist.inputTokensP50,
          medianOutput: dist.outputTokensP50,
        },
        costPerCallUsd: { median: dist.costP50, p10: dist.costP10, p90: dist.costP90 },
        budget: remainingOf,
        remainingUses: uses,
        confidence:
          uses?.confidence ??
          (dist.calls >= 100 ? 'high' : dist.calls >= 20 ? 'medium' : dist.calls > 0 ? 'low' : 'none'),
      });
    }),
  );

  router.get(
    '/api/v1/usage/projection',
    anyReader,
    handle(deps.log, async (req, res) => {
      const tenant = tenantOf(req);
      const t = now();
      const period = queryEnum<Period>(req, 'period', PERIODS, 'month');
      const { start, end } = periodBounds(period, t);
      const f = filters(req);
      const spent = await usageBetween(deps.store, {
        tenant,
        from: start,
        to: new Date(t.getTime() + 3_600_000),
        filters: f,
      });
      const today = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
      const trailingFrom = new Date(today - 7 * DAY_MS);
      const daily = await usageDaily(deps.store, {
        tenant,
        from: trailingFrom,
        to: new Date(today - DAY_MS),
        filters: f,
      });
      const byDay = new Map(daily.map((d) => [d.day, Number(d.costUsd)]));
      const trailing: number[] = [];
      for (let d = trailingFrom.getTime(); d < today; d += DAY_MS) {
        trailing.push(byDay.get(new Date(d).toISOString().slice(0, 10)) ?? 0);
      }
      const p = projectSpend({ spentUsd: Number(spent.costUsd), trailingDaily: trailing, now: t, periodEnd: end });
      send(req, res, {
        tenant,
        filters: f,
        period: { name: period, start: start.toISOString(), end: end.toISOString() },
        ...p,
      });
    }),
  );

  return router;
}

function emptyOf(): Totals {
  return {
    requests: 0,
    errors: 0,
    unpricedRequests: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costUsd: '0',
  };
}

function noFilters(): UsageFilters {
  return { model: '', provider: '', service: '', user: '', team: '', feature: '' };
}

function filters(req: Request): UsageFilters {
  const f = noFilters();
  for (const k of FILTER_NAMES) f[k] = queryString(req, k);
  const properties = propertyFilters(req);
  if (Object.keys(properties).length > 0) f.properties = properties;
  return f;
}

/** The custom property a group_by names (`property.<name>`), or a rollup dimension. */
function optionalGroupBy(req: Request): Grouping | undefined {
  const v = queryString(req, 'group_by');
  if (v === '') return undefined;
  if (v.startsWith(PROPERTY_PARAM)) return { property: propertyName(v.slice(PROPERTY_PARAM.length), 'group_by') };
  if (!GROUP_BY_NAMES.includes(v as GroupBy)) {
    throw new HttpError(
      400,
      `group_by must be one of ${GROUP_BY_NAMES.join(', ')} or property.<name>, got '${v.slice(0, 80)}'`,
    );
  }
  return v as GroupBy;
}

/** The name a response gives the group key: `model`, or `property.plan`. */
function groupName(g: Grouping): string {
  return typeof g === 'string' ? g : PROPERTY_PARAM + g.property;
}

/** A user's own budget (scope names only them), else the default per-user budget. */
function userBudget(
  budgets: readonly Budget[],
  def: DefaultUserBudget | undefined,
  tenant: string,
  user: string,
): Budget | undefined {
  const own = budgets.find((b) => b.scope.user === user && !b.scope.team && !b.scope.feature && !b.scope.model);
  return own ?? (def ? defaultUserBudget(def, tenant, user) : undefined);
}

function pick(b: Budget): Partial<UsageFilters> {
  return { team: b.scope.team, user: b.scope.user, feature: b.scope.feature, model: b.scope.model };
}
