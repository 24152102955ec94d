/**
 * The bench's OTLP requests: a few hundred made with the OTel SDK and its protobuf serializer
 * (what the OTLP/proto exporter sends), then re-sent with fresh trace and span ids and start
 * times shifted to the moment of sending (bytes patched in place), so every span is new and
 * recent and the bench's own CPU stays small. Shared by run.ts and factors.ts.
 */
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';

const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4o'],
  ['anthropic', 'claude-sonnet-4-20250514'],
  ['google', 'gemini-2.5-pro'],
  ['openai', 'text-embedding-3-small'],
] as const;

export interface Template {
  body: Buffer;
  /** Offsets of each trace id (16 bytes) and span id (8 bytes): their last 4 bytes take the request number. */
  ids: number[];
  /** Offsets of each fixed64 start/end time, and the earliest start (ns). */
  times: number[];
  startNs: bigint;
}

/** Requests of realistic GenAI spans made by the real SDK and its OTLP protobuf serializer. */
export function makeTemplates(count: number, perRequest: number): Template[] {
  const templates: Template[] = [];
  let n = 0;
  for (let t = 0; t < count; t++) {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': `svc-${t % 7}`,
        'service.version': '1.4.2',
        'deployment.environment.name': 'prod',
        'host.name': 'ip-10-0-0-12',
        'telemetry.sdk.language': 'nodejs',
        'tokenmeter.tenant': `tenant-${t % 3}`,
      }),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    const tracer = provider.getTracer('@tokenmeter/instrumentation', '0.1.0');
    for (let i = 0; i < perRequest; i++, n++) {
      const [prov, model] = MODELS[n % MODELS.length]!;
      const input = 200 + ((n * 7919) % 20_000);
      tracer
        .startSpan(`chat ${model}`, {
          kind: SpanKind.CLIENT,
          attributes: {
            'gen_ai.operation.name': model.startsWith('text-embedding') ? 'embeddings' : 'chat',
            'gen_ai.provider.name': prov,
            'gen_ai.request.model': model,
            'gen_ai.response.model': model,
            'gen_ai.response.id': `chatcmpl-${n.toString(36)}`,
            'gen_ai.response.finish_reasons': ['stop'],
            'gen_ai.request.max_tokens': 1024,
            'gen_ai.request.temperature': 0.2,
            'gen_ai.request.stream': n % 2 === 0,
            'gen_ai.usage.input_tokens': input,
            'gen_ai.usage.output_tokens': 20 + (n % 900),
            'gen_ai.usage.cache_read.input_tokens': n % 3 === 0 ? Math.floor(input / 2) : 0,
            'gen_ai.response.time_to_first_chunk': 0.35,
            'server.address': 'api.example.test',
            'user.id': `user-${n % 500}`,
            'session.id': `sess-${n % 2000}`,
            'tokenmeter.team': `team-${n % 9}`,
            'tokenmeter.feature': ['chat', 'search', 'summarise', 'agent'][n % 4]!,
            'tokenmeter.request.id': `req-${n}`,
          },
        })
        .end();
    }
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!);
    const spans = decodeTraces(body, 'protobuf').spans;
    const ids: number[] = [];
    const times: number[] = [];
    let startNs = spans[0]!.startTimeUnixNano;
    const find = (bytes: Buffer, what: string) => {
      const at = body.indexOf(bytes);
      if (at < 0 || body.indexOf(bytes, at + 1) >= 0) throw new Error(`${what} not found once in the body`);
      return at;
    };
    const fixed64 = (ns: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(ns);
      return b;
    };
    for (const s of spans) {
      ids.push(find(Buffer.from(s.traceId, 'hex'), 'trace id') + 12, find(Buffer.from(s.spanId, 'hex'), 'span id') + 4);
      for (const ns of [s.startTimeUnixNano, s.endTimeUnixNano]) {
        let at = body.indexOf(fixed64(ns));
        while (at >= 0) {
          times.push(at);
          at = body.indexOf(fixed64(ns), at + 1);
        }
      }
      if (s.startTimeUnixNano < startNs) startNs = s.startTimeUnixNano;
    }
    templates.push({ body, ids, times: [...new Set(times)], startNs });
  }
  return templates;
}

/** Request `k`: its template with ids made unique to k and times moved to now. */
export function requestBody(templates: Template[], k: number): Buffer {
  const t = templates[k % templates.length]!;
  const body = Buffer.from(t.body);
  for (const at of t.ids) body.writeUInt32BE(k, at);
  const shift = BigInt(Date.now()) * 1_000_000n - t.startNs;
  for (const at of t.times) body.writeBigUInt64LE(body.readBigUInt64LE(at) + shift, at);
  return body;
}
