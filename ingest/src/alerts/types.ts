import type { AlertLabels } from './alertmanager.js';

/** An alert the evaluator wants firing now, with what goes into `alert_events`. */
export interface DesiredAlert {
  /** Stable id: one crossing (or one anomalous hour) per period; recorded once. */
  fingerprint: string;
  labels: AlertLabels;
  annotations: Record<string, string>;
  budgetId: string;
  periodStart: Date;
  threshold: number;
  observed: number;
  limit: number;
}

export type AlertState = 'firing' | 'resolved';
