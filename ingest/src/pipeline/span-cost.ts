import { parseUsd } from '@tokenmeter/instrumentation/prices';

/**
 * How far a cost that arrives on a span is believed (TOKENMETER_SPAN_COST_FACTOR,
 * TOKENMETER_MAX_CALL_COST_USD). Every cost stored is at most `maxCallUsd`, so a sum over n
 * calls is at most n × maxCallUsd: with the cap bounded at 1e9, Decimal(38, 12) (up to 1e26)
 * holds the sum of 1e17 calls and no rollup or budget sum can wrap.
 */
export interface CostBounds {
  /** A claim is plausible within [catalogue / factor, catalogue × factor]. */
  factor: number;
  /** No one call costs more than this (USD decimal); a claim above it is refused, a price above it rejects the span. */
  maxCallUsd: string;
}

export const DEFAULT_COST_BOUNDS: CostBounds = { factor: 10, maxCallUsd: '1000' };

export type CostRefusal = 'not_a_decimal' | 'above_cap' | 'outside_range';

/** A USD amount as stored: digits, at most 12 decimals (Decimal(38, 12)). */
const USD = /^\d{1,26}(\.\d{1,12})?$/;
/** Rounding slack: a claim within a millionth of a dollar of the range is in it. */
const SLACK = 1_000_000n;

/**
 * Why a cost the span claims is not believed, or undefined when it is. `catalogueUsd` is what
 * tokenmeter charges for the same call, null when it cannot price it (then only the cap applies).
 */
export function judgeSpanCost(claim: string, catalogueUsd: string | null, bounds: CostBounds): CostRefusal | undefined {
  if (!USD.test(claim)) return 'not_a_decimal';
  const usd = parseUsd(claim);
  if (usd > capOf(bounds).scaled) return 'above_cap';
  if (catalogueUsd === null) return undefined;
  const price = parseUsd(catalogueUsd);
  const factor = BigInt(bounds.factor);
  if (usd > price * factor + SLACK || usd * factor + SLACK < price) return 'outside_range';
  return undefined;
}

/** Whether a stored amount is above the per-call cap. */
export function exceedsCap(usd: string, bounds: CostBounds): boolean {
  const cap = capOf(bounds);
  // Twice a call (its cost, its cache savings): an amount of fewer whole digits than the cap
  // (no sign, no space, ≤ 12 decimals: what parseUsd reads as it is) is below it, unparsed.
  if (fewerWholeDigits(usd, cap.wholeDigits)) return false;
  return parseUsd(usd) > cap.scaled;
}

interface Cap {
  scaled: bigint;
  wholeDigits: number;
  /** The maxCallUsd it was parsed from (bounds are plain objects: a changed one is parsed again). */
  source: string;
}
const caps = new WeakMap<CostBounds, Cap>();
/** The cap parsed once per bounds object (they are made once, at start). */
function capOf(bounds: CostBounds): Cap {
  let cap = caps.get(bounds);
  if (cap?.source !== bounds.maxCallUsd) {
    const scaled = parseUsd(bounds.maxCallUsd);
    const whole = (scaled / 10n ** 12n).toString();
    cap = { scaled, wholeDigits: scaled < 10n ** 12n ? 0 : whole.length, source: bounds.maxCallUsd };
    caps.set(bounds, cap);
  }
  return cap;
}

/** `usd` is digits with at most one '.' followed by 1–12 digits, and fewer than `digits` before it. */
function fewerWholeDigits(usd: string, digits: number): boolean {
  const n = usd.length;
  let i = 0;
  while (i < n) {
    const c = usd.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i === 0 || i >= digits) return false;
  if (i === n) return true;
  if (usd.charCodeAt(i) !== 46 || n - i - 1 < 1 || n - i - 1 > 12) return false;
  for (let j = i + 1; j < n; j++) {
    const c = usd.charCodeAt(j);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * What is kept of a refused claim (as `tokenmeter.cost.claimed_usd`): its first 64 characters,
 * cut between code points. A cut inside a surrogate pair would store a lone surrogate, and
 * ClickHouse refuses the whole row.
 */
export function claimExcerpt(claim: string, max = 64): string {
  return claim.length <= max ? claim : Array.from(claim).slice(0, max).join('');
}
