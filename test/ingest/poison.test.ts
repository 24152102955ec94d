import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatsFlusher } from '../../ingest/src/pipeline/stats.ts';
import { ADMIN_KEY as ADMIN, startTestService } from '../support/inprocess.ts';
import {
  type OtlpAttribute,
  type OtlpSpan,
  chatSpan,
  int,
  metricSamples,
  otlpRequest,
  postTraces,
  str,
  svcAttr,
  toProtobuf,
  REPAIRED as FIX,
} from '../support/otlp.ts';
import { querySql } from '../support/spans.ts';

/**
 * Acceptance (issue 18): one bad span never stalls the pipeline. For each hostile value a
 * request from tenant B carries the hostile span and, right after, tenant A sends good
 * spans (tenant-bound keys). A's spans must be in ai_calls and both rollups within 10 s;
 * B's span is repaired (stored, counted by reason) or rejected (counted by reason). At the
 * end no insert has failed and nothing was quarantined: what was acknowledged was insertable.
 */
const MAX_LEN = 4096;
const RUN = 18;
let running: Awaited<ReturnType<typeof startTestService>>;
let keyA: string;
let keyB: string;

beforeAll(async () => {
  running = await startTestService('poison', {
    TOKENMETER_RATE_LIMIT_RPS: '0',
    TOKENMETER_STATS_INTERVAL_MS: '0',
    TOKENMETER_MAX_ATTRIBUTE_LENGTH: String(MAX_LEN),
  });
  ({ key: keyA } = await running.keyStore.create({ tenant: 'alpha', role: 'ingest', name: 'a' }, 'test'));
  ({ key: keyB } = await running.keyStore.create({ tenant: 'bravo', role: 'ingest', name: 'b' }, 'test'));
});

afterAll(async () => {
  await running?.close();
});

type Outcome =
  | { repaired: string; times?: number }
  /** Stored, its cost claim not believed (priced at ingest), counted in span_costs_refused. */
  | { costRefused: string }
  | { rejected: string }
  /** Nothing to repair: stored exactly as sent. */
  | { stored: true };

interface Case {
  name: string;
  outcome: Outcome;
  /** B's hostile span (with its resource attributes), or the whole protobuf body. */
  span: () => { span: OtlpSpan; resource?: OtlpAttribute[]; protobuf?: (body: Buffer) => Buffer };
  /** What B's stored span must look like (repaired and stored cases). */
  check?: (spanId: string, fix: (sent: string) => string) => Promise<void>;
}

const sql = <T = Record<string, unknown>>(q: string) => querySql<T>(running.url, ADMIN, q);
const callOf = async (spanId: string) =>
  (await sql<Record<string, unknown>>(`SELECT * FROM ai_calls WHERE tenant = 'bravo' AND span_id = '${spanId}'`))[0];
const traceOf = async (spanId: string) =>
  (
    await sql<Record<string, unknown>>(`SELECT * FROM otel_traces WHERE TenantId = 'bravo' AND SpanId = '${spanId}'`)
  )[0];
/** Hex of a stored string, to compare bytes (U+FFFD is EFBFBD, NUL is 00). */
const hexOf = async (expr: string, spanId: string, table = 'ai_calls') => {
  const where =
    table === 'ai_calls' ? `tenant = 'bravo' AND span_id = '${spanId}'` : `TenantId = 'bravo' AND SpanId = '${spanId}'`;
  return (await sql<{ h: string }>(`SELECT hex(${expr}) AS h FROM ${table} WHERE ${where}`))[0]?.h;
};
const DAY = 86_400_000;
const utf8Hex = (s: string) => Buffer.from(s, 'utf8').toString('hex').toUpperCase();
/** Replace the first occurrence of an ASCII marker in a protobuf body with raw bytes of the same length. */
const patch = (marker: string, bytes: number[]) => (body: Buffer) => {
  const at = body.indexOf(Buffer.from(marker));
  if (at < 0) throw new Error(`marker ${marker} not in body`);
  const out = Buffer.from(body);
  Buffer.from(bytes).copy(out, at);
  return out;
};
/** 0xFF (never UTF-8), 0xC3 0x28 (a lead byte without its continuation), 0xED 0xA0 (a UTF-8 surrogate, cut). */
const BAD_UTF8 = [0xff, 0xc3, 0x28, 0xed, 0xa0];

