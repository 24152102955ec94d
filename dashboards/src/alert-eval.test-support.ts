import type { Store } from '../../ingest/src/store/client.ts';
import { expandPanelSql } from './macros.js';
import { qualifyTables } from './sql.js';

/**
 * Evaluate a provisioned Grafana alert rule the way Grafana's alerting engine does, on
 * embedded ClickHouse: run each query over its relative time range (macros expanded as the
 * plugin's backend does; no template variables exist in alerting), turn the table result
 * into series (string columns are labels, the one numeric column is the value), then the
 * server-side expressions: reduce (mode dropNN), threshold, math. A series fires where the
 * condition is non-zero. No series at all is "NoData", resolved by the rule's noDataState.
 */
export interface ProvisionedRule {
  uid: string;
  title: string;
  condition: string;
  noDataState: 'OK' | 'NoData' | 'Alerting';
  data: {
    refId: string;
    relativeTimeRange: { from: number; to: number };
    datasourceUid: string;
    model: Record<string, any>;
  }[];
  labels: Record<string, string>;
}

export interface Series {
  labels: Record<string, string>;
  values: number[];
}

export interface Evaluation {
  state: 'Normal' | 'Alerting' | 'NoData';
  /** Labels of every firing series. */
  firing: Record<string, string>[];
  /** Every series of the condition with its value (for messages). */
  series: { labels: Record<string, string>; value: number }[];
}

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;

async function runQuery(store: Store, sql: string, now: Date, range: { from: number; to: number }, intervalMs: number) {
  const from = new Date(now.getTime() - range.from * 1000);
  const to = new Date(now.getTime() - range.to * 1000);
  const bound = expandPanelSql(sql, { from, to, intervalSeconds: intervalMs / 1000, variables: {} });
  const rs = await store.writer.query({
    query: qualifyTables(bound.sql, store.database),
    query_params: bound.params,
    format: 'JSONCompactEachRowWithNamesAndTypes',
  });
  const [names, types, ...rows] = await rs.json<unknown[]>();
  const numeric = (types as string[]).map((t, i) => (NUMERIC.test(t) ? i : -1)).filter((i) => i >= 0);
  if (rows.length > 0 && numeric.length !== 1) {
    throw new Error(`alert query must return exactly one numeric column, got ${numeric.length}: ${types}`);
  }
  const value = numeric[0] ?? -1;
  // Grafana refuses two rows with the same labels (it could not tell the series apart).
  const keys = rows.map((row) => JSON.stringify((row as unknown[]).filter((_, i) => i !== value)));
  if (new Set(keys).size !== keys.length) throw new Error('alert query returned two rows with the same labels');
  const series: Series[] = rows.map((row) => {
    const labels: Record<string, string> = {};
    (names as string[]).forEach((n, i) => {
      if (i !== value) labels[n] = String(row[i]);
    });
    const v = row[value];
    return { labels, values: [v === null ? Number.NaN : Number(v)] };
  });
  return series;
}

function reduce(values: number[], reducer: string): number {
  const xs = values.filter((v) => Number.isFinite(v)); // mode dropNN
  if (xs.length === 0) return Number.NaN;
  switch (reducer) {
    case 'last':
      return xs[xs.length - 1] as number;
    case 'mean':
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    case 'max':
      return Math.max(...xs);
    case 'min':
      return Math.min(...xs);
    case 'sum':
      return xs.reduce((a, b) => a + b, 0);
    case 'count':
      return xs.length;
    default:
      throw new Error(`unsupported reducer ${reducer}`);
  }
}

function threshold(v: number, evaluator: { type: string; params: number[] }): number {
  const [a = 0, b = 0] = evaluator.params;
  switch (evaluator.type) {
    case 'gt':
      return v > a ? 1 : 0;
    case 'lt':
      return v < a ? 1 : 0;
    case 'within_range':
      return v > a && v < b ? 1 : 0;
    case 'outside_range':
      return v < a || v > b ? 1 : 0;
    default:
      throw new Error(`unsupported evaluator ${evaluator.type}`);
  }
}

/** Math over single-series inputs: `$X op n` terms joined by && or || (what the rules use). */
function math(expression: string, results: Map<string, Series[]>): Series[] {
  const value = (ref: string) => {
    const s = results.get(ref);
    if (!s || s.length !== 1) throw new Error(`math: $${ref} must be one series, got ${s?.length ?? 0}`);
    return s[0]?.values[0] ?? Number.NaN;
  };
  const term = (t: string): boolean => {
    const m = /^\$(\w+)\s*(>=|<=|==|!=|>|<)\s*(-?[\d.]+)$/.exec(t.trim());
    if (!m) throw new Error(`math: unsupported term "${t}"`);
    const [, ref, op, n] = m;
    const x = value(ref as string);
    const y = Number(n);
    return { '>': x > y, '<': x < y, '>=': x >= y, '<=': x <= y, '==': x === y, '!=': x !== y }[op as '>'];
  };
  const ors = expression.split('||').map((part) => part.split('&&').every(term));
  return [{ labels: {}, values: [ors.some(Boolean) ? 1 : 0] }];
}

export async function evaluateRule(store: Store, rule: ProvisionedRule, now: Date): Promise<Evaluation> {
  const results = new Map<string, Series[]>();
  for (const step of rule.data) {
    const m = step.model;
    if (step.datasourceUid !== '__expr__') {
      results.set(step.refId, await runQuery(store, m.rawSql, now, step.relativeTimeRange, m.intervalMs ?? 1000));
    } else if (m.type === 'reduce') {
      const input = results.get(m.expression) ?? [];
      results.set(
        step.refId,
        input.map((s) => ({ labels: s.labels, values: [reduce(s.values, m.reducer)] })),
      );
    } else if (m.type === 'threshold') {
      const input = results.get(m.expression) ?? [];
      const evaluator = m.conditions[0].evaluator;
      results.set(
        step.refId,
        input.map((s) => ({ labels: s.labels, values: [threshold(s.values[0] ?? Number.NaN, evaluator)] })),
      );
    } else if (m.type === 'math') {
      results.set(step.refId, math(m.expression, results));
    } else {
      throw new Error(`unsupported expression type ${m.type}`);
    }
  }
  const condition = results.get(rule.condition) ?? [];
  const series = condition.map((s) => ({ labels: s.labels, value: s.values[0] ?? Number.NaN }));
  if (series.length === 0) {
    return {
      state: rule.noDataState === 'Alerting' ? 'Alerting' : rule.noDataState === 'OK' ? 'Normal' : 'NoData',
      firing: [],
      series,
    };
  }
  const firing = series.filter((s) => Number.isFinite(s.value) && s.value !== 0).map((s) => s.labels);
  return { state: firing.length > 0 ? 'Alerting' : 'Normal', firing, series };
}
