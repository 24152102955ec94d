export { BATCH_SUFFIX, CATALOGUE_VERSION, COST_SCALE, formatScaled, parseUsd, priceCall } from './engine.js';
export { type CallCost, costOfCall, type SpanCost, UNPRICED } from './stored-cost.js';
export { checkUsage as usageProblem } from './model-price.js';
export type { PriceOverride, PriceRequest, PriceResult, PricedCall, UnpricedCall, Usage } from './types.js';
