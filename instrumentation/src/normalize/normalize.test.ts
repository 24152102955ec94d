import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../core/estimate.js';
import { normalizeSpan } from './normalize.js';
import type { Attributes, SpanInput } from './types.js';

/**
 * One case per convention, with the attributes the real packages wrote (captured from the apps
 * in test/conventions, which prove the same end to end through the service). Message content
 * is left out.
 */
function span(attributes: Attributes, status = 0): SpanInput {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '',
    traceState: '',
    name: 'span',
    kind: 3,
    startTimeUnixNano: 1_795_431_446_000_000_000n,
    endTimeUnixNano: 1_795_431_446_250_000_000n,
    attributes,
    resource: { 'service.name': 'svc' },
    scope: { name: 'peer', version: '1' },
    status: { code: status, message: '' },
    events: [],
    links: [],
  };
}

const VERCEL_V6_CACHE = {
  'ai.operationId': 'ai.generateText.doGenerate',
  'ai.model.provider': 'openai.chat',
  'ai.model.id': 'gpt-4o-mini',
  'gen_ai.system': 'openai.chat',
  'gen_ai.request.model': 'gpt-4o-mini',
  'ai.response.model': 'gpt-4o-mini',
  'ai.usage.inputTokens': 2048,
  'ai.usage.inputTokenDetails.noCacheTokens': 128,
  'ai.usage.inputTokenDetails.cacheReadTokens': 1920,
  'ai.usage.outputTokens': 12,
  'ai.usage.cachedInputTokens': 1920,
  'gen_ai.usage.input_tokens': 2048,
  'gen_ai.usage.output_tokens': 12,
};

const VERCEL_V4_CACHE = {
  'ai.operationId': 'ai.generateText.doGenerate',
  'ai.model.provider': 'openai.chat',
  'ai.model.id': 'gpt-4o-mini',
  'gen_ai.system': 'openai.chat',
  'gen_ai.request.model': 'gpt-4o-mini',
  'ai.response.providerMetadata':
    '{"openai":{"reasoningTokens":0,"acceptedPredictionTokens":0,"rejectedPredictionTokens":0,"cachedPromptTokens":1920}}',
  'ai.usage.promptTokens': 2048,
  'ai.usage.completionTokens': 12,
  'gen_ai.usage.input_tokens': 2048,
  'gen_ai.usage.output_tokens': 12,
};

