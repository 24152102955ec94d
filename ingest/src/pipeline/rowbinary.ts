/**
 * Rows of `otel_traces` and `ai_calls` as ClickHouse RowBinary, and back.
 *
 * The engine parses RowBinary for a fraction of what it spends on JSON text (bench/ingest/README.md),
 * so the spool keeps each batch in it and the drainer hands the bytes to ClickHouse as they are
 * (insert.ts). Every value is written only when its binary form means exactly what its JSON text
 * meant to the engine before: a string that is not well-formed UTF-16 (a lone surrogate), a count
 * that is not a safe integer, a float that is not finite, a timestamp or decimal not in the form
 * the builder writes — then `encodeRows` returns undefined and the caller keeps that body as
 * JSON text, which the engine judges as it always did (refusing a bad row as data, so the drainer
 * isolates and quarantines it: split.ts).
 */
import { CALL_COLUMNS, nanosToDateTime64, TRACE_COLUMNS } from './rows.js';

/** One value's way into RowBinary and back. `enc` returns false for a value it must not write. */
interface Codec {
  enc(w: Writer, v: unknown): boolean;
  dec(r: Reader): unknown;
}

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** A growing buffer. */
export class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  /**
   * A string as varint length + UTF-8; false (nothing written) when it is not well-formed UTF-16.
   * Short ASCII strings (most of a span: ids, names, models, attribute keys) are copied byte by
   * byte here, cheaper than a call into Buffer.write each.
   */
  str(s: string): boolean {
    const len = s.length;
    if (len < 128) {
      this.ensure(len * 3 + 1);
      const buf = this.buf;
      const at = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i === len) {
        buf[this.pos] = len;
        this.pos = at + len;
        return true;
      }
      if (!isWellFormed(s)) return false;
      if (len * 3 < 128) {
        const n = buf.write(s, at, 'utf8');
        buf[this.pos] = n;
        this.pos = at + n;
        return true;
      }
    } else if (!isWellFormed(s)) return false;
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return true;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new Error('RowBinary body ends inside a value');
    return this.buf[this.pos++]!;
  }
  str(): string {
    const n = this.varint();
    const end = this.pos + n;
    if (end > this.buf.length) throw new Error('RowBinary body ends inside a string');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }
  take(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) throw new Error('RowBinary body ends inside a value');
    this.pos += n;
    return at;
  }
}

const STRING: Codec = {
  enc(w, v) {
    return typeof v === 'string' && w.str(v);
  },
  dec: (r) => r.str(),
};

const BOOL: Codec = {
  enc(w, v) {
    if (typeof v !== 'boolean') return false;
    w.ensure(1);
    w.buf[w.pos++] = v ? 1 : 0;
    return true;
  },
  dec: (r) => r.byte() !== 0,
};

const TWO_32 = 2 ** 32;

/** UInt64 held as a JS number (token counts): only safe non-negative integers. */
const UINT64_NUMBER: Codec = {
  enc(w, v) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return false;
    w.ensure(8);
    w.buf.writeUInt32LE(v % TWO_32, w.pos);
    w.buf.writeUInt32LE(Math.floor(v / TWO_32), w.pos + 4);
    w.pos += 8;
    return true;
  },
  dec(r) {
    const at = r.take(8);
    return r.buf.readUInt32LE(at) + r.buf.readUInt32LE(at + 4) * TWO_32;
  },
};

const UINT32_NUMBER: Codec = {
  enc(w, v) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= TWO_32) return false;
    w.ensure(4);
    w.buf.writeUInt32LE(v, w.pos);
    w.pos += 4;
    return true;
  },
  dec: (r) => r.buf.readUInt32LE(r.take(4)),
};

/** UInt64 held as a decimal string (otel_traces.Duration, nanoseconds). */
const UINT64_STRING: Codec = {
  enc(w, v) {
    if (typeof v !== 'string') return false;
    if (v.length > 0 && v.length <= 15) {
      // Every duration below ~11.5 days: digits read into a safe integer, no BigInt.
      const n = safeDigits(v, 0, v.length);
      if (n >= 0) {
        w.ensure(8);
        w.buf.writeUInt32LE(n % TWO_32, w.pos);
        w.buf.writeUInt32LE(Math.floor(n / TWO_32), w.pos + 4);
        w.pos += 8;
        return true;
      }
    }
    if (!/^\d{1,20}$/.test(v)) return false;
    const n = BigInt(v);
    if (n >= 2n ** 64n) return false;
    w.ensure(8);
    w.buf.writeBigUInt64LE(n, w.pos);
    w.pos += 8;
    return true;
  },
  dec: (r) => r.buf.readBigUInt64LE(r.take(8)).toString(),
};

