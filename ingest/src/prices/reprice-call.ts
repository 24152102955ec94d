import {
  type CallCost,
  costOfCall,
  type PriceOverride,
  parseUsd,
  usageProblem,
} from '@tokenmeter/instrumentation/prices';
import type { CallRow } from '../pipeline/rows.js';

/** The cost fields of an ai_calls row that re-pricing may change. */
export type CostFields = Pick<
  CallRow,
  'priced' | 'cost_usd' | 'cost_source' | 'price_id' | 'price_version' | 'cache_savings_usd'
>;

/**
 * The cost a stored call has under today's prices, or undefined when it keeps the one it has.
 * The rule is ingest's (`costOfCall`), applied to the row's request and response models, tenant
 * and batch flag: a call priced by tokenmeter or unpriced gets the price now in force at its
 * timestamp; a cost that came on the span stays unless an override covers the call. Invalid
 * usage (which the price engine refuses) never changes a row. A model that no price covers any
 * longer becomes unpriced (NULL), never $0.
 */
export function repriceCall(row: CallRow, overrides: readonly PriceOverride[]): CostFields | undefined {
  const request = {
    provider: row.provider,
    model: row.request_model || row.model,
    responseModel: row.response_model,
    usage: {
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      cacheReadTokens: Number(row.cache_read_tokens),
      cacheWriteTokens: Number(row.cache_write_tokens),
      cacheWrite1hTokens: Number(row.cache_write_1h_tokens),
      reasoningTokens: Number(row.reasoning_tokens),
      inputAudioTokens: Number(row.input_audio_tokens),
      cacheAudioReadTokens: Number(row.cache_audio_read_tokens ?? 0),
      outputAudioTokens: Number(row.output_audio_tokens),
      audioSeconds: Number(row.audio_seconds ?? 0),
      inputCharacters: Number(row.input_characters ?? 0),
      webSearchCalls: Number(row.web_search_calls ?? 0),
      fileSearchCalls: Number(row.file_search_calls ?? 0),
    },
    timestamp: new Date(`${row.timestamp.slice(0, 23).replace(' ', 'T')}Z`),
    batch: isTrue(row.is_batch),
    tenant: row.tenant,
  };
  // Usage the engine refuses never changes a row.
  if (usageProblem(request.usage)) return undefined;
  const cost = costOfCall(
    request,
    overrides,
    row.cost_source === 'span' && row.cost_usd !== null
      ? { usd: row.cost_usd, priceId: row.price_id, priceVersion: row.price_version }
      : undefined,
  );
  // A cost that came on the span stays as it was, savings included.
  if (cost.source === 'span') return undefined;
  const next = toFields(cost);
  return sameCost(row, next) ? undefined : next;
}

function toFields(c: CallCost): CostFields {
  return {
    priced: c.usd !== null,
    cost_usd: c.usd,
    cost_source: c.source,
    price_id: c.priceId,
    price_version: c.priceVersion,
    cache_savings_usd: c.cacheSavingsUsd,
  };
}

function sameCost(row: CallRow, next: CostFields): boolean {
  const usd = (v: string | null) => (v === null ? null : parseUsd(v));
  return (
    isTrue(row.priced) === next.priced &&
    usd(row.cost_usd) === usd(next.cost_usd) &&
    row.cost_source === next.cost_source &&
    row.price_id === next.price_id &&
    row.price_version === next.price_version &&
    parseUsd(row.cache_savings_usd) === parseUsd(next.cache_savings_usd)
  );
}

/** ClickHouse Bool in JSON is true/false; tolerate 1/0 from other formats. */
function isTrue(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 'true';
}
