import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../ingest/src/config.ts';
import { decodeResponse, decodeStatus } from '../../ingest/src/otlp/decode.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';
import { pool, querySql } from '../support/spans.ts';

/**
 * Acceptance: generated and mutated OTLP payloads, protobuf and JSON, through the
 * running service. No crash, every bad payload a 4xx with a reason, the valid spans
 * of mixed batches kept, every bad span rejected by reason through partial_success.
 * TM_FUZZ_RUNS × 50 payloads, sent 50 at a time (default 200 × 50 = 10,000).
 */
const RUNS = Number(process.env.TM_FUZZ_RUNS ?? 200);
const PER_RUN = 50;
const ADMIN = 'fuzz-bootstrap-key';
const LIMITS = { spans: 40, attributes: 48, length: 2048 };

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ingest', 'proto');
const root = new protobuf.Root();
root.resolvePath = (_o, target) => join(PROTO_DIR, target);
root.loadSync('otlp_trace_service.proto', { keepCase: false });
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

type Flaw =
  | 'none'
  | 'bad_trace_id'
  | 'zero_span_id'
  | 'bad_kind'
  | 'negative_tokens'
  | 'absurd_tokens'
  | 'nan_tokens'
  | 'future_timestamp'
  | 'too_many_attributes'
  | 'attribute_too_long';

interface GenSpan {
  traceId: string;
  spanId: string;
  name: string;
  kind: number;
  startMs: number;
  durationMs: number;
  input: number;
  output: number;
  extra: [string, string | number | boolean][];
  flaw: Flaw;
}

const NOW = Date.now();
const hex = (bytes: number) =>
  fc
    .uint8Array({ minLength: bytes, maxLength: bytes })
    .filter((b) => b.some((x) => x !== 0))
    .map((b) => Buffer.from(b).toString('hex'));
const attrValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
);
const span: fc.Arbitrary<GenSpan> = fc.record({
  traceId: hex(16),
  spanId: hex(8),
  name: fc.string({ maxLength: 60 }),
  kind: fc.integer({ min: 0, max: 5 }),
  startMs: fc.integer({ min: NOW - 6 * 3_600_000, max: NOW }),
  durationMs: fc.integer({ min: 0, max: 120_000 }),
  input: fc.integer({ min: 0, max: 200_000 }),
  output: fc.integer({ min: 0, max: 50_000 }),
  extra: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 30 }), attrValue), { maxLength: 12 }),
  flaw: fc.constantFrom<Flaw>(
    'none',
    'none',
    'none',
    'none',
    'bad_trace_id',
    'zero_span_id',
    'bad_kind',
    'negative_tokens',
    'absurd_tokens',
    'nan_tokens',
    'future_timestamp',
    'too_many_attributes',
    'attribute_too_long',
  ),
});

type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: number[]; to: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; junk: number[] };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        at: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        to: fc.array(fc.nat(255), { minLength: 6, maxLength: 6 }),
      })
      .map((m) => ({ kind: 'flip' as const, ...m })),
  },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ at: fc.nat(), junk: fc.array(fc.nat(255), { minLength: 1, maxLength: 16 }) })
      .map((m) => ({ kind: 'splice' as const, ...m })),
  },
);
const payload = fc.record({
  spans: fc.oneof(
    { weight: 19, arbitrary: fc.array(span, { minLength: 1, maxLength: 8 }) },
    { weight: 1, arbitrary: fc.array(span, { minLength: LIMITS.spans + 1, maxLength: LIMITS.spans + 5 }) },
  ),
  encoding: fc.constantFrom<'json' | 'protobuf'>('json', 'protobuf'),
  gzip: fc.boolean(),
  mutation,
});

