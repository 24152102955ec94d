import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { AttrValue, Attributes, SpanInput } from '@tokenmeter/instrumentation/normalize';

/**
 * OTLP/HTTP trace request → plain spans. Protobuf goes through protobufjs with the
 * published OTLP definitions (ingest/proto); JSON follows the OTLP/JSON mapping
 * (lowerCamelCase names, hex trace and span ids, int64 as string or number).
 *
 * A payload whose structure is wrong throws DecodeError (→ 400 with the reason).
 * A structurally valid span with a bad field is returned in `rejected` with its
 * reason, so the valid spans beside it are kept (→ partial_success).
 */

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
root.loadSync('otlp_trace_service.proto', { keepCase: false });
const RequestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ResponseType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
root.loadSync('google_rpc_status.proto');
const StatusType = root.lookupType('google.rpc.Status');

export class DecodeError extends Error {
  constructor(
    message: string,
    readonly reason: 'invalid_protobuf' | 'invalid_json' | 'unsupported_media_type',
  ) {
    super(message);
  }
}

export interface SpanRejection {
  reason: string;
  detail: string;
}

export interface DecodedTraces {
  spans: SpanInput[];
  rejected: SpanRejection[];
}

export type OtlpEncoding = 'protobuf' | 'json';

export function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

export function decodeTraces(body: Buffer, encoding: OtlpEncoding): DecodedTraces {
  if (encoding === 'protobuf') {
    let message: protobuf.Message;
    try {
      message = RequestType.decode(body);
    } catch (err) {
      throw new DecodeError(`invalid OTLP protobuf: ${(err as Error).message}`, 'invalid_protobuf');
    }
    return walk(message as unknown as Json, false);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new DecodeError(`invalid OTLP JSON: ${(err as Error).message}`, 'invalid_json');
  }
  if (!isObject(parsed)) throw new DecodeError('invalid OTLP JSON: the body must be an object', 'invalid_json');
  return walk(parsed as Json, true);
}

/** The spec's ExportTraceServiceResponse, in the request's encoding. */
export function encodeResponse(
  encoding: OtlpEncoding,
  rejectedSpans: number,
  errorMessage: string,
): { body: Buffer; contentType: string } {
  const partial = rejectedSpans > 0 || errorMessage ? { rejectedSpans, errorMessage } : undefined;
  if (encoding === 'json') {
    const body = partial ? { partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } } : {};
    return { body: Buffer.from(JSON.stringify(body)), contentType: 'application/json' };
  }
  const msg = ResponseType.create(partial ? { partialSuccess: partial } : {});
  return { body: Buffer.from(ResponseType.encode(msg).finish()), contentType: 'application/x-protobuf' };
}

/** A google.rpc.Status body for a refused request, as OTLP/HTTP asks (code 3 INVALID_ARGUMENT, 14 UNAVAILABLE). */
export function encodeStatus(
  encoding: OtlpEncoding,
  code: number,
  message: string,
): { body: Buffer; contentType: string } {
  if (encoding === 'json')
    return { body: Buffer.from(JSON.stringify({ code, message })), contentType: 'application/json' };
  return {
    body: Buffer.from(StatusType.encode(StatusType.create({ code, message })).finish()),
    contentType: 'application/x-protobuf',
  };
}

/** Decode a google.rpc.Status body (for clients and tests). */
export function decodeStatus(body: Buffer): { code: number; message: string } {
  const m = StatusType.toObject(StatusType.decode(body)) as { code?: number; message?: string };
  return { code: m.code ?? 0, message: m.message ?? '' };
}

/** Decode an ExportTraceServiceResponse (for clients and tests). */
export function decodeResponse(body: Buffer): { rejectedSpans: number; errorMessage: string } {
  const m = ResponseType.toObject(ResponseType.decode(body), { longs: Number }) as {
    partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
  };
  return { rejectedSpans: m.partialSuccess?.rejectedSpans ?? 0, errorMessage: m.partialSuccess?.errorMessage ?? '' };
}

