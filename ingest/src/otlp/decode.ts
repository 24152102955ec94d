import { isUtf8 } from 'node:buffer';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { AttrValue, Attributes, SpanInput } from '@tokenmeter/instrumentation/normalize';

/**
 * OTLP/HTTP trace request → plain spans. Protobuf is read straight from the bytes (protobuf.ts;
 * the generated decoder over the published definitions in ingest/proto remains as the reference,
 * `decodeTracesGenerated`); JSON follows the OTLP/JSON mapping
 * (lowerCamelCase names, hex trace and span ids, int64 as string or number).
 *
 * A payload whose structure is wrong throws DecodeError (→ 400 with the reason).
 * A structurally valid span with a bad field is returned in `rejected` with its
 * reason, so the valid spans beside it are kept (→ partial_success).
 *
 * What is acknowledged must be insertable, so every string is made valid Unicode here,
 * at the door, and each repair is counted by reason (`repaired`): a lone surrogate
 * (JSON) or an invalid UTF-8 sequence (protobuf) becomes U+FFFD; an attribute with an
 * empty key is dropped; of two attributes with the same key the last is kept. Control
 * characters, NUL included, are kept as sent: JSONEachRow escapes them and ClickHouse
 * stores them (test/ingest/poison.test.ts).
 */

import {
  DecodeError,
  type DecodedTraces,
  enumValue,
  FieldError,
  id,
  int64,
  MAX_DATETIME64_NS,
  nanos,
  type RepairReason,
  SPAN_KIND_NAMES,
  STATUS_CODE_NAMES,
} from './fields.js';
import { decodeProtobufTraces } from './protobuf.js';

export { DecodeError, type DecodedTraces, type RepairReason, type SpanRejection } from './fields.js';

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
root.loadSync('otlp_trace_service.proto', { keepCase: false });
const RequestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ResponseType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
root.loadSync('google_rpc_status.proto');
const StatusType = root.lookupType('google.rpc.Status');

export type OtlpEncoding = 'protobuf' | 'json';

export function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

export function decodeTraces(body: Buffer, encoding: OtlpEncoding): DecodedTraces {
  if (encoding === 'protobuf') return decodeProtobufTraces(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new DecodeError(`invalid OTLP JSON: ${(err as Error).message}`, 'invalid_json');
  }
  if (!isObject(parsed)) throw new DecodeError('invalid OTLP JSON: the body must be an object', 'invalid_json');
  return walk(parsed as Json, true);
}

/**
 * The same request through the generated decoder (protobufjs) and the walk: what protobuf.ts
 * reads straight from the bytes must equal it (decode.test.ts), and bench/ingest/run.ts compares both.
 */
