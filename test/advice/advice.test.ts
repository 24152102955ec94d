import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTraffic } from '../../ingest/src/advice/read.ts';
import { adviseAll } from '../../ingest/src/advice/rules.ts';
import { costFromPrice, toCallRow } from '../../ingest/src/pipeline/rows.ts';
import { insertSettings, type Store } from '../../ingest/src/store/client.ts';
import type { AiCall } from '../../instrumentation/src/normalize/types.ts';
import { type PriceOverride, priceCall } from '../../instrumentation/src/prices/index.ts';
import { seedCalls } from '../support/seed.ts';
import { openTestStore } from '../support/store.ts';

const DAY = 86_400_000;
const END = new Date(Math.floor(Date.now() / DAY) * DAY);

/**
 * Uniform traffic whose savings can be worked out by hand: `perDay` identical calls a day
 * for 30 days. Built with the real row builder and price engine, like seedCalls.
 */
async function uniformTraffic(
  store: Store,
  t: {
    service: string;
    feature: string;
    provider: string;
    model: string;
    input: number;
    output: number;
    user: string;
    perDay: number;
  },
) {
  const values = [];
  for (let d = 30; d >= 1; d--) {
    for (let i = 0; i < t.perDay; i++) {
      const start = BigInt(END.getTime() - d * DAY + i * 60_000) * 1_000_000n;
      const id = createHash('sha256').update(`${t.service}/${d}/${i}`).digest('hex');
      const call: AiCall = {
        convention: 'gen_ai',
        startTimeUnixNano: start,
        durationNs: 900_000_000n,
        service: t.service,
        traceId: id.slice(0, 32),
        spanId: id.slice(32, 48),
        parentSpanId: '',
        scopeName: '@tokenmeter/instrumentation',
        provider: t.provider,
        operation: 'chat',
        requestModel: t.model,
        responseModel: t.model,
        responseId: '',
        finishReasons: ['stop'],
        tenant: 'acme',
        userId: t.user,
        team: '',
        feature: t.feature,
        sessionId: '',
        requestId: '',
        usage: { inputTokens: t.input, outputTokens: t.output },
        estimated: false,
        isStreaming: false,
        isBatch: false,
        spanUnpriced: false,
        ttftMs: null,
        status: 'ok',
        errorType: '',
      };
      const price = priceCall({
        provider: t.provider,
        model: t.model,
        usage: call.usage,
        timestamp: new Date(Number(start / 1_000_000n)),
      });
      values.push(toCallRow(call, 'acme', costFromPrice(price), {}));
    }
  }
  await store.writer.insert({
    table: `${store.database}.ai_calls`,
    format: 'JSONEachRow',
    values,
    clickhouse_settings: insertSettings(`uniform-${t.service}`),
  });
}

