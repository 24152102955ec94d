import { ALL, type BoundSql, expandPanelSql, grafanaInterval, MacroError } from '@tokenmeter/dashboards';
import type { Principal } from '../http/auth.js';
import type { Dashboard, Panel } from './dashboards.js';

/**
 * A panel or variable query as the browser asks for it — dashboard, panel, variables,
 * time range, never SQL — checked and turned into bound SQL. Pure: nothing here runs.
 */

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** A short label for the refusals metric. */
    readonly reason: string,
  ) {
    super(message);
  }
}

export interface TimeRange {
  from: Date;
  to: Date;
}

/** The widest range a panel may ask for, and the latest "to" (clock skew of a browser). */
export const RANGE_LIMITS = { maxDays: 400, futureMs: 24 * 3600 * 1000 } as const;
export const MAX_DATA_POINTS = { min: 10, max: 5000, fallback: 1000 } as const;

/**
 * What a variable value may look like: names of tenants, services, providers, models,
 * users and features (`gpt-4o-2024-08-06`, `anthropic.claude-3-haiku-20240307-v1:0`,
 * `models/gemini-2.5-flash`, `alice@example.com`). Values are bound as parameters anyway;
 * this refuses what can only be an attempt (quotes, brackets, semicolons, comments) with a 400
 * before anything runs.
 */
const VALUE_RE = /^[\p{L}\p{N}][\p{L}\p{N} _.:@/+=#-]{0,255}$/u;
export const MAX_VALUES = 200;

type Query = Record<string, unknown>;

function one(query: Query, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new RequestError(400, `${name} must be given once`, 'bad_param');
  return v;
}

function instant(name: string, raw: string | undefined): Date {
  if (raw === undefined || raw === '')
    throw new RequestError(400, `${name} is required (epoch milliseconds)`, 'bad_range');
  if (!/^\d{10,14}$/.test(raw))
    throw new RequestError(400, `${name} must be epoch milliseconds, got '${raw.slice(0, 40)}'`, 'bad_range');
  return new Date(Number(raw));
}

export function parseRange(query: Query, now = new Date()): TimeRange {
  const from = instant('from', one(query, 'from'));
  const to = instant('to', one(query, 'to'));
  if (from.getTime() >= to.getTime()) throw new RequestError(400, 'from must be before to', 'bad_range');
  if (to.getTime() - from.getTime() > RANGE_LIMITS.maxDays * 86_400_000) {
    throw new RequestError(400, `the range may span at most ${RANGE_LIMITS.maxDays} days`, 'bad_range');
  }
  if (to.getTime() > now.getTime() + RANGE_LIMITS.futureMs)
    throw new RequestError(400, 'to is in the future', 'bad_range');
  return { from, to };
}

export function parseMaxDataPoints(query: Query): number {
  const raw = one(query, 'maxDataPoints');
  if (raw === undefined) return MAX_DATA_POINTS.fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < MAX_DATA_POINTS.min || n > MAX_DATA_POINTS.max) {
    throw new RequestError(
      400,
      `maxDataPoints must be an integer from ${MAX_DATA_POINTS.min} to ${MAX_DATA_POINTS.max}`,
      'bad_param',
    );
  }
  return n;
}

/**
 * The dashboard's variables from `var-<name>` parameters (Grafana's URL form; repeated for
 * several values; absent means "All"). A tenant-bound key's tenant is forced.
 */
export function parseVariables(query: Query, dash: Dashboard, who: Principal): Record<string, string | string[]> {
  const known = new Set(dash.variables.map((v) => v.name));
  const out: Record<string, string | string[]> = {};
  for (const [key, raw] of Object.entries(query)) {
    if (!key.startsWith('var-')) continue;
    const name = key.slice(4);
    if (!known.has(name))
      throw new RequestError(400, `dashboard ${dash.uid} has no variable '${name.slice(0, 40)}'`, 'unknown_variable');
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.length === 0 || values.length > MAX_VALUES) {
      throw new RequestError(400, `variable ${name} takes 1 to ${MAX_VALUES} values`, 'bad_variable');
    }
    for (const v of values) {
      if (typeof v !== 'string' || !VALUE_RE.test(v)) {
        throw new RequestError(
          400,
          `a value of variable ${name} is not a plain name (letters, digits, space and _ . : @ / + = # -, at most 256)`,
          'bad_variable',
        );
      }
    }
    out[name] = values as string[];
  }
  for (const v of dash.variables) out[v.name] ??= [ALL];
  if (who.tenant !== '*' && known.has('tenant')) {
    const asked = out.tenant as string[];
    if (!(asked.length === 1 && (asked[0] === ALL || asked[0] === who.tenant))) {
      throw new RequestError(403, `a key of tenant ${who.tenant} sees only tenant ${who.tenant}`, 'other_tenant');
    }
    out.tenant = [who.tenant];
  }
  return out;
}

function bind(
  sql: string,
  range: TimeRange,
  maxDataPoints: number,
  variables: Record<string, string | string[]>,
): BoundSql {
  try {
    return expandPanelSql(sql, {
      from: range.from,
      to: range.to,
      intervalSeconds: grafanaInterval(range.from, range.to, maxDataPoints),
      variables,
    });
  } catch (err) {
    if (err instanceof MacroError) throw new RequestError(400, err.message, 'macro');
    throw err;
  }
}

export function panelSql(
  panel: Panel,
  range: TimeRange,
  maxDataPoints: number,
  variables: Record<string, string | string[]>,
): BoundSql {
  return bind(panel.rawSql, range, maxDataPoints, variables);
}

/** A variable's option query, with the variables it depends on bound (itself as "All"). */
export function variableSql(
  dash: Dashboard,
  name: string,
  range: TimeRange,
  variables: Record<string, string | string[]>,
): BoundSql {
  const v = dash.variables.find((x) => x.name === name);
  if (!v)
    throw new RequestError(404, `dashboard ${dash.uid} has no variable '${name.slice(0, 40)}'`, 'unknown_variable');
  return bind(v.rawSql, range, MAX_DATA_POINTS.fallback, { ...variables, [name]: [ALL] });
}