const FLOAT64: Codec = {
  enc(w, v) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return false;
    w.ensure(8);
    w.buf.writeDoubleLE(v, w.pos);
    w.pos += 8;
    return true;
  },
  dec: (r) => r.buf.readDoubleLE(r.take(8)),
};

/** Seconds since the epoch of each 'YYYY-MM-DD hh:mm:ss' seen lately (a batch's spans share a few). */
const secondsOf = new Map<string, bigint>();
const DATETIME64_9 = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{9})$/;
/** The last second DateTime64(9) holds as Int64 nanoseconds (2262-04-11). */
const MAX_SECONDS = 9_223_372_035n;

/** The decimal digits of s[from, to) as a number (at most 15 of them), or -1 if one is not a digit. */
function safeDigits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The second a batch's timestamps share most ('YYYY-MM-DD hh:mm:ss', checked) and its seconds. */
let lastSecond = '';
let lastSeconds = 0;

/**
 * A timestamp of the second seen last (most of a batch's): Int64 nanoseconds as two 32-bit words
 * in float arithmetic, exact below 2^53 (seconds × 10^9 = seconds × 1953125 × 2^9), no regex, no
 * BigInt. False when `v` is not of that second or not in the builder's form (then the full path).
 */
function lastSecondNanos(w: Writer, v: string): boolean {
  if (v.length !== 29 || v.charCodeAt(19) !== 46 || !v.startsWith(lastSecond)) return false;
  const frac = safeDigits(v, 20, 29);
  if (frac < 0) return false;
  const p = lastSeconds * 1_953_125;
  const ph = Math.floor(p / 8_388_608); // p × 2^9 / 2^32
  const low = (p - ph * 8_388_608) * 512 + frac;
  const carry = Math.floor(low / TWO_32);
  w.ensure(8);
  w.buf.writeUInt32LE(low - carry * TWO_32, w.pos);
  w.buf.writeUInt32LE(ph + carry, w.pos + 4);
  w.pos += 8;
  return true;
}

/** DateTime64(9) from the builder's 'YYYY-MM-DD hh:mm:ss.nnnnnnnnn' (UTC; nanosToDateTime64). */
const DATETIME64: Codec = {
  enc(w, v) {
    if (typeof v !== 'string') return false;
    if (lastSecond !== '' && lastSecondNanos(w, v)) return true;
    const m = DATETIME64_9.exec(v);
    if (!m) return false;
    const second = v.slice(0, 19);
    let seconds = secondsOf.get(second);
    if (seconds === undefined) {
      const ms = Date.parse(`${m[1]}T${m[2]}Z`);
      if (!Number.isFinite(ms) || ms < 0 || new Date(ms).toISOString().slice(0, 19) !== `${m[1]}T${m[2]}`) return false;
      seconds = BigInt(ms / 1000);
      if (seconds > MAX_SECONDS) return false;
      if (secondsOf.size > 10_000) secondsOf.clear();
      secondsOf.set(second, seconds);
    }
    // Below 2^32 seconds (year 2106) the float path above is exact: remember this second for it.
    if (seconds < 4_294_967_296n) {
      lastSecond = second;
      lastSeconds = Number(seconds);
    }
    w.ensure(8);
    w.buf.writeBigInt64LE(seconds * 1_000_000_000n + BigInt(m[3]!), w.pos);
    w.pos += 8;
    return true;
  },
  dec: (r) => nanosToDateTime64(r.buf.readBigInt64LE(r.take(8))),
};

const SCALE_12 = 10n ** 12n;
const DECIMAL_38_12 = /^(-?)(\d{1,26})(?:\.(\d{1,12}))?$/;
const U64_MASK = 2n ** 64n - 1n;

/** Decimal(38, 12) (Int128, scaled by 10^12) from a decimal string of at most 12 decimals. */
const DECIMAL: Codec = {
  enc(w, v) {
    if (typeof v !== 'string') return false;
    const m = DECIMAL_38_12.exec(v);
    if (!m) return false;
    const int = m[2]!;
    const frac = (m[3] ?? '').padEnd(12, '0');
    w.ensure(16);
    if (!m[1] && int.length <= 7) {
      // Costs are small: the Int128 words in float arithmetic, every step exact below 2^53
      // (int × 10^12 = int × 244140625 × 2^12), cheaper than BigInt.
      const p = Number(int) * 244_140_625;
      const ph = Math.floor(p / TWO_32);
      const low = (p - ph * TWO_32) * 4096 + Number(frac);
      const carry = Math.floor(low / TWO_32);
      const mid = ph * 4096 + carry;
      const hi = Math.floor(mid / TWO_32);
      w.buf.writeUInt32LE(low - carry * TWO_32, w.pos);
      w.buf.writeUInt32LE(mid - hi * TWO_32, w.pos + 4);
      w.buf.writeUInt32LE(hi, w.pos + 8);
      w.buf.writeUInt32LE(0, w.pos + 12);
    } else {
      let n = BigInt(int) * SCALE_12 + BigInt(frac);
      if (m[1]) n = -n;
      w.buf.writeBigUInt64LE(n & U64_MASK, w.pos);
      w.buf.writeBigInt64LE(n >> 64n, w.pos + 8);
    }
    w.pos += 16;
    return true;
  },
  dec(r) {
    const at = r.take(16);
    const n = (r.buf.readBigInt64LE(at + 8) << 64n) | r.buf.readBigUInt64LE(at);
    const abs = n < 0n ? -n : n;
    const frac = (abs % SCALE_12).toString().padStart(12, '0').replace(/0+$/, '');
    return `${n < 0n ? '-' : ''}${abs / SCALE_12}${frac ? `.${frac}` : ''}`;
  },
};

