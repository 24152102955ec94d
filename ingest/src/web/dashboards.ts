import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Principal } from '../http/auth.js';

/**
 * The generated Grafana dashboards (dashboards/generated/*.json), read once, as the web
 * view needs them: layout and field config for the browser, SQL kept on the server.
 * Pure functions over the JSON, apart from `dashboardsDir`/`readDashboards`.
 */

export type PanelType = 'stat' | 'timeseries' | 'table' | 'bargauge' | 'piechart' | 'barchart';

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FieldConfig {
  unit?: string;
  decimals?: number;
  max?: number;
  /** Per-column overrides by name (the only matcher the generated dashboards use). */
  overrides: Record<string, { unit?: string; decimals?: number }>;
  custom: { stacking?: string; drawStyle?: string; fillOpacity?: number };
}

export interface Panel {
  /** The panel's `id` in the JSON, else its 1-based position among non-row panels. */
  id: number;
  type: PanelType;
  title: string;
  description: string;
  gridPos: GridPos;
  fieldConfig: FieldConfig;
  /** reduceOptions of stat, bar gauge and pie: which calculation, and one value per row or not. */
  reduce: { calc: string; values: boolean };
  rawSql: string;
  /** The plugin's result format: 0 time series, 1 table. */
  format: number;
  /** The SQL filters on the tenant variable: a tenant-bound key can be scoped to its tenant. */
  tenantScoped: boolean;
}

export interface Variable {
  name: string;
  label: string;
  rawSql: string;
  includeAll: boolean;
  multi: boolean;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  /** Default range, Grafana style: {from: 'now-7d', to: 'now'}. */
  time: { from: string; to: string };
  refresh: string;
  variables: Variable[];
  rows: { title: string; y: number }[];
  panels: Panel[];
}

/** What the browser receives: no SQL, and only what the principal may see. */
export interface PublicDashboard extends Omit<Dashboard, 'panels' | 'variables'> {
  variables: Omit<Variable, 'rawSql'>[];
  panels: Omit<Panel, 'rawSql' | 'tenantScoped'>[];
}

const SUPPORTED = new Set<string>(['stat', 'timeseries', 'table', 'bargauge', 'piechart', 'barchart']);

/** The folder the dashboards package writes its JSON to, found through the package itself. */
export function dashboardsDir(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@tokenmeter/dashboards');
  return join(dirname(main), '..', 'generated');
}

export function readDashboards(dir = dashboardsDir()): Dashboard[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseDashboard(JSON.parse(readFileSync(join(dir, f), 'utf8')) as GrafanaDashboard));
}

interface GrafanaPanel {
  id?: number | null;
  type: string;
  title?: string;
  description?: string;
  gridPos?: Partial<GridPos>;
  fieldConfig?: {
    defaults?: { unit?: string; decimals?: number; max?: number; custom?: Record<string, unknown> };
    overrides?: { matcher?: { id?: string; options?: string }; properties?: { id: string; value: unknown }[] }[];
  };
  options?: { reduceOptions?: { calcs?: string[]; values?: boolean } };
  targets?: { rawSql?: string; format?: number; hide?: boolean }[];
}

interface GrafanaDashboard {
  uid: string;
  title: string;
  description?: string;
  time?: { from: string; to: string };
  refresh?: string;
  templating?: {
    list?: { type: string; name: string; label?: string; query?: unknown; includeAll?: boolean; multi?: boolean }[];
  };
  panels?: GrafanaPanel[];
}

