import uPlot from 'uplot';
import type { Frame, PanelView } from '../api.js';
import { color } from '../dom.js';
import { formatTick, formatTime, formatValue, type UnitSpec } from '../format.js';
import { labelFields, numberFields, timeField, unitOf } from './frame.js';

export interface Series {
  name: string;
  unit: UnitSpec;
  values: (number | null)[];
}

/**
 * The plugin's time-series format, as Grafana turns it into frames: rows of
 * (time, label columns…, value columns…) become one series per value column and label
 * combination, aligned on the sorted distinct times.
 */
export function toSeries(panel: PanelView, frame: Frame): { times: number[]; series: Series[] } {
  const time = timeField(frame);
  if (!time) return { times: [], series: [] };
  const labels = labelFields(frame);
  const values = numberFields(frame);
  const times = [...new Set(time.values.filter((t): t is number => typeof t === 'number'))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const byName = new Map<string, Series>();
  for (let r = 0; r < frame.rows; r++) {
    const t = time.values[r];
    if (typeof t !== 'number') continue;
    const label = labels.map((l) => String(l.values[r] ?? '')).join(' ');
    for (const v of values) {
      const name = label === '' ? v.name : values.length === 1 ? label : `${v.name} ${label}`;
      let s = byName.get(name);
      if (!s) {
        s = {
          name,
          unit: unitOf(panel, v.name),
          values: new Array<number | null>(times.length).fill(null),
        };
        byName.set(name, s);
      }
      const x = v.values[r];
      s.values[at.get(t) as number] = typeof x === 'number' ? x : null;
    }
  }
  return { times, series: [...byName.values()] };
}

/** A time series panel drawn by uPlot: lines or bars, stacked when the field config says so. */
export function renderTimeSeries(
  box: HTMLElement,
  panel: PanelView,
  frame: Frame,
  range: { from: number; to: number },
): uPlot {
  const { times, series } = toSeries(panel, frame);
  const stacked = panel.fieldConfig.custom.stacking === 'normal';
  const bars = panel.fieldConfig.custom.drawStyle === 'bars';
  const fill = (panel.fieldConfig.custom.fillOpacity ?? 10) / 100;
  // Stacking: each series drawn at the running total, its own value kept for the legend.
  const drawn = series.map((s) => s.values.slice());
  if (stacked || bars) for (const d of drawn) for (let i = 0; i < d.length; i++) d[i] ??= 0;
  if (stacked) {
    for (let k = 1; k < drawn.length; k++) {
      const below = drawn[k - 1] as (number | null)[];
      const d = drawn[k] as (number | null)[];
      for (let i = 0; i < d.length; i++) d[i] = (d[i] ?? 0) + (below[i] ?? 0);
    }
  }
  const unit = series[0]?.unit ?? {
    unit: panel.fieldConfig.unit,
    decimals: panel.fieldConfig.decimals,
  };
  const width = Math.max(200, box.clientWidth);
  const height = Math.max(80, box.clientHeight - 28 - Math.min(3, Math.ceil(series.length / 3)) * 18);
  const barPaths = uPlot.paths.bars?.({ size: [0.8, 40], gap: 1 });
  const opts: uPlot.Options = {
    width,
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      x: { time: true, range: () => [range.from / 1000, range.to / 1000] },
      // Bars and stacks measure from zero; lines keep uPlot's automatic range.
      ...(bars || stacked
        ? {
            y: {
              range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => [
                Math.min(0, min),
                max > 0 ? max * 1.1 : 1,
              ],
            },
          }
        : {}),
    },
    legend: { show: true, live: false },
    cursor: { points: { show: false } },
    axes: [
      {
        stroke: '#9fa7b3',
        grid: { stroke: '#2c3038', width: 1 },
        ticks: { stroke: '#2c3038' },
        // UTC, 24-hour: a day's start as MM-DD, any other tick as HH:mm.
        values: (_u, splits) =>
          splits.map((s) => {
            const iso = new Date(s * 1000).toISOString();
            return iso.slice(11, 16) === '00:00' ? iso.slice(5, 10) : iso.slice(11, 16);
          }),
      },
      {
        stroke: '#9fa7b3',
        grid: { stroke: '#2c3038', width: 1 },
        ticks: { stroke: '#2c3038' },
        size: 64,
        values: (_u, splits) => splits.map((v) => formatTick(v, unit)),
      },
    ],
    series: [
      { value: (_u, v) => (v == null ? '' : formatTime(v * 1000)) },
      ...series.map((s, i) => {
        const c = color(i);
        // The legend's figure: the total for what adds up (money, counts), the peak for the rest.
        const additive = s.unit.unit === undefined || s.unit.unit === 'currencyUSD' || s.unit.unit === 'short';
        const figure = additive
          ? formatValue(
              s.values.reduce<number>((a, v) => a + (v ?? 0), 0),
              s.unit,
            )
          : `max ${formatValue(Math.max(...s.values.map((v) => v ?? Number.NEGATIVE_INFINITY)), s.unit)}`;
        return {
          label: `${s.name} (${figure})`,
          stroke: c,
          width: bars ? 0 : 1.5,
          fill: bars
            ? c
            : fill > 0
              ? `${c}${Math.round(fill * 255)
                  .toString(16)
                  .padStart(2, '0')}`
              : undefined,
          spanGaps: !stacked,
          points: { show: times.length < 3 },
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : formatValue(v, s.unit)),
          ...(bars && barPaths ? { paths: barPaths } : {}),
        };
      }),
    ],
  };
  const x = times.map((t) => t / 1000);
  if (stacked && bars) {
    // Stacked bars: the tallest (the running total) drawn first, each lower one over it.
    opts.series = [opts.series[0] as uPlot.Series, ...(opts.series.slice(1).reverse() as uPlot.Series[])];
    return new uPlot(opts, [x, ...drawn.slice().reverse()] as uPlot.AlignedData, box);
  }
  // Stacked lines: each series filled down to the one below it (uPlot bands), legend in query order.
  if (stacked) opts.bands = drawn.slice(1).map((_, k) => ({ series: [k + 2, k + 1] as [number, number] }));
  return new uPlot(opts, [x, ...drawn] as uPlot.AlignedData, box);
}
