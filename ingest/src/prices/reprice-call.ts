import {
  formatScaled,
  type PriceOverride,
  parseUsd,
  priceCall,
  type PriceRequest,
} from '@tokenmeter/instrumentation/prices';
import type { CallRow } from '../pipeline/rows.js';

/** The cost fields of an ai_calls row that re-pricing may change. */
export type CostFields = Pick<
  CallRow,
  'priced' | 'cost_usd' | 'cost_source' | 'price_id' | 'price_version' | 'cache_savings_usd'
>;

/**
 * The cost a stored call has under today's prices, or undefined when it keeps the one it has.
 *
 * - A call priced here ('ingest') or not priced at all gets the price now in force at its
 *   timestamp (catalogue, or an override that covers it).
 * - A call whose cost came on the span ('span', priced by the instrumentation) keeps it,
 *   unless an override covers the call: an override is the operator's explicit correction
 *   (a negotiated discount, a fine-tuned model's real price) and wins over what the app knew.
 * - Invalid usage (which the price engine refuses) never changes a row.
 * A model that no price covers any longer becomes unpriced (NULL), never $0.
 */
export function repriceCall(row: CallRow, overrides: readonly PriceOverride[]): CostFields | undefined {
  const usage = {
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cacheReadTokens: Number(row.cache_read_tokens),
    cacheWriteTokens: Number(row.cache_write_tokens),
    cacheWrite1hTokens: Number(row.cache_write_1h_tokens),
    inputAudioTokens: Number(row.input_audio_tokens),
    outputAudioTokens: Number(row.output_audio_tokens),
  };
  const request: Omit<PriceRequest, 'usage'> = {
    provider: row.provider,
    model: row.model,
    timestamp: new Date(`${row.timestamp.slice(0, 23).replace(' ', 'T')}Z`),
    batch: isTrue(row.is_batch),
  };
  const result = priceCall({ ...request, usage }, overrides);
  if (!result.priced && result.reason === 'invalid_usage') return undefined;
  const byOverride = result.priced && result.priceId.startsWith('override:');
  if (row.cost_source === 'span' && !byOverride) return undefined;
  let next: CostFields;
  if (!result.priced) {
    next = { priced: false, cost_usd: null, cost_source: '', price_id: '', price_version: '', cache_savings_usd: '0' };
  } else {
    let savings = '0';
    if (usage.cacheReadTokens > 0) {
      const uncached = priceCall({ ...request, usage: { ...usage, cacheReadTokens: 0 } }, overrides);
      if (uncached.priced) {
        const diff = parseUsd(uncached.costUsd) - parseUsd(result.costUsd);
        if (diff > 0n) savings = formatScaled(diff);
      }
    }
    next = {
      priced: true,
      cost_usd: result.costUsd,
      cost_source: 'ingest',
      price_id: result.priceId,
      price_version: result.priceVersion,
      cache_savings_usd: savings,
    };
  }
  return sameCost(row, next) ? undefined : next;
}

function sameCost(row: CallRow, next: CostFields): boolean {
  const usd = (v: string | null) => (v === null ? null : parseUsd(v));
  return (
    isTrue(row.priced) === next.priced &&
    usd(row.cost_usd) === usd(next.cost_usd) &&
    row.price_id === next.price_id &&
    row.price_version === next.price_version &&
    parseUsd(row.cache_savings_usd) === parseUsd(next.cache_savings_usd)
  );
}

/** ClickHouse Bool in JSON is true/false; tolerate 1/0 from other formats. */
function isTrue(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 'true';
}
