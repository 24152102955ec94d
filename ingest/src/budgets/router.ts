import { formatScaled, parseUsd } from '@tokenmeter/instrumentation/prices';
import { type Request, Router } from 'express';
import type { Logger } from 'pino';
import { type KeyResolver, requireRole } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/client.js';
import { HttpError, handle, tenantOf } from '../usage/request.js';
import { enforcementView } from './enforcement.js';
import { type BudgetForecast, budgetStatusesWithForecasts } from './forecast.js';
import { parseBudgetInput } from './parse.js';
import { allStatuses, type DefaultUserBudget } from './status.js';
import { deleteBudget, getBudget, listBudgets, putBudget } from './store.js';
import type { Budget, BudgetStatus } from './types.js';
import { jsonBody } from '../http/errors.js';

export interface BudgetRouterDeps {
  store: Store;
  keys: KeyResolver;
  metrics: Metrics;
  log: Logger;
  defaultUserBudget: DefaultUserBudget | undefined;
  /** How long one tenant's enforcement view is reused before ClickHouse is asked again. */
  enforcementCacheMs: number;
  now?: () => Date;
}

/**
 * /api/v1/budgets: CRUD (admin writes, read keys read) with each budget's current status, and
 * /api/v1/budgets/enforcement, the compact view the instrumentation's guard polls (ingest keys).
 */
export function budgetRouter(deps: BudgetRouterDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  const read = requireRole('read', deps.keys, deps.metrics);
  const admin = requireRole('admin', deps.keys, deps.metrics);
  const cache = new Map<string, { at: number; body: string }>();

  router.get(
    '/api/v1/budgets/enforcement',
    requireRole('ingest', deps.keys, deps.metrics),
    handle(deps.log, async (req, res) => {
      const tenant = tenantOf(req);
      const hit = cache.get(tenant);
      const t = now();
      if (hit && t.getTime() - hit.at < deps.enforcementCacheMs) {
        res.type('application/json').send(hit.body);
        return;
      }
      const budgets = await listBudgets(deps.store, tenant);
      const statuses = await allStatuses(deps.store, budgets, deps.defaultUserBudget, t, tenant);
      const refreshAfterMs = Math.max(deps.enforcementCacheMs, 1000);
      const body = JSON.stringify(enforcementView(tenant, statuses, t, refreshAfterMs));
      cache.set(tenant, { at: t.getTime(), body });
      res.type('application/json').send(body);
    }),
  );

  router.get(
    '/api/v1/budgets',
    read,
    handle(deps.log, async (req, res) => {
      const tenant = tenantOf(req);
      const budgets = await listBudgets(deps.store, tenant);
      const t = now();
      const { statuses, forecasts } = await budgetStatusesWithForecasts(deps.store, budgets, t);
      res.json({
        tenant,
        budgets: statuses.map((s, i) => withStatus(s, forecasts[i])),
        defaultUserBudget: deps.defaultUserBudget ?? null,
      });
    }),
  );

  router.get(
    '/api/v1/budgets/:id',
    read,
    handle(deps.log, async (req, res) => {
      const budget = await found(req);
      const t = now();
      const { statuses, forecasts } = await budgetStatusesWithForecasts(deps.store, [budget], t);
      res.json(withStatus(statuses[0]!, forecasts[0]));
    }),
  );

  // What a budget would show if saved as sent: the same checks as POST/PUT (400 names the
  // field), and the same status and forecast code as GET. Nothing is written.
  router.post(
    '/api/v1/budgets/preview',
    admin,
    jsonBody('64kb'),
    handle(deps.log, async (req, res) => {
      const tenant = writeTenant(req);
      const id = (req.body as { id?: unknown } | undefined)?.id;
      const base = typeof id === 'string' && id !== '' ? await found(req, tenant) : undefined;
      const input = parseBudgetInput(req.body, base);
      const t = now();
      const budget: Budget = {
        ...input,
        id: base?.id ?? '',
        tenant,
        createdAt: base?.createdAt ?? t.toISOString(),
        updatedAt: t.toISOString(),
      };
      const { statuses, forecasts } = await budgetStatusesWithForecasts(deps.store, [budget], t);
      res.json(withStatus(statuses[0]!, forecasts[0]));
    }),
  );

  router.post(
    '/api/v1/budgets',
    admin,
    jsonBody('64kb'),
    handle(deps.log, async (req, res) => {
      const tenant = writeTenant(req);
      const budget = await putBudget(deps.store, tenant, parseBudgetInput(req.body));
      cache.delete(tenant);
      deps.log.info({ tenant, id: budget.id }, 'budget created');
      res.status(201).json(budget);
    }),
  );

  router.put(
    '/api/v1/budgets/:id',
    admin,
    jsonBody('64kb'),
    handle(deps.log, async (req, res) => {
      const existing = await found(req, writeTenant(req));
      const budget = await putBudget(deps.store, existing.tenant, parseBudgetInput(req.body, existing), existing);
      cache.delete(existing.tenant);
      res.json(budget);
    }),
  );

  router.delete(
    '/api/v1/budgets/:id',
    admin,
    handle(deps.log, async (req, res) => {
      const existing = await found(req);
      await deleteBudget(deps.store, existing);
      cache.delete(existing.tenant);
      res.status(204).end();
    }),
  );

  async function found(req: Request, tenant = tenantOf(req)) {
    const id = String(req.params.id ?? (req.body as { id?: unknown }).id);
    const budget = await getBudget(deps.store, tenant, id);
    if (!budget) throw new HttpError(404, `no budget '${id}' in tenant '${tenant}'`);
    return budget;
  }

  return router;
}

/** The tenant a budget is written for: the key's, or for the bootstrap admin the body's or ?tenant=. */
function writeTenant(req: Request): string {
  const bodyTenant = (req.body as { tenant?: unknown } | undefined)?.tenant;
  if (req.principal?.tenant === '*' && typeof bodyTenant === 'string' && bodyTenant !== '') return bodyTenant;
  if (bodyTenant !== undefined && bodyTenant !== tenantOf(req)) {
    throw new HttpError(403, 'a key may only write budgets of its own tenant');
  }
  return tenantOf(req);
}

function withStatus(s: BudgetStatus, forecast?: BudgetForecast) {
  return {
    ...s.budget,
    status: {
      periodStart: s.periodStart.toISOString(),
      periodEnd: s.periodEnd.toISOString(),
      spendUsd: s.spendUsd,
      percent: s.percent,
      crossed: s.crossed,
      remainingUsd: remaining(s),
    },
    ...(forecast ? { projection: forecast } : {}),
  };
}

export function remaining(s: BudgetStatus): string {
  const left = parseUsd(s.budget.amountUsd) - parseUsd(s.spendUsd);
  return left > 0n ? formatScaled(left) : '0';
}
