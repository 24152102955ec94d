/** The service's API as the page uses it: the key from sign-in as a Bearer token. */

const KEY = 'tokenmeter.key';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}

/** Called on a 401: the key is wrong or revoked, back to the sign-in page. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

/**
 * One API request. Writes (`method` with a JSON `body`) go to the very endpoints the CLI uses,
 * so the service's own role and tenant checks apply; the page adds none of its own.
 */
export async function api<T>(
  path: string,
  opts: { key?: string; signal?: AbortSignal; method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; body?: unknown } = {},
): Promise<T> {
  const key = opts.key ?? storedKey() ?? '';
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    headers: {
      authorization: `Bearer ${key}`,
      accept: 'application/json',
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) {
    if (res.status === 401 && opts.key === undefined) onUnauthorized();
    throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  }
  return body;
}

/** A streamed answer of JSON lines, each yielded as soon as it has arrived. */
export async function* ndjson(path: string, signal: AbortSignal): AsyncGenerator<unknown> {
  const res = await fetch(path, {
    headers: {
      authorization: `Bearer ${storedKey() ?? ''}`,
      accept: 'application/x-ndjson',
    },
    signal,
  });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += value;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) yield JSON.parse(line);
      nl = buffer.indexOf('\n');
    }
    if (done) break;
  }
  if (buffer.trim()) yield JSON.parse(buffer);
}

export interface Session {
  keyId: string;
  role: 'ingest' | 'read' | 'user' | 'admin';
  tenant: string;
  money: boolean;
  budgets: boolean;
  /** What this key may change or see beyond dashboards: the page shows no control a key cannot use. */
  can: {
    /** Create, edit and delete budgets (admin). */
    editBudgets: boolean;
    /** Create and revoke API keys (admin; of its own tenant unless an operator key). */
    manageKeys: boolean;
    /** Set and end price overrides (the installation's admin key: overrides apply to every tenant). */
    managePrices: boolean;
    /** Read savings advice (read and admin). */
    advice: boolean;
  };
}

export interface Field {
  name: string;
  type: 'number' | 'time' | 'string';
  values: (number | string | null)[];
}

export interface Frame {
  fields: Field[];
  rows: number;
}

export interface PanelView {
  id: number;
  type: string;
  title: string;
  description: string;
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig: {
    unit?: string;
    decimals?: number;
    max?: number;
    overrides: Record<string, { unit?: string; decimals?: number }>;
    custom: { stacking?: string; drawStyle?: string; fillOpacity?: number };
  };
  reduce: { calc: string; values: boolean };
  format: number;
}

export interface DashboardView {
  uid: string;
  title: string;
  description: string;
  time: { from: string; to: string };
  refresh: string;
  variables: {
    name: string;
    label: string;
    includeAll: boolean;
    multi: boolean;
  }[];
  rows: { title: string; y: number }[];
  panels: PanelView[];
}

export function query(params: Record<string, string | string[] | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
