import type { Usage as CatalogueUsage } from '@pydantic/genai-prices';
import { modelAlias } from './model-alias.js';
import { firstModelName, type ModelName, modelNames } from './model-choice.js';
import {
  catalogueProviderId,
  cataloguePrice,
  checkUsage,
  formatCost,
  isPositive,
  type ModelPrice,
  type NotPriceable,
  nanoUsd,
  overridePrice,
  subtractScaled,
  toCatalogueUsage,
} from './model-price.js';
import type { PriceOverride, PriceRequest, PriceResult, PricedCall } from './types.js';

export { CATALOGUE_VERSION, COST_SCALE, formatScaled, parseUsd } from './model-price.js';

/** The suffix under which the catalogue (and overrides) keep a model's batch price. */
export const BATCH_SUFFIX = ':batch';

/**
 * Price one AI call: the one pricing rule, used by the instrumentation (on the span), by ingest
 * (spans that arrive without a cost) and by reprice (stored calls). Returns an exact decimal cost
 * with the price used and what cache reads saved, or `{ priced: false }`: never a silent $0.
 *
 * Which price, in order:
 * 1. An override in force at the call's time for one of the call's model names (model-choice.ts):
 *    the tenant's own before a global one, the model itself before its alias, the latest effective.
 * 2. The catalogue (@pydantic/genai-prices) under those names.
 * 3. A default price (`model: '*'`, tenant's before global) when no catalogue knows the model.
 * A batch call looks up `<model>:batch` in 1 and 2: a model without a batch price is unpriced.
 */
export function priceCall(req: PriceRequest, overrides: readonly PriceOverride[] = []): PriceResult {
  const usageProblem = checkUsage(req.usage);
  if (usageProblem) return { priced: false, reason: 'invalid_usage', detail: usageProblem };
  const usage = toCatalogueUsage(req.usage);
  try {
    const chosen = choosePrice(req, usage, overrides);
    if ('reason' in chosen) return { priced: false, ...chosen };
    let savings = '0';
    if (usage.cache_read_tokens) {
      // The same price, as if every input token had been read uncached (cached audio as audio).
      const uncached = { ...usage, cache_read_tokens: undefined, cache_audio_read_tokens: undefined };
      try {
        const full = chosen.price(uncached);
        if (full) {
          const diff = subtractScaled(full.scaled, chosen.result.scaled);
          if (isPositive(diff)) savings = formatCost(diff);
        }
      } catch {
        // A price that cannot be re-run without the cache states no savings; the cost stands.
      }
    }
    const r = chosen.result;
    const priced: PricedCall = {
      priced: true,
      costUsd: formatCost(r.scaled),
      costNanoUsd: nanoUsd(r.scaled),
      priceId: r.priceId,
      priceVersion: r.priceVersion,
      matchedModel: r.matchedModel,
      source: chosen.source,
      cacheSavingsUsd: savings,
    };
    return priced;
  } catch (err) {
    return { priced: false, reason: 'invalid_usage', detail: (err as Error).message };
  }
}

interface Chosen {
  result: ModelPrice;
  source: PricedCall['source'];
  /** The same price for another usage (cache savings). */
  price: (usage: CatalogueUsage) => ModelPrice | null;
}
type NotChosen = { reason: 'unknown_model' | 'no_batch_price' | NotPriceable; detail: string };

