/** Values formatted by Grafana unit id and decimals, as the panel's field config says. */

export interface UnitSpec {
  unit?: string | undefined;
  decimals?: number | undefined;
}

const group = (n: number, decimals: number) =>
  n.toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });

/** Decimals when the field config gives none: whole numbers stay whole, small ones keep two significant places. */
function autoDecimals(n: number): number {
  if (Number.isInteger(n)) return 0;
  const a = Math.abs(n);
  if (a >= 100) return 0;
  if (a >= 1) return 2;
  if (a === 0) return 0;
  return Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(a))));
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A value for a stat, a table cell or a legend: full precision the way the config asks. */
export function formatValue(value: number | string | null | undefined, spec: UnitSpec): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return '–';
  const d = spec.decimals;
  switch (spec.unit) {
    case 'currencyUSD': {
      // No decimals in the config: cents, or enough places to show a fraction of a cent.
      const dec = d ?? (Math.abs(value) >= 0.1 || value === 0 ? 2 : autoDecimals(value));
      return `${value < 0 ? '-' : ''}$${group(Math.abs(value), dec)}`;
    }
    case 'percent':
      return `${group(value, d ?? autoDecimals(value))}%`;
    case 'percentunit':
      return `${group(value * 100, d ?? 1)}%`;
    case 'ms':
      if (Math.abs(value) >= 10_000) return `${group(value / 1000, d ?? 1)} s`;
      return `${group(value, d ?? autoDecimals(value))} ms`;
    case 's':
      if (Math.abs(value) >= 3600) return `${group(value / 3600, 1)} h`;
      if (Math.abs(value) >= 120) return `${group(value / 60, 1)} min`;
      return `${group(value, d ?? autoDecimals(value))} s`;
    case 'bytes':
      return bytes(value, d);
    case 'dateTimeAsIso':
      return formatTime(value);
    case 'string':
      return String(value);
    default:
      return group(value, d ?? autoDecimals(value));
  }
}

function bytes(value: number, d: number | undefined): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${group(v, d ?? (i === 0 ? 0 : 1))} ${units[i]}`;
}

/** A short form for axis ticks: 1.2K, 3.4M, with the unit's sign. */
export function formatTick(value: number, spec: UnitSpec): string {
  const a = Math.abs(value);
  const scaled =
    a >= 1e9
      ? `${trim(value / 1e9)}B`
      : a >= 1e6
        ? `${trim(value / 1e6)}M`
        : a >= 1e3
          ? `${trim(value / 1e3)}K`
          : trim(value);
  switch (spec.unit) {
    case 'currencyUSD':
      return `${value < 0 ? '-' : ''}$${scaled.replace('-', '')}`;
    case 'percent':
      return `${scaled}%`;
    case 'ms':
      return `${scaled} ms`;
    case 's':
      return `${scaled} s`;
    case 'bytes':
      return bytes(value, 0);
    default:
      return scaled;
  }
}

function trim(n: number): string {
  return String(Math.abs(n) >= 10 ? Number.parseFloat(n.toFixed(1)) : Number(n.toPrecision(3)));
}
