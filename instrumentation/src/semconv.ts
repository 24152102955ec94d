/**
 * Every span attribute name tokenmeter writes or reads, in one place.
 *
 * Source: OpenTelemetry GenAI semantic conventions, as maintained in
 * open-telemetry/semantic-conventions-genai (docs/registry/attributes/gen-ai.md,
 * read 2026-11; the conventions are "Development" status). Older and foreign
 * conventions that the ingest side must still understand are listed at the end
 * with the project that emits them.
 *
 * Token semantics (decided once for all of tokenmeter): `input_tokens` is the
 * TOTAL input, including tokens read from and written to the provider cache, as
 * the convention says ("The value SHOULD be included in gen_ai.usage.input_tokens").
 * Anthropic's raw usage reports `input_tokens` WITHOUT cache tokens; its adapter
 * adds them. `output_tokens` likewise includes reasoning tokens.
 */

export const SEMCONV_GENAI_VERSION = 'semantic-conventions-genai@2026-11 (gen_ai registry, development)';

// --- current gen_ai.* (semantic-conventions-genai) ---
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const ATTR_GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = 'gen_ai.system_instructions';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';
export const ATTR_GEN_AI_USAGE_AUDIO_INPUT_TOKENS = 'gen_ai.usage.audio.input_tokens';
export const ATTR_GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS = 'gen_ai.usage.audio.output_tokens';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';

// --- proposed cost attributes (not yet in the registry; named as the issue asks) ---
export const ATTR_GEN_AI_USAGE_COST_AMOUNT = 'gen_ai.usage.cost.amount';
export const ATTR_GEN_AI_USAGE_COST_CURRENCY = 'gen_ai.usage.cost.currency';
export const ATTR_GEN_AI_USAGE_COST_SOURCE = 'gen_ai.usage.cost.source';

// --- general registry attributes used for attribution ---
export const ATTR_USER_ID = 'user.id';
export const ATTR_SESSION_ID = 'session.id';

// --- tokenmeter's own namespace: what no convention names yet ---
export const ATTR_TM_TENANT = 'tokenmeter.tenant';
export const ATTR_TM_TEAM = 'tokenmeter.team';
export const ATTR_TM_FEATURE = 'tokenmeter.feature';
export const ATTR_TM_REQUEST_ID = 'tokenmeter.request.id';
/** Prefix of a custom property set through the usage context: `tokenmeter.property.<name>`. */
export const ATTR_TM_PROPERTY_PREFIX = 'tokenmeter.property.';
export const ATTR_TM_PRICE_ID = 'tokenmeter.price.id';
export const ATTR_TM_PRICE_VERSION = 'tokenmeter.price.version';
export const ATTR_TM_UNPRICED = 'tokenmeter.cost.unpriced';
export const ATTR_TM_USAGE_ESTIMATED = 'tokenmeter.usage.estimated';
/** The part of cache_creation.input_tokens written with the 1-hour TTL (Anthropic). */
/** The part of the cache reads that is audio (Gemini cacheTokensDetails AUDIO): also part of the input audio. */
export const ATTR_TM_USAGE_CACHE_READ_AUDIO_INPUT_TOKENS = 'tokenmeter.usage.cache_read.audio.input_tokens';
export const ATTR_TM_USAGE_CACHE_CREATION_1H_INPUT_TOKENS = 'tokenmeter.usage.cache_creation_1h.input_tokens';
export const ATTR_TM_BATCH = 'tokenmeter.request.batch';
/** Seconds of input audio a call reports (transcription by whisper-1, priced per minute of audio). */
export const ATTR_TM_USAGE_AUDIO_INPUT_SECONDS = 'tokenmeter.usage.audio.input_seconds';
/** Characters of input text (speech by tts-1 / tts-1-hd, priced per 1M characters). */
export const ATTR_TM_USAGE_INPUT_CHARACTERS = 'tokenmeter.usage.input_characters';
/** Built-in tool calls a response reports (OpenAI Responses `web_search_call` / `file_search_call` items), billed per 1,000. */
export const ATTR_TM_USAGE_WEB_SEARCH_CALLS = 'tokenmeter.usage.web_search.calls';
export const ATTR_TM_USAGE_FILE_SEARCH_CALLS = 'tokenmeter.usage.file_search.calls';
/**
 * Set on a GenAI span that encloses another span recording the same call with exact usage
 * (the Vercel `ai` SDK's doGenerate around an instrumented provider SDK, for instance):
 * the inner span is the call, so this one must never be counted.
 */
