/**
 * A small client for Alertmanager's v2 API (POST /api/v2/alerts), shared by the budget and
 * anomaly evaluator and by reconciliation (drift alerts).
 *
 * Alertmanager identifies an alert by its label set. Senders must re-send firing alerts
 * while they are active (Alertmanager resolves an alert whose `endsAt` passes), and resolve
 * one by sending it again with `endsAt` set to now. Timestamps here are wall-clock times:
 * Alertmanager compares them with its own clock.
 */

/** The labels every tokenmeter alert carries; extra labels make an alert distinct (per period, per budget). */
export interface AlertLabels {
  alertname: string;
  /** page | warning | info */
  severity: 'page' | 'warning' | 'info';
  tenant: string;
  /** What the alert is about, as text: a budget scope (`team=search,user=alice`) or an anomaly key. */
  scope: string;
  /** Percent of a budget, or '' when not a threshold alert (Alertmanager drops empty labels). */
  threshold?: string;
  [extra: string]: string | undefined;
}

export interface AlertmanagerAlert {
  labels: AlertLabels;
  annotations?: Record<string, string>;
  /** When the condition started; default: when Alertmanager first received it. */
  startsAt?: Date;
  /** For a firing alert: when Alertmanager should stop considering it firing without a re-send. For a resolved one: now. */
  endsAt?: Date;
  generatorURL?: string;
}

export interface AlertSink {
  /** Send these alerts (firing or resolved). Rejects on a network error or a non-2xx answer. */
  push(alerts: readonly AlertmanagerAlert[]): Promise<void>;
}

export interface AlertmanagerOptions {
  /** Base URL of Alertmanager, e.g. http://alertmanager:9093 (a trailing slash is fine). */
  url: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class AlertmanagerError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'AlertmanagerError';
  }
}

/** The JSON Alertmanager's v2 API expects: empty labels dropped, dates as RFC 3339. */
export function toPostableAlert(a: AlertmanagerAlert): Record<string, unknown> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.labels)) if (v !== undefined && v !== '') labels[k] = v;
  const out: Record<string, unknown> = { labels };
  if (a.annotations && Object.keys(a.annotations).length > 0) out.annotations = a.annotations;
  if (a.startsAt) out.startsAt = a.startsAt.toISOString();
  if (a.endsAt) out.endsAt = a.endsAt.toISOString();
  if (a.generatorURL) out.generatorURL = a.generatorURL;
  return out;
}

export function createAlertmanagerClient(opts: AlertmanagerOptions): AlertSink {
  const base = opts.url.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return {
    async push(alerts) {
      if (alerts.length === 0) return;
      let res: Response;
      try {
        res = await doFetch(`${base}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(alerts.map(toPostableAlert)),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new AlertmanagerError(`cannot reach Alertmanager at ${base}: ${(err as Error).message}`, undefined);
      }
      if (!res.ok) {
        const text = await res.text().catch(() => '');
        throw new AlertmanagerError(`Alertmanager answered ${res.status}: ${text.slice(0, 300)}`, res.status);
      }
      await res.arrayBuffer().catch(() => undefined);
    },
  };
}

/** A sink that keeps what it was sent (no Alertmanager configured, or tests). */
export function memoryAlertSink(): AlertSink & { sent: AlertmanagerAlert[][] } {
  const sent: AlertmanagerAlert[][] = [];
  return {
    sent,
    async push(alerts) {
      sent.push([...alerts]);
    },
  };
}