function nullable(inner: Codec): Codec {
  return {
    enc(w, v) {
      w.ensure(1);
      if (v === null) {
        w.buf[w.pos++] = 1;
        return true;
      }
      w.buf[w.pos++] = 0;
      return inner.enc(w, v);
    },
    dec: (r) => (r.byte() === 1 ? null : inner.dec(r)),
  };
}

function array(inner: Codec): Codec {
  return {
    enc(w, v) {
      if (!Array.isArray(v)) return false;
      w.varint(v.length);
      for (const x of v) if (!inner.enc(w, x)) return false;
      return true;
    },
    dec(r) {
      const n = r.varint();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(inner.dec(r));
      return out;
    },
  };
}

/** Map(…String, String) from a string record (its own enumerable keys, as JSON.stringify sees them). */
const STRING_MAP: Codec = {
  enc(w, v) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    if (Object.getPrototypeOf(v) === null) {
      // The builder's maps (no prototype, so for-in sees exactly Object.keys, in its order): the
      // count's byte is written after the pairs, no key array made. Past 127 pairs, the general path.
      const at = w.pos;
      w.ensure(1);
      w.pos++;
      let n = 0;
      for (const k in v) {
        const value = (v as Record<string, unknown>)[k];
        if (typeof value !== 'string' || !w.str(k) || !w.str(value)) return false;
        n++;
        if (n > 127) break;
      }
      if (n <= 127) {
        w.buf[at] = n;
        return true;
      }
      w.pos = at;
    }
    const keys = Object.keys(v);
    w.varint(keys.length);
    for (const k of keys) {
      const value = (v as Record<string, unknown>)[k];
      if (typeof value !== 'string' || !w.str(k) || !w.str(value)) return false;
    }
    return true;
  },
  dec(r) {
    const n = r.varint();
    // No prototype, as the builder makes them: a key named __proto__ is data like any other.
    const out = Object.create(null) as Record<string, string>;
    for (let i = 0; i < n; i++) {
      const k = r.str();
      out[k] = r.str();
    }
    return out;
  },
};

/** A table's columns as RowBinary: name, ClickHouse type (the table's, from the migrations) and codec. */
export interface BinaryColumn {
  name: string;
  type: string;
  codec: Codec;
}

const LC = 'LowCardinality(String)';
const ATTR_MAP = `Map(${LC}, String)`;

const TRACE_TYPES: Record<(typeof TRACE_COLUMNS)[number], [string, Codec]> = {
  Timestamp: ['DateTime64(9)', DATETIME64],
  TraceId: ['String', STRING],
  SpanId: ['String', STRING],
  ParentSpanId: ['String', STRING],
  TraceState: ['String', STRING],
  SpanName: [LC, STRING],
  SpanKind: [LC, STRING],
  ServiceName: [LC, STRING],
  ResourceAttributes: [ATTR_MAP, STRING_MAP],
  ScopeName: ['String', STRING],
  ScopeVersion: ['String', STRING],
  SpanAttributes: [ATTR_MAP, STRING_MAP],
  Duration: ['UInt64', UINT64_STRING],
  StatusCode: [LC, STRING],
  StatusMessage: ['String', STRING],
  'Events.Timestamp': ['Array(DateTime64(9))', array(DATETIME64)],
  'Events.Name': [`Array(${LC})`, array(STRING)],
  'Events.Attributes': [`Array(${ATTR_MAP})`, array(STRING_MAP)],
  'Links.TraceId': ['Array(String)', array(STRING)],
  'Links.SpanId': ['Array(String)', array(STRING)],
  'Links.TraceState': ['Array(String)', array(STRING)],
  'Links.Attributes': [`Array(${ATTR_MAP})`, array(STRING_MAP)],
  TenantId: [LC, STRING],
};

