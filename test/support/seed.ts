import { createHash } from 'node:crypto';
import { mulberry32 } from '../../ingest/src/demo/history.ts';
import { insertSettings, type Store } from '../../ingest/src/store/client.ts';
import { type CallRow, costFromPrice, toCallRow } from '../../ingest/src/pipeline/rows.ts';
import type { AiCall } from '../../instrumentation/src/normalize/types.ts';
import { formatScaled, parseUsd, priceCall } from '../../instrumentation/src/prices/index.ts';

/**
 * A deterministic seeder of realistic `ai_calls` rows, shared by the dashboard,
 * budget, reconciliation and web-view tests. Rows go through the real row builder
 * (`toCallRow`) and the real price engine (`priceCall`), so costs are real
 * catalogue prices; a few calls use a model nobody priced (cost NULL).
 *
 * Same options (seed included) → byte-identical rows and the same summary.
 */
export interface SeedModel {
  provider: string;
  model: string;
}

export interface SeedOptions {
  tenant?: string;
  /** How many days of history, ending at `end`. */
  days: number;
  /** Exclusive end; floored to the hour. Default: the start of the current hour. */
  end?: Date;
  /** Average calls per hour (each hour varies ±50% around it, deterministically). */
  callsPerHour?: number;
  seed?: number;
  users?: string[];
  /** A user's team is teams[userIndex % teams.length]: stable attribution. */
  teams?: string[];
  features?: string[];
  services?: string[];
  /** Priced models. One unpriced model (`UNPRICED_MODEL`) is added at `unpricedRate`. */
  models?: SeedModel[];
  /** Share of calls with a model that has no price. Default 0.02; 0 for none. */
  unpricedRate?: number;
  /** Share of calls that fail (status 'error'). Default 0.02. */
  errorRate?: number;
  /** The hour containing `at` gets `factor` times its usual calls (a cost spike). */
  spike?: { at: Date; factor: number };
}

export interface SeedTotals {
  calls: number;
  errors: number;
  unpriced: number;
  /** Exact decimal sum of cost_usd over priced calls (unpriced count as nothing). */
  costUsd: string;
  cacheSavingsUsd: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
}

export interface SeedSummary extends SeedTotals {
  tenant: string;
  /** First hour seeded (inclusive) and the end (exclusive), both on the hour. */
  from: Date;
  to: Date;
  /** Keyed by 'YYYY-MM-DD' (UTC). */
  byDay: Record<string, SeedTotals>;
  /** Keyed by 'YYYY-MM-DD hh:00:00' (UTC), the way ClickHouse prints the hour. */
  byHour: Record<string, SeedTotals>;
  byUser: Record<string, SeedTotals>;
  byTeam: Record<string, SeedTotals>;
  byFeature: Record<string, SeedTotals>;
  byModel: Record<string, SeedTotals>;
  byProvider: Record<string, SeedTotals>;
  byService: Record<string, SeedTotals>;
}

export const DEFAULT_MODELS: readonly SeedModel[] = [
  { provider: 'openai', model: 'gpt-4o' },
  { provider: 'openai', model: 'gpt-4o-mini' },
  { provider: 'anthropic', model: 'claude-sonnet-4-5' },
  { provider: 'anthropic', model: 'claude-haiku-4-5' },
  { provider: 'google', model: 'gemini-2.5-flash' },
];
export const UNPRICED_MODEL: SeedModel = { provider: 'custom', model: 'acme-llm-7b' };
export const DEFAULT_USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
export const DEFAULT_TEAMS = ['search', 'support', 'growth'];
export const DEFAULT_FEATURES = ['chat', 'summarize', 'classify'];
export const DEFAULT_SERVICES = ['chat-api', 'batch-worker'];

const HOUR_MS = 3_600_000;

/** mulberry32 (the demo history's): a tiny seeded PRNG, enough for test data. */
export const prng = mulberry32;

const PLANS = ['pro', 'free', 'team'] as const;