const CASES: Case[] = [
  {
    name: 'lone high surrogate in an attribute value',
    outcome: { repaired: 'lone_surrogate' },
    span: () => ({ span: chatSpan(RUN, { extra: [str('x.note', 'cut \ud83d')] }) }),
    check: async (id, fix) => {
      const row = await callOf(id);
      expect((row!.attributes as Record<string, string>)['x.note']).toBe(fix('cut \ud83d'));
      expect(fix('cut \ud83d')).toMatch(/^cut \ufffd+$/);
    },
  },
  {
    name: 'lone low surrogate in the span name and the user id',
    outcome: { repaired: 'lone_surrogate', times: 2 },
    span: () => ({ span: chatSpan(RUN, { name: '\ude00 chat', extra: [str('user.id', 'u\ude00')] }) }),
    check: async (id, fix) => {
      expect(await hexOf('user_id', id)).toBe(utf8Hex(fix('u\ude00')));
      expect(await hexOf('SpanName', id, 'otel_traces')).toBe(utf8Hex(fix('\ude00 chat')));
    },
  },
  {
    name: 'lone surrogates in an attribute key, the service name and a nested kvlist',
    outcome: { repaired: 'lone_surrogate', times: 3 },
    span: () => ({
      span: chatSpan(RUN, {
        extra: [str('x.\ud800', 'v'), { key: 'x.map', value: { kvlistValue: { values: [str('k', '\udbff!')] } } }],
      }),
      resource: [svcAttr('svc-\ud800')],
    }),
    check: async (id, fix) => {
      const row = await callOf(id);
      expect(row!.service).toBe(fix('svc-\ud800'));
      const attrs = row!.attributes as Record<string, string>;
      expect(attrs[fix('x.\ud800')]).toBe('v');
      expect(JSON.parse(attrs['x.map']!)).toEqual({ k: fix('\udbff!') });
    },
  },
  {
    name: 'NUL and other control characters in values, a key and the span name',
    outcome: { stored: true },
    span: () => ({
      span: chatSpan(RUN, {
        name: 'a\u0000b\u001b[31m',
        extra: [str('x.ctl', '\u0000\u0001\t\n\r\u001f\u007f\u0085\u2028\ufeff'), str('x.\u0000key', 'nul key')],
      }),
    }),
    check: async (id) => {
      expect(await hexOf(`attributes['x.ctl']`, id)).toBe(utf8Hex('\u0000\u0001\t\n\r\u001f\u007f\u0085\u2028\ufeff'));
      expect(await hexOf(`SpanAttributes['x.\\0key']`, id, 'otel_traces')).toBe(utf8Hex('nul key'));
      expect(await hexOf('SpanName', id, 'otel_traces')).toBe(utf8Hex('a\u0000b\u001b[31m'));
    },
  },
  {
    name: 'invalid UTF-8 in protobuf strings (span name, attribute key and value, model)',
    outcome: { repaired: 'invalid_utf8', times: 4 },
    span: () => ({
      span: chatSpan(RUN, {
        name: 'QQQQQ name',
        extra: [str('x.WWWWW', 'VVVVV'), str('gen_ai.request.model', 'gpt-4oMMMMM')],
      }),
      protobuf: (body) =>
        [patch('QQQQQ', BAD_UTF8), patch('WWWWW', BAD_UTF8), patch('VVVVV', BAD_UTF8), patch('MMMMM', BAD_UTF8)].reduce(
          (b, f) => f(b),
          body,
        ),
    }),
    check: async (id) => {
      // Node's decoder (WHATWG): FF → U+FFFD; C3 without continuation → U+FFFD, '(' kept;
      // ED A0 (ED may not be followed by A0) → two U+FFFD.
      const repaired = '\ufffd\ufffd(\ufffd\ufffd';
      expect(await hexOf('SpanName', id, 'otel_traces')).toBe(utf8Hex(`${repaired} name`));
      const row = await callOf(id);
      expect(row!.model).toBe(`gpt-4o${repaired}`);
      expect((row!.attributes as Record<string, string>)[`x.${repaired}`]).toBe(repaired);
    },
  },
  {
    name: 'strings at the length limit (an emoji-heavy value, a key) are stored whole',
    outcome: { stored: true },
    span: () => ({
      span: chatSpan(RUN, {
        extra: [str('x.long', '😀'.repeat(MAX_LEN / 2)), str(`k${'y'.repeat(MAX_LEN - 1)}`, 'v')],
      }),
    }),
    check: async (id) => {
      const [row] = await sql<{ n: string; k: string }>(
        `SELECT length(attributes['x.long']) AS n, toString(length(arrayFirst(k -> startsWith(k, 'kyyy'), mapKeys(attributes)))) AS k
         FROM ai_calls WHERE tenant = 'bravo' AND span_id = '${id}'`,
      );
      expect(Number(row!.n)).toBe(MAX_LEN * 2); // bytes: 2048 emoji × 4
      expect(Number(row!.k)).toBe(MAX_LEN);
    },
  },
  {
    name: 'a string one character over the length limit',
    outcome: { rejected: 'attribute_too_long' },
    span: () => ({ span: chatSpan(RUN, { extra: [str('x.long', `${'😀'.repeat(MAX_LEN / 2)}!`)] }) }),
  },
  {
    name: 'an empty attribute key',
    outcome: { repaired: 'empty_key' },
    span: () => ({ span: chatSpan(RUN, { extra: [str('', 'nameless')] }) }),
    check: async (id) => {
      const row = await callOf(id);
      expect(Object.values(row!.attributes as Record<string, string>)).not.toContain('nameless');
    },
  },
  {
    name: 'duplicate attribute keys (and a key named __proto__)',
    outcome: { repaired: 'duplicate_key', times: 2 },
    span: () => ({
      span: chatSpan(RUN, {
        extra: [
          str('x.dup', 'first'),
          str('x.dup', 'second'),
          str('user.id', 'u1'),
          str('user.id', 'u2'),
          str('__proto__', 'p'),
        ],
      }),
    }),
    check: async (id) => {
      const row = await callOf(id);
      expect((row!.attributes as Record<string, string>)['x.dup']).toBe('second');
      expect((row!.attributes as Record<string, string>).__proto__).toBe('p');
      expect(row!.user_id).toBe('u2');
    },
  },
  {
    name: 'tokens at the column limit the service allows (100,000,000)',
    outcome: { stored: true },
    span: () => ({ span: chatSpan(RUN, { input: 100_000_000, output: 0 }) }),
    check: async (id) => expect(Number((await callOf(id))!.input_tokens)).toBe(100_000_000),
  },
  {
    name: 'tokens one beyond the limit',
    outcome: { rejected: 'absurd_tokens' },
    span: () => ({ span: chatSpan(RUN, { input: 100_000_001 }) }),
  },
  {
    name: 'tokens at int64 max (beyond any safe integer)',
    outcome: { rejected: 'absurd_tokens' },
    span: () => ({ span: chatSpan(RUN, { extra: [int('gen_ai.usage.output_tokens', '9223372036854775807')] }) }),
  },
  {
    name: 'tokens at int64 min',
    outcome: { rejected: 'negative_tokens' },
    span: () => ({ span: chatSpan(RUN, { extra: [int('gen_ai.usage.input_tokens', '-9223372036854775808')] }) }),
  },
  ...(
    [
      ['the string "NaN"', { stringValue: 'NaN' }],
      ['a bool', { boolValue: true }],
      ['an array', { arrayValue: { values: [{ intValue: 12 }] } }],
      ['-0.0', { doubleValue: '-0.0' }],
      ['"0x10"', { stringValue: '0x10' }],
      ['a fraction', { doubleValue: 12.5 }],
      ['NaN as a double', { doubleValue: 'NaN' }],
    ] as const
  ).map(([what, value]): Case => ({
    name: `input tokens as ${what}`,
    outcome: { rejected: 'invalid_tokens' },
    span: () => ({ span: chatSpan(RUN, { extra: [{ key: 'gen_ai.usage.input_tokens', value }] }) }),
  })),
  {
    name: 'output tokens as a whole double (7.0) are a count',
    outcome: { stored: true },
    span: () => {
      const span = chatSpan(RUN);
      span.attributes = span.attributes.map((a) =>
        a.key === 'gen_ai.usage.output_tokens' ? { key: a.key, value: { doubleValue: 7 } } : a,
      );
      return { span };
    },
    check: async (id) => expect(Number((await callOf(id))!.output_tokens)).toBe(7),
  },
  ...(
    [
      ['1,000,000 reasoning tokens with 5 output tokens', 'gen_ai.usage.reasoning.output_tokens', 1_000_000, 5],
      ['more cache reads than input tokens', 'gen_ai.usage.cache_read.input_tokens', 1001, 500],
      ['more input audio than input tokens', 'gen_ai.usage.audio.input_tokens', 1001, 500],
      ['more output audio than output tokens', 'gen_ai.usage.audio.output_tokens', 6, 5],
    ] as const
  ).map(([what, key, n, output]): Case => ({
    name: what,
    outcome: { rejected: 'invalid_tokens' },
    span: () => ({ span: chatSpan(RUN, { output, extra: [int(key, n)] }) }),
  })),
  ...(
    [
      ['at the top of Decimal(38, 12)', '99999999999999999999999999.999999999999', 'above_cap'],
      ['beyond Decimal(38, 12) (27 digits)', '999999999999999999999999999', 'not_a_decimal'],
      ['with 13 decimals', '0.0000000000001', 'not_a_decimal'],
      ['negative', '-0.0075', 'not_a_decimal'],
    ] as const
  ).map(([what, claim, reason]): Case => ({
    name: `a span cost ${what}`,
    outcome: { costRefused: reason },
    span: () => ({ span: chatSpan(RUN, { extra: [str('gen_ai.usage.cost.amount', claim)] }) }),
    check: async (id) => {
      const row = await callOf(id);
      expect([String(row!.cost_usd), row!.cost_source]).toEqual(['0.0075', 'ingest']);
      expect((row!.attributes as Record<string, string>)['tokenmeter.cost.claimed_usd']).toBe(claim);
    },
  })),
  {
    name: 'an AI call older than the retention (100 days, TOKENMETER_TTL_DAYS 90)',
    outcome: { rejected: 'beyond_retention' },
    span: () => ({ span: chatSpan(RUN, { startMs: Date.now() - 100 * DAY }) }),
    check: async () => {
      // Neither raw nor the rollups: raw would drop it at once, the rollups would keep it.
      const [row] = await sql<{ n: string }>(
        `SELECT sum(requests) AS n FROM ai_rollup_daily WHERE tenant = 'bravo' AND day < today() - 89`,
      );
      expect(Number(row!.n)).toBe(0);
    },
  },
  {
    name: 'a plain span older than the retention',
    outcome: { rejected: 'beyond_retention' },
    span: () => {
      const span = chatSpan(RUN, { startMs: Date.now() - 91 * DAY });
      return { span: { ...span, attributes: [str('http.route', '/x')] } };
    },
  },
  {
    name: 'an AI call just inside the retention (89 days)',
    outcome: { stored: true },
    span: () => ({ span: chatSpan(RUN, { startMs: Date.now() - 89 * DAY }) }),
    check: async (id) => {
      const [row] = await sql<{ n: string }>(
        `SELECT sum(requests) AS n FROM ai_rollup_daily WHERE tenant = 'bravo' AND day = toDate(now() - INTERVAL 89 DAY)`,
      );
      expect(Number(row!.n)).toBeGreaterThanOrEqual(1);
      expect(await callOf(id)).toBeDefined();
    },
  },
  {
    name: 'an event timestamp at uint64 max (beyond DateTime64(9), year 2554)',
    outcome: { rejected: 'invalid_span' },
    span: () => ({
      span: { ...chatSpan(RUN), events: [{ name: 'e', timeUnixNano: '18446744073709551615' }] },
    }),
  },
  {
    name: 'an event timestamp at the last instant DateTime64(9) holds (int64 max ns)',
    outcome: { stored: true },
    span: () => ({ span: { ...chatSpan(RUN), events: [{ name: 'e', timeUnixNano: '9223372036854775807' }] } }),
    check: async (id) => {
      const row = await traceOf(id);
      expect((row!['Events.Timestamp'] as string[])[0]).toBe('2262-04-11 23:47:16.854775807');
    },
  },
  {
    name: 'a span end at uint64 max (duration at the top of UInt64)',
    outcome: { stored: true },
    span: () => ({ span: { ...chatSpan(RUN), endTimeUnixNano: '18446744073709551615' } }),
    check: async (id) => {
      const row = await traceOf(id);
      // 2^64 - 1 minus a start of about 1.8e18 ns (2026).
      expect(BigInt(row!.Duration as string) > 16_000_000_000_000_000_000n).toBe(true);
    },
  },
  {
    name: 'a span start at uint64 max',
    outcome: { rejected: 'future_timestamp' },
    span: () => ({ span: { ...chatSpan(RUN), startTimeUnixNano: '18446744073709551615' } }),
  },
  {
    name: 'time to first chunk beyond Float64 once in milliseconds, and a NaN attribute',
    outcome: { stored: true },
    span: () => ({
      span: chatSpan(RUN, {
        extra: [
          { key: 'gen_ai.response.time_to_first_chunk', value: { doubleValue: 1e308 } },
          { key: 'x.nan', value: { doubleValue: 'NaN' } },
        ],
      }),
    }),
    check: async (id) => {
      const row = await callOf(id);
      expect(row!.ttft_ms).toBeNull();
    },
  },
];