function attributesOf(s: GenSpan): { key: string; value: Record<string, unknown> }[] {
  const tokens = (n: number) => (s.flaw === 'nan_tokens' ? { doubleValue: Number.NaN } : { intValue: n });
  const attrs: { key: string; value: Record<string, unknown> }[] = [
    { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
    { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
    { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
    {
      key: 'gen_ai.usage.input_tokens',
      value: tokens(s.flaw === 'negative_tokens' ? -5 - s.input : s.flaw === 'absurd_tokens' ? 5e9 + s.input : s.input),
    },
    { key: 'gen_ai.usage.output_tokens', value: tokens(s.output) },
  ];
  for (const [key, v] of s.extra) {
    if (key.startsWith('gen_ai') || key.startsWith('tokenmeter') || key.startsWith('llm') || key.includes('.'))
      continue;
    attrs.push({
      key: `x.${key}`,
      value:
        typeof v === 'string'
          ? { stringValue: v }
          : typeof v === 'boolean'
            ? { boolValue: v }
            : Number.isInteger(v)
              ? { intValue: v }
              : { doubleValue: v },
    });
  }
  if (s.flaw === 'too_many_attributes') {
    for (let i = 0; i < LIMITS.attributes + 3; i++) attrs.push({ key: `pad.${i}`, value: { intValue: i } });
  }
  if (s.flaw === 'attribute_too_long')
    attrs.push({ key: 'x.long', value: { stringValue: 'y'.repeat(LIMITS.length + 1) } });
  return attrs;
}

function ids(s: GenSpan): { traceId: string; spanId: string } {
  return {
    traceId: s.flaw === 'bad_trace_id' ? s.traceId.slice(0, 30) : s.traceId,
    spanId: s.flaw === 'zero_span_id' ? '0000000000000000' : s.spanId,
  };
}

function startNs(s: GenSpan): bigint {
  const ms = s.flaw === 'future_timestamp' ? NOW + 3 * 86_400_000 + (s.startMs % 1000) : s.startMs;
  return BigInt(ms) * 1_000_000n;
}

function encode(spans: GenSpan[], encoding: 'json' | 'protobuf'): Buffer {
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz-svc' } }] };
  if (encoding === 'json') {
    const body = {
      resourceSpans: [
        {
          resource,
          scopeSpans: [
            {
              scope: { name: 'fuzz' },
              spans: spans.map((s) => ({
                ...ids(s),
                name: s.name,
                kind: s.flaw === 'bad_kind' ? 9 + s.kind : s.kind,
                startTimeUnixNano: String(startNs(s)),
                endTimeUnixNano: String(startNs(s) + BigInt(s.durationMs) * 1_000_000n + 1n),
                attributes: attributesOf(s).map((a) =>
                  Number.isNaN(a.value.doubleValue) ? { key: a.key, value: { doubleValue: 'NaN' } } : a,
                ),
              })),
            },
          ],
        },
      ],
    };
    return Buffer.from(JSON.stringify(body));
  }
  const message = Request.fromObject({
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope: { name: 'fuzz' },
            spans: spans.map((s) => {
              const { traceId, spanId } = ids(s);
              return {
                traceId: Buffer.from(traceId, 'hex'),
                spanId: Buffer.from(spanId, 'hex'),
                name: s.name,
                kind: s.flaw === 'bad_kind' ? 9 + s.kind : s.kind,
                startTimeUnixNano: String(startNs(s)),
                endTimeUnixNano: String(startNs(s) + BigInt(s.durationMs) * 1_000_000n + 1n),
                attributes: attributesOf(s),
              };
            }),
          },
        ],
      },
    ],
  });
  return Buffer.from(Request.encode(message).finish());
}

function mutate(body: Buffer, m: Mutation): Buffer {
  if (m.kind === 'none' || body.length === 0) return body;
  if (m.kind === 'truncate') return body.subarray(0, m.at % body.length);
  if (m.kind === 'splice') {
    const at = m.at % body.length;
    return Buffer.concat([body.subarray(0, at), Buffer.from(m.junk), body.subarray(at)]);
  }
  const out = Buffer.from(body);
  m.at.forEach((a, i) => {
    out[a % out.length] = m.to[i]!;
  });
  return out;
}

let dir: string;
let running: Running;
let key: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-fuzz-'));
  running = await startServer(
    readConfig({
      TOKENMETER_DATA_DIR: dir,
      TOKENMETER_ADMIN_KEY: ADMIN,
      TOKENMETER_BATCH_MAX_DELAY_MS: '5',
      TOKENMETER_RATE_LIMIT_RPS: '0',
      TOKENMETER_STATS_INTERVAL_MS: '0',
      TOKENMETER_MAX_SPANS_PER_REQUEST: String(LIMITS.spans),
      TOKENMETER_MAX_ATTRIBUTES_PER_SPAN: String(LIMITS.attributes),
      TOKENMETER_MAX_ATTRIBUTE_LENGTH: String(LIMITS.length),
      TOKENMETER_MAX_BODY_BYTES: String(256 * 1024),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
    }),
  );
  ({ key } = await running.keyStore.create({ tenant: 'fuzz', role: 'ingest', name: 'fuzz' }, 'test'));
});

afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(body: Buffer, encoding: 'json' | 'protobuf', gzip: boolean) {
  const res = await fetch(`${running.url}/v1/traces`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: gzip ? gzipSync(body) : body,
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

function messageOf(body: Buffer, encoding: 'json' | 'protobuf'): string {
  if (encoding === 'json') return String((JSON.parse(body.toString()) as { message?: string }).message ?? '');
  return decodeStatus(body).message;
}

describe('fuzzing the OTLP receiver', () => {
  it(`survives ${RUNS * PER_RUN} generated and mutated payloads with the right answer to each`, async () => {
    const kept = new Set<string>();
    const tally = { payloads: 0, ok: 0, partial: 0, rejected400: 0, tooLarge413: 0, spansKept: 0, spansRejected: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { minLength: PER_RUN, maxLength: PER_RUN }), async (payloads) => {
        await pool(payloads, PER_RUN, async (p) => {
          tally.payloads++;
          const encoded = encode(p.spans, p.encoding);
          const body = mutate(encoded, p.mutation);
          const res = await post(body, p.encoding, p.gzip);
          expect(res.status, `never a server error (${res.status})`).toBeLessThan(500);
          if (res.status !== 200) {
            // Every refusal is a 4xx with a reason.
            expect([400, 413]).toContain(res.status);
            expect(messageOf(res.body, p.encoding).length).toBeGreaterThan(0);
            if (res.status === 400) tally.rejected400++;
            else tally.tooLarge413++;
          } else tally.ok++;
          if (p.mutation.kind !== 'none' && !body.equals(encoded)) return;
          // An intact payload: over the span limit → 413; else 200 with every bad span rejected.
          if (p.spans.length > LIMITS.spans) {
            expect(res.status).toBe(413);
            return;
          }
          expect(res.status).toBe(200);
          const bad = p.spans.filter((s) => s.flaw !== 'none').length;
          const answer =
            p.encoding === 'json'
              ? (JSON.parse(res.body.toString()) as { partialSuccess?: { rejectedSpans?: string } })
              : { partialSuccess: { rejectedSpans: String(decodeResponse(res.body).rejectedSpans) } };
          expect(Number(answer.partialSuccess?.rejectedSpans ?? 0)).toBe(bad);
          if (bad > 0) tally.partial++;
          tally.spansRejected += bad;
          for (const s of p.spans) if (s.flaw === 'none') kept.add(`${s.traceId}/${s.spanId}`);
        });
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    tally.spansKept = kept.size;

    // Still alive and well, and every valid span of an intact payload is stored, once.
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    const [row] = await querySql<{ n: string; ids: string[] }>(
      running.url,
      ADMIN,
      `SELECT count() AS n, groupUniqArray(concat(TraceId, '/', SpanId)) AS ids FROM otel_traces WHERE TenantId = 'fuzz'`,
    );
    const stored = new Set(row!.ids);
    const missing = [...kept].filter((k) => !stored.has(k));
    expect(missing).toEqual([]);
    const [calls] = await querySql<{ n: string; u: string }>(
      running.url,
      ADMIN,
      `SELECT count() AS n, uniqExact(trace_id, span_id) AS u FROM ai_calls WHERE tenant = 'fuzz'`,
    );
    expect(calls!.n).toBe(calls!.u);
    // Every rejection is counted by its reason.
    const metrics = await (
      await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text();
    for (const reason of [
      'invalid_span',
      'negative_tokens',
      'absurd_tokens',
      'invalid_tokens',
      'future_timestamp',
      'too_many_attributes',
      'attribute_too_long',
    ]) {
      expect(metrics).toMatch(new RegExp(`tokenmeter_spans_rejected_total\\{reason="${reason}"\\} [1-9]`));
    }
    for (const reason of ['too_many_spans', 'invalid_json', 'invalid_protobuf']) {
      expect(metrics).toMatch(new RegExp(`tokenmeter_requests_rejected_total\\{reason="${reason}"\\} [1-9]`));
    }
    console.log(JSON.stringify({ fuzz: tally }));
  }, 900_000);

  it('answers a gzip bomb with 413, a broken gzip with 400 and an unknown media type with 415', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const res = await fetch(`${running.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(bomb.length).toBeLessThan(256 * 1024);
    expect(res.status).toBe(413);
    const broken = await fetch(`${running.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: Buffer.from('not gzip at all'),
    });
    expect(broken.status).toBe(400);
    const media = await fetch(`${running.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(media.status).toBe(415);
    const deep = await post(Buffer.from(`{"resourceSpans":${'['.repeat(50_000)}${']'.repeat(50_000)}}`), 'json', false);
    expect(deep.status).toBe(400);
  });
});
