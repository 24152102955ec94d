import { isUtf8 } from 'node:buffer';
import type { AttrValue, Attributes, SpanInput } from '@tokenmeter/instrumentation/normalize';
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

/**
 * OTLP/HTTP protobuf trace request → plain spans, read straight from the bytes: only the fields a
 * span needs, no message objects in between (the generated decoder built ~60 objects a span that
 * the walk in decode.ts then copied; bench/ingest/README.md has the figures). It returns what
 * decode.ts returns for the same request through protobufjs (decode.test.ts checks both on
 * generated requests): the same spans, the same rejections with their paths, the same repairs.
 *
 * Wire format (protobuf encoding spec): a field is a varint key (number << 3 | wire type) then a
 * varint (0), 8 bytes (1), a length and that many bytes (2) or 4 bytes (5); groups (3, 4) are
 * skipped; unknown fields are skipped. A field seen twice keeps its last value; a repeated field
 * appends. A structure that cannot be read (cut short, a bad wire type) is a DecodeError (400).
 */

/** Fields of the OTLP messages read here (opentelemetry/proto/trace/v1/trace.proto, common/v1). */
const F = {
  RequestResourceSpans: 1,
  ResourceSpansResource: 1,
  ResourceSpansScopeSpans: 2,
  ResourceAttributes: 1,
  ScopeSpansScope: 1,
  ScopeSpansSpans: 2,
  ScopeName: 1,
  ScopeVersion: 2,
  SpanTraceId: 1,
  SpanSpanId: 2,
  SpanTraceState: 3,
  SpanParentSpanId: 4,
  SpanName: 5,
  SpanKind: 6,
  SpanStart: 7,
  SpanEnd: 8,
  SpanAttributes: 9,
  SpanEvents: 11,
  SpanLinks: 13,
  SpanStatus: 15,
  EventTime: 1,
  EventName: 2,
  EventAttributes: 3,
  LinkTraceId: 1,
  LinkSpanId: 2,
  LinkTraceState: 3,
  LinkAttributes: 4,
  StatusMessage: 2,
  StatusCode: 3,
  KeyValueKey: 1,
  KeyValueValue: 2,
  AnyString: 1,
  AnyBool: 2,
  AnyInt: 3,
  AnyDouble: 4,
  AnyArray: 5,
  AnyKvList: 6,
  AnyBytes: 7,
  ListValues: 1,
} as const;

/** schema_url of ResourceSpans and ScopeSpans: read (its repairs counted), not kept. */
const SCHEMA_URL = 3;
const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

class Reader {
  pos = 0;
  invalidUtf8 = 0;
  constructor(readonly buf: Buffer) {}

  fail(problem: string): never {
    throw new DecodeError(`invalid OTLP protobuf: ${problem} at offset ${this.pos}`, 'invalid_protobuf');
  }