let caseNo = 0;

describe('a hostile span from tenant B never holds up tenant A', () => {
  for (const encoding of ['json', 'protobuf'] as const) {
    for (const c of CASES) {
      const protobufOnly = c.span().protobuf !== undefined;
      if (protobufOnly && encoding === 'json') continue;
      it(`${encoding}: ${c.name}`, async () => {
        const n = ++caseNo;
        const before = await counters();
        const hostile = c.span();
        const request = otlpRequest([hostile.span], hostile.resource);
        const body = encoding === 'json' ? request : (hostile.protobuf ?? ((b: Buffer) => b))(toProtobuf(request));
        const b = await postTraces(running.url, keyB, body);
        expect(b.status).toBe(200);
        const feature = `case-${n}`;
        const good = [1, 2, 3].map(() => chatSpan(RUN, { extra: [str('tokenmeter.feature', feature)] }));
        const a = await postTraces(running.url, keyA, otlpRequest(good));
        expect(a).toMatchObject({ status: 200, rejected: 0 });
        await expectStoredWithin(10_000, feature, good.length);

        const after = await counters();
        // In protobuf a lone surrogate arrives as invalid UTF-8 (see FIX).
        const reasonOf = (r: string) => (encoding === 'protobuf' && r === 'lone_surrogate' ? 'invalid_utf8' : r);
        if ('rejected' in c.outcome) {
          expect(b.rejected).toBe(1);
          expect(b.message).toContain(c.outcome.rejected);
          expect(delta(before.rejected, after.rejected, c.outcome.rejected)).toBe(1);
          expect(await traceOf(hostile.span.spanId)).toBeUndefined();
          expect(await callOf(hostile.span.spanId)).toBeUndefined();
          await c.check?.(hostile.span.spanId, FIX[encoding]);
          return;
        }
        expect(b.rejected).toBe(0);
        if ('costRefused' in c.outcome) expect(delta(before.costs, after.costs, c.outcome.costRefused)).toBe(1);
        else expect(sum(after.costs) - sum(before.costs)).toBe(0);
        if ('repaired' in c.outcome)
          expect(delta(before.repaired, after.repaired, reasonOf(c.outcome.repaired))).toBe(c.outcome.times ?? 1);
        else expect(sum(after.repaired) - sum(before.repaired)).toBe(0);
        expect(await traceOf(hostile.span.spanId)).toBeDefined();
        expect(await callOf(hostile.span.spanId)).toBeDefined();
        await c.check?.(hostile.span.spanId, FIX[encoding]);
      });
    }
  }

  it('acknowledged only insertable rows: no insert failed, nothing quarantined', async () => {
    const failures = await metricSamples(running.url, ADMIN, 'tokenmeter_batch_failures_total');
    const quarantined = await metricSamples(running.url, ADMIN, 'tokenmeter_spool_quarantined_total');
    expect(failures.get('')).toBe(0);
    expect(sum(quarantined)).toBe(0);
  });

  it('the repairs and refused costs reach ingest_stats by reason, as /metrics counts them', async () => {
    const stats = new StatsFlusher({
      store: running.store,
      metrics: running.metrics,
      log: running.log,
      intervalMs: 0,
      instance: 'poison-0',
    });
    await stats.flush(new Date());
    const rows = await sql<{ metric: string; reason: string; value: number }>(
      `SELECT metric, reason, value FROM ingest_stats WHERE instance = 'poison-0' AND metric IN ('values_repaired', 'span_costs_refused')`,
    );
    const repaired = await metricSamples(running.url, ADMIN, 'tokenmeter_values_repaired_total');
    const refused = await metricSamples(running.url, ADMIN, 'tokenmeter_span_costs_refused_total');
    const expected = [
      ...[...repaired].map(([label, v]) => ['values_repaired', /"(.*)"/.exec(label)![1], v]),
      ...[...refused].map(([label, v]) => ['span_costs_refused', /"(.*)"/.exec(label)![1], v]),
    ];
    expect(expected.length).toBe(6); // four repair reasons, two cost refusals
    expect(rows.map((r) => [r.metric, r.reason, Number(r.value)]).sort()).toEqual(expected.sort());
  });
});

