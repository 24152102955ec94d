import { alerts } from './alerts.js';
import { anomalies } from './anomalies.js';
import { budgets } from './budgets.js';
import type { DashboardSpec } from './dashboard.js';
import { models } from './models.js';
import { overview } from './overview.js';
import { pipeline } from './pipeline.js';
import { reconciliation } from './reconciliation.js';
import { users } from './users.js';

/** Every dashboard tokenmeter ships, in the order the README lists them. */
export const DASHBOARDS: readonly DashboardSpec[] = [
  overview,
  models,
  users,
  budgets,
  anomalies,
  reconciliation,
  alerts,
  pipeline,
];
