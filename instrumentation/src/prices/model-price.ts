import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Usage as CatalogueUsage, Provider } from '@pydantic/genai-prices';
import { calcPrice } from './catalogue.js';
import { type LinearPrice, linearCost, linearPriceOf } from './linear.js';
import type { PriceOverride, Usage } from './types.js';

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

/** A cost in 1e-12 USD: a safe integer on the fast path, a bigint otherwise. */
export type Scaled = number | bigint;

/** One model name's price for one usage: what the price rule chooses between. */
export interface ModelPrice {
  scaled: Scaled;
  priceId: string;
  priceVersion: string;
  matchedModel: string;
}

/** Why a known price cannot price a call (see UnpricedCall's reasons). */
export type NotPriceable = 'not_per_token' | 'no_item_price';

/**
 * The catalogue's price of `model` under a catalogue provider id: null when the catalogue does
 * not know the model, 'not_per_token' when it knows it but prices it by something other than
 * tokens (hours of audio, images) that the call does not report, 'no_item_price' when the call
 * has items (seconds of audio, characters, tool calls) the price has no rate for: tokens alone
 * would then understate its cost.
 */
export function cataloguePrice(
  providerId: string,
  model: string,
  usage: CatalogueUsage,
  timestamp: Date,
): ModelPrice | NotPriceable | null {
  const entry = lookup(model, providerId, usage, timestamp);
  if (!entry) return null;
  const items = hasItems(usage);
  if (!entry.perToken && !items) return 'not_per_token';
  const result = catalogueScaled(entry, model, usage, timestamp, items);
  if (result === null || typeof result === 'string') return result;
  return {
    scaled: result.scaled,
    priceId: entry.priceId,
    priceVersion: result.priceVersion,
    matchedModel: entry.matchedModel,
  };
}

/**
 * Usage priced per item (catalogue usage key → the price keys that can price it). A call with
 * such an item is priced only by a price that has a rate for it.
 */
const ITEM_PRICE_KEYS: readonly (readonly [string, readonly string[]])[] = [
  ['audio_seconds', ['audio_hours']],
  ['input_characters', ['input_mchars']],
  ['web_searches', ['web_searches_kcount']],
  ['storage_searches', ['storage_searches_kcount']],
];

function hasItems(usage: CatalogueUsage): boolean {
  // Named reads of ITEM_PRICE_KEYS (once a call on the span path; a keyed loop costs more).
  return !!(usage.audio_seconds || usage.input_characters || usage.web_searches || usage.storage_searches);
}

/** The first item the call has that `prices` (the prices in force) has no rate for. */
function itemWithoutPrice(usage: CatalogueUsage, prices: Record<string, unknown>): string | undefined {
  for (const [key, priceKeys] of ITEM_PRICE_KEYS) {
    if (usage[key] && !priceKeys.some((k) => prices[k] !== undefined)) return key;
  }
  return undefined;
}

/** An override's price (its keys are the catalogue's), or null if it cannot price the usage. */
export function overridePrice(o: PriceOverride, usage: CatalogueUsage, timestamp: Date): ModelPrice | null {
  const provider: Provider = {
    id: `override-${o.provider}`,
    name: `override ${o.provider}`,
    api_pattern: '.*',
    models: [{ id: o.model, match: { equals: o.model }, prices: o.prices }],
  };
  const result = calcPrice(usage, o.model, { provider, timestamp });
  if (!result || itemWithoutPrice(usage, o.prices)) return null;
  return {
    scaled: toScaledInteger(result.total_price),
    priceId: `override:${o.id}`,
    priceVersion: o.effectiveFrom,
    matchedModel: o.model,
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
  /** The catalogue prices this model by tokens (some entries price only hours of audio or images). */
  perToken: boolean;
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
      perToken: pricesTokens(result.model.prices),
    };
    models.set(model, entry);
  }
  return entry;
}

function catalogueScaled(
  entry: Matched,
  model: string,
  usage: CatalogueUsage,
  timestamp: Date,
  items: boolean,
): { scaled: Scaled; priceVersion: string } | 'no_item_price' | null {
  // The fast path knows token rates only: a call with items is priced by the catalogue itself.
  const linear = items ? null : entry.linear;
  if (linear && linear.checks === 0) {
    const fast = linearCost(linear, usage);
    if (fast !== undefined) return { scaled: fast, priceVersion: FAST_PRICE_VERSION };
  }
  const result = calcPrice(usage, model, {
    provider: entry.provider,
    timestamp,
  });
  if (!result) return null;
  if (items && itemWithoutPrice(usage, result.model_price)) return 'no_item_price';
  const scaled = toScaledInteger(result.total_price);
  if (linear && linear.checks > 0) {
    // A call the fast path does not price (above a tier, past exact integers) checks nothing.
    const fast = linearCost(linear, usage);
    if (fast !== undefined) {
      linear.checks--;
      if (BigInt(fast) !== scaled) entry.linear = null;
    }
  }
  return {
    scaled,
    priceVersion: `genai-prices@${CATALOGUE_VERSION}${constraintStart(result.model.prices, timestamp)}`,
  };
}

/** Every count of a Usage (checkUsage also reads each by name, for speed: add a new one there too). */
const USAGE_KEYS = [
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'cacheWrite1hTokens',
  'reasoningTokens',
  'inputAudioTokens',
  'cacheAudioReadTokens',
  'outputAudioTokens',
  'audioSeconds',
  'inputCharacters',
  'webSearchCalls',
  'fileSearchCalls',
] as const;