export const ATTR_TM_CALL_DELEGATED = 'tokenmeter.call.delegated';
/** How many times the SDK retried inside this one logical call (429/5xx, then success). */
export const ATTR_TM_RETRY_COUNT = 'tokenmeter.request.retries';
/**
 * A stream the app dropped before its end without closing it (never iterated, or left mid-way):
 * the span ended when the stream was garbage collected, with what was seen (estimated). Dated
 * when the response arrived if nothing was read.
 */
export const ATTR_TM_STREAM_DROPPED = 'tokenmeter.stream.dropped';
/** gen_ai.token.type values on gen_ai.client.token.usage (convention: input | output). */
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';

// --- metrics (semantic-conventions-genai, gen-ai-metrics.md) ---
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage';
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration';
/** The convention's explicit bucket boundaries for gen_ai.client.token.usage. */
export const TOKEN_USAGE_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** The convention's explicit bucket boundaries for gen_ai.client.operation.duration (seconds). */
export const OPERATION_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/** tokenmeter's own counter (no convention names cost yet): USD, attributes as the duration metric. */
export const METRIC_TM_CLIENT_COST = 'tokenmeter.client.cost';

export const COST_CURRENCY_USD = 'USD';
export type CostSource = 'span' | 'ingest';

/** Values of gen_ai.operation.name that tokenmeter emits. */
export const GEN_AI_OPERATIONS = [
  'chat',
  'text_completion',
  'generate_content',
  'embeddings',
  'execute_tool',
  'create_agent',
  'invoke_agent',
  // Custom values (the convention allows them where none of its own applies): OpenAI's audio endpoints.
  'transcription',
  'translation',
  'speech',
] as const;
export type GenAiOperation = (typeof GEN_AI_OPERATIONS)[number];

/**
 * Values of gen_ai.provider.name from the registry, plus the OpenAI-compatible hosts
 * the registry names. Keys are tokenmeter's short ids used in prices and rollups.
 */
export const GEN_AI_PROVIDER_NAMES: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'gcp.gen_ai',
  vertex: 'gcp.vertex_ai',
  bedrock: 'aws.bedrock',
  azure: 'azure.ai.openai',
  groq: 'groq',
  xai: 'x_ai',
  deepseek: 'deepseek',
  mistral: 'mistral_ai',
  cohere: 'cohere',
  perplexity: 'perplexity',
  together: 'together_ai',
  openrouter: 'openrouter',
};