const CASES: {
  name: string;
  attributes: Attributes;
  /** OTLP status code; 2 = error. */
  status?: number;
  want: {
    convention: string;
    provider: string;
    operation: string;
    input: number;
    output: number;
    cacheRead?: number;
    cacheWrite?: number;
    cacheWrite1h?: number;
    streaming?: boolean;
    spanCostUsd?: string;
    error?: boolean;
    estimated?: boolean;
    model?: string;
  } | null;
}[] = [
  {
    name: '@traceloop/instrumentation-openai 0.27: current gen_ai.*',
    attributes: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.usage.total_tokens': 27,
      'gen_ai.usage.output_tokens': 8,
      'gen_ai.usage.input_tokens': 19,
    },
    want: { convention: 'gen_ai', provider: 'openai', operation: 'chat', input: 19, output: 8 },
  },
  {
    name: '@traceloop/instrumentation-openai 0.22: llm.* with gen_ai.system "OpenAI" and prompt/completion tokens',
    attributes: {
      'gen_ai.system': 'OpenAI',
      'llm.request.type': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'llm.usage.total_tokens': 2060,
      'gen_ai.usage.completion_tokens': 12,
      'gen_ai.usage.prompt_tokens': 2048,
    },
    want: { convention: 'openllmetry', provider: 'openai', operation: 'chat', input: 2048, output: 12 },
  },
  {
    name: 'OpenInference LLM span: prompt count includes the cache read',
    attributes: {
      'openinference.span.kind': 'LLM',
      'llm.model_name': 'gpt-4o-mini',
      'llm.system': 'openai',
      'llm.token_count.completion': 12,
      'llm.token_count.prompt': 2048,
      'llm.token_count.total': 2060,
      'llm.token_count.prompt_details.cache_read': 1920,
      'llm.token_count.completion_details.reasoning': 0,
    },
    want: {
      convention: 'openinference',
      provider: 'openai',
      operation: 'chat',
      input: 2048,
      output: 12,
      cacheRead: 1920,
    },
  },
  {
    name: 'OpenInference embedding span without token counts and without content: no call row',
    attributes: {
      'openinference.span.kind': 'EMBEDDING',
      'embedding.model_name': 'text-embedding-3-small',
      'llm.system': 'openai',
    },
    want: null,
  },
  {
    name: 'OpenInference CHAIN span: not a model call',
    attributes: { 'openinference.span.kind': 'CHAIN', 'llm.token_count.prompt': 5 },
    want: null,
  },
  {
    name: '@opentelemetry/instrumentation-openai 0.21 embeddings: gen_ai.system with input_tokens',
    attributes: {
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.request.model': 'text-embedding-3-small',
      'gen_ai.system': 'openai',
      'gen_ai.response.model': 'text-embedding-3-small',
      'gen_ai.usage.input_tokens': 8,
    },
    want: { convention: 'gen_ai_legacy', provider: 'openai', operation: 'embeddings', input: 8, output: 0 },
  },
  {
    name: 'openlit 1.15 stream: float cost kept to 12 decimals, is_stream read',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.is_stream': true,
      'gen_ai.usage.cost': 0.00017039999999999997,
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 2048,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.usage.cache_read.input_tokens': 1920,
    },
    want: {
      convention: 'openlit',
      provider: 'openai',
      operation: 'chat',
      input: 2048,
      output: 12,
      cacheRead: 1920,
      streaming: true,
      spanCostUsd: '0.0001704',
    },
  },
  {
    name: 'openlit 1.15 cost 0 (its table lacks the model): no span cost, priced at ingest',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'o4-mini',
      'gen_ai.request.is_stream': false,
      'gen_ai.usage.cost': 0,
      'gen_ai.usage.input_tokens': 24,
      'gen_ai.usage.output_tokens': 310,
    },
    want: { convention: 'openlit', provider: 'openai', operation: 'chat', input: 24, output: 310 },
  },
  {
    name: 'openlit 1.15 on Anthropic: input_tokens without the cache, so the cache is added',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-haiku-4-5-20251001',
      'gen_ai.request.is_stream': false,
      'gen_ai.usage.cost': 0.0025570000000000002,
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 25,
      'gen_ai.usage.cache_creation.input_tokens': 1792,
      'gen_ai.usage.cache_read.input_tokens': 1800,
    },
    want: {
      convention: 'openlit',
      provider: 'anthropic',
      operation: 'chat',
      input: 12 + 1800 + 1792,
      output: 25,
      cacheRead: 1800,
      cacheWrite: 1792,
      spanCostUsd: '0.002557',
    },
  },
  {
    name: '@anthropic-ai/sdk 1.12 own span: cache_write and the 1-hour part under anthropic.*',
    attributes: {
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'claude-haiku-4-5-20251001',
      'gen_ai.usage.input_tokens': 3604,
      'gen_ai.response.model': 'claude-haiku-4-5-20251001',
      'gen_ai.usage.cache_write.input_tokens': 1792,
      'gen_ai.usage.cache_read.input_tokens': 1800,
      'anthropic.usage.cache_creation.ephemeral_5m_input_tokens': 640,
      'anthropic.usage.cache_creation.ephemeral_1h_input_tokens': 1152,
      'gen_ai.usage.output_tokens': 25,
    },
    want: {
      convention: 'gen_ai',
      provider: 'anthropic',
      operation: 'chat',
      input: 3604,
      output: 25,
      cacheRead: 1800,
      cacheWrite: 1792,
      cacheWrite1h: 1152,
    },
  },
  {
    name: 'ai@6 doGenerate: inputTokenDetails.cacheReadTokens',
    attributes: VERCEL_V6_CACHE,
    want: { convention: 'vercel_ai', provider: 'openai', operation: 'chat', input: 2048, output: 12, cacheRead: 1920 },
  },
  {
    name: 'ai@6 outer generateText span (same usage as its doGenerate): not counted',
    attributes: { ...VERCEL_V6_CACHE, 'ai.operationId': 'ai.generateText' },
    want: null,
  },
  {
    name: 'ai@4 doGenerate: cache reads only in providerMetadata',
    attributes: VERCEL_V4_CACHE,
    want: { convention: 'vercel_ai', provider: 'openai', operation: 'chat', input: 2048, output: 12, cacheRead: 1920 },
  },
  {
    name: 'ai@4 doGenerate with providerMetadata that is not JSON: no cache read, no throw',
    attributes: { ...VERCEL_V4_CACHE, 'ai.response.providerMetadata': '{"openai":' },
    want: { convention: 'vercel_ai', provider: 'openai', operation: 'chat', input: 2048, output: 12, cacheRead: 0 },
  },
  {
    name: 'ai doStream',
    attributes: {
      'ai.operationId': 'ai.streamText.doStream',
      'ai.model.provider': 'openai.chat',
      'ai.model.id': 'gpt-4o-mini',
      'ai.usage.promptTokens': 19,
      'ai.usage.completionTokens': 8,
    },
    want: { convention: 'vercel_ai', provider: 'openai', operation: 'chat', input: 19, output: 8, streaming: true },
  },
  {
    name: 'ai doEmbed: ai.usage.tokens',
    attributes: {
      'ai.operationId': 'ai.embed.doEmbed',
      'ai.model.provider': 'openai.embedding',
      'ai.model.id': 'text-embedding-3-small',
      'ai.usage.tokens': 8,
    },
    want: { convention: 'vercel_ai', provider: 'openai', operation: 'embeddings', input: 8, output: 0 },
  },
  {
    name: '@opentelemetry/instrumentation-openai 0.21, provider answered 500: an error row with no tokens',
    status: 2,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.system': 'openai',
      'error.type': 'InternalServerError',
    },
    want: { convention: 'gen_ai_legacy', provider: 'openai', operation: 'chat', input: 0, output: 0, error: true },
  },
  {
    name: '@traceloop/instrumentation-openai 0.27 stream without usage and without content: no call row',
    attributes: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.response.finish_reasons': ['stop'],
    },
    want: null,
  },
  {
    name: '@traceloop/instrumentation-openai 0.27 stream (no usage): counted from its messages, estimated',
    attributes: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"What is the capital of France?"}]}]',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.output.messages':
        '[{"role":"assistant","finish_reason":"stop","parts":[{"type":"text","content":"The capital of France is Paris."}]}]',
    },
    want: {
      convention: 'gen_ai',
      provider: 'openai',
      operation: 'chat',
      input: estimateTokens('What is the capital of France?'),
      output: estimateTokens('The capital of France is Paris.'),
      estimated: true,
    },
  },
  {
    name: '@traceloop/instrumentation-openai 0.22 stream (no usage): gen_ai.prompt/completion.<i>.content',
    attributes: {
      'gen_ai.system': 'OpenAI',
      'llm.request.type': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.prompt.0.role': 'user',
      'gen_ai.prompt.0.content': 'What is the capital of France?',
      'gen_ai.completion.0.role': 'assistant',
      'gen_ai.completion.0.content': 'The capital of France is Paris.',
    },
    want: {
      convention: 'openllmetry',
      provider: 'openai',
      operation: 'chat',
      input: estimateTokens('What is the capital of France?'),
      output: estimateTokens('The capital of France is Paris.'),
      estimated: true,
    },
  },
  {
    name: 'OpenInference 4.2 stream (no token counts): llm.input/output_messages',
    attributes: {
      'openinference.span.kind': 'LLM',
      'llm.model_name': 'gpt-4o-mini',
      'llm.system': 'openai',
      'llm.input_messages.0.message.role': 'user',
      'llm.input_messages.0.message.content': 'What is the capital of France?',
      'llm.output_messages.0.message.content': 'The capital of France is Paris.',
      'llm.output_messages.0.message.role': 'assistant',
      'output.value': 'The capital of France is Paris.',
    },
    want: {
      convention: 'openinference',
      provider: 'openai',
      operation: 'chat',
      input: estimateTokens('What is the capital of France?'),
      output: estimateTokens('The capital of France is Paris.'),
      estimated: true,
    },
  },
  {
    name: 'OpenInference 4.2 embedding: embedding.model_name, counted from the embedded text',
    attributes: {
      'openinference.span.kind': 'EMBEDDING',
      'embedding.model_name': 'text-embedding-3-small',
      'input.value': 'The capital of France',
      'llm.system': 'openai',
      'embedding.embeddings.0.embedding.text': 'The capital of France',
    },
    want: {
      convention: 'openinference',
      provider: 'openai',
      operation: 'embeddings',
      model: 'text-embedding-3-small',
      input: estimateTokens('The capital of France'),
      output: 0,
      estimated: true,
    },
  },
  {
    name: 'a failed call carrying its prompt: an error row with no tokens, not an estimate',
    status: 2,
    attributes: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]',
      'error.type': 'InternalServerError',
    },
    want: { convention: 'gen_ai', provider: 'openai', operation: 'chat', input: 0, output: 0, error: true },
  },
  {
    name: 'gen_ai agent span: not a model call',
    attributes: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.usage.input_tokens': 100,
    },
    want: null,
  },
];