const u64: [string, Codec] = ['UInt64', UINT64_NUMBER];
const u32: [string, Codec] = ['UInt32', UINT32_NUMBER];
const lc: [string, Codec] = [LC, STRING];
const str: [string, Codec] = ['String', STRING];
const bool: [string, Codec] = ['Bool', BOOL];
const CALL_TYPES: Record<(typeof CALL_COLUMNS)[number], [string, Codec]> = {
  timestamp: ["DateTime64(9, 'UTC')", DATETIME64],
  tenant: lc,
  service: lc,
  trace_id: str,
  span_id: str,
  parent_span_id: str,
  scope_name: lc,
  convention: lc,
  provider: lc,
  operation: lc,
  request_model: lc,
  response_model: lc,
  model: lc,
  response_id: str,
  finish_reasons: [`Array(${LC})`, array(STRING)],
  user_id: str,
  team: lc,
  feature: lc,
  session_id: str,
  request_id: str,
  input_tokens: u64,
  output_tokens: u64,
  cache_read_tokens: u64,
  cache_write_tokens: u64,
  cache_write_1h_tokens: u64,
  reasoning_tokens: u64,
  input_audio_tokens: u64,
  cache_audio_read_tokens: u64,
  output_audio_tokens: u64,
  audio_seconds: u64,
  input_characters: u64,
  web_search_calls: u32,
  file_search_calls: u32,
  estimated: bool,
  is_streaming: bool,
  is_batch: bool,
  priced: bool,
  cost_usd: ['Nullable(Decimal(38, 12))', nullable(DECIMAL)],
  cost_source: lc,
  price_id: lc,
  price_version: lc,
  cache_savings_usd: ['Decimal(38, 12)', DECIMAL],
  duration_ms: ['Float64', FLOAT64],
  ttft_ms: ['Nullable(Float64)', nullable(FLOAT64)],
  status: lc,
  error_type: lc,
  attributes: [ATTR_MAP, STRING_MAP],
  properties: ['Map(String, String)', STRING_MAP],
};

export const TRACE_BINARY: readonly BinaryColumn[] = TRACE_COLUMNS.map((name) => ({
  name,
  type: TRACE_TYPES[name][0],
  codec: TRACE_TYPES[name][1],
}));
export const CALL_BINARY: readonly BinaryColumn[] = CALL_COLUMNS.map((name) => ({
  name,
  type: CALL_TYPES[name][0],
  codec: CALL_TYPES[name][1],
}));

/** One writer reused for every body (encoding is synchronous); the result is copied out. */
let shared = new Writer(1024 * 1024);

/**
 * Rows → RowBinary over `columns` (in their order), or undefined when a value has no binary form
 * that means what its JSON text meant (see the file's comment): the caller then keeps JSON text.
 */
export function encodeRows<R extends object>(rows: readonly R[], columns: readonly BinaryColumn[]): Buffer | undefined {
  const w = shared;
  w.pos = 0;
  for (const row of rows) {
    for (const c of columns) {
      if (!c.codec.enc(w, (row as Record<string, unknown>)[c.name])) return undefined;
    }
  }
  const out = Buffer.from(w.bytes());
  // Keep the writer from holding on to one huge batch's memory.
  if (w.buf.length > 16 * 1024 * 1024) shared = new Writer(1024 * 1024);
  return out;
}

/** RowBinary over `columns` → rows (what JSON text of the same values parses to). */
export function decodeRows<R>(buf: Buffer, columns: readonly BinaryColumn[]): R[] {
  const r = new Reader(buf);
  const rows: R[] = [];
  while (r.pos < buf.length) {
    const row = {} as Record<string, unknown>;
    for (const c of columns) row[c.name] = c.codec.dec(r);
    rows.push(row as R);
  }
  return rows;
}

/** The columns of a record's body by name; throws for a column or type this version does not know. */
export function binaryColumns(names: readonly string[], types: readonly string[]): BinaryColumn[] {
  const known = new Map([...TRACE_BINARY, ...CALL_BINARY].map((c) => [c.name, c]));
  return names.map((name, i) => {
    const c = known.get(name);
    if (!c || c.type !== types[i])
      throw new Error(`spool record column ${name} ${types[i]} is not one this version reads`);
    return c;
  });
}

/** The header of RowBinaryWithNamesAndTypes: the engine checks every name and type against the table. */
export function namesAndTypesHeader(columns: readonly string[], types: readonly string[]): Buffer {
  const w = new Writer(4096);
  w.varint(columns.length);
  for (const c of columns) w.str(c);
  for (const t of types) w.str(t);
  return Buffer.from(w.bytes());
}