// --- older and foreign conventions (read by ingest normalisation only) ---
/** semconv <= 1.36: provider was gen_ai.system; tokens were prompt/completion. */
export const LEGACY_GEN_AI_SYSTEM = 'gen_ai.system';
export const LEGACY_GEN_AI_USAGE_PROMPT_TOKENS = 'gen_ai.usage.prompt_tokens';
export const LEGACY_GEN_AI_USAGE_COMPLETION_TOKENS = 'gen_ai.usage.completion_tokens';
/** OpenLLMetry (traceloop) llm.* names. */
export const OPENLLMETRY = {
  requestType: 'llm.request.type',
  totalTokens: 'llm.usage.total_tokens',
  cacheReadInputTokens: 'gen_ai.usage.cache_read_input_tokens',
  cacheCreationInputTokens: 'gen_ai.usage.cache_creation_input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning_tokens',
  isStreaming: 'llm.is_streaming',
  // message content (captured by default): gen_ai.prompt.<i>.content, gen_ai.completion.<i>.content
  promptPrefix: 'gen_ai.prompt.',
  completionPrefix: 'gen_ai.completion.',
} as const;
/** OpenInference (Arize) names. */
export const OPENINFERENCE = {
  spanKind: 'openinference.span.kind',
  modelName: 'llm.model_name',
  /** EMBEDDING spans name their model here, not in llm.model_name (seen with 4.2). */
  embeddingModelName: 'embedding.model_name',
  provider: 'llm.provider',
  system: 'llm.system',
  promptTokens: 'llm.token_count.prompt',
  completionTokens: 'llm.token_count.completion',
  totalTokens: 'llm.token_count.total',
  cacheRead: 'llm.token_count.prompt_details.cache_read',
  cacheWrite: 'llm.token_count.prompt_details.cache_write',
  audioPrompt: 'llm.token_count.prompt_details.audio',
  reasoning: 'llm.token_count.completion_details.reasoning',
  audioCompletion: 'llm.token_count.completion_details.audio',
  userId: 'user.id',
  sessionId: 'session.id',
  // message content: llm.input_messages.<i>.message.content, llm.output_messages.<i>.message.content,
  // embedding.embeddings.<i>.embedding.text
  inputMessagesPrefix: 'llm.input_messages.',
  outputMessagesPrefix: 'llm.output_messages.',
  embeddingsPrefix: 'embedding.embeddings.',
} as const;
/** Vercel AI SDK (experimental_telemetry) names, v4 and v5+. */
export const VERCEL_AI = {
  modelId: 'ai.model.id',
  modelProvider: 'ai.model.provider',
  operationId: 'ai.operationId',
  responseModel: 'ai.response.model',
  responseId: 'ai.response.id',
  finishReason: 'ai.response.finishReason',
  msToFirstChunk: 'ai.response.msToFirstChunk',
  // v4
  promptTokens: 'ai.usage.promptTokens',
  completionTokens: 'ai.usage.completionTokens',
  // v5+
  inputTokens: 'ai.usage.inputTokens',
  outputTokens: 'ai.usage.outputTokens',
  reasoningTokens: 'ai.usage.reasoningTokens',
  cachedInputTokens: 'ai.usage.cachedInputTokens',
  tokens: 'ai.usage.tokens',
  // v6: the input split (seen on ai@6 doGenerate/doStream spans)
  inputCacheReadTokens: 'ai.usage.inputTokenDetails.cacheReadTokens',
  inputCacheWriteTokens: 'ai.usage.inputTokenDetails.cacheWriteTokens',
  /**
   * JSON object per provider. ai@4 reports cache reads only here: `{"openai":{"cachedPromptTokens":1920}}`
   * (seen with ai@4.3 + @ai-sdk/openai@1.3; the prompt tokens already include them).
   */
  providerMetadata: 'ai.response.providerMetadata',
  telemetryMetadataPrefix: 'ai.telemetry.metadata.',
} as const;
/**
 * The Anthropic SDK's own spans (@anthropic-ai/sdk >= 0.137, scope com.anthropic.sdk.typescript;
 * seen with 1.12): current gen_ai.* names, but the cache write as `cache_write` and its 1-hour part
 * under the SDK's namespace. Their input_tokens already include cache reads and writes.
 */
export const ANTHROPIC_SDK = {
  cacheWriteInputTokens: 'gen_ai.usage.cache_write.input_tokens',
  cacheWrite1hInputTokens: 'anthropic.usage.cache_creation.ephemeral_1h_input_tokens',
} as const;
/** OpenLIT puts a float USD cost on the span. */
export const OPENLIT_USAGE_COST = 'gen_ai.usage.cost';
/** OpenLIT's streaming flag (openlit 1.15), where the convention has gen_ai.request.stream. */
export const OPENLIT_REQUEST_IS_STREAM = 'gen_ai.request.is_stream';
