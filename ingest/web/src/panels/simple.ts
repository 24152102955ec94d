import type { Frame, PanelView } from '../api.js';
import { color, el } from '../dom.js';
import { formatValue } from '../format.js';
import { labelledValues, numberFields, reduce, unitOf } from './frame.js';

/** Stat: the first number column reduced (lastNotNull by default), in the panel's unit. */
export function renderStat(box: HTMLElement, panel: PanelView, frame: Frame): void {
  const field = numberFields(frame)[0];
  const value = field ? reduce(field.values, panel.reduce.calc) : null;
  const spec = field ? unitOf(panel, field.name) : panel.fieldConfig;
  box.append(
    el(
      'div',
      { class: 'stat' },
      el('span', {
        class: 'stat-value',
        'data-value': value ?? '',
        text: formatValue(value, spec),
      }),
    ),
  );
}

/** Bar gauge: one horizontal bar per row, up to the field config's max (or the largest value). */
export function renderBarGauge(box: HTMLElement, panel: PanelView, frame: Frame): void {
  const rows = labelledValues(frame);
  const field = numberFields(frame)[0];
  const spec = field ? unitOf(panel, field.name) : panel.fieldConfig;
  const max = panel.fieldConfig.max ?? Math.max(...rows.map((r) => r.value), 0);
  const list = el('div', { class: 'bargauge' });
  rows.forEach((r, i) => {
    const pct = max > 0 ? Math.max(0, Math.min(100, (100 * r.value) / max)) : 0;
    const bar = el('div', { class: 'bar-fill' });
    bar.style.width = `${pct}%`;
    bar.style.background = `linear-gradient(90deg, ${color(0)}, ${pct > 90 ? '#e24d42' : pct > 75 ? '#eab839' : color(i)})`;
    list.append(
      el(
        'div',
        { class: 'bar-row' },
        el('span', { class: 'bar-label', text: r.label }),
        el('span', { class: 'bar-track' }, bar),
        el('span', {
          class: 'bar-value',
          'data-value': r.value,
          text: formatValue(r.value, spec),
        }),
      ),
    );
  });
  box.append(list);
}

/**
 * Pie: uPlot draws no pies, so a CSS conic-gradient donut with a legend of values and
 * shares (the browser draws it; no chart code of ours).
 */
export function renderPie(box: HTMLElement, panel: PanelView, frame: Frame): void {
  const rows = labelledValues(frame).filter((r) => r.value > 0);
  const field = numberFields(frame)[0];
  const spec = field ? unitOf(panel, field.name) : panel.fieldConfig;
  const total = rows.reduce((a, r) => a + r.value, 0);
  let at = 0;
  const stops = rows.map((r, i) => {
    const start = at;
    at += total > 0 ? (360 * r.value) / total : 0;
    return `${color(i)} ${start}deg ${at}deg`;
  });
  const donut = el('div', { class: 'pie' });
  donut.style.background = stops.length ? `conic-gradient(${stops.join(', ')})` : '#333';
  const legend = el('ul', { class: 'pie-legend' });
  rows.forEach((r, i) => {
    const swatch = el('span', { class: 'swatch' });
    swatch.style.background = color(i);
    legend.append(
      el(
        'li',
        {},
        swatch,
        el('span', { class: 'pie-label', text: r.label }),
        el('span', {
          class: 'pie-value',
          'data-value': r.value,
          text: formatValue(r.value, spec),
        }),
        el('span', {
          class: 'pie-share',
          text: `${total > 0 ? ((100 * r.value) / total).toFixed(1) : '0'}%`,
        }),
      ),
    );
  });
  box.append(el('div', { class: 'pie-wrap' }, donut, legend));
}