/** Build the rows and their summary without touching ClickHouse (pure). */
export function buildSeedRows(opts: SeedOptions): { rows: CallRow[]; summary: SeedSummary } {
  const tenant = opts.tenant ?? 'acme';
  const seed = opts.seed ?? 1;
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const hex = (n: number) => {
    let s = '';
    while (s.length < n)
      s += Math.floor(rand() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return s.slice(0, n);
  };
  const users = opts.users ?? DEFAULT_USERS;
  const teams = opts.teams ?? DEFAULT_TEAMS;
  const features = opts.features ?? DEFAULT_FEATURES;
  const services = opts.services ?? DEFAULT_SERVICES;
  const models = opts.models ?? DEFAULT_MODELS;
  const unpricedRate = opts.unpricedRate ?? 0.02;
  const errorRate = opts.errorRate ?? 0.02;
  const perHour = opts.callsPerHour ?? 6;
  const to = new Date(Math.floor((opts.end ?? new Date()).getTime() / HOUR_MS) * HOUR_MS);
  const from = new Date(to.getTime() - opts.days * 24 * HOUR_MS);
  const spikeHour = opts.spike ? Math.floor(opts.spike.at.getTime() / HOUR_MS) * HOUR_MS : undefined;
  // Zipf-like weights: the first user spends the most, so "top spenders" has a top.
  const userWeights = users.map((_, i) => 1 / (i + 1));
  const weightSum = userWeights.reduce((a, b) => a + b, 0);
  const pickUser = (): number => {
    let r = rand() * weightSum;
    for (let i = 0; i < users.length; i++) {
      r -= userWeights[i] ?? 0;
      if (r <= 0) return i;
    }
    return users.length - 1;
  };

  const rows: CallRow[] = [];
  const summary = emptySummary(tenant, from, to);
  const scaled = new Map<SeedTotals, { cost: bigint; savings: bigint }>();

  for (let hour = from.getTime(); hour < to.getTime(); hour += HOUR_MS) {
    let n = Math.max(1, Math.round(perHour * (0.5 + rand())));
    if (hour === spikeHour) n = Math.round(n * (opts.spike?.factor ?? 1));
    for (let i = 0; i < n; i++) {
      const userIndex = pickUser();
      const isUnpriced = rand() < unpricedRate;
      const { provider, model } = isUnpriced ? UNPRICED_MODEL : pick(models);
      const isError = rand() < errorRate;
      const isStreaming = rand() < 0.5;
      const input = isError ? 0 : int(200, 4000);
      const output = isError ? 0 : int(50, 800);
      const cacheRead = !isError && provider !== 'google' && rand() < 0.3 ? Math.floor(input * 0.6) : 0;
      const durationMs = isError ? int(50, 400) : int(300, 5000);
      const startNs = BigInt(hour + int(0, HOUR_MS - durationMs - 1)) * 1_000_000n + BigInt(int(0, 999_999));
      // Drawn in the order they always were, so the seeded data stays the same.
      const service = pick(services);
      const traceId = hex(32);
      const spanId = hex(16);
      const call: AiCall = {
        convention: 'gen_ai',
        startTimeUnixNano: startNs,
        durationNs: BigInt(durationMs) * 1_000_000n,
        service,
        traceId,
        spanId,
        parentSpanId: '',
        scopeName: '@tokenmeter/instrumentation',
        provider,
        operation: 'chat',
        requestModel: model,
        responseModel: model,
        responseId: isError ? '' : `resp_${hex(12)}`,
        finishReasons: isError ? [] : ['stop'],
        tenant,
        userId: users[userIndex] ?? '',
        team: teams[userIndex % teams.length] ?? '',
        feature: pick(features),
        sessionId: '',
        requestId: `req_${hex(12)}`,
        // Custom properties from values already drawn (no extra draws: the rest of the data stays as it was).
        properties: { plan: PLANS[userIndex % PLANS.length]!, arm: parseInt(spanId.slice(-1), 16) % 2 ? 'a' : 'b' },
        usage: { inputTokens: input, outputTokens: output, cacheReadTokens: cacheRead },
        estimated: false,
        isStreaming,
        isBatch: false,
        spanUnpriced: false,
        ttftMs: isStreaming && !isError ? int(80, Math.min(900, durationMs)) : null,
        status: isError ? 'error' : 'ok',
        errorType: isError ? pick(['429', '500', 'timeout']) : '',
      };
      const at = new Date(Number(startNs / 1_000_000n));
      const price = priceCall({ provider, model, usage: call.usage, timestamp: at });
      const row = toCallRow(call, tenant, costFromPrice(price), {});
      rows.push(row);
      const day = row.timestamp.slice(0, 10);
      const hourKey = `${row.timestamp.slice(0, 13)}:00:00`;
      for (const totals of [
        summary,
        bucket(summary.byDay, day),
        bucket(summary.byHour, hourKey),
        bucket(summary.byUser, row.user_id),
        bucket(summary.byTeam, row.team),
        bucket(summary.byFeature, row.feature),
        bucket(summary.byModel, row.model),
        bucket(summary.byProvider, row.provider),
        bucket(summary.byService, row.service),
      ]) {
        const acc = scaled.get(totals) ?? { cost: 0n, savings: 0n };
        scaled.set(totals, acc);
        totals.calls++;
        if (isError) totals.errors++;
        if (!row.priced) totals.unpriced++;
        totals.inputTokens += row.input_tokens;
        totals.outputTokens += row.output_tokens;
        totals.cacheReadTokens += row.cache_read_tokens;
        acc.cost += row.cost_usd === null ? 0n : parseUsd(row.cost_usd);
        acc.savings += parseUsd(row.cache_savings_usd);
      }
    }
  }
  for (const [totals, acc] of scaled) {
    totals.costUsd = formatScaled(acc.cost);
    totals.cacheSavingsUsd = formatScaled(acc.savings);
  }
  return { rows, summary };
}

/**
 * Insert seeded calls into `ai_calls` (and so, through the materialized views, into
 * the hourly and daily rollups). One insert per day, each with a deduplication token
 * derived from its content: seeding the same thing twice counts once; seeding
 * different data never collides.
 */
export async function seedCalls(store: Store, opts: SeedOptions): Promise<SeedSummary> {
  const { rows, summary } = buildSeedRows(opts);
  const byDay = new Map<string, CallRow[]>();
  for (const row of rows) {
    const day = row.timestamp.slice(0, 10);
    const list = byDay.get(day) ?? [];
    list.push(row);
    byDay.set(day, list);
  }
  for (const values of byDay.values()) {
    const token = `seed-${createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 32)}`;
    await store.writer.insert({
      table: `${store.database}.ai_calls`,
      format: 'JSONEachRow',
      values,
      clickhouse_settings: insertSettings(token),
    });
  }
  return summary;
}

function emptyTotals(): SeedTotals {
  return {
    calls: 0,
    errors: 0,
    unpriced: 0,
    costUsd: '0',
    cacheSavingsUsd: '0',
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
  };
}

function emptySummary(tenant: string, from: Date, to: Date): SeedSummary {
  return {
    ...emptyTotals(),
    tenant,
    from,
    to,
    byDay: {},
    byHour: {},
    byUser: {},
    byTeam: {},
    byFeature: {},
    byModel: {},
    byProvider: {},
    byService: {},
  };
}

function bucket(map: Record<string, SeedTotals>, key: string): SeedTotals {
  map[key] ??= emptyTotals();
  return map[key];
}
