/**
 * Error answers, each in its provider's real shape and status, as plain data.
 * `rate-limit` answers the `rate-limit-once` scenario's first request, `server` the
 * `error-500` scenario, `overloaded` the `overloaded` scenario.
 * Every rate-limit answer carries `retry-after: 0` so SDK retries do not sleep in tests.
 */

export type ErrorKind = 'rate-limit' | 'server' | 'overloaded';
export type ErrorFamily = 'openai' | 'anthropic' | 'google' | 'bedrock' | 'gateway';

export interface ErrorFixture {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const OPENAI_ID = 'req_4f2c1d9e8b7a6f5e4d3c2b1a09f8e7d6';
const ANTHROPIC_ID = 'req_011CSHoEeqs5C35K2UUqR7Fy';
const BEDROCK_ID = '9f8e7d6c-5b4a-4321-8fed-cba987654321';

/** The AI Gateway's error body, as @ai-sdk/gateway's gatewayErrorResponseSchema reads it. */
function gatewayError(status: number, type: string, message: string): ErrorFixture {
  return {
    status,
    headers: status === 429 ? { 'retry-after': '0' } : {},
    body: { error: { message, type }, generationId: 'gen_01JZ8Q6W3X5T7V9B1N3M5K7E00' },
  };
}

function bedrockError(status: number, type: string, message: string): ErrorFixture {
  return {
    status,
    headers: {
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      'x-amzn-requestid': BEDROCK_ID,
      ...(status === 429 ? { 'retry-after': '0' } : {}),
    },
    body: { message },
  };
}

export const ERRORS: Record<ErrorFamily, Record<ErrorKind, ErrorFixture>> = {
  openai: {
    'rate-limit': {
      status: 429,
      headers: {
        'retry-after': '0',
        'x-request-id': OPENAI_ID,
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '120ms',
      },
      body: {
        error: {
          message:
            'Rate limit reached for gpt-4o-mini in organization org-replay on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      },
    },
    server: {
      status: 500,
      headers: { 'x-request-id': OPENAI_ID },
      body: {
        error: {
          message: 'The server had an error while processing your request. Sorry about that!',
          type: 'server_error',
          param: null,
          code: null,
        },
      },
    },
    overloaded: {
      status: 503,
      headers: { 'x-request-id': OPENAI_ID },
      body: {
        error: { message: 'The server is overloaded or not ready yet.', type: 'server_error', param: null, code: null },
      },
    },
  },
  anthropic: {
    'rate-limit': {
      status: 429,
      headers: {
        'retry-after': '0',
        'request-id': ANTHROPIC_ID,
        'x-should-retry': 'true',
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '0',
      },
      body: {
        type: 'error',
        error: {
          type: 'rate_limit_error',
          message:
            'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.',
        },
        request_id: ANTHROPIC_ID,
      },
    },
    server: {
      status: 500,
      headers: { 'request-id': ANTHROPIC_ID, 'x-should-retry': 'true' },
      body: { type: 'error', error: { type: 'api_error', message: 'Internal server error' }, request_id: ANTHROPIC_ID },
    },
    overloaded: {
      status: 529,
      headers: { 'request-id': ANTHROPIC_ID, 'x-should-retry': 'true' },
      body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: ANTHROPIC_ID },
    },
  },
  google: {
    'rate-limit': {
      status: 429,
      headers: { 'retry-after': '0' },
      body: {
        error: {
          code: 429,
          message:
            'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0s' }],
        },
      },
    },
    server: {
      status: 500,
      headers: {},
      body: {
        error: {
          code: 500,
          message:
            'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
          status: 'INTERNAL',
        },
      },
    },
    overloaded: {
      status: 503,
      headers: {},
      body: {
        error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
      },
    },
  },
  gateway: {
    'rate-limit': gatewayError(429, 'rate_limit_exceeded', 'Rate limit exceeded'),
    server: gatewayError(500, 'internal_server_error', 'Internal server error'),
    overloaded: gatewayError(503, 'internal_server_error', 'No provider could serve the request'),
  },
  bedrock: {
    'rate-limit': bedrockError(429, 'ThrottlingException', 'Too many requests, please wait before trying again.'),
    server: bedrockError(
      500,
      'InternalServerException',
      'The system encountered an unexpected error during processing. Try your request again.',
    ),
    overloaded: bedrockError(503, 'ServiceUnavailableException', 'Bedrock is unable to process your request.'),
  },
};
