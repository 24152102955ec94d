import type { Period } from './types.js';

const DAY_MS = 86_400_000;

/** The UTC period containing `now`: [start, end). Weeks start on Monday (ISO 8601). */
export function periodBounds(period: Period, now: Date): { start: Date; end: Date } {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  if (period === 'day') {
    const start = new Date(Date.UTC(y, m, d));
    return { start, end: new Date(start.getTime() + DAY_MS) };
  }
  if (period === 'week') {
    const dayStart = Date.UTC(y, m, d);
    const sinceMonday = (now.getUTCDay() + 6) % 7;
    const start = new Date(dayStart - sinceMonday * DAY_MS);
    return { start, end: new Date(start.getTime() + 7 * DAY_MS) };
  }
  return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
}

/** 'YYYY-MM-DD' of a UTC instant. */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** 'YYYY-MM-DD hh:mm:ss' as ClickHouse parses a DateTime. */
export function chDateTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** A compact period label: 2026-11 (month), 2026-W47 (week), 2026-11-23 (day). */
export function periodLabel(period: Period, start: Date): string {
  if (period === 'month') return start.toISOString().slice(0, 7);
  if (period === 'day') return isoDay(start);
  return `week-${isoDay(start)}`;
}
