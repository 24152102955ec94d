import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY as ADMIN, startTestService } from '../support/inprocess.ts';
import { type OtlpValue, chatSpan, metricSamples, otlpRequest, postTraces, str } from '../support/otlp.ts';
import { querySql } from '../support/spans.ts';

/**
 * Acceptance (issue 18, money): a cost on a span is believed only when it is a decimal within
 * TOKENMETER_SPAN_COST_FACTOR of the catalogue price and under TOKENMETER_MAX_CALL_COST_USD;
 * else the call is priced at ingest (cost_source 'ingest') and the claim kept as attributes,
 * counted by reason. The case — two gpt-4o calls of 1,000/500 tokens claiming
 * "99000000000000000000000000" USD each — used to wrap sum(cost_usd) to a negative number and
 * silence a $1/day hard budget. Here every sum (raw, both rollups, the usage API, the budget)
 * is the exact expected figure, non-negative, and the hard budget is in the enforcement view.
 */
const CAP = '100';
let running: Awaited<ReturnType<typeof startTestService>>;
let ingestKey: string;
let adminKey: string;

beforeAll(async () => {
  running = await startTestService('money', {
    TOKENMETER_RATE_LIMIT_RPS: '0',
    TOKENMETER_STATS_INTERVAL_MS: '0',
    TOKENMETER_EVALUATE_INTERVAL_MS: '0',
    TOKENMETER_ENFORCEMENT_CACHE_MS: '0',
    TOKENMETER_MAX_CALL_COST_USD: CAP,
    TOKENMETER_SPAN_COST_FACTOR: '10',
  });
  ({ key: ingestKey } = await running.keyStore.create({ tenant: 'acme', role: 'ingest', name: 'i' }, 'test'));
  ({ key: adminKey } = await running.keyStore.create({ tenant: 'acme', role: 'admin', name: 'a' }, 'test'));
});

afterAll(async () => {
  await running?.close();
});

const RUN = 77;
const cost = (value: OtlpValue) => ({ key: 'gen_ai.usage.cost.amount', value });
/** gpt-4o at $2.50 / $10 per million: 1,000 input + 500 output tokens = $0.0075. */
const GPT4O_1000_500 = '0.0075';

interface Sent {
  what: string;
  span: ReturnType<typeof chatSpan>;
  /** What ai_calls must hold: the cost, its source, and the refusal reason when the claim was not believed. */
  expect: { cost: string | null; source: string; refused?: string; claim?: string };
}

const SENT: Sent[] = [
  ...[1, 2].map((n) => ({
    what: `the issue's claim, as a string (${n} of 2)`,
    span: chatSpan(RUN, { extra: [cost({ stringValue: '99000000000000000000000000' })] }),
    expect: { cost: GPT4O_1000_500, source: 'ingest', refused: 'above_cap', claim: '99000000000000000000000000' },
  })),
  {
    what: '1e20 USD as a double on a 1,000-token call',
    span: chatSpan(RUN, { extra: [cost({ doubleValue: 1e20 })] }),
    expect: { cost: GPT4O_1000_500, source: 'ingest', refused: 'above_cap', claim: '100000000000000000000' },
  },
  ...(
    [
      ['not a number', { stringValue: 'abc' }, 'abc'],
      ['negative', { stringValue: '-1' }, '-1'],
      ['exponent notation', { stringValue: '1e5' }, '1e5'],
      ['a negative double', { doubleValue: -0.5 }, '-0.5'],
      ['a bool', { boolValue: true }, 'true'],
    ] as const
  ).map(([what, value, claim]) => ({
    what: `a claim that is ${what}`,
    span: chatSpan(RUN, { extra: [cost(value)] }),
    expect: { cost: GPT4O_1000_500, source: 'ingest', refused: 'not_a_decimal', claim },
  })),
  {
    what: 'a claim 66× the catalogue price',
    span: chatSpan(RUN, { extra: [cost({ stringValue: '0.5' })] }),
    expect: { cost: GPT4O_1000_500, source: 'ingest', refused: 'outside_range', claim: '0.5' },
  },
  {
    what: 'a claim a twentieth of the catalogue price',
    span: chatSpan(RUN, { extra: [cost({ stringValue: '0.000375' })] }),
    expect: { cost: GPT4O_1000_500, source: 'ingest', refused: 'outside_range', claim: '0.000375' },
  },
  {
    what: 'a claim twice the catalogue price (a plausible rate): believed',
    span: chatSpan(RUN, { extra: [cost({ stringValue: '0.015' })] }),
    expect: { cost: '0.015', source: 'span' },
  },
  {
    what: 'a model the catalogue does not price, claiming 5 USD: believed',
    span: chatSpan(RUN, { extra: [str('gen_ai.request.model', 'acme-llm-1'), cost({ stringValue: '5' })] }),
    expect: { cost: '5', source: 'span' },
  },
  {
    what: 'a model the catalogue does not price, claiming more than the cap: unpriced',
    span: chatSpan(RUN, { extra: [str('gen_ai.request.model', 'acme-llm-1'), cost({ stringValue: '100.01' })] }),
    expect: { cost: null, source: '', refused: 'above_cap', claim: '100.01' },
  },
  ...[1, 2, 3, 4].map((n) => ({
    what: `an ordinary call, 100,000/20,000 tokens (${n} of 4)`,
    span: chatSpan(RUN, { input: 100_000, output: 20_000 }),
    expect: { cost: '0.45', source: 'ingest' },
  })),
];
/** 10 calls at 0.0075 + 0.015 + 5 + 4 × 0.45 (the call over the cap is unpriced), exactly. */
const TOTAL = '6.89';