async function counters() {
  return {
    rejected: await metricSamples(running.url, ADMIN, 'tokenmeter_spans_rejected_total'),
    repaired: await metricSamples(running.url, ADMIN, 'tokenmeter_values_repaired_total'),
    costs: await metricSamples(running.url, ADMIN, 'tokenmeter_span_costs_refused_total'),
  };
}

function delta(before: Map<string, number>, after: Map<string, number>, reason: string): number {
  const label = `{reason="${reason}"}`;
  return (after.get(label) ?? 0) - (before.get(label) ?? 0);
}

function sum(m: Map<string, number>): number {
  return [...m.values()].reduce((a, b) => a + b, 0);
}

/** A's spans of this case in ai_calls and in both rollups, polled until `ms`. */
async function expectStoredWithin(ms: number, feature: string, n: number): Promise<void> {
  const deadline = Date.now() + ms;
  let seen = { raw: 0, hourly: 0, daily: 0 };
  while (Date.now() < deadline) {
    const [row] = await sql<{ raw: string; hourly: string; daily: string }>(
      `SELECT
         (SELECT count() FROM ai_calls WHERE tenant = 'alpha' AND feature = '${feature}') AS raw,
         (SELECT sum(requests) FROM ai_rollup_hourly WHERE tenant = 'alpha' AND feature = '${feature}') AS hourly,
         (SELECT sum(requests) FROM ai_rollup_daily WHERE tenant = 'alpha' AND feature = '${feature}') AS daily`,
    );
    seen = { raw: Number(row!.raw), hourly: Number(row!.hourly), daily: Number(row!.daily) };
    if (seen.raw === n && seen.hourly === n && seen.daily === n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(seen).toEqual({ raw: n, hourly: n, daily: n });
}
