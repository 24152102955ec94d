import { Router } from 'express';
import { type KeyResolver, requireRole } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/client.js';
import { ForgetError, forgetUser } from './forget.js';
import { jsonBody } from '../http/errors.js';

/** POST /api/v1/users/forget {"user_id": "…"} (admin): erase one user's rows, in the key's tenant. */
export function retentionRouter(deps: { store: Store; keys: KeyResolver; metrics: Metrics }): Router {
  const router = Router();
  router.post(
    '/api/v1/users/forget',
    requireRole('admin', deps.keys, deps.metrics),
    jsonBody('8kb'),
    async (req, res) => {
      const userId = (req.body as { user_id?: unknown } | undefined)?.user_id;
      if (typeof userId !== 'string' || userId === '') {
        res.status(400).json({ error: 'body must be {"user_id": "<the user id as stored>"}' });
        return;
      }
      try {
        const result = await forgetUser(deps.store, {
          userId,
          tenant: req.principal!.tenant,
          actor: req.principal!.keyId,
        });
        res.json(result);
      } catch (err) {
        if (err instanceof ForgetError) {
          res.status(400).json({ error: err.message });
          return;
        }
        throw err;
      }
    },
  );
  return router;
}
