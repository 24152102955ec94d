/** Terminal rendering for the CLI (pure): tables, sparklines, bars, money. */
const TICKS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled to the series' own maximum; zeros are the lowest tick. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  if (max <= 0) return TICKS[0]!.repeat(values.length);
  return values
    .map((v) => TICKS[Math.min(TICKS.length - 1, Math.max(0, Math.round((v / max) * (TICKS.length - 1))))])
    .join('');
}

/** `[#####.....]  42%  420/1,000` */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%  ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`;
}

/** USD for a table cell: cents for amounts of a dollar or more, four decimals below. */
export function usd(value: string | number): string {
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  return `$${Math.abs(n) >= 1 || n === 0 ? n.toFixed(2) : n.toFixed(4)}`;
}

/** A plain-text table with a header rule and a row count. */
export function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return (
    [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') +
    `\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`
  );
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
