import { type CallCost, type PriceResult, UNPRICED } from '@tokenmeter/instrumentation/prices';
import type { AiCall, AttrValue, Attributes, SpanInput } from '@tokenmeter/instrumentation/normalize';
import * as S from '@tokenmeter/instrumentation/semconv';

/** A row of `ai_calls`, as JSONEachRow values. Column names follow ingest/migrations/002_ai_calls.sql. */
export interface CallRow {
  timestamp: string;
  tenant: string;
  service: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  scope_name: string;
  convention: string;
  provider: string;
  operation: string;
  request_model: string;
  response_model: string;
  model: string;
  response_id: string;
  finish_reasons: string[];
  user_id: string;
  team: string;
  feature: string;
  session_id: string;
  request_id: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cache_write_1h_tokens: number;
  reasoning_tokens: number;
  input_audio_tokens: number;
  cache_audio_read_tokens: number;
  output_audio_tokens: number;
  /** Items priced per unit (migration 033): seconds of transcribed audio, characters spoken. */
  audio_seconds: number;
  input_characters: number;
  /** Built-in tool calls billed per 1,000 (migration 034). */
  web_search_calls: number;
  file_search_calls: number;
  estimated: boolean;
  is_streaming: boolean;
  is_batch: boolean;
  priced: boolean;
  cost_usd: string | null;
  cost_source: string;
  price_id: string;
  price_version: string;
  cache_savings_usd: string;
  duration_ms: number;
  ttft_ms: number | null;
  status: string;
  error_type: string;
  attributes: Record<string, string>;
  /** Custom properties, within the ingest's limits (migration 040). */
  properties: Record<string, string>;
}

