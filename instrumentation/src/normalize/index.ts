export { detectConvention, normalizeSpan, providerId } from './normalize.js';
export type { AiCall, AttrValue, Attributes, Convention, SpanInput } from './types.js';