describe('normalizeSpan, one case per convention as the real packages write it', () => {
  it.each(CASES)('$name', ({ attributes, status, want }) => {
    const call = normalizeSpan(span(attributes, status));
    if (want === null) {
      expect(call).toBeNull();
      return;
    }
    expect(call).not.toBeNull();
    expect({
      convention: call!.convention,
      provider: call!.provider,
      operation: call!.operation,
      input: call!.usage.inputTokens,
      output: call!.usage.outputTokens,
      cacheRead: call!.usage.cacheReadTokens ?? 0,
      cacheWrite: call!.usage.cacheWriteTokens ?? 0,
      cacheWrite1h: call!.usage.cacheWrite1hTokens ?? 0,
      streaming: call!.isStreaming,
      spanCostUsd: call!.spanCost?.usd,
      error: call!.status === 'error',
      estimated: call!.estimated,
      ...(want.model !== undefined ? { model: call!.requestModel } : {}),
    }).toEqual({
      cacheRead: 0,
      cacheWrite: 0,
      cacheWrite1h: 0,
      streaming: false,
      spanCostUsd: undefined,
      error: false,
      estimated: false,
      ...want,
    });
  });
});

describe('token counts are whole numbers or the usage is marked untrustworthy', () => {
  const call = (input: Attributes[string]) =>
    normalizeSpan(
      span({
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': input,
        'gen_ai.usage.output_tokens': 5,
      }),
    );
  it.each([
    ['the string "NaN"', 'NaN'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['true', true],
    ['an array', [12]],
    ['a map', { n: 12 }],
    ['-0.0', -0],
    ['"0x10"', '0x10'],
    ['"1e3"', '1e3'],
    ['" 12"', ' 12'],
    ['a fraction', 12.5],
    ['"-0"', '-0'],
  ])('%s is refused, not read as 0 or converted', (_name, value) => {
    const c = call(value);
    expect(c?.usageProblem).toMatch(/gen_ai\.usage\.input_tokens = .* is not a whole number of tokens/);
  });
  it.each([
    ['an integer', 12, 12],
    ['int64 as decimal digits', '12', 12],
    ['a whole double', 12.0, 12],
    ['a negative integer (range is checked at ingest)', -3, -3],
  ])('%s is read', (_name, value, expected) => {
    const c = call(value);
    expect(c?.usageProblem).toBeUndefined();
    expect(c?.usage.inputTokens).toBe(expected);
  });
  it('a bad count alone still makes the span a call, so it is refused rather than dropped', () => {
    const c = normalizeSpan(span({ 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 'NaN' }));
    expect(c?.usageProblem).toBeDefined();
  });
});
