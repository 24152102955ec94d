import { recordAlertEvent } from '../alerts/events.js';
import { DEFAULT_ERROR_RULES, DEFAULT_SPIKE_RULES } from '../anomaly/detect.js';
import { anomalyAlertsBetween } from '../anomaly/evaluate.js';
import { encodeTraceRequest, type OtlpSpan, attr } from '../otlp/encode.js';
import type { Running } from '../server.js';
import { DEMO_TENANT, demoHistory } from './history.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface BackfillOptions {
  now: number;
  spikeMinHourlyUsd: number;
  isStopped?: () => boolean;
  /** Spans per OTLP request: large, so 30 days go in a few requests. */
  batchSpans?: number;
}

export interface BackfillSummary {
  calls: number;
  requests: number;
  anomalyAlerts: number;
  budgets: number;
}

/**
 * The demo's past, through the service's own front door: the history's spans as OTLP/HTTP
 * protobuf POSTs to /v1/traces (priced, deduplicated, rolled up like any other), then the
 * anomaly alerts the evaluator would have raised over those hours, then the demo budgets
 * through the budgets API — one for a user at about 80 % of its month.
 */
export async function backfillDemo(
  running: Pick<Running, 'url' | 'store' | 'log'>,
  key: string,
  opts: BackfillOptions,
): Promise<BackfillSummary> {
  const batchSpans = opts.batchSpans ?? 5_000;
  let pending: OtlpSpan[] = [];
  let calls = 0;
  let requests = 0;
  const send = async (spans: OtlpSpan[]) => {
    await postSpans(running.url, key, spans);
    calls += spans.length;
    requests++;
  };
  for (const hour of demoHistory({ now: opts.now })) {
    if (opts.isStopped?.()) break;
    pending.push(...hour);
    if (pending.length >= batchSpans) {
      await send(pending);
      pending = [];
    }
  }
  if (pending.length > 0 && !opts.isStopped?.()) await send(pending);
  if (opts.isStopped?.()) return { calls, requests, anomalyAlerts: 0, budgets: 0 };
  // Acknowledged means spooled: wait until the drainer has it all in ClickHouse.
  await untilStored(running, calls);
  const anomalyAlerts = await recordPastAnomalies(running, opts);
  const budgets = await createDemoBudgets(running.url, key);
  return { calls, requests, anomalyAlerts, budgets };
}

async function untilStored(running: Pick<Running, 'store'>, calls: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const rs = await running.store.reader.query({
      query: 'SELECT count() AS n FROM ai_calls WHERE tenant = {tenant:String}',
      query_params: { tenant: DEMO_TENANT },
      format: 'JSONEachRow',
    });
    const [{ n } = { n: '0' }] = await rs.json<{ n: string }>();
    if (Number(n) >= calls) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the demo history did not reach ClickHouse within 2 minutes');
}

async function postSpans(url: string, key: string, spans: OtlpSpan[]): Promise<void> {
  const body = encodeTraceRequest({
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'demo-shop'), attr('deployment.environment', 'demo')] },
        scopeSpans: [{ scope: { name: 'tokenmeter-demo-history', version: '1' }, spans }],
      },
    ],
  });
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf' },
      body,
    });
    await res.arrayBuffer();
    if (res.ok) return;
    // Backpressure (503/429 with Retry-After): wait as asked, like an exporter would.
    if ((res.status === 503 || res.status === 429) && attempt < 20) {
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
      continue;
    }
    throw new Error(`the ingest refused the demo history: ${res.status}`);
  }
}

/** What the anomaly evaluator would have raised over the history, recorded as if it had run then. */
async function recordPastAnomalies(running: Pick<Running, 'store'>, opts: BackfillOptions): Promise<number> {
  const alerts = await anomalyAlertsBetween(running.store, new Date(opts.now - 23 * DAY), new Date(opts.now - HOUR), {
    spike: { ...DEFAULT_SPIKE_RULES, minHourlyUsd: opts.spikeMinHourlyUsd },
    errors: DEFAULT_ERROR_RULES,
  });
  let recorded = 0;
  for (const a of alerts) {
    if (a.labels.tenant !== DEMO_TENANT) continue;
    const hour = a.periodStart.getTime();
    // Raised a minute into the next hour's evaluation; resolved the hour after.
    await recordAlertEvent(running.store, a, 'firing', new Date(hour + HOUR + 60_000));
    await recordAlertEvent(running.store, a, 'resolved', new Date(hour + 2 * HOUR + 60_000));
    recorded++;
  }
  return recorded;
}

interface DemoBudget {
  name: string;
  scope: Record<string, string>;
  mode: 'soft' | 'hard';
  /** The share of the amount this month's spend so far should be. */
  used: number;
}

/** Budgets in use: a user at ~80 %, a hard team limit with room left, the whole tenant. */
const DEMO_BUDGETS: DemoBudget[] = [
  { name: 'ada monthly', scope: { user: 'ada' }, mode: 'soft', used: 0.8 },
  { name: 'support hard cap', scope: { team: 'support' }, mode: 'hard', used: 0.45 },
  { name: 'demo shop monthly', scope: {}, mode: 'soft', used: 0.55 },
];

async function createDemoBudgets(url: string, key: string): Promise<number> {
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path.split('?')[0]}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const q = `?tenant=${DEMO_TENANT}`;
  for (const b of DEMO_BUDGETS) {
    // Made with a placeholder amount, then sized from the spend the service itself reports.
    const created = await api<{ id: string }>('POST', `/api/v1/budgets${q}`, {
      name: b.name,
      scope: b.scope,
      period: 'month',
      mode: b.mode,
      amountUsd: '1000',
      thresholds: [50, 80, 100],
    });
    const { budgets } = await api<{ budgets: { id: string; status: { spendUsd: string } }[] }>(
      'GET',
      `/api/v1/budgets${q}`,
    );
    const spend = Number(budgets.find((x) => x.id === created.id)?.status.spendUsd ?? 0);
    const amount = spend > 0 ? Math.max(0.01, spend / b.used) : 10;
    await api('PUT', `/api/v1/budgets/${created.id}${q}`, { amountUsd: amount.toFixed(2) });
  }
  return DEMO_BUDGETS.length;
}
