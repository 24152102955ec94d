/**
 * What the replay server answers, as plain data. Tests import these numbers instead of
 * repeating them, so a fixture change moves every assertion with it.
 *
 * `usage` is what the provider puts on the wire, in the provider's own meaning
 * (see ReportedUsage). `tokens` is the same call in tokenmeter's one definition
 * (instrumentation/src/prices/types.ts `Usage`): written out by hand so it can serve as
 * an independent oracle for the instrumentation's normalisation.
 */

/** Scenarios that pick a different body. The others (see server.ts) modify the `ok` body or replace it with an error. */
export type ContentScenario =
  'ok' | 'tool-call' | 'reasoning' | 'cache' | 'audio' | 'cached-audio' | 'speech' | 'web-search';

/**
 * Usage as the provider reports it. 0 means "reported as 0 or not reported".
 * - input: OpenAI prompt_tokens / input_tokens (INCLUDES cached); Anthropic input_tokens
 *   (EXCLUDES cache reads and writes); Google promptTokenCount (INCLUDES cached);
 *   Bedrock Converse inputTokens (EXCLUDES cache, as Anthropic).
 * - output: OpenAI completion_tokens / output_tokens (INCLUDES reasoning and audio);
 *   Anthropic output_tokens (INCLUDES thinking); Google candidatesTokenCount (EXCLUDES thoughts).
 * - cacheRead: cached_tokens / cache_read_input_tokens / cachedContentTokenCount / cacheReadInputTokens.
 * - cacheWrite5m, cacheWrite1h: Anthropic cache_creation.ephemeral_{5m,1h}_input_tokens,
 *   Bedrock cacheDetails; their sum is cache_creation_input_tokens / cacheWriteInputTokens.
 * - reasoning: reasoning_tokens / Anthropic output_tokens_details.thinking_tokens / thoughtsTokenCount.
 * - audioInput, audioOutput: OpenAI prompt_tokens_details.audio_tokens / completion_tokens_details.audio_tokens;
 *   Gemini the AUDIO entries of promptTokensDetails / candidatesTokensDetails (parts of input / output).
 * - total: the provider's total_tokens / totalTokenCount / totalTokens (0 where it sends none: Anthropic).
 */
export interface ReportedUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  reasoning: number;
  audioInput: number;
  audioOutput: number;
  /** Gemini cacheTokensDetails AUDIO: the audio part of cacheRead (and of audioInput). */
  cacheAudioRead: number;
  /** Anthropic usage.server_tool_use.web_search_requests: web searches the server tool ran (billed per 1,000). */
  webSearch: number;
  total: number;
}

/** tokenmeter's definition: input includes cache reads and writes, output includes reasoning and audio. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  reasoningTokens: number;
  inputAudioTokens: number;
  outputAudioTokens: number;
  cacheAudioReadTokens: number;
  /** Built-in web search calls (tokenmeter.usage.web_search.calls), billed per 1,000 beside the tokens. */
  webSearchCalls: number;
}

export interface ToolCallFixture {
  /** call_… (OpenAI), toolu_… (Anthropic), tooluse_… (Bedrock Converse); Google sends none. */
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface Fixture {
  /** Response id as the SDK exposes it (chatcmpl-…, resp_…, msg_…, Google responseId, Bedrock x-amzn-requestid). */
  id: string;
  /** The model to ask for. The response reports the model that was asked for (minus any @scenario suffix). */
  model: string;
  /** The answer's text; streams send it as `chunks`, which join to exactly this. */
  text: string;
  chunks: string[];
  /** The provider's finish/stop reason, in its own words. */
  finishReason: string;
  toolCall?: ToolCallFixture;
  /** Reasoning text the provider shows (OpenAI summary, Anthropic thinking, Gemini thought summary). */
  reasoning?: { text: string; signature?: string };
  /** OpenAI audio output (chat completions with modalities ['text', 'audio']). */
  audio?: { id: string; data: string; expiresAt: number };
  /** Gemini audio output (a TTS model): the answer is one `inlineData` part instead of text. */
  speech?: { mimeType: string; data: string };
  /** Usage as put on the wire; null where the provider reports none. */
  usage: ReportedUsage | null;
  tokens: TokenUsage | null;
  /** Embeddings: the vector length when the request sets no dimensions. */
  dimensions?: number;
  /** Bedrock: metrics.latencyMs / invocationLatency the response reports. */
  latencyMs?: number;
  /** Audio transcription: the input audio's duration as the API reports it (whisper-1's `duration`). */
  durationSeconds?: number;
  /** OpenAI Responses built-in tools the answer ran: `web_search_call` and `file_search_call` output items. */
  builtInTools?: { webSearches: number; fileSearches: number };
}

/** Splits text into stream chunks the way tokenizers tend to: a word with its leading space. */
export function chunksOf(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function reported(u: Partial<ReportedUsage>): ReportedUsage {
  return {
    input: 0,
    output: 0,
    cacheRead: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    reasoning: 0,
    audioInput: 0,
    audioOutput: 0,
    cacheAudioRead: 0,
    webSearch: 0,
    total: 0,
    ...u,
  };
}

function tokens(u: Partial<TokenUsage>): TokenUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    reasoningTokens: 0,
    inputAudioTokens: 0,
    outputAudioTokens: 0,
    cacheAudioReadTokens: 0,
    webSearchCalls: 0,
    ...u,
  };
}

