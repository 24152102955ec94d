/**
 * Answers the gateway gives itself (no tokenmeter key, a hard budget reached, the upstream
 * unreachable), in the shape of the provider the caller speaks to, so its SDK raises its usual
 * error class with our message. `x-should-retry: false` tells the Stainless SDKs (openai,
 * Anthropic) not to retry a refusal that retrying cannot change.
 */
export type WireApi = 'openai' | 'anthropic' | 'google';

export type GatewayErrorKind =
  'unauthenticated' | 'budget_exceeded' | 'rate_limited' | 'too_large' | 'unreachable' | 'not_found';

const STATUS: Record<GatewayErrorKind, number> = {
  unauthenticated: 401,
  budget_exceeded: 429,
  rate_limited: 429,
  too_large: 413,
  unreachable: 502,
  not_found: 404,
};

const OPENAI_TYPE: Record<GatewayErrorKind, string> = {
  unauthenticated: 'invalid_request_error',
  budget_exceeded: 'insufficient_quota',
  rate_limited: 'requests',
  too_large: 'invalid_request_error',
  unreachable: 'server_error',
  not_found: 'invalid_request_error',
};

const ANTHROPIC_TYPE: Record<GatewayErrorKind, string> = {
  unauthenticated: 'authentication_error',
  budget_exceeded: 'rate_limit_error',
  rate_limited: 'rate_limit_error',
  too_large: 'request_too_large',
  unreachable: 'api_error',
  not_found: 'not_found_error',
};

const GOOGLE_STATUS: Record<GatewayErrorKind, string> = {
  unauthenticated: 'UNAUTHENTICATED',
  budget_exceeded: 'RESOURCE_EXHAUSTED',
  rate_limited: 'RESOURCE_EXHAUSTED',
  too_large: 'INVALID_ARGUMENT',
  unreachable: 'UNAVAILABLE',
  not_found: 'NOT_FOUND',
};

/** Which API a path (query and all) speaks, for the error shape: a Gemini method, Anthropic messages, else OpenAI's. */
export function apiOfPath(path: string): WireApi {
  const q = path.indexOf('?');
  const p = q < 0 ? path : path.slice(0, q);
  if (/\/models\/[^/]+:[A-Za-z]+$/.test(p)) return 'google';
  if (/\/v1\/messages(\/|$)/.test(p)) return 'anthropic';
  return 'openai';
}

/** `retryAfterS`: a refusal that passes (the key's rate limit) says when to try again, as the providers do. */
export function gatewayError(
  api: WireApi,
  kind: GatewayErrorKind,
  message: string,
  retryAfterS?: number,
): { status: number; headers: Record<string, string>; body: string } {
  const status = STATUS[kind];
  const code = `tokenmeter_${kind}`;
  const body =
    api === 'anthropic'
      ? { type: 'error', error: { type: ANTHROPIC_TYPE[kind], message } }
      : api === 'google'
        ? { error: { code: status, message, status: GOOGLE_STATUS[kind] } }
        : { error: { message, type: OPENAI_TYPE[kind], param: null, code } };
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-tokenmeter-error': code };
  if (retryAfterS !== undefined) headers['retry-after'] = String(retryAfterS);
  else if (kind !== 'unreachable') headers['x-should-retry'] = 'false';
  return { status, headers, body: JSON.stringify(body) };
}