type Json = Record<string, unknown>;

class FieldError extends Error {}

function walk(req: Json, isJson: boolean): DecodedTraces {
  const out: DecodedTraces = { spans: [], rejected: [] };
  const fail = (path: string, problem: string): never => {
    throw new DecodeError(`${path}: ${problem}`, isJson ? 'invalid_json' : 'invalid_protobuf');
  };
  const resourceSpans = list(req.resourceSpans, 'resourceSpans', fail);
  resourceSpans.forEach((rs, i) => {
    const rsPath = `resourceSpans[${i}]`;
    if (!isObject(rs)) fail(rsPath, 'must be an object');
    const r = rs as Json;
    const resource = isObject(r.resource)
      ? attributes((r.resource as Json).attributes, `${rsPath}.resource`, isJson, fail)
      : {};
    list(r.scopeSpans, `${rsPath}.scopeSpans`, fail).forEach((ss, j) => {
      const ssPath = `${rsPath}.scopeSpans[${j}]`;
      if (!isObject(ss)) fail(ssPath, 'must be an object');
      const s = ss as Json;
      const scopeObj = isObject(s.scope) ? (s.scope as Json) : {};
      const scope = { name: text(scopeObj.name), version: text(scopeObj.version) };
      list(s.spans, `${ssPath}.spans`, fail).forEach((sp, k) => {
        const path = `${ssPath}.spans[${k}]`;
        if (!isObject(sp)) fail(path, 'must be an object');
        try {
          out.spans.push(span(sp as Json, resource, scope, path, isJson, fail));
        } catch (err) {
          if (!(err instanceof FieldError)) throw err;
          out.rejected.push({ reason: 'invalid_span', detail: `${path}: ${err.message}` });
        }
      });
    });
  });
  return out;
}

function span(
  s: Json,
  resource: Attributes,
  scope: { name: string; version: string },
  path: string,
  isJson: boolean,
  fail: (path: string, problem: string) => never,
): SpanInput {
  const traceId = id(s.traceId, 16, 'traceId', isJson);
  const spanId = id(s.spanId, 8, 'spanId', isJson);
  const parent = s.parentSpanId;
  // proto3 leaves an absent bytes field as an empty array; JSON as '' or nothing.
  const isEmpty = parent === undefined || parent === null || (parent as { length?: number }).length === 0;
  const parentSpanId = isEmpty ? '' : id(parent, 8, 'parentSpanId', isJson);
  const start = nanos(s.startTimeUnixNano, 'startTimeUnixNano');
  const end = nanos(s.endTimeUnixNano, 'endTimeUnixNano');
  const statusObj = isObject(s.status) ? (s.status as Json) : {};
  const kind = enumValue(s.kind, SPAN_KIND_NAMES, 'kind');
  const statusCode = enumValue(statusObj.code, STATUS_CODE_NAMES, 'status.code');
  return {
    traceId,
    spanId,
    parentSpanId,
    traceState: text(s.traceState),
    name: text(s.name),
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: attributes(s.attributes, path, isJson, fail),
    resource,
    scope,
    status: { code: statusCode, message: text(statusObj.message) },
    events: list(s.events, `${path}.events`, fail).map((e, n) => {
      const ev = (isObject(e) ? e : {}) as Json;
      return {
        name: text(ev.name),
        timeUnixNano: nanos(ev.timeUnixNano, `events[${n}].timeUnixNano`),
        attributes: attributes(ev.attributes, `${path}.events[${n}]`, isJson, fail),
      };
    }),
    links: list(s.links, `${path}.links`, fail).map((l, n) => {
      const ln = (isObject(l) ? l : {}) as Json;
      return {
        traceId: id(ln.traceId, 16, `links[${n}].traceId`, isJson),
        spanId: id(ln.spanId, 8, `links[${n}].spanId`, isJson),
        traceState: text(ln.traceState),
        attributes: attributes(ln.attributes, `${path}.links[${n}]`, isJson, fail),
      };
    }),
  };
}

