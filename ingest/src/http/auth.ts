import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../metrics.js';

export type Role = 'ingest' | 'read' | 'user' | 'admin';

/** Who is calling: resolved from the Bearer key, never from the payload. */
export interface Principal {
  keyId: string;
  role: Role;
  /** The tenant the key is bound to; '*' for the bootstrap admin key. */
  tenant: string;
}

/** Resolves a presented secret to its principal (the bootstrap key, then stored keys). */
export interface KeyResolver {
  resolve(secret: string): Promise<Principal | undefined>;
  /** The per-key rate limit: 0 when the request may go, else seconds to wait (→ 429 + Retry-After). */
  admit?(principal: Principal): number;
}

/** What each role may do. `user` reads usage without money (view=user). */
const ALLOWED: Record<Role, readonly Role[]> = {
  ingest: ['ingest', 'admin'],
  read: ['read', 'admin'],
  user: ['user', 'read', 'admin'],
  admin: ['admin'],
};

export function sha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The bootstrap admin key from TOKENMETER_ADMIN_KEY, compared in constant time. */
export function adminKeyResolver(adminKey: string | undefined, next?: KeyResolver): KeyResolver {
  const expected = adminKey ? Buffer.from(sha256(adminKey), 'hex') : undefined;
  return {
    async resolve(secret) {
      if (expected && timingSafeEqual(Buffer.from(sha256(secret), 'hex'), expected)) {
        return { keyId: 'bootstrap-admin', role: 'admin', tenant: '*' };
      }
      return next?.resolve(secret);
    },
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Require a Bearer key whose role allows `need`. 401 without a valid key, 403 for a role that may not. */
export function requireRole(need: Role, keys: KeyResolver, metrics: Metrics) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) {
      metrics.authFailures.inc({ reason: 'missing_key' });
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'missing Authorization: Bearer <key>' });
      return;
    }
    let principal: Principal | undefined;
    try {
      principal = await keys.resolve(m[1]!);
    } catch {
      // The key table cannot be read (ClickHouse down at start): a retryable answer, not a 401.
      metrics.authFailures.inc({ reason: 'key_store_unavailable' });
      res.status(503).set('Retry-After', '5').json({ error: 'keys cannot be checked now, retry later' });
      return;
    }
    if (!principal) {
      metrics.authFailures.inc({ reason: 'wrong_key' });
      res.status(401).set('WWW-Authenticate', 'Bearer error="invalid_token"').json({ error: 'unknown or revoked key' });
      return;
    }
    if (!ALLOWED[need].includes(principal.role)) {
      metrics.authFailures.inc({ reason: 'forbidden_role' });
      res.status(403).json({ error: `a ${principal.role} key may not do this (needs ${need})` });
      return;
    }
    const wait = keys.admit?.(principal) ?? 0;
    if (wait > 0) {
      metrics.rateLimited.inc();
      res.status(429).set('Retry-After', String(wait)).json({ error: 'rate limit of this key exceeded, retry later' });
      return;
    }
    req.principal = principal;
    next();
  };
}

/**
 * After requireRole: only an operator key (tenant '*': the bootstrap key, or a key it
 * made for all tenants) may go on. For what spans every tenant at once: raw SQL, metrics.
 */
export function requireOperator(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.principal?.tenant !== '*') {
      metrics.authFailures.inc({ reason: 'not_operator' });
      res.status(403).json({ error: 'this needs an operator key (all tenants); a tenant key may not' });
      return;
    }
    next();
  };
}

/** Resolve keys with `inner`, and rate-limit each key with `limiter`. */
export function limitedResolver(inner: KeyResolver, limiter: { admit(keyId: string): number }): KeyResolver {
  return {
    resolve: (secret) => inner.resolve(secret),
    admit: (principal) => limiter.admit(principal.keyId),
  };
}
