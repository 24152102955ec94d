import {
  DashboardBuilder,
  type Dashboard,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  RowBuilder,
  TimePickerBuilder,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { type PanelSpec, toPanelBuilder } from './panels.js';
import { datasourceVariable, filterVariables, type VariableName } from './variables.js';

/** A dashboard as data: rows of panels, the variables it offers, the question it answers. */
export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Default time range, e.g. 'now-7d'. */
  from: string;
  variables: readonly VariableName[];
  rows: { title: string; panels: PanelSpec[] }[];
}

export const TAG = 'tokenmeter';

export function buildDashboard(spec: DashboardSpec): Dashboard {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([TAG])
    .editable()
    .timezone('utc')
    .time({ from: spec.from, to: 'now' })
    .refresh('5m')
    .tooltip(DashboardCursorSync.Crosshair)
    .timepicker(new TimePickerBuilder().refreshIntervals(['1m', '5m', '15m', '1h']))
    .link(
      new DashboardLinkBuilder('tokenmeter')
        .type(DashboardLinkType.Dashboards)
        .tags([TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    )
    .withVariable(datasourceVariable());
  for (const v of filterVariables(spec.variables)) builder.withVariable(v);
  // Stable panel ids, in order: links and alert annotations (__panelId__) can name a panel.
  let id = 0;
  for (const row of spec.rows) {
    builder.withRow(new RowBuilder(row.title).id(++id));
    for (const panel of row.panels) builder.withPanel(toPanelBuilder(panel, ++id));
  }
  return builder.build();
}

/** Every panel of a dashboard, in order. */
export function panelsOf(spec: DashboardSpec): PanelSpec[] {
  return spec.rows.flatMap((r) => r.panels);
}
