/**
 * Where the call of ours in progress sits in the context (call.ts), without loading call.ts or
 * the OTel API: what the API's `createContextKey('tokenmeter.call')` returns.
 */
export const CALL_KEY: symbol = Symbol.for('tokenmeter.call');
