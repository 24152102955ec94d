import {
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE_REF, DATASOURCE_UID, DATASOURCE_VARIABLE, PLUGIN_ID } from './clickhouse.js';

/**
 * The dashboards' template variables: which column each filters, and where its values
 * come from. Every one is multi-value with "All"; panels use them only through `filter()`.
 */
export const FILTER_VARIABLES = [
  { name: 'tenant', label: 'Tenant', column: 'tenant', dependsOn: [] },
  { name: 'service', label: 'Service', column: 'service', dependsOn: ['tenant'] },
  { name: 'provider', label: 'Provider', column: 'provider', dependsOn: ['tenant'] },
  { name: 'model', label: 'Model', column: 'model', dependsOn: ['tenant', 'provider'] },
  { name: 'user', label: 'User', column: 'user_id', dependsOn: ['tenant'] },
  { name: 'feature', label: 'Feature', column: 'feature', dependsOn: ['tenant'] },
] as const;

export type FilterName = (typeof FILTER_VARIABLES)[number]['name'];

/**
 * `$property`: custom properties as `name=value` (README "Custom properties"). They are not in
 * the rollups, so it filters only panels that read `ai_calls` within the range, through
 * `propertyFilter()` over an `ARRAY JOIN` of the properties map as `k`, `v`.
 */
export const PROPERTY_VARIABLE = { name: 'property', label: 'Property', expression: "concat(k, '=', v)" } as const;
export type VariableName = FilterName | 'property';
/** Every variable a dashboard can offer, in the order they are shown. */
export const VARIABLE_NAMES: readonly VariableName[] = [...FILTER_VARIABLES.map((v) => v.name), 'property'];

/** The property pairs of `ai_calls` as `k`, `v` (one row per property): put after FROM ai_calls. */
export const PROPERTY_PAIRS = 'ARRAY JOIN mapKeys(properties) AS k, mapValues(properties) AS v';

/** The `$property` condition for a query over PROPERTY_PAIRS. */
export function propertyFilter(): string {
  return condition(PROPERTY_VARIABLE.name, PROPERTY_VARIABLE.expression);
}

/** Every filter but $user: the coarse rollups have no user (see `usageRows`). */
export const NOT_USER: readonly FilterName[] = FILTER_VARIABLES.map((v) => v.name).filter((n) => n !== 'user');

/** `$__conditionalAll(col IN (${var:singlequote}), $var)`: "All" (or nothing) filters nothing. */
export function condition(name: string, column: string): string {
  return `$__conditionalAll(${column} IN (\${${name}:singlequote}), $${name})`;
}

/**
 * The WHERE conditions for the chosen variables (default: all six) over a table that has
 * the rollup columns. `prefix` qualifies the columns (joins).
 */
export function filter(names: readonly FilterName[] = FILTER_VARIABLES.map((v) => v.name), prefix = ''): string {
  return FILTER_VARIABLES.filter((v) => names.includes(v.name))
    .map((v) => condition(v.name, prefix + v.column))
    .join('\n  AND ');
}

/**
 * A variable's option query: the distinct values over the last 90 days, users from the
 * per-user daily rollup, the rest from the coarse one; for `$property`, the `name=value` pairs
 * of the calls in the range's days (at most 1000).
 */
export function variableQuery(name: VariableName): string {
  if (name === PROPERTY_VARIABLE.name) {
    // The maps of the range's days, grouped right on ai_calls: its by_property_day projection answers.
    return `SELECT DISTINCT ${PROPERTY_VARIABLE.expression} AS property
FROM (SELECT properties FROM ai_calls WHERE $__dateFilter(toDate(timestamp)) AND ${filter(['tenant'])} GROUP BY properties)
${PROPERTY_PAIRS}
ORDER BY property
LIMIT 1000`;
  }
  const v = FILTER_VARIABLES.find((x) => x.name === name);
  if (!v) throw new Error(`no variable ${name}`);
  const where = ["day >= toDate($__toTime, 'UTC') - 90", ...v.dependsOn.map((d) => filter([d as FilterName]))];
  const rollup = name === 'user' ? 'ai_user_daily' : 'ai_rollup_daily';
  return `SELECT DISTINCT ${v.column} FROM ${rollup}\nWHERE ${where.join('\n  AND ')}\nORDER BY ${v.column}`;
}

export function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder(DATASOURCE_VARIABLE)
    .label('ClickHouse')
    .type(PLUGIN_ID)
    .current({ selected: true, text: DATASOURCE_UID, value: DATASOURCE_UID });
}

export function filterVariables(names: readonly VariableName[] = FILTER_VARIABLES.map((v) => v.name)) {
  const all: { name: VariableName; label: string }[] = [...FILTER_VARIABLES, PROPERTY_VARIABLE];
  return all
    .filter((v) => names.includes(v.name))
    .map((v) =>
      new QueryVariableBuilder(v.name)
        .label(v.label)
        .datasource(DATASOURCE_REF)
        // A string query: the plugin's metricFindQuery runs it as SQL (CHDatasource.metricFindQuery).
        .query(variableQuery(v.name))
        .definition(variableQuery(v.name))
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    );
}