export function decodeTracesGenerated(body: Buffer): DecodedTraces {
  let message: protobuf.Message;
  const reader = new CheckedReader(body);
  try {
    message = RequestType.decode(reader);
  } catch (err) {
    throw new DecodeError(`invalid OTLP protobuf: ${(err as Error).message}`, 'invalid_protobuf');
  }
  const out = walk(message as unknown as Json, false);
  if (reader.invalidUtf8 > 0) out.repaired.invalid_utf8 = (out.repaired.invalid_utf8 ?? 0) + reader.invalidUtf8;
  return out;
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

/**
 * protobufjs's Buffer reader, but a string that is not valid UTF-8 is repaired and counted
 * instead of failing the whole request (proto3 strings are verified by default): Node
 * decodes it with U+FFFD for each bad sequence, a UTF-8-encoded lone surrogate included.
 * protobufjs encodes an app's lone surrogate that way, so this is the protobuf side of the
 * string cut inside an emoji.
 */
class CheckedReader extends protobuf.BufferReader {
  invalidUtf8 = 0;

  override string(): string {
    const bytes = this.bytes() as Buffer;
    if (!isUtf8(bytes)) this.invalidUtf8++;
    return bytes.toString('utf8');
  }

  override stringVerify(): string {
    return this.string();
  }
}

type Json = Record<string, unknown>;

/** What the walk over one request carries: its encoding, how it fails, and the repairs made. */
interface Walk {
  isJson: boolean;
  fail: (path: string, problem: string) => never;
  repaired: DecodedTraces['repaired'];
}

function walk(req: Json, isJson: boolean): DecodedTraces {
  const out: DecodedTraces = { spans: [], rejected: [], repaired: {} };
  const fail = (path: string, problem: string): never => {
    throw new DecodeError(`${path}: ${problem}`, isJson ? 'invalid_json' : 'invalid_protobuf');
  };
  const w: Walk = { isJson, fail, repaired: out.repaired };
  const text = (v: unknown) => textOf(v, w);
  const resourceSpans = list(req.resourceSpans, 'resourceSpans', fail);
  resourceSpans.forEach((rs, i) => {
    const rsPath = `resourceSpans[${i}]`;
    if (!isObject(rs)) fail(rsPath, 'must be an object');
    const r = rs as Json;
    const resource = isObject(r.resource) ? attributes((r.resource as Json).attributes, `${rsPath}.resource`, w) : {};
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
          out.spans.push(span(sp as Json, resource, scope, path, w));
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
  w: Walk,
): SpanInput {
  const { isJson, fail } = w;
  const text = (v: unknown) => textOf(v, w);
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
    attributes: attributes(s.attributes, path, w),
    resource,
    scope,
    status: { code: statusCode, message: text(statusObj.message) },
    events: list(s.events, `${path}.events`, fail).map((e, n) => {
      const ev = (isObject(e) ? e : {}) as Json;
      return {
        name: text(ev.name),
        timeUnixNano: nanos(ev.timeUnixNano, `events[${n}].timeUnixNano`, MAX_DATETIME64_NS),
        attributes: attributes(ev.attributes, `${path}.events[${n}]`, w),
      };
    }),
    links: list(s.links, `${path}.links`, fail).map((l, n) => {
      const ln = (isObject(l) ? l : {}) as Json;
      return {
        traceId: id(ln.traceId, 16, `links[${n}].traceId`, isJson),
        spanId: id(ln.spanId, 8, `links[${n}].spanId`, isJson),
        traceState: text(ln.traceState),
        attributes: attributes(ln.attributes, `${path}.links[${n}]`, w),
      };
    }),
  };
}

/**
 * An attribute list as a map with no prototype, so any key (`__proto__` too) is data. An empty
 * key is dropped (the OTel spec forbids it); a repeated key keeps its last value. Both counted.
 */
function attributes(v: unknown, path: string, w: Walk): Attributes {
  const out: Attributes = Object.create(null) as Attributes;
  for (const [i, kv] of list(v, `${path}.attributes`, w.fail).entries()) {
    if (!isObject(kv) || typeof (kv as Json).key !== 'string')
      w.fail(`${path}.attributes[${i}]`, 'expected {key, value}');
    const { key: rawKey, value } = kv as { key: string; value?: unknown };
    const key = textOf(rawKey, w);
    if (key === '') {
      count(w, 'empty_key');
      continue;
    }
    if (Object.hasOwn(out, key)) count(w, 'duplicate_key');
    out[key] = anyValue(value, w);
  }
  return out;
}

function anyValue(v: unknown, w: Walk): AttrValue {
  if (!isObject(v)) return null;
  // protobufjs keeps proto3 defaults on the prototype: only own properties were sent.
  const a = v as Json;
  const has = (k: string) => Object.hasOwn(a, k) && a[k] !== null && a[k] !== undefined;
  if (has('stringValue')) return textOf(a.stringValue, w);
  if (has('boolValue')) return a.boolValue === true;
  if (has('intValue')) return int64(a.intValue);
  if (has('doubleValue')) {
    const d = typeof a.doubleValue === 'string' ? Number(a.doubleValue) : a.doubleValue;
    return typeof d === 'number' ? d : null;
  }
  if (has('arrayValue') && isObject(a.arrayValue)) {
    const values = (a.arrayValue as Json).values;
    return Array.isArray(values) ? values.map((x) => anyValue(x, w)) : [];
  }
  if (has('kvlistValue') && isObject(a.kvlistValue)) {
    const out = Object.create(null) as Record<string, AttrValue>;
    const values = (a.kvlistValue as Json).values;
    if (Array.isArray(values)) {
      for (const kv of values) if (isObject(kv)) out[textOf((kv as Json).key, w)] = anyValue((kv as Json).value, w);
    }
    return out;
  }
  if (has('bytesValue')) {
    const b = a.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b).toString('base64') : textOf(b, w);
  }
  return null;
}

function list(v: unknown, path: string, fail: (p: string, m: string) => never): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return v as unknown[];
}

/** A lone surrogate: a high one not followed by a low one, or a low one not after a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A string field as valid Unicode: lone surrogates (JSON.stringify writes them for a string
 * cut inside an emoji, and ClickHouse refuses the row) become U+FFFD, counted.
 */
function textOf(v: unknown, w: Walk): string {
  if (typeof v !== 'string') return '';
  LONE_SURROGATE.lastIndex = 0;
  if (!LONE_SURROGATE.test(v)) return v;
  count(w, 'lone_surrogate');
  return v.replace(LONE_SURROGATE, '\ufffd');
}

function count(w: Walk, reason: RepairReason): void {
  w.repaired[reason] = (w.repaired[reason] ?? 0) + 1;
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
