import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Usage as CatalogueUsage, calcPrice, type Provider } from '@pydantic/genai-prices';
import { BATCH_DISCOUNTS } from './batch-discounts.js';
import { type LinearPrice, linearCost, linearPriceOf } from './linear.js';
import { modelAlias } from './model-alias.js';
import type { PriceOverride, PriceRequest, PriceResult, Usage } from './types.js';

// The catalogue's own version, so every stored cost names the data it came from.
// (Its package.json is not exported, so read it beside the resolved entry point.)
export const CATALOGUE_VERSION: string = readCatalogueVersion();
function readCatalogueVersion(): string {
  try {
    const entry = require.resolve('@pydantic/genai-prices');
    const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** 12 decimals: every token count times a per-million price with ≤ 6 decimals is exact here. */
export const COST_SCALE = 12;

/**
 * Price one AI call. Returns an exact decimal cost with the price used, or
 * `{ priced: false }` for a model nobody has priced: never a silent $0.
 *
 * Overrides (custom or fine-tuned models, negotiated discounts) win over the
 * bundled @pydantic/genai-prices catalogue when one is in force at the call's time.
 */
export function priceCall(req: PriceRequest, overrides: readonly PriceOverride[] = []): PriceResult {
  const usageProblem = checkUsage(req.usage);
  if (usageProblem) return { priced: false, reason: 'invalid_usage', detail: usageProblem };
  const usage = toCatalogueUsage(req.usage);
  const override = findOverride(overrides, req);
  let scaled: bigint;
  let priceId: string;
  let priceVersion: string;
  let matchedModel: string;
  try {
    if (override) {
      const result = calcPrice(usage, override.model, {
        provider: overrideProvider(override),
        timestamp: req.timestamp,
      });
      if (!result)
        return {
          priced: false,
          reason: 'unknown_model',
          detail: `override ${override.id} did not match`,
        };
      scaled = toScaledInteger(result.total_price);
      priceId = `override:${override.id}`;
      priceVersion = override.effectiveFrom;
      matchedModel = override.model;
    } else {
      const entry = lookup(req.model, catalogueProviderId(req.provider), usage, req.timestamp);
      const result = entry && catalogueScaled(entry, req.model, usage, req.timestamp);
      if (!entry || !result) {
        return {
          priced: false,
          reason: 'unknown_model',
          detail: `no price for ${req.provider}/${req.model}`,
        };
      }
      if (typeof result.scaled === 'number' && !req.batch) return pricedFromNumber(result.scaled, entry);
      scaled = typeof result.scaled === 'number' ? BigInt(result.scaled) : result.scaled;
      priceId = entry.priceId;
      priceVersion = result.priceVersion;
      matchedModel = entry.matchedModel;
    }
  } catch (err) {
    return {
      priced: false,
      reason: 'invalid_usage',
      detail: (err as Error).message,
    };
  }
  const discount = req.batch ? BATCH_DISCOUNTS[req.provider] : undefined;
  if (discount) {
    // discount.percent off, in integer arithmetic: round half up at the last decimal.
    scaled = (scaled * BigInt(100 - discount.percent) + 50n) / 100n;
    priceVersion += `+batch-${discount.percent}%`;
  }
  return {
    priced: true,
    costUsd: formatScaled(scaled),
    costNanoUsd: (scaled + 500n) / 1000n,
    priceId,
    priceVersion,
    matchedModel,
  };
}

/**
 * The catalogue matches a model name against every model of a provider on each call; the match
 * does not depend on usage or time, so it is done once per (provider, model), and a flat-priced
 * model is then priced by the linear fast path (see linear.ts), checked against the catalogue.
 */
interface Matched {
  provider: Provider;
  priceId: string;
  matchedModel: string;
  linear: LinearPrice | null;
}
// provider → model → match (two levels: no key string built per call).
const matched = new Map<string, Map<string, Matched | null>>();
const MATCH_CACHE_LIMIT = 2048;
let matchedCount = 0;

function lookup(model: string, providerId: string, usage: CatalogueUsage, timestamp: Date) {
  let models = matched.get(providerId);
  if (!models) {
    models = new Map();
    matched.set(providerId, models);
  }
  let entry = models.get(model);
  if (entry === undefined) {
    const result = calcPrice(usage, model, { providerId, timestamp });
    if (++matchedCount > MATCH_CACHE_LIMIT) {
      matched.clear();
      matchedCount = 1;
      models = new Map();
      matched.set(providerId, models);
    }
    if (!result) {
      models.set(model, null);
      return null;
    }
    const provider = { ...result.provider, models: [result.model] };
    entry = {
      provider,
      priceId: `catalogue:${result.provider.id}/${result.model.id}`,
      matchedModel: result.model.id,
      linear: linearPriceOf(provider, model),
    };
    models.set(model, entry);
  }
  return entry;
}

function catalogueScaled(entry: Matched, model: string, usage: CatalogueUsage, timestamp: Date) {
  const linear = entry.linear;
  if (linear && linear.checks === 0) {
    const fast = linearCost(linear, usage);
    if (fast !== undefined) return { scaled: fast, priceVersion: FAST_PRICE_VERSION };
  }
  const result = calcPrice(usage, model, {
    provider: entry.provider,
    timestamp,
  });
  if (!result) return null;
  const scaled = toScaledInteger(result.total_price);
  if (linear && linear.checks > 0) {
    linear.checks--;
    const fast = linearCost(linear, usage);
    if (fast === undefined || BigInt(fast) !== scaled) entry.linear = null;
  }
  return {
    scaled,
    priceVersion: `genai-prices@${CATALOGUE_VERSION}${constraintStart(result.model.prices, timestamp)}`,
  };
}

const USAGE_KEYS = [
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'cacheWrite1hTokens',
  'reasoningTokens',
  'inputAudioTokens',
  'outputAudioTokens',
] as const;

const FAST_PRICE_VERSION = `genai-prices@${CATALOGUE_VERSION}`;
const UNIT = 10 ** COST_SCALE;

/** The fast path's result, from a safe integer of 1e-12 USD: no BigInt arithmetic, no regex. */
function pricedFromNumber(scaled: number, entry: Matched): PriceResult {
  let whole = Math.floor(scaled / UNIT);
  let rest = scaled - whole * UNIT;
  // The division may round near a whole dollar: fix up so that 0 ≤ rest < UNIT exactly.
  if (rest < 0) {
    whole -= 1;
    rest += UNIT;
  } else if (rest >= UNIT) {
    whole += 1;
    rest -= UNIT;
  }
  let costUsd = String(whole);
  if (rest !== 0) {
    let digits = COST_SCALE;
    while (rest % 10 === 0) {
      rest /= 10;
      digits--;
    }
    costUsd += `.${String(rest).padStart(digits, '0')}`;
  }
  return {
    priced: true,
    costUsd,
    // Nano-USD rounded half up; exact in a double below 2^53.
    costNanoUsd: BigInt(Math.floor((scaled + 500) / 1000)),
    priceId: entry.priceId,
    priceVersion: FAST_PRICE_VERSION,
    matchedModel: entry.matchedModel,
  };
}

function checkUsage(u: Usage): string | undefined {
  for (const key of USAGE_KEYS) {
    const value: unknown = u[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || !Number.isInteger(value)) {
      return `usage.${key} must be a non-negative integer, got ${String(value)}`;
    }
  }
  const cacheParts = (u.cacheReadTokens ?? 0) + (u.cacheWriteTokens ?? 0);
  if (cacheParts > u.inputTokens) {
    return `cache tokens (${cacheParts}) exceed inputTokens (${u.inputTokens}); inputTokens must include them`;
  }
  if ((u.cacheWrite1hTokens ?? 0) > (u.cacheWriteTokens ?? 0)) {
    return 'usage.cacheWrite1hTokens exceeds usage.cacheWriteTokens';
  }
  return undefined;
}

/** tokenmeter's usage → the catalogue's keys (input_tokens is the total there too). */
function toCatalogueUsage(u: Usage): CatalogueUsage {
  const usage: CatalogueUsage = {
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
  };
  if (u.cacheReadTokens) usage.cache_read_tokens = u.cacheReadTokens;
  if (u.cacheWriteTokens) usage.cache_write_tokens = u.cacheWriteTokens;
  if (u.cacheWrite1hTokens) usage.cache_write_1h_tokens = u.cacheWrite1hTokens;
  if (u.inputAudioTokens) usage.input_audio_tokens = u.inputAudioTokens;
  if (u.outputAudioTokens) usage.output_audio_tokens = u.outputAudioTokens;
  return usage;
}

const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  bedrock: 'aws',
  xai: 'x-ai',
  vertex: 'google',
};
function catalogueProviderId(provider: string): string {
  return PROVIDER_ALIASES[provider] ?? provider;
}

/**
 * The override in force for the call: one for the model itself, else one for its alias (an
 * override for gpt-4o covers gpt-4o-2024-08-06, never gpt-4o-mini); the latest effective wins.
 */
function findOverride(overrides: readonly PriceOverride[], req: PriceRequest): PriceOverride | undefined {
  if (overrides.length === 0) return undefined;
  const model = req.model.toLowerCase();
  const alias = modelAlias(model);
  const at = req.timestamp.getTime();
  let exact: PriceOverride | undefined;
  let ofAlias: PriceOverride | undefined;
  for (const o of overrides) {
    if (o.provider !== req.provider) continue;
    const name = o.model.toLowerCase();
    const isExact = name === model;
    if (!isExact && (alias === model || name !== alias)) continue;
    const from = Date.parse(o.effectiveFrom);
    if (!(from <= at)) continue;
    const best = isExact ? exact : ofAlias;
    if (!best || Date.parse(best.effectiveFrom) < from) {
      if (isExact) exact = o;
      else ofAlias = o;
    }
  }
  return exact ?? ofAlias;
}

function overrideProvider(o: PriceOverride): Provider {
  return {
    id: `override-${o.provider}`,
    name: `override ${o.provider}`,
    api_pattern: '.*',
    models: [{ id: o.model, match: { equals: o.model }, prices: o.prices }],
  };
}

function constraintStart(prices: unknown, at: Date): string {
  if (!Array.isArray(prices)) return '';
  let start = '';
  for (const p of prices as {
    constraint?: { type: string; start_date?: string };
  }[]) {
    const s = p.constraint?.type === 'start_date' ? p.constraint.start_date : undefined;
    if (s && at >= new Date(s)) start = s;
  }
  return start ? `@${start}` : '';
}

/**
 * The catalogue computes in binary floating point. Every true cost is
 * tokens × (price with ≤ 6 decimals) / 1e6, so it has ≤ 12 decimals; rounding the
 * float's exact decimal expansion to 12 places recovers it exactly while the cost
 * of one call stays below $1,000 (a double keeps ≥ 15 significant digits).
 */
function toScaledInteger(usd: number): bigint {
  const [whole, frac = ''] = usd.toFixed(COST_SCALE).split('.');
  return BigInt(whole ?? '0') * 10n ** BigInt(COST_SCALE) + BigInt(frac.padEnd(COST_SCALE, '0'));
}

export function formatScaled(scaled: bigint): string {
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  const unit = 10n ** BigInt(COST_SCALE);
  const whole = abs / unit;
  const frac = (abs % unit).toString().padStart(COST_SCALE, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Parse a decimal USD string into the 12-decimal integer scale (for exact sums). */
export function parseUsd(usd: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,12}))?$/.exec(usd.trim());
  if (!m) throw new Error(`not a USD decimal with ≤ ${COST_SCALE} decimals: ${usd}`);
  const value = BigInt(m[2] ?? '0') * 10n ** BigInt(COST_SCALE) + BigInt((m[3] ?? '').padEnd(COST_SCALE, '0'));
  return m[1] ? -value : value;
}
