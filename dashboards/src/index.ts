export {
  ALL,
  type BoundSql,
  type ExpandOptions,
  expandAsGrafana,
  expandPanelSql,
  grafanaInterval,
  MacroError,
} from './macros.js';
export { buildDashboard, type DashboardSpec, panelsOf } from './dashboard.js';
export type { PanelSpec, Unit } from './panels.js';
export { DATASOURCE_UID, DATASOURCE_VARIABLE, FORMAT, PLUGIN_ID } from './clickhouse.js';
export { FILTER_VARIABLES, VARIABLE_NAMES, variableQuery } from './variables.js';
export { NO_PROJECTIONS, qualifyTables, TABLES } from './sql.js';
export { DASHBOARDS } from './all.js';