/** A row of `otel_traces` (the OTel Collector ClickHouse exporter's layout). */
export interface TraceRow {
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  SpanKind: string;
  ServiceName: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  Duration: string;
  StatusCode: string;
  StatusMessage: string;
  'Events.Timestamp': string[];
  'Events.Name': string[];
  'Events.Attributes': Record<string, string>[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Record<string, string>[];
  TenantId: string;
}

/** otel_traces columns, in the order a spool record's body lists them. */
export const TRACE_COLUMNS = [
  'Timestamp',
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'TraceState',
  'SpanName',
  'SpanKind',
  'ServiceName',
  'ResourceAttributes',
  'ScopeName',
  'ScopeVersion',
  'SpanAttributes',
  'Duration',
  'StatusCode',
  'StatusMessage',
  'Events.Timestamp',
  'Events.Name',
  'Events.Attributes',
  'Links.TraceId',
  'Links.SpanId',
  'Links.TraceState',
  'Links.Attributes',
  'TenantId',
] as const satisfies readonly (keyof TraceRow)[];

/** ai_calls columns, in the order a spool record's body lists them. */
export const CALL_COLUMNS = [
  'timestamp',
  'tenant',
  'service',
  'trace_id',
  'span_id',
  'parent_span_id',
  'scope_name',
  'convention',
  'provider',
  'operation',
  'request_model',
  'response_model',
  'model',
  'response_id',
  'finish_reasons',
  'user_id',
  'team',
  'feature',
  'session_id',
  'request_id',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'cache_write_1h_tokens',
  'reasoning_tokens',
  'input_audio_tokens',
  'cache_audio_read_tokens',
  'output_audio_tokens',
  'audio_seconds',
  'input_characters',
  'web_search_calls',
  'file_search_calls',
  'estimated',
  'is_streaming',
  'is_batch',
  'priced',
  'cost_usd',
  'cost_source',
  'price_id',
  'price_version',
  'cache_savings_usd',
  'duration_ms',
  'ttft_ms',
  'status',
  'error_type',
  'attributes',
  'properties',
] as const satisfies readonly (keyof CallRow)[];

// Every field of a row is a listed column (a field added to a row type and not here fails to compile).
const everyTraceColumn: Exclude<keyof TraceRow, (typeof TRACE_COLUMNS)[number]> extends never ? true : never = true;
const everyCallColumn: Exclude<keyof CallRow, (typeof CALL_COLUMNS)[number]> extends never ? true : never = true;
void everyTraceColumn;
void everyCallColumn;

export type { CallCost };

/** The cost columns of an `ai_calls` row for a price result (unpriced: NULL, never $0). */
export function costFromPrice(result: PriceResult): CallCost {
  return result.priced
    ? {
        source: result.source === 'default' ? 'default' : 'ingest',
        usd: result.costUsd,
        priceId: result.priceId,
        priceVersion: result.priceVersion,
        cacheSavingsUsd: result.cacheSavingsUsd,
      }
    : UNPRICED;
}

/**
 * Attributes never copied into ai_calls.attributes: message content, and custom properties
 * (kept in their own bounded column instead).
 */
const CONTENT_KEYS =
  /^(tokenmeter\.property\.|gen_ai\.(input|output)\.messages|gen_ai\.system_instructions|gen_ai\.(prompt|completion)(\.|$)|gen_ai\.tool\.call\.(arguments|result)|llm\.(input|output)_messages|llm\.prompts|(input|output)\.value$|embedding\.embeddings\.|ai\.(prompt|values?|embeddings?|response\.(text|object|toolCalls|reasoning))($|\.))/;

/**
 * Attributes an ai_calls row carries as columns (operation, provider, models, response id and
 * finish reasons, streaming, time to first chunk, every token count and per-item usage, user,
 * session, tenant,
 * team, feature, request id, batch, estimated, error type), so ai_calls.attributes does not keep
 * them a second time: the span's whole map is in otel_traces.SpanAttributes (join on tenant,
 * trace id and span id), and ai_calls.attributes keeps what no column carries.
 */
const COLUMN_KEYS: ReadonlySet<string> = new Set([
  S.ATTR_GEN_AI_OPERATION_NAME,
  S.ATTR_GEN_AI_PROVIDER_NAME,
  'gen_ai.system',
  S.ATTR_GEN_AI_REQUEST_MODEL,
  S.ATTR_GEN_AI_RESPONSE_MODEL,
  S.ATTR_GEN_AI_RESPONSE_ID,
  S.ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  S.ATTR_GEN_AI_REQUEST_STREAM,
  S.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  S.ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  S.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  S.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  S.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  S.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  S.ATTR_GEN_AI_USAGE_AUDIO_INPUT_TOKENS,
  S.ATTR_GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS,
  S.ATTR_TM_USAGE_CACHE_READ_AUDIO_INPUT_TOKENS,
  S.ATTR_TM_USAGE_CACHE_CREATION_1H_INPUT_TOKENS,
  S.ATTR_TM_USAGE_AUDIO_INPUT_SECONDS,
  S.ATTR_TM_USAGE_INPUT_CHARACTERS,
  S.ATTR_TM_USAGE_WEB_SEARCH_CALLS,
  S.ATTR_TM_USAGE_FILE_SEARCH_CALLS,
  S.ATTR_USER_ID,
  S.ATTR_SESSION_ID,
  S.ATTR_TM_TENANT,
  S.ATTR_TM_TEAM,
  S.ATTR_TM_FEATURE,
  S.ATTR_TM_REQUEST_ID,
  S.ATTR_TM_BATCH,
  S.ATTR_TM_USAGE_ESTIMATED,
  S.ATTR_ERROR_TYPE,
]);

export function toCallRow(call: AiCall, tenant: string, cost: CallCost, attributes: Attributes): CallRow {
  const u = call.usage;
  return {
    timestamp: nanosToDateTime64(call.startTimeUnixNano),
    tenant,
    service: call.service,
    trace_id: call.traceId,
    span_id: call.spanId,
    parent_span_id: call.parentSpanId,
    scope_name: call.scopeName,
    convention: call.convention,
    provider: call.provider,
    operation: call.operation,
    request_model: call.requestModel,
    response_model: call.responseModel,
    model: call.responseModel || call.requestModel,
    response_id: call.responseId,
    finish_reasons: call.finishReasons,
    user_id: call.userId,
    team: call.team,
    feature: call.feature,
    session_id: call.sessionId,
    request_id: call.requestId,
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    cache_read_tokens: u.cacheReadTokens ?? 0,
    cache_write_tokens: u.cacheWriteTokens ?? 0,
    cache_write_1h_tokens: u.cacheWrite1hTokens ?? 0,
    reasoning_tokens: u.reasoningTokens ?? 0,
    input_audio_tokens: u.inputAudioTokens ?? 0,
    cache_audio_read_tokens: u.cacheAudioReadTokens ?? 0,
    output_audio_tokens: u.outputAudioTokens ?? 0,
    audio_seconds: u.audioSeconds ?? 0,
    input_characters: u.inputCharacters ?? 0,
    web_search_calls: u.webSearchCalls ?? 0,
    file_search_calls: u.fileSearchCalls ?? 0,
    estimated: call.estimated,
    is_streaming: call.isStreaming,
    is_batch: call.isBatch,
    priced: cost.usd !== null,
    cost_usd: cost.usd,
    cost_source: cost.source,
    price_id: cost.priceId,
    price_version: cost.priceVersion,
    cache_savings_usd: cost.cacheSavingsUsd,
    duration_ms: Number(call.durationNs) / 1e6,
    ttft_ms: call.ttftMs,
    status: call.status,
    error_type: call.errorType,
    attributes: stringMap(attributes, COLUMN_KEYS, CONTENT_KEYS),
    properties: call.properties,
  };
}

const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_CODES = ['Unset', 'Ok', 'Error'];

export function toTraceRow(span: SpanInput, tenant: string): TraceRow {
  return {
    Timestamp: nanosToDateTime64(span.startTimeUnixNano),
    TraceId: span.traceId,
    SpanId: span.spanId,
    ParentSpanId: span.parentSpanId,
    TraceState: span.traceState,
    SpanName: span.name,
    SpanKind: SPAN_KINDS[span.kind] ?? 'Unspecified',
    ServiceName: attrString(span.resource['service.name']) || 'unknown_service',
    ResourceAttributes: resourceMap(span.resource),
    ScopeName: span.scope.name,
    ScopeVersion: span.scope.version,
    SpanAttributes: stringMap(span.attributes),
    Duration: String(
      span.endTimeUnixNano > span.startTimeUnixNano ? span.endTimeUnixNano - span.startTimeUnixNano : 0n,
    ),
    StatusCode: STATUS_CODES[span.status.code] ?? 'Unset',
    StatusMessage: span.status.message,
    'Events.Timestamp': span.events.map((e) => nanosToDateTime64(e.timeUnixNano)),
    'Events.Name': span.events.map((e) => e.name),
    'Events.Attributes': span.events.map((e) => stringMap(e.attributes)),
    'Links.TraceId': span.links.map((l) => l.traceId),
    'Links.SpanId': span.links.map((l) => l.spanId),
    'Links.TraceState': span.links.map((l) => l.traceState),
    'Links.Attributes': span.links.map((l) => stringMap(l.attributes)),
    TenantId: tenant,
  };
}

/** A span's identity in both tables: the dedup key, and what insert tokens are derived from. */
export function spanKey(tenant: string, traceId: string, spanId: string): string {
  return `${tenant}/${traceId}/${spanId}`;
}

/** Nanoseconds since the epoch → 'YYYY-MM-DD hh:mm:ss.nnnnnnnnn' (UTC), exact. */
export function nanosToDateTime64(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  // The spans of a batch share a few seconds: format each second once.
  if (seconds !== lastSecond) {
    const iso = new Date(Number(seconds) * 1000).toISOString(); // 2026-11-23T10:00:00.000Z
    lastSecond = seconds;
    lastSecondText = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
  }
  return lastSecondText + frac;
}
let lastSecond = -1n;
let lastSecondText = '';

/** A request's spans share their resource: its string map is made once (rows only read it). */
const resourceMaps = new WeakMap<Attributes, Record<string, string>>();
function resourceMap(resource: Attributes): Record<string, string> {
  let map = resourceMaps.get(resource);
  if (!map) resourceMaps.set(resource, (map = stringMap(resource)));
  return map;
}

function attrString(v: AttrValue | undefined): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function stringMap(attrs: Attributes, skipKeys?: ReadonlySet<string>, skip?: RegExp): Record<string, string> {
  // No prototype: a key named __proto__ is data like any other.
  const out = Object.create(null) as Record<string, string>;
  for (const key in attrs) {
    if (skipKeys?.has(key) || skip?.test(key)) continue;
    out[key] = attrString(attrs[key]);
  }
  return out;
}
