import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import { contextWithUsage } from './core/usage-context.js';
import { recordFault } from './core/faults.js';
import type { UsageContext, UsageContextKey } from './types.js';

/**
 * Express (or any connect-style) middleware: takes the usage context from each request, so
 * every AI call made while handling it is attributed. No runtime dependency on express: the
 * request is typed structurally (express's Request is an IncomingMessage).
 */
export type RequestLike = IncomingMessage & { user?: { id?: unknown; tenant?: unknown; team?: unknown } };
type Pick = (req: RequestLike) => string | undefined;

export interface UsageMiddlewareOptions {
  tenant?: Pick;
  userId?: Pick;
  team?: Pick;
  feature?: Pick;
  sessionId?: Pick;
  requestId?: Pick;
  /** Custom properties of the request (for instance `{ plan: req.user.plan }`); none by default. */
  properties?: (req: RequestLike) => UsageContext['properties'] | undefined;
}

const header =
  (name: string): Pick =>
  (req) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

/** Defaults: `x-tenant-id`, `req.user.id` or `x-user-id`, `x-team`, `x-feature`, `x-session-id`, `x-request-id`. */
export const DEFAULT_PICKS: Required<Omit<UsageMiddlewareOptions, 'properties'>> = {
  tenant: (req) => str(req.user?.tenant) ?? header('x-tenant-id')(req),
  userId: (req) => str(req.user?.id) ?? header('x-user-id')(req),
  team: (req) => str(req.user?.team) ?? header('x-team')(req),
  feature: header('x-feature'),
  sessionId: header('x-session-id'),
  requestId: header('x-request-id'),
};

export function usageContextMiddleware(options: UsageMiddlewareOptions = {}) {
  const { properties, ...own } = options;
  const picks = { ...DEFAULT_PICKS, ...own };
  const keys = Object.keys(picks) as UsageContextKey[];
  return function tokenmeterUsageContext(req: RequestLike, _res: ServerResponse, next: (err?: unknown) => void): void {
    let ctx: ReturnType<typeof context.active> | undefined;
    try {
      const values: UsageContext = {};
      for (const k of keys) {
        const v = picks[k](req);
        if (v) values[k] = v;
      }
      if (properties) values.properties = properties(req);
      ctx = contextWithUsage(context.active(), values);
    } catch (err) {
      recordFault('express.middleware', err);
    }
    if (ctx) context.with(ctx, next);
    else next();
  };
}
