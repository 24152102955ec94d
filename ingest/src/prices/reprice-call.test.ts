import { describe, expect, it } from 'vitest';
import type { PriceOverride } from '@tokenmeter/instrumentation/prices';
import type { CallRow } from '../pipeline/rows.ts';
import { repriceCall } from './reprice-call.ts';

/** A stored gpt-4o-mini call: 1000 input (200 cached), 100 output, at noon. */
function row(over: Partial<CallRow> = {}): CallRow {
  return {
    timestamp: '2026-11-20 12:00:00.000000000',
    tenant: 'acme',
    service: 's',
    trace_id: 't',
    span_id: 'a',
    parent_span_id: '',
    scope_name: '',
    convention: 'gen_ai',
    provider: 'openai',
    operation: 'chat',
    request_model: 'gpt-4o-mini',
    response_model: 'gpt-4o-mini',
    model: 'gpt-4o-mini',
    response_id: '',
    finish_reasons: [],
    user_id: '',
    team: '',
    feature: '',
    session_id: '',
    request_id: '',
    input_tokens: 1000,
    output_tokens: 100,
    cache_read_tokens: 200,
    cache_write_tokens: 0,
    cache_write_1h_tokens: 0,
    reasoning_tokens: 0,
    input_audio_tokens: 0,
    output_audio_tokens: 0,
    estimated: false,
    is_streaming: false,
    is_batch: false,
    priced: true,
    cost_usd: '0.000195',
    cost_source: 'ingest',
    price_id: 'catalogue:openai/gpt-4o-mini',
    price_version: 'stale',
    cache_savings_usd: '0',
    duration_ms: 1,
    ttft_ms: null,
    status: 'ok',
    error_type: '',
    attributes: {},
    ...over,
  };
}

const override = (model: string, from: string): PriceOverride => ({
  id: 'o1',
  provider: 'openai',
  model,
  effectiveFrom: from,
  prices: { input_mtok: 1, output_mtok: 2, cache_read_mtok: 0.5 },
});
// 800 × 1e-6 + 200 × 0.5e-6 + 100 × 2e-6 = 0.0011; uncached: 1000 × 1e-6 + 0.0002 = 0.0012 → saves 0.0001.
const OVERRIDDEN = { cost_usd: '0.0011', price_id: 'override:o1', cost_source: 'ingest', cache_savings_usd: '0.0001' };

describe('repriceCall', () => {
  it('an ingest-priced call takes an override in force at its time', () => {
    expect(repriceCall(row(), [override('gpt-4o-mini', '2026-11-20T11:00:00Z')])).toMatchObject(OVERRIDDEN);
  });
  it('not before the override is effective', () => {
    const next = repriceCall(row({ price_version: 'x' }), [override('gpt-4o-mini', '2026-11-20T12:00:01Z')]);
    expect(next?.price_id).toBe('catalogue:openai/gpt-4o-mini');
  });
  it('a span-priced call keeps its cost without an override, and takes one that covers it', () => {
    expect(repriceCall(row({ cost_source: 'span', cost_usd: '9' }), [])).toBeUndefined();
    expect(
      repriceCall(row({ cost_source: 'span', cost_usd: '9' }), [override('gpt-4o-mini', '2026-01-01')]),
    ).toMatchObject(OVERRIDDEN);
  });
  it('an unpriced custom model gets priced by an override', () => {
    const r = row({
      model: 'acme-7b',
      request_model: 'acme-7b',
      response_model: 'acme-7b',
      priced: false,
      cost_usd: null,
      cost_source: '',
      price_id: '',
      price_version: '',
    });
    expect(repriceCall(r, [])).toBeUndefined();
    expect(repriceCall(r, [override('acme-7b', '2026-01-01')])).toMatchObject({ priced: true, ...OVERRIDDEN });
  });
  it('an unchanged price changes nothing', () => {
    const once = repriceCall(row(), [override('gpt-4o-mini', '2026-01-01')])!;
    expect(
      repriceCall(row({ ...once, price_version: once.price_version }), [override('gpt-4o-mini', '2026-01-01')]),
    ).toBeUndefined();
  });
});
