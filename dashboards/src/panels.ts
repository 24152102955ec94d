import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as PieChartBuilder } from '@grafana/grafana-foundation-sdk/piechart';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { ClickHouseQueryBuilder, DATASOURCE_REF, type Format } from './clickhouse.js';

/** Units used by tokenmeter's panels (Grafana unit ids). */
export type Unit = 'currencyUSD' | 'short' | 'ms' | 's' | 'bytes' | 'percent' | 'dateTimeAsIso' | 'none' | 'string';

/**
 * One panel as data: what it shows, its SQL and what the SQL returns. The SQL uses the
 * ClickHouse plugin's macros and the dashboard's variables only as
 * `$__conditionalAll(col IN (${var:singlequote}), $var)`, so it expands both in Grafana and
 * with bound parameters (macros.ts).
 */
export interface PanelSpec {
  title: string;
  /** What question the panel answers (shown in Grafana and in the README). */
  description: string;
  kind: 'stat' | 'timeseries' | 'table' | 'bargauge' | 'piechart';
  sql: string;
  format: Format;
  /** The columns the SQL returns, in order. */
  columns: string[];
  /** The unit of the value columns; `units` overrides it per column (tables). */
  unit: Unit;
  units?: Record<string, Unit>;
  decimals?: number;
  /** Width (of 24) and height in grid units. */
  w: number;
  h: number;
  /** Time series: stack the series (cost by provider, tokens by kind). */
  stacked?: boolean;
  /** Time series: draw as bars (counts per interval). */
  bars?: boolean;
  /** Bar gauge: upper bound of the gauge (percent used). */
  max?: number;
}

export function unitOf(spec: PanelSpec, column: string): Unit {
  return spec.units?.[column] ?? spec.unit;
}

export function toPanelBuilder(spec: PanelSpec, id: number): cog.Builder<dashboard.Panel> {
  const target = new ClickHouseQueryBuilder(spec.sql, spec.format).refId('A');
  const overrides = Object.entries(spec.units ?? {}).map(([name, unit]) => ({ name, unit }));
  const base = <B extends StatBuilder | TimeSeriesBuilder | TableBuilder | BarGaugeBuilder | PieChartBuilder>(
    b: B,
  ): B => {
    b.id(id)
      .title(spec.title)
      .description(spec.description)
      .datasource(DATASOURCE_REF)
      .withTarget(target)
      .unit(spec.unit)
      .span(spec.w)
      .height(spec.h);
    if (spec.decimals !== undefined) b.decimals(spec.decimals);
    for (const o of overrides) b.overrideByName(o.name, [{ id: 'unit', value: o.unit }]);
    return b;
  };
  switch (spec.kind) {
    case 'stat':
      return base(new StatBuilder())
        .graphMode(common.BigValueGraphMode.None)
        .colorMode(common.BigValueColorMode.Value)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
    case 'timeseries': {
      const b = base(new TimeSeriesBuilder())
        .fillOpacity(spec.stacked ? 40 : 10)
        .legend(
          new common.VizLegendOptionsBuilder()
            .displayMode(common.LegendDisplayMode.Table)
            .placement(common.LegendPlacement.Bottom)
            .showLegend(true)
            .calcs(['sum', 'max']),
        );
      if (spec.stacked) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
      if (spec.bars) b.drawStyle(common.GraphDrawStyle.Bars);
      return b;
    }
    case 'table':
      return base(new TableBuilder()).cellHeight(common.TableCellHeight.Sm).filterable(true);
    case 'bargauge': {
      const b = base(new BarGaugeBuilder())
        .displayMode(common.BarGaugeDisplayMode.Gradient)
        .orientation(common.VizOrientation.Horizontal)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(true));
      if (spec.max !== undefined) b.max(spec.max);
      return b;
    }
    case 'piechart':
      return base(new PieChartBuilder()).reduceOptions(
        new common.ReduceDataOptionsBuilder().calcs(['sum']).values(true),
      );
  }
}