  /** A varint's low 32 bits, unsigned (tags, lengths, enums as protobufjs reads them). */
  uint32(end: number): number {
    const buf = this.buf;
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) this.fail('index out of range');
      const b = buf[this.pos++]!;
      if (shift < 32) value |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) return value >>> 0;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A varint as its low and high 32-bit halves (int64 values). */
  int64Parts(end: number): { low: number; high: number } {
    const buf = this.buf;
    let low = 0;
    let high = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) this.fail('index out of range');
      const b = buf[this.pos++]!;
      if (i < 4) low |= (b & 0x7f) << (i * 7);
      else if (i === 4) {
        low |= (b & 0x0f) << 28;
        high |= (b & 0x7f) >> 4;
      } else high |= (b & 0x7f) << (i * 7 - 32);
      if (b < 0x80) return { low: low >>> 0, high: high >>> 0 };
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** The end of a length-delimited field starting here. */
  lengthEnd(end: number): number {
    const n = this.uint32(end);
    const stop = this.pos + n;
    if (stop > end) this.fail(`length ${n} beyond the message`);
    return stop;
  }

  fixed64(end: number): bigint {
    if (this.pos + 8 > end) this.fail('index out of range');
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  double(end: number): number {
    if (this.pos + 8 > end) this.fail('index out of range');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A string field: invalid UTF-8 becomes U+FFFD and is counted (as decode.ts's CheckedReader does). */
  string(end: number): string {
    const stop = this.lengthEnd(end);
    const s = this.buf.toString('utf8', this.pos, stop);
    // Only a string holding U+FFFD can have been repaired: check the bytes then.
    if (s.includes('\ufffd') && !isUtf8(this.buf.subarray(this.pos, stop))) this.invalidUtf8++;
    this.pos = stop;
    return s;
  }

  bytes(end: number): Uint8Array {
    const stop = this.lengthEnd(end);
    const b = this.buf.subarray(this.pos, stop);
    this.pos = stop;
    return b;
  }

  skip(wireType: number, end: number, depth = 0): void {
    switch (wireType) {
      case VARINT:
        this.uint32(end);
        return;
      case FIXED64:
        if (this.pos + 8 > end) this.fail('index out of range');
        this.pos += 8;
        return;
      case BYTES:
        this.pos = this.lengthEnd(end);
        return;
      case FIXED32:
        if (this.pos + 4 > end) this.fail('index out of range');
        this.pos += 4;
        return;
      case 3: {
        if (depth > 100) this.fail('groups nested too deeply');
        for (;;) {
          const tag = this.uint32(end);
          if ((tag & 7) === 4) return;
          this.skip(tag & 7, end, depth + 1);
        }
      }
      default:
        this.fail(`invalid wire type ${wireType}`);
    }
  }

  /** A known field must come with the wire type it is declared with: else the request is refused. */
  expect(wireType: number, want: number): boolean {
    if (wireType === want) return true;
    this.fail(`wire type ${wireType} for a field of wire type ${want}`);
  }
}

/** A key and value as sent, before the map is made (so repairs are counted as decode.ts counts them). */
type KeyValues = [string, AttrValue][];

interface RawSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  traceState: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  attributes: KeyValues;
  statusCode: number;
  statusMessage: string;
  events: { name: string; time: bigint; attributes: KeyValues }[];
  links: { traceId: Uint8Array; spanId: Uint8Array; traceState: string; attributes: KeyValues }[];
}

const EMPTY: Uint8Array = new Uint8Array(0);

export function decodeProtobufTraces(body: Buffer): DecodedTraces {
  const r = new Reader(body);
  const out: DecodedTraces = { spans: [], rejected: [], repaired: {} };
  const count = (reason: RepairReason) => {
    out.repaired[reason] = (out.repaired[reason] ?? 0) + 1;
  };
  let i = 0;
  while (r.pos < body.length) {
    const tag = r.uint32(body.length);
    if (tag >>> 3 === F.RequestResourceSpans && r.expect(tag & 7, BYTES)) {
      resourceSpans(r, r.lengthEnd(body.length), `resourceSpans[${i++}]`, out, count);
    } else r.skip(tag & 7, body.length);
  }
  if (r.invalidUtf8 > 0) out.repaired.invalid_utf8 = (out.repaired.invalid_utf8 ?? 0) + r.invalidUtf8;
  return out;
}

function resourceSpans(
  r: Reader,
  end: number,
  path: string,
  out: DecodedTraces,
  count: (reason: RepairReason) => void,
): void {
  let resource: KeyValues | undefined;
  const scopes: [number, number][] = [];
  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    if (field === F.ResourceSpansResource && r.expect(tag & 7, BYTES)) {
      const stop = r.lengthEnd(end);
      resource = [];
      while (r.pos < stop) {
        const t = r.uint32(stop);
        if (t >>> 3 === F.ResourceAttributes && r.expect(t & 7, BYTES)) {
          resource.push(keyValue(r, r.lengthEnd(stop)));
        } else if (t >>> 3 === 3 && r.expect(t & 7, BYTES)) {
          // entity_refs: not used, but their strings are read (and repairs counted) as protobufjs did.
          const refEnd = r.lengthEnd(stop);
          while (r.pos < refEnd) {
            const e = r.uint32(refEnd);
            if ((e & 7) === BYTES) r.string(refEnd);
            else r.skip(e & 7, refEnd);
          }
        } else r.skip(t & 7, stop);
      }
    } else if (field === F.ResourceSpansScopeSpans && r.expect(tag & 7, BYTES)) {
      const stop = r.lengthEnd(end);
      scopes.push([r.pos, stop]);
      r.pos = stop;
    } else if (field === SCHEMA_URL && r.expect(tag & 7, BYTES)) r.string(end);
    else r.skip(tag & 7, end);
  }
  const resourceMap = resource ? attributeMap(resource, count) : {};
  let j = 0;
  for (const [from, to] of scopes) {
    r.pos = from;
    scopeSpans(r, to, `${path}.scopeSpans[${j++}]`, resourceMap, out, count);
  }
  r.pos = end;
}

