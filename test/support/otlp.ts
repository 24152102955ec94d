import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * OTLP/HTTP requests written by hand, in JSON or protobuf, for tests that must send what
 * no SDK would: any attribute value, any id, any timestamp. The protobuf side uses the
 * published OTLP definitions in ingest/proto, as the service does.
 */
export type OtlpValue =
  | { stringValue: string }
  | { intValue: string | number }
  | { doubleValue: number | string }
  | { boolValue: boolean }
  | { bytesValue: string }
  | { arrayValue: { values: OtlpValue[] } }
  | { kvlistValue: { values: OtlpAttribute[] } }
  | Record<string, never>;
export interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  events?: { name: string; timeUnixNano: string; attributes?: OtlpAttribute[] }[];
  status?: { code?: number; message?: string };
}

export function otlpRequest(spans: OtlpSpan[], resource: OtlpAttribute[] = [svcAttr('poison-svc')]) {
  return { resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope: { name: 'test' }, spans }] }] };
}

export const svcAttr = (name: string): OtlpAttribute => ({ key: 'service.name', value: { stringValue: name } });
export const str = (key: string, v: string): OtlpAttribute => ({ key, value: { stringValue: v } });
export const int = (key: string, v: number | string): OtlpAttribute => ({ key, value: { intValue: v } });

let seq = 0;
/** A fresh span id (16 hex) and trace id (32 hex) that say which test run made them. */
export function freshIds(run: number): { traceId: string; spanId: string } {
  seq++;
  const s = seq.toString(16).padStart(8, '0');
  const r = run.toString(16).padStart(8, '0');
  return { traceId: `${r}${s}${'0'.repeat(15)}1`, spanId: `${r}${s}` };
}

/** A gpt-4o chat call as OTLP/JSON, with extra attributes appended (later keys win). */
export function chatSpan(
  run: number,
  opts: { input?: number; output?: number; startMs?: number; extra?: OtlpAttribute[]; name?: string } = {},
): OtlpSpan {
  const start = BigInt(opts.startMs ?? Date.now() - 1000) * 1_000_000n;
  return {
    ...freshIds(run),
    name: opts.name ?? 'chat gpt-4o',
    kind: 3,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + 250_000_000n),
    attributes: [
      str('gen_ai.provider.name', 'openai'),
      str('gen_ai.operation.name', 'chat'),
      str('gen_ai.request.model', 'gpt-4o'),
      int('gen_ai.usage.input_tokens', opts.input ?? 1000),
      int('gen_ai.usage.output_tokens', opts.output ?? 500),
      ...(opts.extra ?? []),
    ],
  };
}

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ingest', 'proto');
const root = new protobuf.Root();
root.resolvePath = (_o, target) => join(PROTO_DIR, target);
root.loadSync('otlp_trace_service.proto', { keepCase: false });
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

/** The same request as OTLP protobuf (hex ids → bytes, decimal strings → int64). */
export function toProtobuf(request: ReturnType<typeof otlpRequest>): Buffer {
  const bytes = (hex: string) => Buffer.from(hex, 'hex');
  const value = (v: OtlpValue): Record<string, unknown> => {
    if ('bytesValue' in v) return { bytesValue: Buffer.from(v.bytesValue as string, 'base64') };
    if ('doubleValue' in v) return { doubleValue: Number(v.doubleValue) };
    if ('arrayValue' in v)
      return { arrayValue: { values: (v.arrayValue as { values: OtlpValue[] }).values.map(value) } };
    if ('kvlistValue' in v)
      return { kvlistValue: { values: attrs((v.kvlistValue as { values: OtlpAttribute[] }).values) } };
    return v;
  };
  const attrs = (a: OtlpAttribute[] = []) => a.map((kv) => ({ key: kv.key, value: value(kv.value) }));
  const rs = request.resourceSpans.map((r) => ({
    resource: { attributes: attrs(r.resource.attributes) },
    scopeSpans: r.scopeSpans.map((ss) => ({
      scope: ss.scope,
      spans: ss.spans.map((s) => ({
        ...s,
        traceId: bytes(s.traceId),
        spanId: bytes(s.spanId),
        attributes: attrs(s.attributes),
        events: (s.events ?? []).map((e) => ({ ...e, attributes: attrs(e.attributes) })),
      })),
    })),
  }));
  return Buffer.from(Request.encode(Request.fromObject({ resourceSpans: rs })).finish());
}

export async function postTraces(
  url: string,
  key: string,
  body: Buffer | object,
): Promise<{ status: number; rejected: number; message: string }> {
  const isProto = Buffer.isBuffer(body);
  const res = await fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': isProto ? 'application/x-protobuf' : 'application/json',
    },
    body: isProto ? body : JSON.stringify(body),
  });
  const raw = Buffer.from(await res.arrayBuffer());
  if (isProto) {
    const { decodeResponse, decodeStatus } = await import('../../ingest/src/otlp/decode.ts');
    if (res.status !== 200) return { status: res.status, rejected: 0, message: decodeStatus(raw).message };
    const r = decodeResponse(raw);
    return { status: res.status, rejected: r.rejectedSpans, message: r.errorMessage };
  }
  const json = JSON.parse(raw.toString()) as {
    partialSuccess?: { rejectedSpans?: string; errorMessage?: string };
    message?: string;
  };
  return {
    status: res.status,
    rejected: Number(json.partialSuccess?.rejectedSpans ?? 0),
    message: json.partialSuccess?.errorMessage ?? json.message ?? '',
  };
}

/** Every sample of a metric from a running tokenmeter's /metrics, by its label set ('' when none). */
export async function metricSamples(url: string, key: string, name: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

/**
 * What a sent string is once the service repaired it: in JSON a lone surrogate arrives as an
 * escape and becomes U+FFFD; in protobuf the sender's encoder (protobufjs, as in the OTel
 * exporters) writes it as UTF-8 bytes of a surrogate, which Node's decoder turns into U+FFFDs.
 */
export const REPAIRED = {
  json: (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  protobuf: (s: string) => {
    const buf = Buffer.alloc(protobuf.util.utf8.length(s));
    protobuf.util.utf8.write(s, buf, 0);
    return buf.toString('utf8');
  },
};
