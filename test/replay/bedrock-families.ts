/**
 * Bedrock InvokeModel for every model family Bedrock serves beside Claude's Messages API, in the
 * body shapes of the Bedrock user guide ("Inference request parameters and response fields for
 * foundation models", one page per family, read 2026-12-07). Every plain answer carries Bedrock's
 * token-count headers (x-amzn-bedrock-input-token-count / -output-token-count), whatever the
 * family; every stream's last chunk carries `amazon-bedrock-invocationMetrics`. Some families
 * also report tokens in the body (Titan, Nova, Llama, AI21 Jamba); the others (Claude text
 * completions, Mistral, Cohere) only in those headers and metrics.
 */

export type Family =
  | 'anthropic-text'
  | 'titan-text'
  | 'titan-embed'
  | 'nova'
  | 'llama'
  | 'mistral'
  | 'cohere-command'
  | 'cohere-embed'
  | 'ai21';

export interface FamilyFixture {
  family: Family;
  /** The model id to invoke (a regional inference profile where Bedrock offers one). */
  model: string;
  /** What the app sends (the family's request body). */
  request: Record<string, unknown>;
  /** Tokens Bedrock counted (headers and invocation metrics); input excludes cache reads, as Converse. */
  input: number;
  output: number;
  cacheRead?: number;
  /** The answer's text (or, for embeddings, nothing). */
  text: string;
  /** The plain response body. */
  body: Record<string, unknown>;
  /** The stream's chunks, before Bedrock adds its metrics to the last; undefined: no streaming (embeddings). */
  chunks?: Record<string, unknown>[];
}

const PARIS = 'The capital of France is Paris.';
const WORDS = [' The', ' capital', ' of', ' France', ' is', ' Paris.'];
const VECTOR = [0.0123, -0.0456, 0.0789, 0.0012];

