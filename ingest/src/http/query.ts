import { Router } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { readOnlySettings, type Store } from '../store/client.js';
import { type KeyResolver, requireOperator, requireRole } from './auth.js';
import { jsonBody } from './errors.js';

export const QUERY_LIMITS = { maxExecutionSeconds: 30, maxMemoryBytes: 2 * 1024 ** 3, maxResultRows: 100_000 };

/**
 * POST /api/v1/query {"sql": "..."}: read-only SQL for operators and checks (admin only).
 * Embedded chdb cannot be opened by a second process, so `tokenmeter query` comes here.
 * Runs on the reader connection with readonly = 2 and limits: writes and DDL fail.
 */
export function queryRouter(deps: { store: Store; keys: KeyResolver; metrics: Metrics; log: Logger }): Router {
  const router = Router();
  router.post(
    '/api/v1/query',
    requireRole('admin', deps.keys, deps.metrics),
    // Raw SQL sees every tenant: a tenant's admin key may not use it.
    requireOperator(deps.metrics),
    jsonBody('256kb'),
    async (req, res) => {
      const sql = (req.body as { sql?: unknown } | undefined)?.sql;
      if (typeof sql !== 'string' || sql.trim() === '') {
        res.status(400).json({ error: 'body must be {"sql": "<a read-only query>"}' });
        return;
      }
      try {
        const rs = await deps.store.reader.query({
          query: sql,
          format: 'JSON',
          clickhouse_settings: readOnlySettings(QUERY_LIMITS),
        });
        res.json(await rs.json());
      } catch (err) {
        const message = (err as Error).message;
        deps.log.info({ err: message }, 'query refused');
        res.status(400).json({ error: message });
      }
    },
  );
  return router;
}