export function parseDashboard(json: GrafanaDashboard): Dashboard {
  const variables: Variable[] = [];
  for (const v of json.templating?.list ?? []) {
    if (v.type !== 'query') continue; // the datasource variable: the service is the datasource
    const q = v.query as { rawSql?: string } | string | undefined;
    const rawSql = typeof q === 'string' ? q : (q?.rawSql ?? '');
    variables.push({ name: v.name, label: v.label ?? v.name, rawSql, includeAll: !!v.includeAll, multi: !!v.multi });
  }
  const rows: Dashboard['rows'] = [];
  const panels: Panel[] = [];
  const ids = new Set<number>();
  let position = 0;
  for (const p of json.panels ?? []) {
    if (p.type === 'row') {
      rows.push({ title: p.title ?? '', y: p.gridPos?.y ?? 0 });
      continue;
    }
    position++;
    if (!SUPPORTED.has(p.type))
      throw new Error(`dashboard ${json.uid}: panel type ${p.type} is not drawn by the web view`);
    const target = (p.targets ?? []).find((t) => !t.hide && t.rawSql);
    if (!target?.rawSql) throw new Error(`dashboard ${json.uid}: panel "${p.title}" has no SQL target`);
    const id = typeof p.id === 'number' && p.id > 0 ? p.id : position;
    if (ids.has(id)) throw new Error(`dashboard ${json.uid}: two panels with id ${id}`);
    ids.add(id);
    const d = p.fieldConfig?.defaults ?? {};
    const overrides: FieldConfig['overrides'] = {};
    for (const o of p.fieldConfig?.overrides ?? []) {
      if (o.matcher?.id !== 'byName' || !o.matcher.options) continue;
      const entry: { unit?: string; decimals?: number } = {};
      for (const prop of o.properties ?? []) {
        if (prop.id === 'unit' && typeof prop.value === 'string') entry.unit = prop.value;
        if (prop.id === 'decimals' && typeof prop.value === 'number') entry.decimals = prop.value;
      }
      overrides[o.matcher.options] = entry;
    }
    const custom = (d.custom ?? {}) as { stacking?: { mode?: string }; drawStyle?: string; fillOpacity?: number };
    const reduce = p.options?.reduceOptions;
    panels.push({
      id,
      type: p.type as PanelType,
      title: p.title ?? '',
      description: p.description ?? '',
      gridPos: { x: p.gridPos?.x ?? 0, y: p.gridPos?.y ?? 0, w: p.gridPos?.w ?? 12, h: p.gridPos?.h ?? 8 },
      fieldConfig: {
        ...(d.unit !== undefined ? { unit: d.unit } : {}),
        ...(d.decimals !== undefined ? { decimals: d.decimals } : {}),
        ...(d.max !== undefined ? { max: d.max } : {}),
        overrides,
        custom: {
          ...(custom.stacking?.mode ? { stacking: custom.stacking.mode } : {}),
          ...(custom.drawStyle ? { drawStyle: custom.drawStyle } : {}),
          ...(custom.fillOpacity !== undefined ? { fillOpacity: custom.fillOpacity } : {}),
        },
      },
      reduce: { calc: reduce?.calcs?.[0] ?? 'lastNotNull', values: reduce?.values ?? false },
      rawSql: target.rawSql,
      format: target.format ?? 1,
      tenantScoped: /\$\{tenant:singlequote\}/.test(target.rawSql),
    });
  }
  return {
    uid: json.uid,
    title: json.title,
    description: json.description ?? '',
    time: json.time ?? { from: 'now-24h', to: 'now' },
    refresh: json.refresh ?? '',
    variables,
    rows,
    panels,
  };
}

/** Units that are money. A `user` key never receives a value in one of them. */
const MONEY_UNITS = new Set(['currencyUSD', 'currencyEUR', 'currencyGBP']);
/** Columns that hold dollars whatever unit the panel gives them (alert `observed`/`limit_value` are spend for budget alerts). */
const MONEY_NAME =
  /(^|_)(usd|cost|spend|spent|price|amount|saved|savings|projected|burn|observed|limit_value|budget)(_|$)/i;

export function unitOf(panel: Panel, column: string): string | undefined {
  return panel.fieldConfig.overrides[column]?.unit ?? panel.fieldConfig.unit;
}

export function isMoneyColumn(panel: Panel, column: string): boolean {
  const unit = unitOf(panel, column);
  if (unit === 'string' || unit === 'dateTimeAsIso') return false;
  return MONEY_UNITS.has(unit ?? '') || MONEY_NAME.test(column);
}

/**
 * Whether a `user` key may see a panel at all. Tables lose their money columns instead;
 * any other panel whose values are money is withheld.
 */
export function isMoneyPanel(panel: Panel): boolean {
  if (panel.type === 'table') return false;
  return MONEY_UNITS.has(panel.fieldConfig.unit ?? '');
}

/** Whether a panel may be run for this principal, and why not. */
export function panelRefusal(dash: Dashboard, panel: Panel, who: Principal): string | undefined {
  if (who.role === 'user' && isMoneyPanel(panel)) return 'this panel shows money, which a user key may not see';
  if (who.tenant !== '*' && !panel.tenantScoped) return 'this panel spans every tenant: it needs an operator key';
  if (who.tenant !== '*' && !dash.variables.some((v) => v.name === 'tenant')) {
    return 'this dashboard spans every tenant: it needs an operator key';
  }
  return undefined;
}

/** The dashboard as this principal may see it, or undefined when nothing of it is visible. */
export function publicDashboard(dash: Dashboard, who: Principal): PublicDashboard | undefined {
  const panels = dash.panels
    .filter((p) => panelRefusal(dash, p, who) === undefined)
    .map(({ rawSql: _sql, tenantScoped: _t, ...p }) => ({ ...p, description: text(p.description, who) }));
  if (panels.length === 0) return undefined;
  return {
    uid: dash.uid,
    title: dash.title,
    description: text(dash.description, who),
    time: dash.time,
    refresh: dash.refresh,
    rows: dash.rows,
    variables: dash.variables.map(({ rawSql: _sql, ...v }) => v),
    panels,
  };
}

/** A description for this principal: a user key gets none that speaks of dollars. */
function text(description: string, who: Principal): string {
  return who.role === 'user' && description.includes('$') ? '' : description;
}
