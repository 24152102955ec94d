import { formatScaled, parseUsd, type PriceOverride, priceCall, type Usage } from '@tokenmeter/instrumentation/prices';
import type { TrafficGroup } from './read.js';
import { CACHE, OFFLINE_ANONYMOUS_SHARE, OFFLINE_NAME, SMALL_CALL, SMALL_MODELS } from './small-models.js';

export type AdviceKind = 'cheaper_model' | 'prompt_caching' | 'batch_api';

/** One piece of advice: what to do, what it saves a month, and the figures it rests on. */
export interface Advice {
  kind: AdviceKind;
  title: string;
  service: string;
  feature: string;
  provider: string;
  model: string;
  /** Exact decimal USD per 30-day month, from the observed days scaled to 30. */
  monthlySavingsUsd: string;
  /** The same, rounded to cents. */
  monthlySavings: number;
  /** The data the figure rests on: observed traffic, prices, assumptions. */
  basis: Record<string, unknown>;
}

export interface AdviceContext {
  daysObserved: number;
  /** When prices are read (the catalogue's price in force now). */
  at: Date;
  /** Whose traffic it is, and the price overrides in force: advice prices as ingest does. */
  tenant?: string;
  overrides?: readonly PriceOverride[];
}

const SCALE = 10n ** 12n;

/** Every rule over every group, largest saving first; nothing below `minMonthlyUsd`. */
export function adviseAll(groups: readonly TrafficGroup[], ctx: AdviceContext, minMonthlyUsd = 0): Advice[] {
  if (ctx.daysObserved <= 0) return [];
  const out: Advice[] = [];
  for (const g of groups) {
    for (const rule of [cheaperModel, promptCaching, batchApi]) {
      const a = rule(g, ctx);
      if (a && a.monthlySavings >= minMonthlyUsd && parseUsd(a.monthlySavingsUsd) > 0n) out.push(a);
    }
  }
  return out.sort((a, b) => b.monthlySavings - a.monthlySavings || a.kind.localeCompare(b.kind));
}

/** The average successful call of a group, in whole tokens. */
function averageCall(g: TrafficGroup): { calls: number; usage: Usage } | undefined {
  const calls = g.requests - g.errors;
  if (calls <= 0) return undefined;
  return {
    calls,
    usage: {
      inputTokens: Math.round(g.inputTokens / calls),
      outputTokens: Math.round(g.outputTokens / calls),
      cacheReadTokens: Math.round(g.cacheReadTokens / calls),
      cacheWriteTokens: Math.min(Math.round(g.cacheWriteTokens / calls), Math.round(g.inputTokens / calls)),
    },
  };
}

function cost(provider: string, model: string, usage: Usage, ctx: AdviceContext, batch = false): bigint | undefined {
  const r = priceCall({ provider, model, usage, timestamp: ctx.at, tenant: ctx.tenant, batch }, ctx.overrides);
  return r.priced ? parseUsd(r.costUsd) : undefined;
}

function priceIdOf(provider: string, model: string, ctx: AdviceContext): string | undefined {
  const r = priceCall(
    { provider, model, usage: { inputTokens: 1, outputTokens: 1 }, timestamp: ctx.at, tenant: ctx.tenant },
    ctx.overrides,
  );
  return r.priced ? r.priceId : undefined;
}

function monthly(windowSaving: bigint, ctx: AdviceContext): { monthlySavingsUsd: string; monthlySavings: number } {
  const m = (windowSaving * 30n) / BigInt(ctx.daysObserved);
  return { monthlySavingsUsd: formatScaled(m), monthlySavings: Number((m + SCALE / 200n) / (SCALE / 100n)) / 100 };
}

function observed(g: TrafficGroup, ctx: AdviceContext) {
  return {
    days: ctx.daysObserved,
    requests: g.requests,
    errors: g.errors,
    inputTokens: g.inputTokens,
    outputTokens: g.outputTokens,
    cacheReadTokens: g.cacheReadTokens,
    costUsd: g.costUsd,
  };
}

/**
 * Small calls on a model with a cheaper small sibling: the same calls priced on the
 * candidate (the catalogue's price, the group's average call × its calls) against what they
 * cost. The first candidate in SMALL_MODELS order that is cheaper is the advice; every
 * cheaper one is listed. Groups with unpriced calls are skipped (their cost is unknown).
 */
