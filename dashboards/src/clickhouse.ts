import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';

/** The grafana-clickhouse-datasource plugin's id, and the uid tokenmeter provisions it under. */
export const PLUGIN_ID = 'grafana-clickhouse-datasource';
export const DATASOURCE_UID = 'tokenmeter-clickhouse';
/** Panels never name a datasource uid: they use the dashboard's datasource variable. */
export const DATASOURCE_VARIABLE = 'datasource';
export const DATASOURCE_REF = { type: PLUGIN_ID, uid: `\${${DATASOURCE_VARIABLE}}` };

/** The plugin's result formats (sqlds query.go): what the backend turns the rows into. */
export const FORMAT = { timeseries: 0, table: 1, logs: 2, traces: 3 } as const;
export type Format = keyof typeof FORMAT;

/** A target in the plugin's SQL-editor shape (src/types/sql.ts CHSqlQuery). */
export interface ClickHouseQuery {
  refId?: string;
  hide?: boolean;
  datasource?: { type: string; uid: string };
  pluginVersion: string;
  editorType: 'sql';
  rawSql: string;
  format: number;
  queryType: Format;
  _implementsDataqueryVariant(): void;
}

/** The plugin version the targets are written for (the one deploy/ installs). */
export const PLUGIN_VERSION = '4.20.0';

export class ClickHouseQueryBuilder implements Builder<Dataquery> {
  private readonly internal: ClickHouseQuery;

  constructor(rawSql: string, format: Format = 'table') {
    this.internal = {
      datasource: DATASOURCE_REF,
      pluginVersion: PLUGIN_VERSION,
      editorType: 'sql',
      rawSql,
      format: FORMAT[format],
      queryType: format,
      _implementsDataqueryVariant() {},
    };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  build(): ClickHouseQuery {
    return this.internal;
  }
}