function fixture(f: Omit<Fixture, 'chunks'>): Fixture {
  return { ...f, chunks: chunksOf(f.text) };
}

const WEATHER = { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } };
const PARIS = 'The capital of France is Paris.';
const STRAWBERRY = "There are three r's in strawberry.";
// 0.1 s of 8 kHz 16-bit silence as WAV would be long; a short base64 blob is enough for the SDK, which does not decode it.
const AUDIO_B64 = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=';
// Gemini TTS sends raw 16-bit PCM; a few silent samples stand for it (the SDK does not decode them).
const PCM_B64 = 'AAAAAAAAAAAAAAAAAAAAAA==';

export const FIXTURES = {
  /** POST /v1/chat/completions (and Azure /openai/deployments/{d}/chat/completions). */
  openaiChat: {
    ok: fixture({
      id: 'chatcmpl-BRpk3yVvYmwNtkGkEFj7GQmZ1hrHd',
      model: 'gpt-4o-mini',
      text: PARIS,
      finishReason: 'stop',
      usage: reported({ input: 19, output: 8, total: 27 }),
      tokens: tokens({ inputTokens: 19, outputTokens: 8 }),
    }),
    'tool-call': fixture({
      id: 'chatcmpl-BRpk4Qd8hWzXo2cU0pTqJ3sVnLm9A',
      model: 'gpt-4o-mini',
      text: '',
      finishReason: 'tool_calls',
      toolCall: { id: 'call_8zN3kQm1vX0aRb2cYt5uWp7e', ...WEATHER },
      usage: reported({ input: 82, output: 18, total: 100 }),
      tokens: tokens({ inputTokens: 82, outputTokens: 18 }),
    }),
    reasoning: fixture({
      id: 'chatcmpl-BRpk5Ls0aMtq1xV9eYc4bN8oPi2Ju',
      model: 'o4-mini',
      text: STRAWBERRY,
      finishReason: 'stop',
      usage: reported({ input: 24, output: 310, reasoning: 256, total: 334 }),
      tokens: tokens({ inputTokens: 24, outputTokens: 310, reasoningTokens: 256 }),
    }),
    cache: fixture({
      id: 'chatcmpl-BRpk6Hc2pQe8wZ1rTy7uIo3aSd5Fg',
      model: 'gpt-4o-mini',
      text: 'Yes, clause 14 allows early termination.',
      finishReason: 'stop',
      usage: reported({ input: 2048, cacheRead: 1920, output: 12, total: 2060 }),
      tokens: tokens({ inputTokens: 2048, cacheReadTokens: 1920, outputTokens: 12 }),
    }),
    audio: fixture({
      id: 'chatcmpl-BRpk7Ab3cDe4fGh5iJk6lMn7oPq8r',
      model: 'gpt-4o-audio-preview',
      text: 'Hello! How can I help you today?',
      finishReason: 'stop',
      audio: { id: 'audio_6808a1b2c3d48190a1b2c3d4e5f60718', data: AUDIO_B64, expiresAt: 1745397000 },
      usage: reported({ input: 40, audioInput: 28, output: 120, audioOutput: 104, total: 160 }),
      tokens: tokens({ inputTokens: 40, inputAudioTokens: 28, outputTokens: 120, outputAudioTokens: 104 }),
    }),
  },

  /** POST /v1/responses. */
  openaiResponses: {
    ok: fixture({
      id: 'resp_6808a3f1c2d48190b7e5f2a9c0d1e2f3',
      model: 'gpt-4o-mini',
      text: 'Paris is the capital of France.',
      finishReason: 'completed',
      usage: reported({ input: 14, output: 9, total: 23 }),
      tokens: tokens({ inputTokens: 14, outputTokens: 9 }),
    }),
    'tool-call': fixture({
      id: 'resp_6808a3f2d3e58190a8f6e3b0d1e2f3a4',
      model: 'gpt-4o-mini',
      text: '',
      finishReason: 'completed',
      toolCall: { id: 'call_Qm4rT7yU1iO3pA6sD9fG2hJ5', ...WEATHER },
      usage: reported({ input: 78, output: 21, total: 99 }),
      tokens: tokens({ inputTokens: 78, outputTokens: 21 }),
    }),
    reasoning: fixture({
      id: 'resp_6808a3f3e4f68190b9a7f4c1e2f3a4b5',
      model: 'o4-mini',
      text: STRAWBERRY,
      finishReason: 'completed',
      reasoning: { text: '**Counting letters**\n\nStrawberry has r at positions 3, 8 and 9.' },
      usage: reported({ input: 30, output: 420, reasoning: 384, total: 450 }),
      tokens: tokens({ inputTokens: 30, outputTokens: 420, reasoningTokens: 384 }),
    }),
    cache: fixture({
      id: 'resp_6808a3f4f5a78190c0b8a5d2f3a4b5c6',
      model: 'gpt-4o-mini',
      text: 'Yes, clause 14 allows early termination.',
      finishReason: 'completed',
      usage: reported({ input: 3072, cacheRead: 2944, output: 15, total: 3087 }),
      tokens: tokens({ inputTokens: 3072, cacheReadTokens: 2944, outputTokens: 15 }),
    }),
    /** Built-in tools: two web searches and one file search ran before the answer (each an output item). */
    'web-search': fixture({
      id: 'resp_68a1c2e4b7d08190a3f5e6d7c8b9a0f1',
      model: 'gpt-5',
      text: 'The 2026 refund window is 30 days (policy §4.2); the city council confirmed it on 3 March.',
      finishReason: 'completed',
      builtInTools: { webSearches: 2, fileSearches: 1 },
      usage: reported({ input: 2400, output: 300, reasoning: 128, total: 2700 }),
      tokens: tokens({ inputTokens: 2400, outputTokens: 300, reasoningTokens: 128, webSearchCalls: 2 }),
    }),
  },

  /** POST /v1/embeddings: the same usage whatever the input; one vector per input. */
  openaiEmbeddings: {
    ok: fixture({
      id: '',
      model: 'text-embedding-3-small',
      text: '',
      finishReason: '',
      dimensions: 1536,
      usage: reported({ input: 8, total: 8 }),
      tokens: tokens({ inputTokens: 8 }),
    }),
  },

  /**
   * POST /v1/images/generations. gpt-image-1 reports token usage (a 1024×1024 high-quality image
   * is 4160 output tokens); dall-e models answer per image, with no usage (test/replay/openai.ts).
   */
  openaiImages: {
    ok: fixture({
      id: '',
      model: 'gpt-image-1',
      text: '',
      finishReason: '',
      usage: reported({ input: 10, output: 4160, total: 4170 }),
      tokens: tokens({ inputTokens: 10, outputTokens: 4160 }),
    }),
  },

  /**
   * GET /v1/messages/batches/{id} and …/results: a Message Batch that ended with one succeeded
   * request (this message, billed at the batch price) and one errored (not billed).
   */
  anthropicBatches: {
    ok: fixture({
      id: 'msg_01BtchK7pQ2wE4rT6yU8iO0p',
      model: 'claude-haiku-4-5-20251001',
      text: PARIS,
      finishReason: 'end_turn',
      usage: reported({ input: 120_000, output: 40_000 }),
      tokens: tokens({ inputTokens: 120_000, outputTokens: 40_000 }),
    }),
  },

  /**
   * POST /v1/audio/transcriptions and /v1/audio/translations (multipart). gpt-4o-transcribe and
   * gpt-4o-mini-transcribe report tokens (the audio part of the input among them); whisper-1
   * reports the audio's duration instead (test/replay/openai.ts).
   */
  openaiTranscriptions: {
    ok: fixture({
      id: '',
      model: 'gpt-4o-transcribe',
      text: 'Thanks for calling. Your order shipped this morning and should arrive on Thursday.',
      finishReason: '',
      durationSeconds: 89.6,
      usage: reported({ input: 1200, audioInput: 1180, output: 310, total: 1510 }),
      tokens: tokens({ inputTokens: 1200, inputAudioTokens: 1180, outputTokens: 310 }),
    }),
  },

  /**
   * GET /v1/batches/{id} and GET /v1/files/{id}/content: a Batch that completed, and its output
   * file (OPENAI_BATCH_LINES, one JSON line per request).
   */
  openaiBatches: {
    ok: fixture({
      id: 'batch_6813b0d5a1c48190b2f0e7a9c3d5e7f9',
      model: 'gpt-4o-mini',
      text: '',
      finishReason: '',
      usage: null,
      tokens: null,
    }),
  },

  /** POST /v1/audio/speech: the audio itself (binary), no usage. */
  openaiSpeech: {
    ok: fixture({ id: '', model: 'tts-1', text: '', finishReason: '', usage: null, tokens: null }),
  },

  /** POST /v1/messages. */
  anthropicMessages: {
    ok: fixture({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      model: 'claude-haiku-4-5-20251001',
      text: PARIS,
      finishReason: 'end_turn',
      usage: reported({ input: 21, output: 12 }),
      tokens: tokens({ inputTokens: 21, outputTokens: 12 }),
    }),
    /**
     * The web search server tool ran three searches: usage.server_tool_use.web_search_requests
     * (billed $10 per 1,000 beside the tokens). The content's server_tool_use and
     * web_search_tool_result blocks are left out: only the answer's text and usage are replayed.
     */
    'web-search': fixture({
      id: 'msg_01WbSrch7kLm2nPq4rSt6uVw',
      model: 'claude-haiku-4-5-20251001',
      text: 'The 2026 refund window is 30 days; the council confirmed it on 3 March.',
      finishReason: 'end_turn',
      usage: reported({ input: 6000, output: 400, webSearch: 3 }),
      tokens: tokens({ inputTokens: 6000, outputTokens: 400, webSearchCalls: 3 }),
    }),
    'tool-call': fixture({
      id: 'msg_01Aq9w938a90dw8q4Hx3T5Kc',
      model: 'claude-haiku-4-5-20251001',
      text: "I'll check the current weather in Paris.",
      finishReason: 'tool_use',
      toolCall: { id: 'toolu_01A09q90qw90lq917835lq9Z', ...WEATHER },
      usage: reported({ input: 380, output: 54 }),
      tokens: tokens({ inputTokens: 380, outputTokens: 54 }),
    }),
    reasoning: fixture({
      id: 'msg_01Rk7dW2pQ8vN4xL6mT9sB3e',
      model: 'claude-sonnet-4-6',
      text: STRAWBERRY,
      finishReason: 'end_turn',
      reasoning: {
        text: 'Spell it out: s-t-r-a-w-b-e-r-r-y. The r appears at positions 3, 8 and 9, so three.',
        signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds7wo6fS1pGYhpVvnFh5W6DSW5hh9OaXRkXmFQ1yHKAJ',
      },
      usage: reported({ input: 45, output: 290, reasoning: 230 }),
      tokens: tokens({ inputTokens: 45, outputTokens: 290, reasoningTokens: 230 }),
    }),
    cache: fixture({
      id: 'msg_01Cc5tY8uI2oP4aS6dF8gH0j',
      model: 'claude-haiku-4-5-20251001',
      text: 'Yes, clause 14 allows early termination.',
      finishReason: 'end_turn',
      usage: reported({ input: 12, cacheRead: 1800, cacheWrite5m: 640, cacheWrite1h: 1152, output: 25 }),
      tokens: tokens({
        inputTokens: 12 + 1800 + 640 + 1152,
        cacheReadTokens: 1800,
        cacheWriteTokens: 640 + 1152,
        cacheWrite1hTokens: 1152,
        outputTokens: 25,
      }),
    }),
  },

  /** POST /v1beta/models/{model}:generateContent and :streamGenerateContent?alt=sse. */
  googleGenerateContent: {
    ok: fixture({
      id: 'Jt0JaKnHJ9K5nsEPs9m1iAQ',
      model: 'gemini-2.5-flash',
      text: PARIS,
      finishReason: 'STOP',
      usage: reported({ input: 8, output: 7, total: 15 }),
      tokens: tokens({ inputTokens: 8, outputTokens: 7 }),
    }),
    'tool-call': fixture({
      id: 'Kt0JaLoIK0L6otFQt0n2jBR',
      model: 'gemini-2.5-flash',
      text: '',
      finishReason: 'STOP',
      toolCall: { id: '', ...WEATHER },
      usage: reported({ input: 60, output: 12, total: 72 }),
      tokens: tokens({ inputTokens: 60, outputTokens: 12 }),
    }),
    reasoning: fixture({
      id: 'Lt0JaMpJL1M7puGRu1o3kCS',
      model: 'gemini-2.5-flash',
      text: STRAWBERRY,
      finishReason: 'STOP',
      // Sent as a `thought: true` part only when thinkingConfig.includeThoughts is set, as Gemini does.
      reasoning: { text: '**Counting the letters**\n\nI spell the word and count each r.' },
      usage: reported({ input: 10, output: 9, reasoning: 412, total: 431 }),
      tokens: tokens({ inputTokens: 10, outputTokens: 9 + 412, reasoningTokens: 412 }),
    }),
    cache: fixture({
      id: 'Mt0JaNqKM2N8qvHSv2p4lDT',
      model: 'gemini-2.5-flash',
      text: 'Yes, clause 14 allows early termination.',
      finishReason: 'STOP',
      usage: reported({ input: 4120, cacheRead: 4096, output: 20, total: 4140 }),
      tokens: tokens({ inputTokens: 4120, cacheReadTokens: 4096, outputTokens: 20 }),
    }),
    // An audio prompt: a 25 s voice memo (Gemini counts 32 tokens per second of audio) and a
    // text instruction; the answer is text. promptTokensDetails splits TEXT 12 / AUDIO 800.
    audio: fixture({
      id: 'Nt0JaOrLN3O9rwITw3q5mEU',
      model: 'gemini-2.5-flash',
      text: "The caller asks to move Thursday's design review to Friday at 10 a.m.",
      finishReason: 'STOP',
      usage: reported({ input: 812, audioInput: 800, output: 17, total: 829 }),
      tokens: tokens({ inputTokens: 812, inputAudioTokens: 800, outputTokens: 17 }),
    }),
    // The same voice memo from a context cache (cachedContent): 800 audio and 12 text tokens
    // cached, a 9-token question. The cached audio is in promptTokensDetails AUDIO and in
    // cacheTokensDetails AUDIO alike: it must be priced once, at the cached-audio rate.
    'cached-audio': fixture({
      id: 'Qt0JaRuOQ6R2uzLWz5t8pHX',
      model: 'gemini-2.0-flash',
      text: "The caller asks to move Thursday's design review to Friday at 10 a.m.",
      finishReason: 'STOP',
      usage: reported({ input: 821, audioInput: 800, cacheRead: 812, cacheAudioRead: 800, output: 17, total: 838 }),
      tokens: tokens({
        inputTokens: 821,
        inputAudioTokens: 800,
        cacheReadTokens: 812,
        cacheAudioReadTokens: 800,
        outputTokens: 17,
      }),
    }),
    // Text to speech: the answer is about 3 s of 24 kHz PCM, all of candidatesTokensDetails AUDIO.
    speech: fixture({
      id: 'Ot0JaPsMO4P0sxJUx4r6nFV',
      model: 'gemini-2.5-flash-preview-tts',
      text: '',
      finishReason: 'STOP',
      speech: { mimeType: 'audio/L16;codec=pcm;rate=24000', data: PCM_B64 },
      usage: reported({ input: 9, output: 96, audioOutput: 96, total: 105 }),
      tokens: tokens({ inputTokens: 9, outputTokens: 96, outputAudioTokens: 96 }),
    }),
  },

  /** POST /v1beta/models/{model}:batchEmbedContents (what @google/genai calls) and :embedContent. Gemini reports no usage. */
  googleEmbedContent: {
    ok: fixture({
      id: '',
      model: 'gemini-embedding-001',
      text: '',
      finishReason: '',
      dimensions: 3072,
      usage: null,
      tokens: null,
    }),
  },

  /** POST /model/{modelId}/invoke and /invoke-with-response-stream: Anthropic Messages bodies on Bedrock. */
  bedrockInvoke: {
    ok: fixture({
      id: 'msg_bdrk_01JQ8yV2tX4hS6kP9mR3wN5a',
      model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
      text: PARIS,
      finishReason: 'end_turn',
      latencyMs: 388,
      usage: reported({ input: 18, output: 11 }),
      tokens: tokens({ inputTokens: 18, outputTokens: 11 }),
    }),
    'tool-call': fixture({
      id: 'msg_bdrk_01Tq3wE5rT7yU9iO1pA3sD5f',
      model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
      text: "I'll check the current weather in Paris.",
      finishReason: 'tool_use',
      toolCall: { id: 'toolu_bdrk_01G7hJ9kL1zX3cV5bN7mQ9wE', ...WEATHER },
      latencyMs: 902,
      usage: reported({ input: 350, output: 48 }),
      tokens: tokens({ inputTokens: 350, outputTokens: 48 }),
    }),
    cache: fixture({
      id: 'msg_bdrk_01Cw5eR7tY9uI1oP3aS5dF7g',
      model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
      text: 'Yes, clause 14 allows early termination.',
      finishReason: 'end_turn',
      latencyMs: 615,
      usage: reported({ input: 10, cacheRead: 1500, cacheWrite5m: 500, cacheWrite1h: 1000, output: 20 }),
      tokens: tokens({
        inputTokens: 10 + 1500 + 500 + 1000,
        cacheReadTokens: 1500,
        cacheWriteTokens: 1500,
        cacheWrite1hTokens: 1000,
        outputTokens: 20,
      }),
    }),
  },

  /** POST /model/{modelId}/converse and /converse-stream. `id` is the x-amzn-requestid header (Converse bodies carry none). */
  bedrockConverse: {
    ok: fixture({
      id: '5b0c7a4e-3f1d-4b8a-9c2e-6d7f8a9b0c1d',
      model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
      text: PARIS,
      finishReason: 'end_turn',
      latencyMs: 412,
      usage: reported({ input: 15, output: 10, total: 25 }),
      tokens: tokens({ inputTokens: 15, outputTokens: 10 }),
    }),
    'tool-call': fixture({
      id: '6c1d8b5f-4a2e-4c9b-8d3f-7e8a9b0c1d2e',
      model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
      text: "I'll check the current weather in Paris.",
      finishReason: 'tool_use',
      toolCall: { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', ...WEATHER },
      latencyMs: 957,
      usage: reported({ input: 400, output: 60, total: 460 }),
      tokens: tokens({ inputTokens: 400, outputTokens: 60 }),
    }),
    cache: fixture({
      id: '7d2e9c6a-5b3f-4dac-9e4a-8f9b0c1d2e3f',
      model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
      text: 'Yes, clause 14 allows early termination.',
      finishReason: 'end_turn',
      latencyMs: 640,
      usage: reported({ input: 9, cacheRead: 1600, cacheWrite5m: 300, cacheWrite1h: 500, output: 22, total: 2431 }),
      tokens: tokens({
        inputTokens: 9 + 1600 + 800,
        cacheReadTokens: 1600,
        cacheWriteTokens: 800,
        cacheWrite1hTokens: 500,
        outputTokens: 22,
      }),
    }),
  },

  /**
   * Vercel AI Gateway (POST {baseURL}/language-model, the model in `ai-language-model-id`): the
   * answer is the routed model's LanguageModelV3 result. V3 usage: input total includes cache
   * reads and writes (no 5m/1h split), output total includes reasoning.
   */
  gatewayLanguageModel: {
    ok: fixture({
      id: 'gen_01JZ8Q6W3X5T7V9B1N3M5K7H9F',
      model: 'openai/gpt-4o-mini',
      text: PARIS,
      finishReason: 'stop',
      usage: reported({ input: 19, output: 8, total: 27 }),
      tokens: tokens({ inputTokens: 19, outputTokens: 8 }),
    }),
    'tool-call': fixture({
      id: 'gen_01JZ8Q7A4Y6U8W0C2P4N6L8J0G',
      model: 'openai/gpt-4o-mini',
      text: '',
      finishReason: 'tool-calls',
      toolCall: { id: 'call_Gw7tY2uI4oP6aS8dF0gH2jK4', ...WEATHER },
      usage: reported({ input: 82, output: 18, total: 100 }),
      tokens: tokens({ inputTokens: 82, outputTokens: 18 }),
    }),
    reasoning: fixture({
      id: 'gen_01JZ8Q8B5Z7V9X1D3Q5P7M9K1H',
      model: 'google/gemini-2.5-flash',
      text: STRAWBERRY,
      finishReason: 'stop',
      usage: reported({ input: 10, output: 9 + 412, reasoning: 412, total: 431 }),
      tokens: tokens({ inputTokens: 10, outputTokens: 9 + 412, reasoningTokens: 412 }),
    }),
    cache: fixture({
      id: 'gen_01JZ8Q9C6A8W0Y2E4R6Q8N0L2J',
      model: 'anthropic/claude-haiku-4.5',
      text: 'Yes, clause 14 allows early termination.',
      finishReason: 'stop',
      usage: reported({ input: 12 + 1800 + 640, cacheRead: 1800, cacheWrite5m: 640, output: 25, total: 2477 }),
      tokens: tokens({ inputTokens: 2452, cacheReadTokens: 1800, cacheWriteTokens: 640, outputTokens: 25 }),
    }),
  },

  /** Vercel AI Gateway (POST {baseURL}/embedding-model, the model in `ai-model-id`). */
  gatewayEmbeddingModel: {
    ok: fixture({
      id: '',
      model: 'openai/text-embedding-3-small',
      text: '',
      finishReason: '',
      dimensions: 1536,
      usage: reported({ input: 8, total: 8 }),
      tokens: tokens({ inputTokens: 8 }),
    }),
  },
} satisfies Record<string, Partial<Record<ContentScenario, Fixture>>>;

export type RouteName = keyof typeof FIXTURES;

/** One request of an OpenAI Batch as its output file reports it; `usage` null: the request failed (not billed). */
export interface BatchLine {
  customId: string;
  object: 'chat.completion' | 'list';
  model: string;
  usage: { input: number; output: number } | null;
}

/**
 * The output file of FIXTURES.openaiBatches: two chat completions (gpt-4o-mini's dated snapshot,
 * as batch output names it), one embedding request, and one request that failed with a 400.
 */
export const OPENAI_BATCH_LINES: BatchLine[] = [
  {
    customId: 'ticket-1',
    object: 'chat.completion',
    model: 'gpt-4o-mini-2024-07-18',
    usage: { input: 1200, output: 300 },
  },
  {
    customId: 'ticket-2',
    object: 'chat.completion',
    model: 'gpt-4o-mini-2024-07-18',
    usage: { input: 800, output: 150 },
  },
  { customId: 'doc-1', object: 'list', model: 'text-embedding-3-small', usage: { input: 5000, output: 0 } },
  { customId: 'ticket-3', object: 'chat.completion', model: 'gpt-4o-mini-2024-07-18', usage: null },
];

const WEATHER_ANSWER = 'It is 18 °C and sunny in Paris.';

/**
 * The `tool-call` scenario's next turn: a request that already carries the tool's result (an
 * OpenAI `role: 'tool'` message, a Gemini `functionResponse` part) gets the model's answer in
 * text, as a model would, so a tool loop (Gemini's automatic function calling, the ai SDK's
 * steps) ends. Its input is the whole conversation so far, so it is larger than the first turn's.
 */
export const AFTER_TOOL: Partial<Record<RouteName, Fixture>> = {
  openaiChat: fixture({
    id: 'chatcmpl-BRpk8Tr5wQe7uIo9pAs1dFg3hJk',
    model: 'gpt-4o-mini',
    text: WEATHER_ANSWER,
    finishReason: 'stop',
    usage: reported({ input: 118, output: 11, total: 129 }),
    tokens: tokens({ inputTokens: 118, outputTokens: 11 }),
  }),
  googleGenerateContent: fixture({
    id: 'Nt0JaOrLN3O9rwITw3q5mEU',
    model: 'gemini-2.5-flash',
    text: WEATHER_ANSWER,
    finishReason: 'STOP',
    usage: reported({ input: 84, output: 10, reasoning: 36, total: 130 }),
    tokens: tokens({ inputTokens: 84, outputTokens: 10 + 36, reasoningTokens: 36 }),
  }),
};

/**
 * The vector the server returns for the `index`-th input: deterministic, float32-exact,
 * so a test can compare what the SDK decoded (from base64 or from JSON floats) exactly.
 */
export function embeddingVector(index: number, dimensions: number): number[] {
  const v: number[] = [];
  for (let j = 0; j < dimensions; j++) v.push(Math.fround(Math.sin(index * 7919 + j) / 16));
  return v;
}

export { ERRORS } from './errors.js';
export type { ErrorFixture, ErrorKind } from './errors.js';
