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

/** A variable's option query: the distinct values in the daily rollup over the last 90 days. */
export function variableQuery(name: FilterName): string {
  const v = FILTER_VARIABLES.find((x) => x.name === name);
  if (!v) throw new Error(`no variable ${name}`);
  const where = ["day >= toDate($__toTime, 'UTC') - 90", ...v.dependsOn.map((d) => filter([d as FilterName]))];
  return `SELECT DISTINCT ${v.column} FROM ai_usage_daily\nWHERE ${where.join('\n  AND ')}\nORDER BY ${v.column}`;
}

export function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder(DATASOURCE_VARIABLE)
    .label('ClickHouse')
    .type(PLUGIN_ID)
    .current({ selected: true, text: DATASOURCE_UID, value: DATASOURCE_UID });
}

export function filterVariables(names: readonly FilterName[] = FILTER_VARIABLES.map((v) => v.name)) {
  return FILTER_VARIABLES.filter((v) => names.includes(v.name)).map((v) =>
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
