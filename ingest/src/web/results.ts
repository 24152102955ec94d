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

/**
 * The plugin's time-series format as Grafana turns it into frames: rows of (time, labels…,
 * values…) become one column per value and label combination, on the sorted distinct times
 * ("wide"). Done here so the browser receives each time once and each label not at all.
 */
export function toWide(frame: Frame): Frame {
  const time = frame.fields.find((f) => f.type === 'time');
  const labels = frame.fields.filter((f) => f.type === 'string');
  const values = frame.fields.filter((f) => f.type === 'number');
  if (!time || labels.length === 0) return frame;
  const times = [...new Set(time.values.filter((t): t is number => typeof t === 'number'))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const series = new Map<string, Field>();
  for (let r = 0; r < frame.rows; r++) {
    const t = time.values[r];
    if (typeof t !== 'number') continue;
    const label = labels.map((l) => String(l.values[r] ?? '')).join(' ');
    for (const v of values) {
      const name = values.length === 1 ? label || v.name : `${v.name} ${label}`.trim();
      let s = series.get(name);
      if (!s) {
        s = { name, type: 'number', values: new Array<number | null>(times.length).fill(null) };
        series.set(name, s);
      }
      s.values[at.get(t) as number] = v.values[r] ?? null;
    }
  }
  return { fields: [{ name: time.name, type: 'time', values: times }, ...series.values()], rows: times.length };
}