export const FAMILIES: Record<Family, FamilyFixture> = {
  'anthropic-text': {
    family: 'anthropic-text',
    model: 'anthropic.claude-v2',
    request: { prompt: '\n\nHuman: What is the capital of France?\n\nAssistant:', max_tokens_to_sample: 300 },
    input: 16,
    output: 82,
    text: PARIS,
    body: { completion: ` ${PARIS}`, stop_reason: 'stop_sequence', stop: '\n\nHuman:' },
    chunks: [
      ...WORDS.map((w) => ({ completion: w, stop_reason: null, stop: null })),
      { completion: '', stop_reason: 'stop_sequence', stop: '\n\nHuman:' },
    ],
  },
  'titan-text': {
    family: 'titan-text',
    model: 'amazon.titan-text-express-v1',
    request: { inputText: 'What is the capital of France?', textGenerationConfig: { maxTokenCount: 512 } },
    input: 9,
    output: 8,
    text: PARIS,
    body: { inputTextTokenCount: 9, results: [{ tokenCount: 8, outputText: PARIS, completionReason: 'FINISH' }] },
    chunks: [
      {
        outputText: 'The capital of France',
        index: 0,
        totalOutputTextTokenCount: 4,
        completionReason: null,
        inputTextTokenCount: 9,
      },
      {
        outputText: ' is Paris.',
        index: 0,
        totalOutputTextTokenCount: 8,
        completionReason: 'FINISH',
        inputTextTokenCount: null,
      },
    ],
  },
  'titan-embed': {
    family: 'titan-embed',
    model: 'amazon.titan-embed-text-v2:0',
    request: { inputText: 'What is the capital of France?', dimensions: 256, normalize: true },
    input: 8,
    output: 0,
    text: '',
    body: { embedding: VECTOR, embeddingsByType: { float: VECTOR }, inputTextTokenCount: 8 },
  },
  nova: {
    family: 'nova',
    model: 'us.amazon.nova-lite-v1:0',
    request: {
      schemaVersion: 'messages-v1',
      messages: [{ role: 'user', content: [{ text: 'What is the capital of France?' }] }],
      inferenceConfig: { maxTokens: 300 },
    },
    input: 7,
    output: 9,
    cacheRead: 1500,
    text: PARIS,
    body: {
      output: { message: { role: 'assistant', content: [{ text: PARIS }] } },
      stopReason: 'end_turn',
      usage: {
        inputTokens: 7,
        outputTokens: 9,
        totalTokens: 1516,
        cacheReadInputTokenCount: 1500,
        cacheWriteInputTokenCount: 0,
      },
    },
    chunks: [
      { messageStart: { role: 'assistant' } },
      ...WORDS.map((w) => ({ contentBlockDelta: { delta: { text: w }, contentBlockIndex: 0 } })),
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: 'end_turn' } },
      {
        metadata: {
          usage: { inputTokens: 7, outputTokens: 9, cacheReadInputTokenCount: 1500, cacheWriteInputTokenCount: 0 },
        },
      },
    ],
  },
  llama: {
    family: 'llama',
    model: 'us.meta.llama3-2-11b-instruct-v1:0',
    request: { prompt: 'What is the capital of France?', max_gen_len: 256 },
    input: 24,
    output: 9,
    text: PARIS,
    body: { generation: PARIS, prompt_token_count: 24, generation_token_count: 9, stop_reason: 'stop' },
    chunks: [
      { generation: 'The capital of France', prompt_token_count: 24, generation_token_count: 5, stop_reason: null },
      { generation: ' is Paris.', prompt_token_count: null, generation_token_count: 9, stop_reason: 'stop' },
    ],
  },
  mistral: {
    family: 'mistral',
    model: 'mistral.mistral-7b-instruct-v0:2',
    request: { prompt: '<s>[INST] What is the capital of France? [/INST]', max_tokens: 200 },
    input: 21,
    output: 10,
    text: PARIS,
    body: { outputs: [{ text: PARIS, stop_reason: 'stop' }] },
    chunks: [
      { outputs: [{ text: 'The capital of France', stop_reason: null }] },
      { outputs: [{ text: ' is Paris.', stop_reason: 'stop' }] },
    ],
  },
  'cohere-command': {
    family: 'cohere-command',
    model: 'cohere.command-r-v1:0',
    request: { message: 'What is the capital of France?', max_tokens: 200 },
    input: 72,
    output: 9,
    text: PARIS,
    body: {
      response_id: '0f2c1a7e-6b1d-4c0a-9e21-3b7f2a6d9c41',
      text: PARIS,
      generation_id: '5a6f7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d',
      chat_history: [
        { role: 'USER', message: 'What is the capital of France?' },
        { role: 'CHATBOT', message: PARIS },
      ],
      finish_reason: 'COMPLETE',
    },
    chunks: [
      { is_finished: false, event_type: 'stream-start', generation_id: '5a6f7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d' },
      ...WORDS.map((w) => ({ is_finished: false, event_type: 'text-generation', text: w })),
      { is_finished: true, event_type: 'stream-end', finish_reason: 'COMPLETE', response: { text: PARIS } },
    ],
  },
  'cohere-embed': {
    family: 'cohere-embed',
    model: 'cohere.embed-english-v3',
    request: { texts: ['What is the capital of France?'], input_type: 'search_query' },
    input: 9,
    output: 0,
    text: '',
    body: {
      embeddings: [VECTOR],
      id: '3d8f2b6a-0c1e-4f7a-9b2d-5e6f7a8b9c0d',
      response_type: 'embeddings_floats',
      texts: ['what is the capital of france?'],
    },
  },
  ai21: {
    family: 'ai21',
    model: 'ai21.jamba-1-5-mini-v1:0',
    request: { messages: [{ role: 'user', content: 'What is the capital of France?' }], max_tokens: 200 },
    input: 18,
    output: 8,
    text: PARIS,
    body: {
      id: 'chatcmpl-3f5e2a1b-9c8d-4e7f-a6b5-c4d3e2f1a0b9',
      choices: [{ index: 0, message: { role: 'assistant', content: PARIS }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 18, completion_tokens: 8, total_tokens: 26 },
      meta: { requestDurationMillis: 211 },
      model: 'jamba-1.5-mini',
    },
    chunks: [
      { id: 'chatcmpl-3f5e', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      ...WORDS.map((w) => ({
        id: 'chatcmpl-3f5e',
        choices: [{ index: 0, delta: { content: w }, finish_reason: null }],
      })),
      {
        id: 'chatcmpl-3f5e',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        usage: { prompt_tokens: 18, completion_tokens: 8, total_tokens: 26 },
      },
    ],
  },
};

const REGION = /^(us|eu|apac|us-gov|global)\./;

/** The family a model id belongs to, or undefined for Claude's Messages API (bedrock.ts renders those). */
export function familyOf(modelId: string): FamilyFixture | undefined {
  const id = modelId.replace(REGION, '');
  return Object.values(FAMILIES).find((f) => f.model.replace(REGION, '') === id);
}

/** Bedrock's invocation metrics, as the last chunk of every InvokeModel stream carries them. */
export function invocationMetrics(f: FamilyFixture) {
  return {
    inputTokenCount: f.input,
    outputTokenCount: f.output,
    invocationLatency: 412,
    firstByteLatency: 203,
    ...(f.cacheRead ? { cacheReadInputTokenCount: f.cacheRead, cacheWriteInputTokenCount: 0 } : {}),
  };
}

/** The token-count headers of a plain InvokeModel answer. */
export function tokenCountHeaders(f: FamilyFixture): Record<string, string> {
  return {
    'x-amzn-bedrock-invocation-latency': '412',
    'x-amzn-bedrock-input-token-count': String(f.input),
    'x-amzn-bedrock-output-token-count': String(f.output),
    ...(f.cacheRead
      ? {
          'x-amzn-bedrock-cache-read-input-token-count': String(f.cacheRead),
          'x-amzn-bedrock-cache-write-input-token-count': '0',
        }
      : {}),
  };
}
