import type { AlertLabels } from '../alerts/alertmanager.js';
import { fingerprintOf } from '../alerts/fingerprint.js';
import type { DesiredAlert } from '../alerts/types.js';
import { periodLabel } from './period.js';
import { type BudgetStatus, scopeText } from './types.js';

export const BUDGET_ALERTNAME = 'BudgetThreshold';

/** 100 % and beyond pages; 90 % warns; lower thresholds inform. */
export function severityOf(threshold: number): AlertLabels['severity'] {
  if (threshold >= 100) return 'page';
  if (threshold >= 90) return 'warning';
  return 'info';
}

/**
 * One alert per threshold crossed in the current period (pure). The fingerprint holds the
 * budget's version and the period, so a new period or a changed budget is a new alert and the
 * old one resolves.
 */
export function budgetAlerts(statuses: readonly BudgetStatus[]): DesiredAlert[] {
  const out: DesiredAlert[] = [];
  for (const s of statuses) {
    const b = s.budget;
    const scope = scopeText(b.scope);
    const version = b.id === 'default-user' ? `default:${b.amountUsd}:${b.mode}` : b.updatedAt;
    const period = periodLabel(b.period, s.periodStart);
    for (const threshold of s.crossed) {
      out.push({
        fingerprint: fingerprintOf(
          BUDGET_ALERTNAME,
          b.tenant,
          b.id,
          scope,
          version,
          s.periodStart.getTime(),
          threshold,
        ),
        labels: {
          alertname: BUDGET_ALERTNAME,
          severity: severityOf(threshold),
          tenant: b.tenant,
          scope,
          threshold: String(threshold),
          budget_id: b.id,
          budget_version: fingerprintOf(version).slice(0, 8),
          mode: b.mode,
          period,
        },
        annotations: {
          summary: `${b.name || 'budget'} (${scope}) at ${s.percent}% of ${b.amountUsd} USD for ${period}`,
          description:
            `Spend ${s.spendUsd} USD of ${b.amountUsd} USD (${b.period}, ${b.mode}) crossed ${threshold}%. ` +
            `Period ends ${s.periodEnd.toISOString()}.`,
        },
        budgetId: b.id,
        periodStart: s.periodStart,
        threshold,
        observed: Number(s.spendUsd),
        limit: Number(b.amountUsd),
      });
    }
  }
  return out;
}
