import type { AttrValue, SpanInput } from '@tokenmeter/instrumentation/normalize';

type Json = Record<string, unknown>;

/**
 * What both OTLP decoders share (decode.ts for JSON, protobuf.ts for protobuf): the result's
 * shape, the errors, and the checks of a span's ids, timestamps, enums and int64 values, so a
 * field is judged the same whichever encoding carried it.
 */
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

export type RepairReason = 'lone_surrogate' | 'invalid_utf8' | 'empty_key' | 'duplicate_key';

export interface DecodedTraces {
  spans: SpanInput[];
  rejected: SpanRejection[];
  /** Values changed so ClickHouse accepts them, by reason (each string or attribute once). */
  repaired: Partial<Record<RepairReason, number>>;
}

/** A span's field is unacceptable: the span is rejected, the request goes on. */
export class FieldError extends Error {}

export const SPAN_KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
export const STATUS_CODE_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

export function enumValue(v: unknown, names: string[], field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return v;
  if (typeof v === 'string' && names.includes(v)) return names.indexOf(v);
  throw new FieldError(`${field}: unknown enum value ${JSON.stringify(v)}`);
}

const HEX = /^[0-9a-f]*$/i;

export function id(v: unknown, bytes: number, field: string, isJson: boolean): string {
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
/** The last instant a DateTime64(9) column holds (2262-04-11T23:47:16.854775807Z). */
export const MAX_DATETIME64_NS = 2n ** 63n - 1n;

export function nanos(v: unknown, field: string, max = MAX_U64): bigint {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^\d{1,20}$/.test(v)) n = BigInt(v);
  else if (isLong(v)) n = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  else throw new FieldError(`${field}: expected an unsigned 64-bit nanosecond timestamp`);
  if (n < 0n || n > max) throw new FieldError(`${field}: out of range`);
  if (n === 0n) throw new FieldError(`${field}: missing`);
  return n;
}

export function isLong(v: unknown): v is { low: number; high: number; unsigned: boolean } {
  return isObject(v) && typeof (v as Json).low === 'number' && typeof (v as Json).high === 'number';
}

/** int64 attribute: a number when it is safe, else its decimal string (never a rounded number). */
export function int64(v: unknown): AttrValue {
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

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