function scopeSpans(
  r: Reader,
  end: number,
  path: string,
  resource: Attributes,
  out: DecodedTraces,
  count: (reason: RepairReason) => void,
): void {
  const scope = { name: '', version: '' };
  const spans: [number, number][] = [];
  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    if (field === F.ScopeSpansScope && r.expect(tag & 7, BYTES)) {
      const stop = r.lengthEnd(end);
      // A scope sent twice: the last one, whole (as a message field decodes).
      scope.name = '';
      scope.version = '';
      while (r.pos < stop) {
        const t = r.uint32(stop);
        if (t >>> 3 === F.ScopeName && r.expect(t & 7, BYTES)) scope.name = r.string(stop);
        else if (t >>> 3 === F.ScopeVersion && r.expect(t & 7, BYTES)) scope.version = r.string(stop);
        else if (t >>> 3 === 3 && r.expect(t & 7, BYTES)) keyValue(r, r.lengthEnd(stop));
        else r.skip(t & 7, stop);
      }
    } else if (field === F.ScopeSpansSpans && r.expect(tag & 7, BYTES)) {
      const stop = r.lengthEnd(end);
      spans.push([r.pos, stop]);
      r.pos = stop;
    } else if (field === SCHEMA_URL && r.expect(tag & 7, BYTES)) r.string(end);
    else r.skip(tag & 7, end);
  }
  let k = 0;
  for (const [from, to] of spans) {
    r.pos = from;
    const raw = rawSpan(r, to);
    const spanPath = `${path}.spans[${k++}]`;
    try {
      out.spans.push(toSpan(raw, resource, scope, count));
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      out.rejected.push({ reason: 'invalid_span', detail: `${spanPath}: ${err.message}` });
    }
  }
  r.pos = end;
}