describe('advice from the tenant’s own rollups', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;

  beforeAll(async () => {
    store = await openTestStore('advice');
    // Background: a month of realistic mixed traffic, another tenant's too.
    await seedCalls(store, { days: 30, end: END, seed: 3, callsPerHour: 2 });
    await seedCalls(store, { days: 30, end: END, seed: 4, callsPerHour: 2, tenant: 'other' });
    // The known opportunity: ticket routing, 100 small gpt-4o calls a day (400 in, 20 out).
    await uniformTraffic(store, {
      service: 'ticket-router',
      feature: 'route',
      provider: 'openai',
      model: 'gpt-4o',
      input: 400,
      output: 20,
      user: 'u1',
      perDay: 100,
    });
    // A nightly job with large prompts and no end user, on Claude Sonnet 4.5.
    await uniformTraffic(store, {
      service: 'nightly-digest',
      feature: 'digest',
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      input: 3000,
      output: 500,
      user: '',
      perDay: 20,
    });
  });
  afterAll(() => store.close());

  // Anthropic Message Batches: Claude Sonnet 4.5 at $1.50 / $7.50 per 1M input / output
  // (docs.anthropic.com/en/docs/build-with-claude/batch-processing#pricing, read 2026-12-07). The
  // bundled catalogue has no batch price for it, so the operator states it as an override.
  const SONNET_BATCH: PriceOverride = {
    id: 'sonnet-4-5-batch',
    provider: 'anthropic',
    model: 'claude-sonnet-4-5:batch',
    effectiveFrom: '2025-01-01T00:00:00.000Z',
    prices: { input_mtok: 1.5, output_mtok: 7.5 },
  };
  const advise = async (tenant = 'acme', overrides: PriceOverride[] = [SONNET_BATCH]) => {
    const traffic = await readTraffic(store, { tenant, days: 30, end: END });
    const ctx = { daysObserved: traffic.daysObserved, at: new Date(), tenant, overrides };
    return { traffic, advice: adviseAll(traffic.groups, ctx) };
  };

  it('finds the cheaper model for small calls, with the savings worked out by hand', async () => {
    const { traffic, advice } = await advise();
    expect(traffic.daysObserved).toBe(30);
    const item = advice.find((a) => a.kind === 'cheaper_model' && a.service === 'ticket-router');
    expect(item).toBeDefined();
    // By hand: gpt-4o is $2.50 / $10 per 1M input / output tokens; gpt-4.1-mini $0.40 / $1.60.
    // A call: 400 × 2.50e-6 + 20 × 10e-6 = $0.0012 on gpt-4o; 400 × 0.40e-6 + 20 × 1.60e-6 = $0.000192 on gpt-4.1-mini.
    // 100 calls a day for 30 days = 3,000 calls: $3.60 against $0.576, so $3.024 a month saved.
    expect(item!.basis.suggested).toBe('gpt-4.1-mini');
    expect(item!.monthlySavingsUsd).toBe('3.024');
    expect(item!.monthlySavings).toBe(3.02);
    expect(item!.basis.observed).toMatchObject({
      days: 30,
      requests: 3000,
      inputTokens: 1_200_000,
      outputTokens: 60_000,
      costUsd: '3.6',
    });
    expect(item!.basis.averageCall).toMatchObject({ inputTokens: 400, outputTokens: 20 });
    // gpt-4o-mini ($0.15 / $0.60): 3,000 × (400 × 0.15e-6 + 20 × 0.60e-6) = $0.216, saving $3.384.
    const alternatives = item!.basis.alternatives as { model: string; monthlySavingsUsd: string }[];
    expect(alternatives.find((a) => a.model === 'gpt-4o-mini')?.monthlySavingsUsd).toBe('3.384');
  });

  it('finds batch-eligible offline traffic and low cache reads on large repeated inputs, by hand too', async () => {
    const { advice } = await advise();
    const batch = advice.find((a) => a.kind === 'batch_api' && a.service === 'nightly-digest');
    // By hand: Sonnet 4.5 $3 / $15 per 1M: 3000 × 3e-6 + 500 × 15e-6 = $0.0165 a call; 600 calls = $9.90; 50 % off = $4.95.
    expect(batch?.monthlySavingsUsd).toBe('4.95');
    expect(batch?.basis).toMatchObject({ discountPercent: 50, anonymousShare: 1 });
    // Without a batch price for the model, no batch advice (never a guessed discount).
    const { advice: unpricedBatch } = await advise('acme', []);
    expect(unpricedBatch.some((a) => a.kind === 'batch_api')).toBe(false);
    const cache = advice.find((a) => a.kind === 'prompt_caching' && a.service === 'nightly-digest');
    // By hand: half of 3000 input tokens read from cache at $0.30 instead of $3: 1500 × 2.7e-6 = $0.00405 a call; × 600 = $2.43.
    expect(cache?.monthlySavingsUsd).toBe('2.43');
    expect(cache?.basis).toMatchObject({ cacheReadRatio: 0 });
    // The interactive ticket router streams nothing but has end users: not batch advice.
    expect(advice.some((a) => a.kind === 'batch_api' && a.service === 'ticket-router')).toBe(false);
  });

  it('reads only the tenant’s own rollups', async () => {
    const { advice } = await advise('other');
    expect(advice.some((a) => a.service === 'ticket-router' || a.service === 'nightly-digest')).toBe(false);
  });
});