export function cheaperModel(g: TrafficGroup, ctx: AdviceContext): Advice | undefined {
  const candidates = SMALL_MODELS[g.provider];
  const avg = averageCall(g);
  if (!candidates || !avg || g.unpriced > 0) return undefined;
  if (avg.usage.inputTokens > SMALL_CALL.maxInputTokens || avg.usage.outputTokens > SMALL_CALL.maxOutputTokens)
    return undefined;
  const current = parseUsd(g.costUsd);
  // The price the group's own model resolves to: a dated snapshot or alias of a listed model
  // (claude-haiku-4-5-20251001) is that model, never advice to move to itself.
  const own = priceIdOf(g.provider, g.model, ctx);
  const options: { model: string; windowCost: bigint }[] = [];
  for (const model of candidates) {
    // Only models listed as smaller than the current one.
    if (model === g.model || (own !== undefined && priceIdOf(g.provider, model, ctx) === own)) break;
    const each = cost(g.provider, model, avg.usage, ctx);
    if (each === undefined) continue;
    const windowCost = each * BigInt(avg.calls);
    if (windowCost < current) options.push({ model, windowCost });
  }
  const best = options[0];
  if (!best) return undefined;
  return {
    kind: 'cheaper_model',
    title: `Move ${g.feature || g.service} from ${g.model} to ${best.model}: its calls are small`,
    service: g.service,
    feature: g.feature,
    provider: g.provider,
    model: g.model,
    ...monthly(current - best.windowCost, ctx),
    basis: {
      observed: observed(g, ctx),
      averageCall: avg.usage,
      smallCall: SMALL_CALL,
      suggested: best.model,
      suggestedCostUsd: formatScaled(best.windowCost),
      alternatives: options.map((o) => ({
        model: o.model,
        costUsd: formatScaled(o.windowCost),
        ...monthly(current - o.windowCost, ctx),
      })),
      prices: 'catalogue (@pydantic/genai-prices) in force now, on the average call',
    },
  };
}

/**
 * Large inputs sent often with few cache reads: the saving if `assumedCacheableShare` of
 * each input (a shared system prompt or context) were read from the cache, priced on the
 * average call with and without those reads. Cache writes (Anthropic charges a premium
 * for them) are not subtracted: with calls every few minutes they are a small part.
 */
export function promptCaching(g: TrafficGroup, ctx: AdviceContext): Advice | undefined {
  const avg = averageCall(g);
  if (!avg || g.unpriced > 0) return undefined;
  const ratio = g.inputTokens > 0 ? g.cacheReadTokens / g.inputTokens : 0;
  const perDay = avg.calls / ctx.daysObserved;
  if (avg.usage.inputTokens < CACHE.minInputTokens || ratio >= CACHE.maxReadRatio || perDay < CACHE.minCallsPerDay) {
    return undefined;
  }
  const target = Math.max(
    avg.usage.cacheReadTokens ?? 0,
    Math.floor(avg.usage.inputTokens * CACHE.assumedCacheableShare),
  );
  const now = cost(g.provider, g.model, avg.usage, ctx);
  const cached = cost(
    g.provider,
    g.model,
    { ...avg.usage, cacheReadTokens: Math.min(target, avg.usage.inputTokens - (avg.usage.cacheWriteTokens ?? 0)) },
    ctx,
  );
  if (now === undefined || cached === undefined || cached >= now) return undefined;
  return {
    kind: 'prompt_caching',
    title: `Cache the shared prefix of ${g.feature || g.service} on ${g.model}: ${Math.round(ratio * 100)} % of its input is read from cache`,
    service: g.service,
    feature: g.feature,
    provider: g.provider,
    model: g.model,
    ...monthly((now - cached) * BigInt(avg.calls), ctx),
    basis: {
      observed: observed(g, ctx),
      averageCall: avg.usage,
      cacheReadRatio: ratio,
      callsPerDay: perDay,
      assumption: `${CACHE.assumedCacheableShare * 100} % of each input is a repeated prefix; cache-write premiums not counted`,
      averageCallCostUsd: formatScaled(now),
      averageCallCachedCostUsd: formatScaled(cached),
    },
  };
}

/**
 * Traffic no one waits for (never streamed, and without end users or named like a job) could go
 * through the provider's batch API: the saving is the group's average call at the model's batch
 * price (the catalogue's `<model>:batch`, or an override) against its standard price. A model
 * without a batch price gets no batch advice.
 */
export function batchApi(g: TrafficGroup, ctx: AdviceContext): Advice | undefined {
  if (g.streamed || g.requests === 0 || g.unpriced > 0) return undefined;
  const anonymousShare = g.anonymous / g.requests;
  const namedOffline = OFFLINE_NAME.test(g.service) || OFFLINE_NAME.test(g.feature);
  if (!(anonymousShare >= OFFLINE_ANONYMOUS_SHARE || namedOffline)) return undefined;
  const avg = averageCall(g);
  if (!avg) return undefined;
  const standard = cost(g.provider, g.model, avg.usage, ctx);
  const batch = cost(g.provider, g.model, avg.usage, ctx, true);
  if (standard === undefined || batch === undefined || batch >= standard) return undefined;
  const perCall = standard - batch;
  const percent = Number((perCall * 10_000n) / standard) / 100;
  return {
    kind: 'batch_api',
    title: `Send ${g.feature || g.service} through the ${g.provider} batch API (${percent} % off)`,
    service: g.service,
    feature: g.feature,
    provider: g.provider,
    model: g.model,
    ...monthly(perCall * BigInt(avg.calls), ctx),
    basis: {
      observed: observed(g, ctx),
      streamedCalls: 0,
      anonymousShare,
      namedLikeAJob: namedOffline,
      averageCall: avg.usage,
      averageCallCostUsd: formatScaled(standard),
      averageCallBatchCostUsd: formatScaled(batch),
      discountPercent: percent,
    },
  };
}
