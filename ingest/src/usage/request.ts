import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

/** A client error with its status: the handler answers `{error}` with it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The tenant a request reads or writes: the key's own tenant, or for the bootstrap admin
 * (tenant '*') the `tenant` query parameter, which it must then give.
 */
export function tenantOf(req: Request): string {
  const p = req.principal;
  if (!p) throw new HttpError(401, 'no principal');
  if (p.tenant !== '*') return p.tenant;
  const t = req.query.tenant;
  if (typeof t !== 'string' || t === '') throw new HttpError(400, 'an admin key for all tenants must pass ?tenant=');
  return t;
}

/** True when the response must leave out every dollar amount: a `user` key, or `view=user`. */
export function isUserView(req: Request): boolean {
  return req.principal?.role === 'user' || req.query.view === 'user';
}

export function queryString(req: Request, name: string, opts: { max?: number } = {}): string {
  const v = req.query[name];
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new HttpError(400, `${name} must be given once, as a string`);
  if (v.length > (opts.max ?? 256)) throw new HttpError(400, `${name} is longer than ${opts.max ?? 256} characters`);
  return v;
}

export function queryEnum<T extends string>(req: Request, name: string, allowed: readonly T[], fallback: T): T {
  const v = queryString(req, name);
  if (v === '') return fallback;
  if (!allowed.includes(v as T)) throw new HttpError(400, `${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

/** Query parameters `property.<name>=<value>` filter by a custom property; `group_by=property.<name>` groups. */
export const PROPERTY_PARAM = 'property.';
/** At most this many property filters in one request (the ingest keeps at most 256 per call). */
const MAX_PROPERTY_FILTERS = 16;

/** A custom property name from a request: the ingest's own rule (letters, digits, `_.-`, 1–256). */
export function propertyName(name: string, param: string): string {
  if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name)) {
    throw new HttpError(
      400,
      `${param}: a property name is 1 to 256 letters, digits, '_', '.' or '-', got '${name.slice(0, 80)}'`,
    );
  }
  return name;
}

/** The `property.<name>=<value>` filters of a request (an empty value is "any", as for the other filters). */
export function propertyFilters(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(req.query)) {
    if (!key.startsWith(PROPERTY_PARAM)) continue;
    const name = propertyName(key.slice(PROPERTY_PARAM.length), key.slice(0, 80));
    const value = queryString(req, key, { max: 4096 });
    if (value !== '') out[name] = value;
  }
  if (Object.keys(out).length > MAX_PROPERTY_FILTERS) {
    throw new HttpError(400, `at most ${MAX_PROPERTY_FILTERS} property filters in one request`);
  }
  return out;
}

/**
 * The dates the API takes: what every ClickHouse date type the queries bind can hold
 * (Date and DateTime start in 1970; DateTime ends in February 2106), so a date outside is
 * a 400 here and never a failed query.
 */
export const API_DATES = { from: '1970-01-01', to: '2105-12-31' } as const;

function checkRange(name: string, v: string, d: Date): Date {
  if (
    d.getTime() < Date.parse(`${API_DATES.from}T00:00:00Z`) ||
    d.getTime() > Date.parse(`${API_DATES.to}T23:59:59.999Z`)
  ) {
    throw new HttpError(400, `${name} must be from ${API_DATES.from} to ${API_DATES.to}, got '${v.slice(0, 40)}'`);
  }
  return d;
}

/** A 'YYYY-MM-DD' date parameter (UTC day), or undefined. */
export function queryDay(req: Request, name: string): Date | undefined {
  const v = queryString(req, name);
  if (v === '') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) {
    throw new HttpError(400, `${name} must be a date as YYYY-MM-DD, got '${v.slice(0, 40)}'`);
  }
  return checkRange(name, v, d);
}

/** A timestamp parameter: an ISO 8601 date or date-time (UTC when no offset), or undefined. */
export function queryInstant(req: Request, name: string): Date | undefined {
  const v = queryString(req, name);
  if (v === '') return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v}Z`;
  const d = new Date(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) {
    throw new HttpError(400, `${name} must be an ISO 8601 date or date-time, got '${v.slice(0, 40)}'`);
  }
  return checkRange(name, v, d);
}

/** Wrap an async handler: HttpError → its status; anything else → logged, 500. */
export function handle(log: Logger, fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, _next: NextFunction) => {
    fn(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) {
        if (!res.headersSent) res.status(err.status).json({ error: err.message });
        else res.destroy(err);
        return;
      }
      log.error({ err: (err as Error).message, path: req.path }, 'request failed');
      if (!res.headersSent) res.status(500).json({ error: 'internal error' });
      else res.destroy(err as Error);
    });
  };
}
