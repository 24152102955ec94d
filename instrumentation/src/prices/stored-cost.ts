import { priceCall } from './engine.js';
import type { PriceOverride, PriceRequest } from './types.js';

/** A cost the span already carried (the instrumentation priced the call). */
export interface SpanCost {
  usd: string;
  priceId: string;
  priceVersion: string;
}

/** The cost columns of a stored call (`ai_calls`). */
export interface CallCost {
  /** span: came on the span; ingest: priced by tokenmeter's server; default: a default price; '': unpriced. */
  source: 'span' | 'ingest' | 'default' | '';
  usd: string | null;
  priceId: string;
  priceVersion: string;
  cacheSavingsUsd: string;
}

export const UNPRICED: CallCost = { source: '', usd: null, priceId: '', priceVersion: '', cacheSavingsUsd: '0' };

/**
 * The cost to store for a call: ingest (a span arriving) and reprice (a stored call) both decide
 * it here. A cost the span carried is kept, unless an override covers the call: an override is the
 * operator's explicit correction (a negotiated rate, a tenant's contract) and wins over what the
 * app knew. Otherwise the call is priced by `priceCall`; a call nothing prices is unpriced (NULL).
 * `believe` lets the ingest side refuse an implausible claim (then the call is priced as if it
 * carried none) without pricing the call twice.
 */
export function costOfCall(
  req: PriceRequest,
  overrides: readonly PriceOverride[],
  spanCost?: SpanCost,
  /** Whether to keep the span's claim, given what the call is priced at here (null: unpriced). Default: yes. */
  believe?: (claimUsd: string, pricedUsd: string | null) => boolean,
): CallCost {
  const priced = priceCall(req, overrides);
  if (
    spanCost &&
    !(priced.priced && priced.source === 'override') &&
    (believe?.(spanCost.usd, priced.priced ? priced.costUsd : null) ?? true)
  ) {
    return {
      source: 'span',
      usd: spanCost.usd,
      priceId: spanCost.priceId,
      priceVersion: spanCost.priceVersion,
      cacheSavingsUsd: priced.priced ? priced.cacheSavingsUsd : '0',
    };
  }
  if (!priced.priced) return UNPRICED;
  return {
    source: priced.source === 'default' ? 'default' : 'ingest',
    usd: priced.costUsd,
    priceId: priced.priceId,
    priceVersion: priced.priceVersion,
    cacheSavingsUsd: priced.cacheSavingsUsd,
  };
}
