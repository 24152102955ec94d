import type { Span } from '@opentelemetry/api';

/** Public types of @tokenmeter/instrumentation. */

/** Who and what caused an AI call. Every span started inside `withUsageContext` carries these. */
export interface UsageContext {
  tenant?: string;
  userId?: string;
  team?: string;
  feature?: string;
  sessionId?: string;
  requestId?: string;
  /**
   * Your own dimensions (customer plan, experiment arm, related resource id …), each sent as
   * the span attribute `tokenmeter.property.<name>`. Nested scopes add to (and override) the
   * outer scope's properties. The ingest service keeps a bounded number per call (by default
   * 16, names up to 64 characters, values up to 256) and counts what it drops. Never
   * propagated in baggage.
   */
  properties?: Readonly<Record<string, string | number | boolean>>;
}
/** The single-valued fields of the usage context (what baggage can carry). */
export type UsageContextKey = Exclude<keyof UsageContext, 'properties'>;

export interface InstrumentationOptions {
  /**
   * Record prompt and completion text (`gen_ai.input.messages` / `gen_ai.output.messages`),
   * redacted. Default: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT === 'true'`.
   */
  captureMessageContent?: boolean;
  /**
   * Hash `userId` before it goes on a span: `true` for SHA-256 (hex, first 32 chars), or a
   * function of your own. Default: `TOKENMETER_HASH_USER_IDS === 'true'`. A salt can be given
   * with `TOKENMETER_USER_ID_SALT` or `userIdSalt`.
   */
  hashUserIds?: boolean | ((userId: string) => string);
  userIdSalt?: string;
  /**
   * Usage-context keys to propagate to downstream services in W3C baggage (opt-in per key).
   * Default: from `TOKENMETER_BAGGAGE_KEYS` (comma separated), else none.
   */
  baggageKeys?: UsageContextKey[];
}

/** Thrown by a call guard (budgets) before the provider is called. The provider is never called. */
export class CallBlockedError extends Error {
  override readonly name: string = 'CallBlockedError';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** What a call guard sees before the provider is called. */
export interface CallDescription {
  provider: string;
  operation: string;
  requestModel: string;
  isStreaming: boolean;
  context: UsageContext;
  /** The call's span (not yet ended): a guard may add an event to it (soft budgets). */
  span?: Span;
}

/** A guard may throw a `CallBlockedError` (or subclass) to stop the call before the provider sees it. */
export type CallGuard = (call: CallDescription) => void;
