/**
 * The calls behind a panel's table row, and one call in full: typed queries on `ai_calls`
 * with every value bound. Filters come from a fixed list of columns.
 */

/** Filters a calls list accepts (query parameter → column). */
export const CALL_FILTERS = {
  tenant: 'tenant',
  service: 'service',
  provider: 'provider',
  model: 'model',
  user: 'user_id',
  user_id: 'user_id',
  team: 'team',
  feature: 'feature',
  status: 'status',
} as const;

export type CallFilter = keyof typeof CALL_FILTERS;

/** Columns of the list (money columns are dropped for a user key by the router). */
export const CALL_LIST_COLUMNS = [
  'timestamp',
  'trace_id',
  'span_id',
  'tenant',
  'service',
  'provider',
  'model',
  'user_id',
  'feature',
  'input_tokens',
  'output_tokens',
  'duration_ms',
  'status',
  'cost_usd',
  'properties',
] as const;

/** A call's custom properties as one text column: `plan=pro, arm=b` (sorted by name). */
const PROPERTIES_TEXT =
  "arrayStringConcat(arraySort(arrayMap((k, v) -> concat(k, '=', v), mapKeys(properties), mapValues(properties))), ', ')";

export function callListSql(
  filters: Partial<Record<CallFilter, string>>,
  properties: Readonly<Record<string, string>> = {},
): {
  sql: string;
  params: Record<string, string | number>;
} {
  const where = [
    'timestamp >= fromUnixTimestamp64Milli({from:Int64})',
    'timestamp <= fromUnixTimestamp64Milli({to:Int64})',
  ];
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(filters) as [CallFilter, string][]) {
    const column = CALL_FILTERS[name];
    where.push(`${column} = {f_${name}:String}`);
    params[`f_${name}`] = value;
  }
  Object.entries(properties).forEach(([name, value], i) => {
    // Qualified: the list's text column is also named `properties`, and an alias wins in WHERE.
    where.push(`ai_calls.properties[{fp_name_${i}:String}] = {fp_value_${i}:String}`);
    params[`fp_name_${i}`] = name;
    params[`fp_value_${i}`] = value;
  });
  const columns = CALL_LIST_COLUMNS.map((c) => (c === 'properties' ? `${PROPERTIES_TEXT} AS properties` : c));
  const sql = `SELECT ${columns.join(', ')}
FROM ai_calls
WHERE ${where.join('\n  AND ')}
ORDER BY timestamp DESC
LIMIT {limit:UInt32}`;
  return { sql, params };
}

export const CALL_SQL = `SELECT timestamp, tenant, service, trace_id, span_id, parent_span_id, scope_name, convention,
  provider, operation, request_model, response_model, model, response_id, finish_reasons,
  user_id, team, feature, session_id, request_id,
  input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens,
  input_audio_tokens, output_audio_tokens, estimated, is_streaming, is_batch,
  priced, cost_usd, cost_source, price_id, price_version, cache_savings_usd,
  duration_ms, ttft_ms, status, error_type, ${PROPERTIES_TEXT} AS properties
FROM ai_calls
WHERE trace_id = {trace_id:String} AND span_id = {span_id:String}
  AND ({tenant:String} = '*' OR tenant = {tenant:String})
ORDER BY ingested_at DESC
LIMIT 1`;

/** Fields of one call that are money: left out for a user key. */
export const CALL_MONEY_FIELDS = ['cost_usd', 'cache_savings_usd', 'price_id', 'price_version', 'cost_source'] as const;

/** Trace and span ids as OTLP writes them: lowercase hex. */
export const TRACE_ID_RE = /^[0-9a-f]{32}$/;
export const SPAN_ID_RE = /^[0-9a-f]{16}$/;
