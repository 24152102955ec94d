import type { Provider, Usage as CatalogueUsage } from '@pydantic/genai-prices';
import { calcPrice } from './catalogue.js';

/**
 * A fast path for the catalogue. `calcPrice` costs ~10 µs a call (it re-derives its unit graph
 * each time), too much for the span path. For a model whose price is flat (one plain price,
 * no tiers, no date or time-of-day constraints) cost is linear in the token counts, so the
 * per-token rates are read once from the catalogue itself (probing it with 1M tokens of each
 * kind) and later calls are an integer dot product, exact at 12 decimals. Each model's first
 * calls are checked against the catalogue; any difference switches that model back to it.
 */

/** Usage keys in a fixed order; each probe says which keys carry 1M tokens. */
const KEYS = [
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'cache_write_1h_tokens',
  'input_audio_tokens',
  'output_audio_tokens',
  'cache_audio_read_tokens',
] as const;
type Key = (typeof KEYS)[number];
const M = 1_000_000;

/** For key k: the probe with k, and the base probe whose cost it is added to. */
const PROBES: Record<Key, [Partial<Record<Key, number>>, Partial<Record<Key, number>>]> = {
  input_tokens: [{ input_tokens: M }, {}],
  output_tokens: [{ output_tokens: M }, {}],
  cache_read_tokens: [{ input_tokens: M, cache_read_tokens: M }, { input_tokens: M }],
  cache_write_tokens: [{ input_tokens: M, cache_write_tokens: M }, { input_tokens: M }],
  cache_write_1h_tokens: [
    { input_tokens: M, cache_write_tokens: M, cache_write_1h_tokens: M },
    { input_tokens: M, cache_write_tokens: M },
  ],
  input_audio_tokens: [{ input_tokens: M, input_audio_tokens: M }, { input_tokens: M }],
  output_audio_tokens: [{ output_tokens: M, output_audio_tokens: M }, { output_tokens: M }],
  cache_audio_read_tokens: [
    { input_tokens: M, cache_read_tokens: M, input_audio_tokens: M, cache_audio_read_tokens: M },
    { input_tokens: M, cache_read_tokens: M, input_audio_tokens: M },
  ],
};

export interface LinearPrice {
  /** Cost of one token of each kind in 1e-12 USD (an integer: prices have ≤ 6 decimals per 1M). */
  rates: number[];
  /** Calls still to be checked against the catalogue. */
  checks: number;
  /**
   * A tiered price (a higher rate from some number of tokens on, e.g. Gemini's above 200k input
   * tokens): its base rates hold only while every count of the call together stays below the
   * lowest tier's start; a larger call goes to the catalogue. Infinity for a flat price.
   */
  below: number;
}

const CHECKS = 3;

/** A tiered rate as the catalogue keeps it: `base`, and `tiers` from `start` tokens on. */
interface Tiered {
  base: number;
  tiers: { start: number; price: number }[];
}

function isTiered(v: unknown): v is Tiered {
  const t = v as Tiered;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof t.base === 'number' &&
    Array.isArray(t.tiers) &&
    t.tiers.every((x) => typeof x?.start === 'number' && x.start > 0)
  );
}

/**
 * Rates for a model whose price is flat, or tiered by token count (its base rates, used below the
 * lowest tier); null when its price is anything else (date or time-of-day constraints).
 */
export function linearPriceOf(provider: Provider, model: string): LinearPrice | null {
  const info = provider.models[0];
  if (!info || Array.isArray(info.prices)) return null;
  let below = Infinity;
  for (const v of Object.values(info.prices)) {
    if (v === undefined || typeof v === 'number') continue;
    if (!isTiered(v)) return null;
    for (const t of v.tiers) below = Math.min(below, t.start);
  }
  // Below a tier the probes must stay below it too: four kinds of 1,000 tokens at most.
  const n = below === Infinity ? M : 1000;
  if (below <= 8 * n) return null;
  const cost = (u: Partial<Record<Key, number>>) => {
    if (Object.keys(u).length === 0) return 0;
    const scaled: Partial<Record<Key, number>> = {};
    for (const [k, v] of Object.entries(u)) scaled[k as Key] = n === M ? v : (v / M) * n;
    const r = calcPrice(scaled as CatalogueUsage, model, { provider });
    if (!r) throw new Error('no price');
    return r.total_price;
  };
  try {
    const rates = KEYS.map((k) => {
      const [probe, base] = PROBES[k];
      // USD per n tokens × 10^12 / n = 1e-12 USD per token.
      return Math.round(((cost(probe) - cost(base)) * 1e12) / n);
    });
    // A cache or audio token's rate is its price minus the input price it replaces: it may be negative.
    if (rates.some((r) => !Number.isSafeInteger(r))) return null;
    return { rates, checks: CHECKS, below };
  } catch {
    return null;
  }
}

/** Cost in 1e-12 USD (a safe integer), or undefined if it could exceed exact integer range. */
export function linearCost(p: LinearPrice, u: CatalogueUsage): number | undefined {
  const r = p.rates as [number, number, number, number, number, number, number, number];
  // Named reads in KEYS' order (one shape each; a keyed loop costs more than the sums).
  let total = (u.input_tokens ?? 0) * r[0] + (u.output_tokens ?? 0) * r[1];
  if (u.cache_read_tokens) total += u.cache_read_tokens * r[2];
  if (u.cache_write_tokens) total += u.cache_write_tokens * r[3];
  if (u.cache_write_1h_tokens) total += u.cache_write_1h_tokens * r[4];
  if (u.input_audio_tokens) total += u.input_audio_tokens * r[5];
  if (u.output_audio_tokens) total += u.output_audio_tokens * r[6];
  if (u.cache_audio_read_tokens) total += u.cache_audio_read_tokens * r[7];
  if (p.below !== Infinity && tokensOf(u) >= p.below) return undefined;
  return Number.isSafeInteger(total) && total >= 0 ? total : undefined;
}

/** Every count of a call added up: at least what any tier is measured on. */
function tokensOf(u: CatalogueUsage): number {
  // Named reads, as in linearCost.
  return (
    (u.input_tokens ?? 0) +
    (u.output_tokens ?? 0) +
    (u.cache_read_tokens ?? 0) +
    (u.cache_write_tokens ?? 0) +
    (u.cache_write_1h_tokens ?? 0) +
    (u.input_audio_tokens ?? 0) +
    (u.output_audio_tokens ?? 0) +
    (u.cache_audio_read_tokens ?? 0)
  );
}