function rawSpan(r: Reader, end: number): RawSpan {
  const s: RawSpan = {
    traceId: EMPTY,
    spanId: EMPTY,
    parentSpanId: EMPTY,
    traceState: '',
    name: '',
    kind: 0,
    start: 0n,
    end: 0n,
    attributes: [],
    statusCode: 0,
    statusMessage: '',
    events: [],
    links: [],
  };
  while (r.pos < end) {
    const tag = r.uint32(end);
    const wt = tag & 7;
    switch (tag >>> 3) {
      case F.SpanTraceId:
        r.expect(wt, BYTES);
        s.traceId = r.bytes(end);
        break;
      case F.SpanSpanId:
        r.expect(wt, BYTES);
        s.spanId = r.bytes(end);
        break;
      case F.SpanTraceState:
        r.expect(wt, BYTES);
        s.traceState = r.string(end);
        break;
      case F.SpanParentSpanId:
        r.expect(wt, BYTES);
        s.parentSpanId = r.bytes(end);
        break;
      case F.SpanName:
        r.expect(wt, BYTES);
        s.name = r.string(end);
        break;
      case F.SpanKind:
        r.expect(wt, VARINT);
        s.kind = r.uint32(end) | 0;
        break;
      case F.SpanStart:
        r.expect(wt, FIXED64);
        s.start = r.fixed64(end);
        break;
      case F.SpanEnd:
        r.expect(wt, FIXED64);
        s.end = r.fixed64(end);
        break;
      case F.SpanAttributes:
        r.expect(wt, BYTES);
        s.attributes.push(keyValue(r, r.lengthEnd(end)));
        break;
      case F.SpanEvents: {
        r.expect(wt, BYTES);
        const stop = r.lengthEnd(end);
        const e = { name: '', time: 0n, attributes: [] as KeyValues };
        while (r.pos < stop) {
          const t = r.uint32(stop);
          if (t >>> 3 === F.EventTime && r.expect(t & 7, FIXED64)) e.time = r.fixed64(stop);
          else if (t >>> 3 === F.EventName && r.expect(t & 7, BYTES)) e.name = r.string(stop);
          else if (t >>> 3 === F.EventAttributes && r.expect(t & 7, BYTES))
            e.attributes.push(keyValue(r, r.lengthEnd(stop)));
          else r.skip(t & 7, stop);
        }
        s.events.push(e);
        break;
      }
      case F.SpanLinks: {
        r.expect(wt, BYTES);
        const stop = r.lengthEnd(end);
        const l = { traceId: EMPTY, spanId: EMPTY, traceState: '', attributes: [] as KeyValues };
        while (r.pos < stop) {
          const t = r.uint32(stop);
          if (t >>> 3 === F.LinkTraceId && r.expect(t & 7, BYTES)) l.traceId = r.bytes(stop);
          else if (t >>> 3 === F.LinkSpanId && r.expect(t & 7, BYTES)) l.spanId = r.bytes(stop);
          else if (t >>> 3 === F.LinkTraceState && r.expect(t & 7, BYTES)) l.traceState = r.string(stop);
          else if (t >>> 3 === F.LinkAttributes && r.expect(t & 7, BYTES))
            l.attributes.push(keyValue(r, r.lengthEnd(stop)));
          else r.skip(t & 7, stop);
        }
        s.links.push(l);
        break;
      }
      case F.SpanStatus: {
        r.expect(wt, BYTES);
        const stop = r.lengthEnd(end);
        s.statusCode = 0;
        s.statusMessage = '';
        while (r.pos < stop) {
          const t = r.uint32(stop);
          if (t >>> 3 === F.StatusMessage && r.expect(t & 7, BYTES)) s.statusMessage = r.string(stop);
          else if (t >>> 3 === F.StatusCode && r.expect(t & 7, VARINT)) s.statusCode = r.uint32(stop) | 0;
          else r.skip(t & 7, stop);
        }
        break;
      }
      default:
        r.skip(wt, end);
    }
  }
  return s;
}

/** The checks and their order are decode.ts's `span` (the first failing field names the rejection). */
function toSpan(
  s: RawSpan,
  resource: Attributes,
  scope: { name: string; version: string },
  count: (reason: RepairReason) => void,
): SpanInput {
  const traceId = id(sent(s.traceId), 16, 'traceId', false);
  const spanId = id(sent(s.spanId), 8, 'spanId', false);
  const parentSpanId = s.parentSpanId.length === 0 ? '' : id(s.parentSpanId, 8, 'parentSpanId', false);
  const start = nanos(s.start, 'startTimeUnixNano');
  const end = nanos(s.end, 'endTimeUnixNano');
  const kind = enumValue(s.kind, SPAN_KIND_NAMES, 'kind');
  const statusCode = enumValue(s.statusCode, STATUS_CODE_NAMES, 'status.code');
  const attributes = attributeMap(s.attributes, count);
  return {
    traceId,
    spanId,
    parentSpanId,
    traceState: s.traceState,
    name: s.name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes,
    resource,
    scope,
    status: { code: statusCode, message: s.statusMessage },
    events: s.events.map((e, n) => ({
      name: e.name,
      timeUnixNano: nanos(e.time, `events[${n}].timeUnixNano`, MAX_DATETIME64_NS),
      attributes: attributeMap(e.attributes, count),
    })),
    links: s.links.map((l, n) => ({
      traceId: id(sent(l.traceId), 16, `links[${n}].traceId`, false),
      spanId: id(sent(l.spanId), 8, `links[${n}].spanId`, false),
      traceState: l.traceState,
      attributes: attributeMap(l.attributes, count),
    })),
  };
}

