import { Router } from 'express';
import type { Logger } from 'pino';
import { type KeyResolver, type Role, requireRole } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import { type KeyStore, ROLES, TENANT_PATTERN } from './store.js';
import { jsonBody } from '../http/errors.js';

/**
 * /api/v1/keys: create, list and revoke API keys (admin keys). A tenant's admin
 * manages its own tenant's keys only; the bootstrap key manages every tenant's and
 * alone may make operator keys (tenant '*').
 */
export function keysRouter(deps: { keyStore: KeyStore; keys: KeyResolver; metrics: Metrics; log: Logger }): Router {
  const router = Router();
  const admin = requireRole('admin', deps.keys, deps.metrics);

  router.post('/api/v1/keys', admin, jsonBody('16kb'), async (req, res) => {
    const body = (req.body ?? {}) as { tenant?: unknown; role?: unknown; name?: unknown };
    const caller = req.principal!;
    const tenant = body.tenant === undefined && caller.tenant !== '*' ? caller.tenant : body.tenant;
    if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) {
      res.status(400).json({ error: 'tenant must be 1-64 characters of A-Z a-z 0-9 _ . -' });
      return;
    }
    if (caller.tenant !== '*' && tenant !== caller.tenant) {
      res.status(403).json({ error: `a key of tenant ${caller.tenant} may only create keys for its own tenant` });
      return;
    }
    if (typeof body.role !== 'string' || !ROLES.includes(body.role as Role)) {
      res.status(400).json({ error: `role must be one of ${ROLES.join(', ')}` });
      return;
    }
    const name = body.name === undefined ? '' : body.name;
    if (typeof name !== 'string' || name.length > 200) {
      res.status(400).json({ error: 'name must be a string of at most 200 characters' });
      return;
    }
    const created = await deps.keyStore.create({ tenant, role: body.role as Role, name }, caller.keyId);
    deps.log.info({ keyId: created.id, tenant, role: created.role, actor: caller.keyId }, 'API key created');
    res.status(201).json(created);
  });

  router.get('/api/v1/keys', admin, async (req, res) => {
    const caller = req.principal!;
    const asked = typeof req.query.tenant === 'string' ? req.query.tenant : undefined;
    if (asked !== undefined && caller.tenant !== '*' && asked !== caller.tenant) {
      res.status(403).json({ error: 'a tenant key may only list its own tenant' });
      return;
    }
    const keys = await deps.keyStore.list(asked ?? caller.tenant);
    res.json({ keys: asked !== undefined && asked !== '*' ? keys.filter((k) => k.tenant === asked) : keys });
  });

  router.delete('/api/v1/keys/:id', admin, async (req, res) => {
    const caller = req.principal!;
    const id = String(req.params.id);
    if (!/^key_[0-9a-f]{16}$/.test(id)) {
      res.status(404).json({ error: 'no such key' });
      return;
    }
    const revoked = await deps.keyStore.revoke(id, caller.tenant, caller.keyId);
    if (!revoked) {
      res.status(404).json({ error: 'no such live key' });
      return;
    }
    deps.log.info({ keyId: id, actor: caller.keyId }, 'API key revoked');
    res.json({ id, revoked: true });
  });
  return router;
}
