/** The page's address: `#/<page>/<args>?<params>`, Grafana-style params (from, to, var-x, refresh). */

export interface Route {
  page: string;
  args: string[];
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = hash.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return {
    page: parts[0] ?? '',
    args: parts.slice(1),
    params: new URLSearchParams(search),
  };
}

export function href(page: string, args: string[] = [], params?: URLSearchParams): string {
  const path = [page, ...args.map(encodeURIComponent)].join('/');
  const q = params?.toString();
  return `#/${path}${q ? `?${q}` : ''}`;
}

export function go(page: string, args: string[] = [], params?: URLSearchParams, replace = false): void {
  const next = href(page, args, params);
  if (replace) history.replaceState(null, '', next);
  else location.hash = next;
}

/** Quick ranges offered by the picker, as Grafana writes them. */
export const QUICK_RANGES = [
  { from: 'now-1h', label: 'Last 1 hour' },
  { from: 'now-24h', label: 'Last 24 hours' },
  { from: 'now-7d', label: 'Last 7 days' },
  { from: 'now-30d', label: 'Last 30 days' },
  { from: 'now-90d', label: 'Last 90 days' },
] as const;

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** 'now', 'now-7d', or epoch milliseconds → epoch milliseconds. */
export function resolveTime(text: string, now = Date.now()): number {
  if (/^\d{10,14}$/.test(text)) return Number(text);
  const m = /^now(?:-(\d+)([smhdw]))?$/.exec(text);
  if (!m) return now;
  return m[1] ? now - Number(m[1]) * (UNIT_MS[m[2] as string] as number) : now;
}

export function rangeLabel(from: string, to: string): string {
  // A quick range is already named by the picker.
  if (QUICK_RANGES.some((r) => r.from === from && to === 'now')) return '';
  const f = new Date(resolveTime(from)).toISOString().slice(0, 16).replace('T', ' ');
  const t = new Date(resolveTime(to)).toISOString().slice(0, 16).replace('T', ' ');
  return `${f} to ${t} UTC`;
}

/** Auto-refresh choices; '' is off. */
export const REFRESH = ['', '30s', '1m', '5m', '15m', '1h'] as const;

export function refreshMs(text: string): number {
  const m = /^(\d+)([smh])$/.exec(text);
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : 0;
}
