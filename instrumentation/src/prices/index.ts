export { COST_SCALE, formatScaled, parseUsd, priceCall } from './engine.js';
export { BATCH_DISCOUNTS } from './batch-discounts.js';
export type { PriceOverride, PriceRequest, PriceResult, PricedCall, UnpricedCall, Usage } from './types.js';
