import { type Request, Router } from 'express';
import type { Logger } from 'pino';
import { type KeyResolver, requireRole } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { IngestPricer } from '../pipeline/pricing.js';
import { streamJob } from '../reconcile/stream.js';
import { recordAudit } from '../retention/audit.js';
import type { Store } from '../store/client.js';
import { listOverrides, OverrideError, parseOverride, putOverride } from './overrides.js';
import type { OverrideRefresher } from './refresh.js';
import { reprice, RepriceError } from './reprice.js';
import { jsonBody } from '../http/errors.js';

export interface PricesDeps {
  store: Store;
  keys: KeyResolver;
  metrics: Metrics;
  log: Logger;
  pricer: IngestPricer;
  refresher: OverrideRefresher;
  ttlDays: number;
}

/**
 * GET /api/v1/prices: the overrides in force (admin; a tenant's key sees the global ones and its own).
 * PUT /api/v1/prices: add or replace one. The installation admin key sets global overrides and any
 * tenant's; a tenant's admin key sets only its own tenant's (its negotiated rates, its default).
 * DELETE /api/v1/prices/:id: remove one (a tenant's admin key: only its own).
 * POST /api/v1/reprice {from, to, model?}: re-price stored calls, progress as NDJSON.
 */
export function pricesRouter(deps: PricesDeps): Router {
  const router = Router();
  const admin = requireRole('admin', deps.keys, deps.metrics);
  const json = jsonBody('64kb');
  const installationAdmin = (req: Request) => req.principal?.tenant === '*';

  /** The overrides a key may see and change: all for the installation, global + own for a tenant. */
  const visible = (req: Request, o: { tenant: string }) =>
    installationAdmin(req) || o.tenant === '' || o.tenant === req.principal?.tenant;

  router.get('/api/v1/prices', admin, async (req, res) => {
    res.json({ overrides: (await listOverrides(deps.store)).filter((o) => visible(req, o)) });
  });

  router.put('/api/v1/prices', admin, json, async (req, res) => {
    let input: ReturnType<typeof parseOverride>;
    try {
      input = parseOverride(req.body);
    } catch (err) {
      if (err instanceof OverrideError) {
        res.status(400).json({ error: err.message });
        return;
      }
      throw err;
    }
    const own = req.principal!.tenant;
    if (!installationAdmin(req)) {
      if (input.tenant && input.tenant !== own) {
        res.status(403).json({ error: `this key may set prices for tenant ${own} only, not ${input.tenant}` });
        return;
      }
      // A tenant's key sets its own tenant's prices; global ones are the installation's.
      input = { ...input, tenant: own };
    }
    if (input.id) {
      const existing = (await listOverrides(deps.store)).find((o) => o.id === input.id);
      if (existing && !(installationAdmin(req) || existing.tenant === own)) {
        res.status(403).json({ error: `price override ${input.id} is not this tenant's` });
        return;
      }
    }
    const id = await putOverride(deps.store, input);
    await recordAudit(deps.store, {
      tenant: input.tenant || '*',
      action: 'price_set',
      actor: req.principal!.keyId,
      details: { id, ...input },
      token: `price-set-${id}-${Date.now()}`,
    });
    await deps.refresher.refresh();
    const stored = (await listOverrides(deps.store)).find((o) => o.id === id);
    res.json({ override: stored });
  });

  router.delete('/api/v1/prices/:id', admin, async (req, res) => {
    const id = String(req.params.id);
    const existing = (await listOverrides(deps.store)).find((o) => o.id === id);
    if (!existing || !visible(req, existing)) {
      res.status(404).json({ error: `no price override with id ${JSON.stringify(id)}` });
      return;
    }
    if (!installationAdmin(req) && existing.tenant !== req.principal!.tenant) {
      res.status(403).json({ error: 'a global price override can be removed by the installation admin key only' });
      return;
    }
    await putOverride(deps.store, existing, { deleted: true });
    await recordAudit(deps.store, {
      tenant: existing.tenant || '*',
      action: 'price_delete',
      actor: req.principal!.keyId,
      details: { id },
      token: `price-delete-${id}-${Date.now()}`,
    });
    await deps.refresher.refresh();
    res.json({ deleted: id });
  });

  router.post('/api/v1/reprice', admin, json, async (req, res) => {
    const b = (req.body ?? {}) as { from?: unknown; to?: unknown; model?: unknown };
    const from = typeof b.from === 'string' ? new Date(b.from) : undefined;
    const to = typeof b.to === 'string' ? new Date(b.to) : undefined;
    if (!from || Number.isNaN(from.getTime()) || !to || Number.isNaN(to.getTime())) {
      res.status(400).json({
        error: 'from and to must be ISO dates or timestamps (UTC), e.g. {"from":"2026-11-01","to":"2026-11-02"}',
      });
      return;
    }
    if (b.model !== undefined && (typeof b.model !== 'string' || b.model === '')) {
      res.status(400).json({ error: 'model must be a model name' });
      return;
    }
    // The overrides this replica holds may be up to one refresh interval old.
    await deps.refresher.refresh();
    await streamJob(
      res,
      deps.log,
      (progress) =>
        reprice(deps.store, {
          from,
          to,
          model: b.model as string | undefined,
          tenant: req.principal!.tenant,
          actor: req.principal!.keyId,
          overrides: deps.pricer.getOverrides(),
          bounds: deps.pricer.bounds,
          ttlDays: deps.ttlDays,
          onProgress: progress,
        }),
      (err) => (err instanceof RepriceError ? { status: 400, message: err.message } : undefined),
    );
  });
  return router;
}
