/**
 * ClickHouse JSONCompact results as the browser draws them: one array of values per
 * column, numbers as numbers (64-bit integers and decimals arrive as strings over HTTP),
 * times as epoch milliseconds.
 */
export interface Field {
  name: string;
  /** 'number' | 'time' | 'string' */
  type: 'number' | 'time' | 'string';
  values: (number | string | null)[];
}

export interface Frame {
  fields: Field[];
  rows: number;
}

export interface CompactResult {
  meta: { name: string; type: string }[];
  data: unknown[][];
}

const NUMERIC = /^(Nullable\()?(LowCardinality\()?(U?Int\d+|Float\d+|Decimal|Bool)/;
const TIME = /^(Nullable\()?(DateTime|Date)/;

export function fieldType(chType: string): Field['type'] {
  if (TIME.test(chType)) return 'time';
  if (NUMERIC.test(chType)) return 'number';
  return 'string';
}

/** '2026-11-23 10:00:00[.123]' (UTC: every time column tokenmeter reads is UTC) → epoch ms. */
export function parseTime(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value < 1e11 ? value * 1000 : value;
  const s = String(value);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : `${s.replace(' ', 'T')}Z`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

export function toFrame(result: CompactResult, drop: (column: string) => boolean = () => false): Frame {
  const keep = result.meta.map((m, i) => ({ m, i })).filter(({ m }) => !drop(m.name));
  const fields: Field[] = keep.map(({ m, i }) => {
    const type = fieldType(m.type);
    const values = result.data.map((row) => {
      const v = row[i];
      if (v === null || v === undefined) return null;
      if (type === 'time') return parseTime(v);
      if (type === 'number') {
        if (typeof v === 'boolean') return v ? 1 : 0;
        if (v === 'true' || v === 'false') return v === 'true' ? 1 : 0;
        const n = Number(v);
        return Number.isFinite(n) ? n : null;
      }
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
    return { name: m.name, type, values };
  });
  return { fields, rows: result.data.length };
}
