import type { Usage } from '../prices/types.js';

export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

/** One span, decoded from OTLP (protobuf or JSON) into plain values. */
export interface SpanInput {
  traceId: string; // 32 hex chars
  spanId: string; // 16 hex chars
  parentSpanId: string; // '' for a root span
  traceState: string;
  name: string;
  /** OTLP SpanKind number: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version: string };
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  events: { name: string; timeUnixNano: bigint; attributes: Attributes }[];
  links: { traceId: string; spanId: string; traceState: string; attributes: Attributes }[];
}

/** Which convention a GenAI span was written in. */
export type Convention = 'gen_ai' | 'gen_ai_legacy' | 'openllmetry' | 'openinference' | 'vercel_ai' | 'openlit';

/** One AI call, whichever convention described it: the shape of an `ai_calls` row before tenancy and pricing. */
export interface AiCall {
  convention: Convention;
  startTimeUnixNano: bigint;
  durationNs: bigint;
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  scopeName: string;
  provider: string;
  operation: string;
  requestModel: string;
  responseModel: string;
  responseId: string;
  finishReasons: string[];
  /** Attribution as the span states it. The ingest side decides the tenant from the key. */
  tenant: string;
  userId: string;
  team: string;
  feature: string;
  sessionId: string;
  requestId: string;
  /** Custom properties (`tokenmeter.property.<name>` attributes), by name, as the span states them (unbounded here). */
  properties: Record<string, string>;
  usage: Usage;
  /** Set when a token count on the span is not a whole number: the usage cannot be trusted. */
  usageProblem?: string;
  estimated: boolean;
  isStreaming: boolean;
  isBatch: boolean;
  /** A cost the span already carried, or undefined when the ingest side must price it. */
  spanCost?: { usd: string; priceId: string; priceVersion: string };
  /** The span said explicitly that its model has no price. */
  spanUnpriced: boolean;
  ttftMs: number | null;
  status: 'ok' | 'error';
  errorType: string;
}
