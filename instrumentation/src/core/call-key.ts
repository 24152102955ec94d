import { createContextKey } from '@opentelemetry/api';

/** Where the call of ours in progress sits in the context (call.ts), without loading call.ts. */
export const CALL_KEY = createContextKey('tokenmeter.call');