const SPAN_KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const STATUS_CODE_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

function enumValue(v: unknown, names: string[], field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return v;
  if (typeof v === 'string' && names.includes(v)) return names.indexOf(v);
  throw new FieldError(`${field}: unknown enum value ${JSON.stringify(v)}`);
}

const HEX = /^[0-9a-f]*$/i;

function id(v: unknown, bytes: number, field: string, isJson: boolean): string {
  let hex: string;
  if (isJson) {
    if (typeof v !== 'string' || !HEX.test(v)) throw new FieldError(`${field}: expected ${bytes * 2} hex characters`);
    hex = v.toLowerCase();
  } else {
    if (!(v instanceof Uint8Array)) throw new FieldError(`${field}: missing`);
    hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  }
  if (hex.length !== bytes * 2) throw new FieldError(`${field}: expected ${bytes} bytes, got ${hex.length / 2}`);
  if (/^0+$/.test(hex)) throw new FieldError(`${field}: must not be all zeros`);
  return hex;
}

const MAX_U64 = 2n ** 64n - 1n;

function nanos(v: unknown, field: string): bigint {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^\d{1,20}$/.test(v)) n = BigInt(v);
  else if (isLong(v)) n = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  else throw new FieldError(`${field}: expected an unsigned 64-bit nanosecond timestamp`);
  if (n < 0n || n > MAX_U64) throw new FieldError(`${field}: out of range`);
  if (n === 0n) throw new FieldError(`${field}: missing`);
  return n;
}

function isLong(v: unknown): v is { low: number; high: number; unsigned: boolean } {
  return isObject(v) && typeof (v as Json).low === 'number' && typeof (v as Json).high === 'number';
}

function attributes(v: unknown, path: string, isJson: boolean, fail: (p: string, m: string) => never): Attributes {
  const out: Attributes = {};
  for (const [i, kv] of list(v, `${path}.attributes`, fail).entries()) {
    if (!isObject(kv) || typeof (kv as Json).key !== 'string')
      fail(`${path}.attributes[${i}]`, 'expected {key, value}');
    const { key, value } = kv as { key: string; value?: unknown };
    out[key] = anyValue(value, isJson);
  }
  return out;
}

function anyValue(v: unknown, isJson: boolean): AttrValue {
  if (!isObject(v)) return null;
  // protobufjs keeps proto3 defaults on the prototype: only own properties were sent.
  const a = v as Json;
  const has = (k: string) => Object.hasOwn(a, k) && a[k] !== null && a[k] !== undefined;
  if (has('stringValue')) return text(a.stringValue);
  if (has('boolValue')) return a.boolValue === true;
  if (has('intValue')) return int64(a.intValue);
  if (has('doubleValue')) {
    const d = typeof a.doubleValue === 'string' ? Number(a.doubleValue) : a.doubleValue;
    return typeof d === 'number' ? d : null;
  }
  if (has('arrayValue') && isObject(a.arrayValue)) {
    const values = (a.arrayValue as Json).values;
    return Array.isArray(values) ? values.map((x) => anyValue(x, isJson)) : [];
  }
  if (has('kvlistValue') && isObject(a.kvlistValue)) {
    const out: Record<string, AttrValue> = {};
    const values = (a.kvlistValue as Json).values;
    if (Array.isArray(values)) {
      for (const kv of values) if (isObject(kv)) out[text((kv as Json).key)] = anyValue((kv as Json).value, isJson);
    }
    return out;
  }
  if (has('bytesValue')) {
    const b = a.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b).toString('base64') : text(b);
  }
  return null;
}

/** int64 attribute: a number when it is safe, else its decimal string (never a rounded number). */
function int64(v: unknown): AttrValue {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (isLong(v)) {
    const big = BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0));
    const n = Number(big);
    return Number.isSafeInteger(n) ? n : big.toString();
  }
  return null;
}

function list(v: unknown, path: string, fail: (p: string, m: string) => never): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return v as unknown[];
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
