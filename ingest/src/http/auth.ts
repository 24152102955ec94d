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
    const principal = await keys.resolve(m[1]!);
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
    req.principal = principal;
    next();
  };
}