const FAST_PRICE_VERSION = `genai-prices@${CATALOGUE_VERSION}`;
const UNIT = 10 ** COST_SCALE;

/** A safe integer of 1e-12 USD as a decimal string: no BigInt arithmetic, no regex. */
function formatNumberScaled(scaled: number): string {
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
  return costUsd;
}

/** A cost in 1e-12 USD as a decimal string. */
export function formatCost(scaled: Scaled): string {
  return typeof scaled === 'number' ? formatNumberScaled(scaled) : formatScaled(scaled);
}

/** Nano-USD rounded half up (exact in a double below 2^53 on the number path). */
export function nanoUsd(scaled: Scaled): bigint {
  return typeof scaled === 'number' ? BigInt(Math.floor((scaled + 500) / 1000)) : (scaled + 500n) / 1000n;
}

/** a − b on the 1e-12 scale, staying on numbers while both are. */
export function subtractScaled(a: Scaled, b: Scaled): Scaled {
  if (typeof a === 'number' && typeof b === 'number') {
    const d = a - b;
    if (Number.isSafeInteger(d)) return d;
  }
  return BigInt(a) - BigInt(b);
}

export function isPositive(scaled: Scaled): boolean {
  return typeof scaled === 'number' ? scaled > 0 : scaled > 0n;
}

function pricesTokens(prices: unknown): boolean {
  const list = Array.isArray(prices) ? (prices as { prices: object }[]).map((p) => p.prices) : [prices as object];
  return list.some((p) => p && Object.keys(p).some((k) => k.endsWith('_mtok')));
}

/** Absent, or a non-negative integer. */
function isCount(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0);
}

export function checkUsage(u: Usage): string | undefined {
  // Every call is checked: named reads (one shape each) first, the loop only to name the bad field.
  const valid =
    isCount(u.inputTokens) &&
    isCount(u.outputTokens) &&
    isCount(u.cacheReadTokens) &&
    isCount(u.cacheWriteTokens) &&
    isCount(u.cacheWrite1hTokens) &&
    isCount(u.reasoningTokens) &&
    isCount(u.inputAudioTokens) &&
    isCount(u.cacheAudioReadTokens) &&
    isCount(u.outputAudioTokens) &&
    isCount(u.audioSeconds) &&
    isCount(u.inputCharacters) &&
    isCount(u.webSearchCalls) &&
    isCount(u.fileSearchCalls);
  if (!valid) return badUsageField(u);
  const cacheParts = (u.cacheReadTokens ?? 0) + (u.cacheWriteTokens ?? 0);
  if (cacheParts > u.inputTokens) {
    return `cache tokens (${cacheParts}) exceed inputTokens (${u.inputTokens}); inputTokens must include them`;
  }
  const cachedAudio = u.cacheAudioReadTokens ?? 0;
  if (cachedAudio > (u.cacheReadTokens ?? 0) || cachedAudio > (u.inputAudioTokens ?? 0)) {
    return 'usage.cacheAudioReadTokens exceeds the cache reads or the input audio it is part of';
  }
  if ((u.cacheWrite1hTokens ?? 0) > (u.cacheWriteTokens ?? 0)) {
    return 'usage.cacheWrite1hTokens exceeds usage.cacheWriteTokens';
  }
  return undefined;
}

function badUsageField(u: Usage): string | undefined {
  for (const key of USAGE_KEYS) {
    const value: unknown = u[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || !Number.isInteger(value)) {
      return `usage.${key} must be a non-negative integer, got ${String(value)}`;
    }
  }
  return undefined;
}

/** tokenmeter's usage → the catalogue's keys (input_tokens is the total there too). */
export function toCatalogueUsage(u: Usage): CatalogueUsage {
  const usage: CatalogueUsage = {
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
  };
  if (u.cacheReadTokens) usage.cache_read_tokens = u.cacheReadTokens;
  if (u.cacheWriteTokens) usage.cache_write_tokens = u.cacheWriteTokens;
  if (u.cacheWrite1hTokens) usage.cache_write_1h_tokens = u.cacheWrite1hTokens;
  if (u.inputAudioTokens) usage.input_audio_tokens = u.inputAudioTokens;
  if (u.cacheAudioReadTokens) usage.cache_audio_read_tokens = u.cacheAudioReadTokens;
  if (u.outputAudioTokens) usage.output_audio_tokens = u.outputAudioTokens;
  // Transcribed audio is input audio: both keys, so a price by either (audio_hours, input_audio_hours) applies.
  if (u.audioSeconds) {
    usage.audio_seconds = u.audioSeconds;
    usage.input_audio_seconds = u.audioSeconds;
  }
  if (u.inputCharacters) usage.input_characters = u.inputCharacters;
  // The catalogue calls file search "storage searches".
  if (u.webSearchCalls) usage.web_searches = u.webSearchCalls;
  if (u.fileSearchCalls) usage.storage_searches = u.fileSearchCalls;
  return usage;
}

const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  bedrock: 'aws',
  xai: 'x-ai',
  vertex: 'google',
};
export function catalogueProviderId(provider: string): string {
  return PROVIDER_ALIASES[provider] ?? provider;
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