describe('money is bounded and exact', () => {
  it('refuses implausible span costs, prices those calls here, and keeps every sum exact', async () => {
    const budget = await fetch(`${running.url}/api/v1/budgets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'daily hard', scope: {}, period: 'day', amountUsd: '1', mode: 'hard' }),
    });
    expect(budget.status).toBe(201);
    const { id: budgetId } = (await budget.json()) as { id: string };

    const before = await metricSamples(running.url, ADMIN, 'tokenmeter_span_costs_refused_total');
    const res = await postTraces(running.url, ingestKey, otlpRequest(SENT.map((s) => s.span)));
    expect(res).toMatchObject({ status: 200, rejected: 0 });

    const rows = await waitForCalls(SENT.length);
    for (const s of SENT) {
      const row = rows.get(s.span.spanId);
      expect(row, s.what).toBeDefined();
      expect({ cost: row!.cost, source: row!.source, refused: row!.refused, claim: row!.claim }, s.what).toEqual({
        cost: s.expect.cost,
        source: s.expect.source,
        refused: s.expect.refused ?? '',
        claim: s.expect.claim ?? '',
      });
    }
    const after = await metricSamples(running.url, ADMIN, 'tokenmeter_span_costs_refused_total');
    const delta = (r: string) => (after.get(`{reason="${r}"}`) ?? 0) - (before.get(`{reason="${r}"}`) ?? 0);
    expect({
      above_cap: delta('above_cap'),
      not_a_decimal: delta('not_a_decimal'),
      outside: delta('outside_range'),
    }).toEqual({ above_cap: 4, not_a_decimal: 5, outside: 2 });

    // Every sum is the exact figure, and none is negative.
    const [sums] = await querySql<Record<string, string>>(
      running.url,
      ADMIN,
      `SELECT
         (SELECT toString(sum(cost_usd)) FROM ai_calls WHERE tenant = 'acme') AS raw,
         (SELECT toString(sum(cost_usd)) FROM ai_rollup_hourly WHERE tenant = 'acme') AS hourly,
         (SELECT toString(sum(cost_usd)) FROM ai_rollup_daily WHERE tenant = 'acme') AS daily`,
    );
    expect(sums).toEqual({ raw: TOTAL, hourly: TOTAL, daily: TOTAL });
    const summary = (await (
      await fetch(`${running.url}/api/v1/usage/summary?period=day`, {
        headers: { authorization: `Bearer ${adminKey}` },
      })
    ).json()) as { totals: { period: { costUsd: string }; today: { costUsd: string } } };
    expect(summary.totals.period.costUsd).toBe(TOTAL);
    expect(summary.totals.today.costUsd).toBe(TOTAL);

    // The $1/day hard budget reads the true spend and fires: the guard's view lists it.
    const status = (await (
      await fetch(`${running.url}/api/v1/budgets/${budgetId}`, { headers: { authorization: `Bearer ${adminKey}` } })
    ).json()) as Record<string, unknown>;
    expect(JSON.stringify(status)).toContain(`"${TOTAL}"`);
    const view = (await (
      await fetch(`${running.url}/api/v1/budgets/enforcement`, { headers: { authorization: `Bearer ${ingestKey}` } })
    ).json()) as { hard: { budgetId: string; spendUsd: string; percent: number }[] };
    expect(view.hard).toEqual([expect.objectContaining({ budgetId, spendUsd: TOTAL, percent: 689 })]);
  });

  it('rejects a call whose own price is above the cap (counted), keeping the calls beside it', async () => {
    const huge = chatSpan(RUN, { input: 100_000_000, output: 0 }); // $250 of gpt-4o input
    const fine = chatSpan(RUN);
    const res = await postTraces(running.url, ingestKey, otlpRequest([huge, fine]));
    expect(res.status).toBe(200);
    expect(res.rejected).toBe(1);
    expect(res.message).toContain('cost_above_cap');
    const rows = await waitForCalls(SENT.length + 1);
    expect(rows.has(fine.spanId)).toBe(true);
    expect(rows.has(huge.spanId)).toBe(false);
    const rejected = await metricSamples(running.url, ADMIN, 'tokenmeter_spans_rejected_total');
    expect(rejected.get('{reason="cost_above_cap"}')).toBe(1);
  });
});

async function waitForCalls(n: number) {
  type Row = { id: string; cost: string | null; source: string; refused: string; claim: string };
  const deadline = Date.now() + 10_000;
  let rows: Row[] = [];
  while (Date.now() < deadline) {
    rows = await querySql<Row>(
      running.url,
      ADMIN,
      `SELECT span_id AS id, if(cost_usd IS NULL, NULL, toString(cost_usd)) AS cost, cost_source AS source,
              attributes['tokenmeter.cost.refused'] AS refused, attributes['tokenmeter.cost.claimed_usd'] AS claim
       FROM ai_calls WHERE tenant = 'acme'`,
    );
    if (rows.length >= n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(rows.length).toBe(n);
  return new Map(rows.map((r) => [r.id, r]));
}
