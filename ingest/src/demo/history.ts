import { attr, type OtlpSpan } from '../otlp/encode.js';

/**
 * The demo's past (pure, deterministic for a given `now` and seed): 30 days of the calls a
 * small shop's AI features would make, as the GenAI-convention spans an instrumentation
 * sends — busier on weekdays and in working hours, a few users, teams and features, cache
 * reads, reasoning tokens, some errors, one self-hosted model nobody priced, and a runaway
 * agent two days ago that costs many times its usual hour.
 */
export const DEMO_TENANT = 'demo';
const DEMO_USERS = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara'] as const;
const TEAMS = ['search', 'support', 'growth'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface ModelMix {
  provider: string;
  model: string;
  weight: number;
  cache?: boolean;
  reasoning?: boolean;
}

const MODELS: ModelMix[] = [
  { provider: 'openai', model: 'gpt-4o-mini', weight: 30, cache: true },
  { provider: 'openai', model: 'o4-mini', weight: 8, reasoning: true },
  { provider: 'anthropic', model: 'claude-haiku-4-5-20251001', weight: 25, cache: true },
  { provider: 'anthropic', model: 'claude-sonnet-4-6', weight: 17, cache: true },
  { provider: 'google', model: 'gemini-2.5-flash', weight: 17 },
  // Self-hosted, so no catalogue prices it: the Unpriced calls panel and alert have it.
  { provider: 'vllm', model: 'llama-3.1-8b-support', weight: 3 },
];

/** Tokens per feature: median input and output of one call. */
const FEATURES: Record<string, { input: number; output: number; share: number }> = {
  chat: { input: 3_000, output: 400, share: 40 },
  summarize: { input: 10_000, output: 500, share: 25 },
  classify: { input: 600, output: 12, share: 20 },
  agent: { input: 15_000, output: 1_000, share: 15 },
};

const PLANS = ['free', 'pro', 'enterprise'];

/** The runaway agent: this user and feature, on this model, for two hours starting at `spikeStart`. */
const DEMO_SPIKE = { user: 'linus', feature: 'agent', model: 'claude-sonnet-4-6', callsPerHour: 50 };

export interface HistoryOptions {
  now: number;
  days?: number;
  /** Mean calls per weekday working hour. */
  peakPerHour?: number;
  seed?: number;
}

/** The start of the runaway agent's two hours: two days before `now`'s hour. */
export function spikeStart(now: number): number {
  return Math.floor(now / HOUR) * HOUR - 2 * DAY;
}

/** How busy an hour is, 0..1: quiet nights, a working-day hump, weekends at a third. */
export function hourlyLoad(t: number): number {
  const d = new Date(t);
  const h = d.getUTCHours();
  const daily = 0.12 + 0.88 * Math.max(0, Math.sin(((h - 6) / 14) * Math.PI)) ** 1.5;
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6 ? 0.35 : 1;
  return daily * weekend;
}

/** The spans of the history, hour by hour, oldest first; `now`'s hour stops at `now`. */
export function* demoHistory(opts: HistoryOptions): Generator<OtlpSpan[]> {
  const random = mulberry32(opts.seed ?? 7);
  const days = opts.days ?? 30;
  const peak = opts.peakPerHour ?? 60;
  const end = opts.now;
  const first = Math.floor(end / HOUR) * HOUR - days * DAY;
  const spike = spikeStart(end);
  let n = 0;
  for (let hour = first; hour < end; hour += HOUR) {
    const spans: OtlpSpan[] = [];
    const mean = peak * hourlyLoad(hour) * (0.8 + 0.4 * random());
    const calls = Math.round(mean);
    const length = Math.min(HOUR, end - hour);
    for (let i = 0; i < calls; i++) {
      const at = hour + Math.floor(random() * length);
      spans.push(call(random, n++, at, pick(random, MODELS), undefined));
    }
    if (hour >= spike && hour < spike + 2 * HOUR) {
      const model = MODELS.find((m) => m.model === DEMO_SPIKE.model)!;
      for (let i = 0; i < DEMO_SPIKE.callsPerHour; i++)
        spans.push(call(random, n++, hour + Math.floor((i / DEMO_SPIKE.callsPerHour) * HOUR), model, DEMO_SPIKE));
    }
    yield spans;
  }
}

function call(
  random: () => number,
  n: number,
  at: number,
  m: ModelMix,
  runaway: typeof DEMO_SPIKE | undefined,
): OtlpSpan {
  const u = runaway
    ? DEMO_USERS.indexOf(runaway.user as (typeof DEMO_USERS)[number])
    : skewed(random, DEMO_USERS.length);
  const user = DEMO_USERS[u]!;
  const feature = runaway?.feature ?? pickFeature(random);
  const shape = FEATURES[feature]!;
  // Runaway agent loops carry their whole growing context each turn.
  const input = Math.max(20, Math.round(shape.input * lognormal(random) * (runaway ? 2 : 1)));
  const output = Math.max(1, Math.round(shape.output * lognormal(random) * (runaway ? 1.5 : 1)));
  const failed = !runaway && random() < 0.02;
  const cacheRead = m.cache && random() < 0.35 ? Math.floor(input * (0.5 + 0.4 * random())) : 0;
  // 100 to 250 output tokens a second, plus the time to the first token.
  const duration = Math.round(300 + output * (4 + 6 * random()) + (m.reasoning ? 2_000 : 0));
  const attributes = [
    attr('gen_ai.operation.name', 'chat'),
    attr('gen_ai.provider.name', m.provider),
    attr('gen_ai.request.model', m.model),
    attr('gen_ai.response.model', m.model),
    attr('tokenmeter.tenant', DEMO_TENANT),
    attr('user.id', user),
    attr('tokenmeter.team', TEAMS[u % TEAMS.length]!),
    attr('tokenmeter.feature', feature),
    attr('tokenmeter.property.plan', PLANS[u % PLANS.length]!),
  ];
  if (!failed) {
    attributes.push(attr('gen_ai.usage.input_tokens', input), attr('gen_ai.usage.output_tokens', output));
    if (cacheRead > 0) attributes.push(attr('gen_ai.usage.cache_read.input_tokens', cacheRead));
    if (m.reasoning) attributes.push(attr('gen_ai.usage.reasoning.output_tokens', Math.floor(output * 0.6)));
  } else attributes.push(attr('error.type', random() < 0.5 ? '429' : '500'));
  const hex = n.toString(16).padStart(12, '0');
  return {
    traceId: `de30${hex}${'0'.repeat(15)}1`,
    spanId: `de${hex}01`,
    name: `chat ${m.model}`,
    kind: 3, // CLIENT
    startTimeUnixNano: `${at}000000`,
    endTimeUnixNano: `${at + duration}000000`,
    attributes,
    ...(failed ? { status: { code: 2, message: 'provider error' } } : {}),
  };
}

/** Users are not equal: the first ones make most of the calls. */
function skewed(random: () => number, count: number): number {
  return Math.min(count - 1, Math.floor(count * random() ** 1.6));
}

function pickFeature(random: () => number): string {
  return pick(
    random,
    Object.entries(FEATURES).map(([name, f]) => ({ name, weight: f.share })),
  ).name;
}

function pick<T extends { weight: number }>(random: () => number, items: readonly T[]): T {
  const total = items.reduce((a, b) => a + b.weight, 0);
  let r = random() * total;
  for (const item of items) {
    r -= item.weight;
    if (r < 0) return item;
  }
  return items[items.length - 1]!;
}

/** A multiplier around 1 with a long right tail (token counts are like that). */
function lognormal(random: () => number): number {
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.exp(0.5 * z - 0.125);
}

/** mulberry32: a tiny seeded PRNG, enough for demo and test data (test/support/seed.ts uses it too). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
