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
  if (usd > parseUsd(bounds.maxCallUsd)) return 'above_cap';
  if (catalogueUsd === null) return undefined;
  const price = parseUsd(catalogueUsd);
  const factor = BigInt(bounds.factor);
  if (usd > price * factor + SLACK || usd * factor + SLACK < price) return 'outside_range';
  return undefined;
}

/** Whether a stored amount is above the per-call cap. */
export function exceedsCap(usd: string, bounds: CostBounds): boolean {
  return parseUsd(usd) > parseUsd(bounds.maxCallUsd);
}

/**
 * What is kept of a refused claim (as `tokenmeter.cost.claimed_usd`): its first 64 characters,
 * cut between code points. A cut inside a surrogate pair would store a lone surrogate, and
 * ClickHouse refuses the whole row.
 */
export function claimExcerpt(claim: string, max = 64): string {
  return claim.length <= max ? claim : Array.from(claim).slice(0, max).join('');
}
