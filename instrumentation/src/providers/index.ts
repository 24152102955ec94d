/**
 * What tokenmeter's gateway (ingest/src/gateway) shares with the SDK wrappers: the one call
 * lifecycle (`startCall`, `Call`) and the providers' describe functions and readers (`wireCall`).
 * Nothing here starts, patches or exports anything by itself.
 */
export { Call, type CallSpec, errorType, startCall } from '../core/call.js';
export { contextWithUsage, getUsageContext } from '../core/usage-context.js';
export { estimateTokens } from '../core/estimate.js';
export { modelAlias } from '../prices/model-alias.js';
export type { ResultReader } from './stainless.js';
export { isWirePath, type WireCall, wireCall } from './wire.js';
export { eventData, eventValue, keepEvent, NOT_JSON, SseEvents } from './sse.js';
