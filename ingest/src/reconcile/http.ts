import { BillingUnavailable } from './types.js';

export type Fetch = typeof fetch;

/** The most pages read for one day before giving up (a loop guard, far above real answers). */
const MAX_PAGES = 200;

/**
 * GET every page of a billing endpoint: follows `has_more` / `next_page` (passed back as
 * `page`), both providers' cursor convention. Any failure is BillingUnavailable.
 */
export async function getAllPages<T>(
  provider: string,
  url: URL,
  headers: Record<string, string>,
  doFetch: Fetch,
  timeoutMs = 30_000,
): Promise<T[]> {
  const pages: T[] = [];
  let page: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const u = new URL(url);
    if (page) u.searchParams.set('page', page);
    let res: Response;
    try {
      res = await doFetch(u, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new BillingUnavailable(provider, `${u.pathname}: ${(err as Error).message}`, undefined);
    }
    const text = await res.text();
    if (!res.ok) {
      throw new BillingUnavailable(provider, `${u.pathname} answered ${res.status}: ${text.slice(0, 200)}`, res.status);
    }
    let body: { has_more?: unknown; next_page?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      throw new BillingUnavailable(provider, `${u.pathname} answered with something that is not JSON`, res.status);
    }
    pages.push(body as T);
    if (body.has_more !== true) return pages;
    if (typeof body.next_page !== 'string' || !body.next_page) {
      throw new BillingUnavailable(provider, `${u.pathname}: has_more without next_page`, res.status);
    }
    page = body.next_page;
  }
  throw new BillingUnavailable(provider, `${url.pathname}: more than ${MAX_PAGES} pages`, undefined);
}

export function add<K>(map: Map<K, bigint>, key: K, v: bigint): void {
  map.set(key, (map.get(key) ?? 0n) + v);
}
