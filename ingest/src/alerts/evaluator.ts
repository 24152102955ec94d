import type { Logger } from 'pino';
import { DEFAULT_ERROR_RULES, DEFAULT_SPIKE_RULES, type ErrorRules, type SpikeRules } from '../anomaly/detect.js';
import {
  type AnomalyOptions,
  COST_SPIKE,
  ERROR_RATE_SPIKE,
  evaluateAnomalies,
  UNPRICED_MODEL,
} from '../anomaly/evaluate.js';
import { BUDGET_ALERTNAME, budgetAlerts } from '../budgets/alerts.js';
import { allStatuses, type DefaultUserBudget } from '../budgets/status.js';
import { listBudgets } from '../budgets/store.js';
import type { Store } from '../store/client.js';
import type { AlertmanagerAlert, AlertSink } from './alertmanager.js';
import { loadAlertState, recordAlertEvent } from './events.js';
import type { DesiredAlert } from './types.js';

/** The alerts this evaluator raises and resolves; others in alert_events (drift) belong to their writers. */
export const EVALUATOR_ALERTNAMES = [BUDGET_ALERTNAME, COST_SPIKE, ERROR_RATE_SPIKE, UNPRICED_MODEL] as const;

export interface EvaluatorOptions {
  store: Store;
  log: Logger;
  /** Where alerts go (Alertmanager); undefined records history only. */
  sink: AlertSink | undefined;
  intervalMs: number;
  defaultUserBudget: DefaultUserBudget | undefined;
  /** Anomaly rules (defaults in anomaly/detect.ts); false turns anomaly alerts off. */
  anomalies?: { spike?: Partial<SpikeRules>; errors?: Partial<ErrorRules> } | false;
  /** The evaluator's clock: periods and windows. Injected by tests to cross a period end. */
  now?: () => Date;
  /** Wall clock for Alertmanager timestamps (Alertmanager compares them with its own). */
  wallNow?: () => Date;
  onError?: (where: string) => void;
  /** Alert counters for /metrics, by alertname and state. */
  onTransition?: (alertname: string, state: 'firing' | 'resolved') => void;
}

export interface EvaluationResult {
  firing: DesiredAlert[];
  fired: DesiredAlert[];
  resolved: DesiredAlert[];
  pushed: boolean;
}

/**
 * Every interval: spend of every budget and the anomaly rules → the alerts that should fire.
 * A new alert is recorded once in `alert_events`; an alert no longer wanted (period over,
 * budget changed or removed, anomaly passed) is recorded resolved and sent with `endsAt`.
 * Firing alerts are re-sent each round, as Alertmanager expects; it deduplicates notifications.
 */
export class AlertEvaluator {
  private active = new Map<string, DesiredAlert>();
  private seen = new Set<string>();
  /** Resolutions Alertmanager has not accepted yet: sent again next round. */
  private unsentResolutions = new Map<string, DesiredAlert>();
  private loaded = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<EvaluationResult> | undefined;
  private readonly now: () => Date;
  private readonly wallNow: () => Date;
  private readonly anomalies: AnomalyOptions | undefined;

  constructor(private readonly opts: EvaluatorOptions) {
    this.now = opts.now ?? (() => new Date());
    this.wallNow = opts.wallNow ?? (() => new Date());
    this.anomalies =
      opts.anomalies === false
        ? undefined
        : {
            spike: { ...DEFAULT_SPIKE_RULES, ...opts.anomalies?.spike },
            errors: { ...DEFAULT_ERROR_RULES, ...opts.anomalies?.errors },
          };
  }

  start(): void {
    if (this.timer || this.opts.intervalMs <= 0) return;
    const tick = () => {
      this.evaluateOnce().catch((err: unknown) => {
        this.opts.onError?.('evaluate');
        this.opts.log.error({ err: (err as Error).message }, 'alert evaluation failed');
      });
    };
    this.timer = setInterval(tick, this.opts.intervalMs);
    this.timer.unref();
    setImmediate(tick);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One round; concurrent calls share the round in progress. */
  evaluateOnce(): Promise<EvaluationResult> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Alerts firing now (after the last round). */
  firing(): DesiredAlert[] {
    return [...this.active.values()];
  }

  private async round(): Promise<EvaluationResult> {
    const { store, log } = this.opts;
    if (!this.loaded) {
      const state = await loadAlertState(store, EVALUATOR_ALERTNAMES);
      this.seen = state.seen;
      for (const a of state.firing) this.active.set(a.fingerprint, a);
      this.loaded = true;
    }
    const now = this.now();
    const budgets = await listBudgets(store, undefined);
    const statuses = await allStatuses(store, budgets, this.opts.defaultUserBudget, now);
    const desired = budgetAlerts(statuses);
    if (this.anomalies) desired.push(...(await evaluateAnomalies(store, now, this.anomalies)));

    const wanted = new Map(desired.map((a) => [a.fingerprint, a]));
    const fired: DesiredAlert[] = [];
    const resolved: DesiredAlert[] = [];
    for (const a of desired) {
      if (this.active.has(a.fingerprint)) {
        this.active.set(a.fingerprint, a);
        continue;
      }
      // Once per period: a fingerprint already recorded (and since resolved) is not raised again.
      if (this.seen.has(a.fingerprint)) continue;
      await recordAlertEvent(store, a, 'firing', now);
      this.seen.add(a.fingerprint);
      this.active.set(a.fingerprint, a);
      fired.push(a);
      this.opts.onTransition?.(a.labels.alertname, 'firing');
      log.info({ alert: a.labels, fingerprint: a.fingerprint }, 'alert firing');
    }
    for (const [fp, a] of this.active) {
      if (wanted.has(fp)) continue;
      await recordAlertEvent(store, a, 'resolved', now);
      this.active.delete(fp);
      this.unsentResolutions.set(fp, a);
      resolved.push(a);
      this.opts.onTransition?.(a.labels.alertname, 'resolved');
      log.info({ alert: a.labels, fingerprint: fp }, 'alert resolved');
    }
    const pushed = await this.push();
    return { firing: this.firing(), fired, resolved, pushed };
  }

  private async push(): Promise<boolean> {
    const sink = this.opts.sink;
    if (!sink) {
      this.unsentResolutions.clear();
      return false;
    }
    const wall = this.wallNow();
    // A firing alert stays firing in Alertmanager for 4 rounds without a re-send (as Prometheus does).
    const until = new Date(wall.getTime() + Math.max(4 * this.opts.intervalMs, 60_000));
    const batch: AlertmanagerAlert[] = [
      ...[...this.active.values()].map((a) => ({
        labels: a.labels,
        annotations: a.annotations,
        startsAt: undefined,
        endsAt: until,
      })),
      ...[...this.unsentResolutions.values()].map((a) => ({
        labels: a.labels,
        annotations: a.annotations,
        endsAt: wall,
      })),
    ];
    if (batch.length === 0) return true;
    try {
      await sink.push(batch);
      this.unsentResolutions.clear();
      return true;
    } catch (err) {
      this.opts.onError?.('alertmanager');
      this.opts.log.warn(
        { err: (err as Error).message, alerts: batch.length },
        'alerts not delivered; retrying next round',
      );
      return false;
    }
  }
}