/** An empty bytes field is not sent in proto3: "missing", as the generated decoder reports it. */
function sent(b: Uint8Array): Uint8Array | undefined {
  return b.length === 0 ? undefined : b;
}

/** As decode.ts's `attributes`: no prototype; an empty key dropped, a repeated key's last value kept; both counted. */
function attributeMap(kvs: KeyValues, count: (reason: RepairReason) => void): Attributes {
  const out = Object.create(null) as Attributes;
  for (const [key, value] of kvs) {
    if (key === '') {
      count('empty_key');
      continue;
    }
    if (Object.hasOwn(out, key)) count('duplicate_key');
    out[key] = value;
  }
  return out;
}

function keyValue(r: Reader, end: number): [string, AttrValue] {
  let key = '';
  let value: AttrValue = null;
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag >>> 3 === F.KeyValueKey && r.expect(tag & 7, BYTES)) key = r.string(end);
    else if (tag >>> 3 === F.KeyValueValue && r.expect(tag & 7, BYTES)) value = anyValue(r, r.lengthEnd(end));
    else r.skip(tag & 7, end);
  }
  return [key, value];
}

/** As decode.ts's `anyValue`: of the fields sent, the first in this order wins (string, bool, int, double, array, kvlist, bytes). */
function anyValue(r: Reader, end: number): AttrValue {
  let str: string | undefined;
  let bool: boolean | undefined;
  let int: AttrValue | undefined;
  let dbl: number | undefined;
  let arr: AttrValue[] | undefined;
  let kv: Record<string, AttrValue> | undefined;
  let bytes: string | undefined;
  while (r.pos < end) {
    const tag = r.uint32(end);
    const wt = tag & 7;
    switch (tag >>> 3) {
      case F.AnyString:
        r.expect(wt, BYTES);
        str = r.string(end);
        break;
      case F.AnyBool:
        r.expect(wt, VARINT);
        bool = r.uint32(end) !== 0;
        break;
      case F.AnyInt:
        r.expect(wt, VARINT);
        int = int64(r.int64Parts(end));
        break;
      case F.AnyDouble:
        r.expect(wt, FIXED64);
        dbl = r.double(end);
        break;
      case F.AnyArray: {
        r.expect(wt, BYTES);
        const stop = r.lengthEnd(end);
        arr = [];
        while (r.pos < stop) {
          const t = r.uint32(stop);
          if (t >>> 3 === F.ListValues && r.expect(t & 7, BYTES)) arr.push(anyValue(r, r.lengthEnd(stop)));
          else r.skip(t & 7, stop);
        }
        break;
      }
      case F.AnyKvList: {
        r.expect(wt, BYTES);
        const stop = r.lengthEnd(end);
        kv = Object.create(null) as Record<string, AttrValue>;
        while (r.pos < stop) {
          const t = r.uint32(stop);
          if (t >>> 3 === F.ListValues && r.expect(t & 7, BYTES)) {
            const [k, v] = keyValue(r, r.lengthEnd(stop));
            kv[k] = v;
          } else r.skip(t & 7, stop);
        }
        break;
      }
      case F.AnyBytes:
        r.expect(wt, BYTES);
        bytes = Buffer.from(r.bytes(end)).toString('base64');
        break;
      default:
        r.skip(wt, end);
    }
  }
  if (str !== undefined) return str;
  if (bool !== undefined) return bool;
  if (int !== undefined) return int;
  if (dbl !== undefined) return dbl;
  if (arr !== undefined) return arr;
  if (kv !== undefined) return kv;
  if (bytes !== undefined) return bytes;
  return null;
}
