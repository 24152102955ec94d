// Public surface of @tokenmeter/instrumentation. The SDK wrappers and `register`
// land with the instrumentation issue; the pure modules are shared with ingest.
export * as semconv from './semconv.js';
export { priceCall } from './prices/index.js';
export type { PriceOverride, PriceRequest, PriceResult, PricedCall, UnpricedCall, Usage } from './prices/index.js';