function choosePrice(
  req: PriceRequest,
  usage: CatalogueUsage,
  overrides: readonly PriceOverride[],
): Chosen | NotChosen {
  const at = req.timestamp;
  const suffix = req.batch ? BATCH_SUFFIX : '';
  // The common case first: no overrides, and the first name is in the catalogue.
  if (overrides.length === 0) {
    const first = firstModelName(req.provider, req.model, req.responseModel);
    const hit = fromCatalogue({ provider: req.provider, model: first }, suffix, usage, at);
    if (hit && typeof hit !== 'string') return hit;
  }
  const names = modelNames(req.provider, req.model, req.responseModel);
  const tenant = req.tenant ?? '';
  if (overrides.length > 0) {
    const o = findOverride(overrides, tenant, names, suffix, at.getTime());
    if (o) return byOverride(o, 'override', usage, at);
  }
  let notPriceable: NotPriceable | undefined;
  for (const n of names) {
    const hit = fromCatalogue(n, suffix, usage, at);
    if (typeof hit === 'string') notPriceable ??= hit;
    else if (hit) return hit;
  }
  const label = `${req.provider}/${req.responseModel || req.model}`;
  if (notPriceable === 'not_per_token') {
    return { reason: 'not_per_token', detail: `the catalogue prices ${label} by something the call does not report` };
  }
  if (notPriceable === 'no_item_price') {
    return { reason: 'no_item_price', detail: `the catalogue has no rate for an item of this ${label} call` };
  }
  if (suffix && names.some((n) => cataloguePrice(catalogueProviderId(n.provider), n.model, usage, at) !== null)) {
    return { reason: 'no_batch_price', detail: `no batch price for ${label}` };
  }
  if (overrides.length > 0) {
    const d = findDefault(overrides, tenant, req.provider, at.getTime());
    if (d) return byOverride(d, 'default', usage, at);
  }
  return { reason: 'unknown_model', detail: `no price for ${label}` };
}

function fromCatalogue(n: ModelName, suffix: string, usage: CatalogueUsage, at: Date): Chosen | NotPriceable | null {
  const providerId = catalogueProviderId(n.provider);
  const model = n.model + suffix;
  const result = cataloguePrice(providerId, model, usage, at);
  if (result === null || typeof result === 'string') return result;
  // The catalogue matches loosely (prefixes, regexes): a batch price must be a batch entry.
  if (suffix && !result.matchedModel.toLowerCase().endsWith(suffix)) return null;
  return new CatalogueChoice(result, providerId, model, at);
}

/** A catalogue hit (every priced span of the instrumentation): one object, no closure. */
class CatalogueChoice implements Chosen {
  readonly source = 'catalogue' as const;
  constructor(
    readonly result: ModelPrice,
    private readonly providerId: string,
    private readonly model: string,
    private readonly at: Date,
  ) {}

  price(u: CatalogueUsage): ModelPrice | null {
    const p = cataloguePrice(this.providerId, this.model, u, this.at);
    return typeof p === 'string' ? null : p;
  }
}

function byOverride(
  o: PriceOverride,
  source: 'override' | 'default',
  usage: CatalogueUsage,
  at: Date,
): Chosen | NotChosen {
  const result = overridePrice(o, usage, at);
  if (!result) return { reason: 'unknown_model', detail: `override ${o.id} did not match` };
  return { result, source, price: (u) => overridePrice(o, u, at) };
}

/**
 * The override in force for one of the call's names: the tenant's before the global ones, the
 * earlier name before a later one, and for one name an override of the name itself before one of
 * its alias (an override for gpt-4o covers gpt-4o-2024-08-06, never gpt-4o-mini); the latest
 * effective wins.
 */
function findOverride(
  overrides: readonly PriceOverride[],
  tenant: string,
  names: readonly ModelName[],
  suffix: string,
  at: number,
): PriceOverride | undefined {
  for (const scope of tenant ? [tenant, ''] : ['']) {
    for (const n of names) {
      const model = (n.model + suffix).toLowerCase();
      const alias = suffix ? modelAlias(n.model.toLowerCase()) + suffix : modelAlias(model);
      let exact: PriceOverride | undefined;
      let ofAlias: PriceOverride | undefined;
      for (const o of overrides) {
        if ((o.tenant ?? '') !== scope || o.provider !== n.provider) continue;
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
      const found = exact ?? ofAlias;
      if (found) return found;
    }
  }
  return undefined;
}

/** The default price in force (`model: '*'`): the tenant's before the global, its provider's before `*`. */
function findDefault(
  overrides: readonly PriceOverride[],
  tenant: string,
  provider: string,
  at: number,
): PriceOverride | undefined {
  for (const scope of tenant ? [tenant, ''] : ['']) {
    for (const p of [provider, '*']) {
      let best: PriceOverride | undefined;
      for (const o of overrides) {
        if (o.model !== '*' || (o.tenant ?? '') !== scope || o.provider !== p) continue;
        const from = Date.parse(o.effectiveFrom);
        if (from <= at && (!best || Date.parse(best.effectiveFrom) < from)) best = o;
      }
      if (best) return best;
    }
  }
  return undefined;
}
