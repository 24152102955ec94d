import type * as GenaiPrices from '@pydantic/genai-prices';

/**
 * The catalogue (@pydantic/genai-prices: ~0.5 MB of price data to parse) is loaded by the first
 * price asked of it, not with this module: a process that makes no AI call never reads it.
 */
let catalogue: typeof GenaiPrices | undefined;

export function calcPrice(
  usage: GenaiPrices.Usage,
  modelId: string,
  options?: GenaiPrices.PriceOptions,
): GenaiPrices.PriceCalculationResult {
  catalogue ??= require('@pydantic/genai-prices') as typeof GenaiPrices;
  return catalogue.calcPrice(usage, modelId, options);
}
