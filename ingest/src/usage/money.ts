/**
 * The end-user view carries no dollar amount: only requests, tokens, percentages and uses.
 * Views for it are built without money; this is the safety net applied to every one of them
 * (and what the tests scan for).
 */
const MONEY_KEY = /usd|cost|spend|price|amount|saving|limit/i;

export function withoutMoney<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => withoutMoney(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!MONEY_KEY.test(k)) out[k] = withoutMoney(v);
    return out as T;
  }
  if (typeof value === 'string' && value.includes('$')) return value.replace(/\$/g, '') as T;
  return value;
}

/** Every key path of `value` that names money, and every string with a `$` (empty = clean). */
export function moneyFound(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => moneyFound(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      ...(MONEY_KEY.test(k) ? [`${path}.${k}`] : []),
      ...moneyFound(v, `${path}.${k}`),
    ]);
  }
  return typeof value === 'string' && value.includes('$') ? [`${path}=${value}`] : [];
}
