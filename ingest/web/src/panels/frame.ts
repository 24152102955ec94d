import type { Field, Frame, PanelView } from '../api.js';
import type { UnitSpec } from '../format.js';

/** Field helpers shared by the panel renderers. */

export function unitOf(panel: PanelView, column: string): UnitSpec {
  const o = panel.fieldConfig.overrides[column];
  return {
    unit: o?.unit ?? panel.fieldConfig.unit,
    decimals: o?.decimals ?? (o?.unit && o.unit !== panel.fieldConfig.unit ? undefined : panel.fieldConfig.decimals),
  };
}

export const numberFields = (f: Frame): Field[] => f.fields.filter((x) => x.type === 'number');
export const labelFields = (f: Frame): Field[] => f.fields.filter((x) => x.type === 'string');
export const timeField = (f: Frame): Field | undefined => f.fields.find((x) => x.type === 'time');

/** Grafana's reducers, the ones the dashboards use. */
export function reduce(values: (number | string | null)[], calc: string): number | null {
  const nums = values.filter((v): v is number => typeof v === 'number');
  if (nums.length === 0) return null;
  switch (calc) {
    case 'sum':
      return nums.reduce((a, b) => a + b, 0);
    case 'max':
      return Math.max(...nums);
    case 'min':
      return Math.min(...nums);
    case 'mean':
      return nums.reduce((a, b) => a + b, 0) / nums.length;
    case 'first':
    case 'firstNotNull':
      return nums[0] as number;
    default:
      return nums[nums.length - 1] as number;
  }
}

/** One row per label (the first string column) and its value (the first number column). */
export function labelledValues(frame: Frame): { label: string; value: number }[] {
  const label = labelFields(frame)[0];
  const value = numberFields(frame)[0];
  if (!value) return [];
  return value.values.map((v, i) => ({
    label: label ? String(label.values[i] ?? '') || '(none)' : value.name,
    value: typeof v === 'number' ? v : 0,
  }));
}
