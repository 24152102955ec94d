/**
 * Token usage of one AI call, in tokenmeter's one definition:
 * `inputTokens` is the TOTAL input and includes cache reads and cache writes;
 * `outputTokens` is the TOTAL output and includes reasoning and audio output.
 * The cache, reasoning and audio counts are parts of those totals, never added to them.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  /** All cache writes (5-minute and 1-hour TTL together). */
  cacheWriteTokens?: number;
  /** The part of cacheWriteTokens written with a 1-hour TTL. */
  cacheWrite1hTokens?: number;
  reasoningTokens?: number;
  inputAudioTokens?: number;
  /** The part of cacheReadTokens that is audio; it is also part of inputAudioTokens (priced once, at the cached-audio rate). */
  cacheAudioReadTokens?: number;
  outputAudioTokens?: number;
  /**
   * Items priced per unit rather than per token, beside the tokens (never part of them):
   * seconds of input audio (whisper-1: per minute), characters of input text (tts-1: per 1M
   * characters). A price without a rate for an item the call has leaves the call unpriced.
   */
  audioSeconds?: number;
  inputCharacters?: number;
  /** Built-in tool calls the provider ran and bills per 1,000 calls (OpenAI Responses web search, file search). */
  webSearchCalls?: number;
  fileSearchCalls?: number;
}

export interface PriceRequest {
  /** tokenmeter provider id: openai, anthropic, google, bedrock, groq, … */
  provider: string;
  /** The model the request asked for. */
  model: string;
  /** The model the response says ran, when it names one (often a dated snapshot). */
  responseModel?: string;
  usage: Usage;
  /** When the call happened: picks the price in force at that moment. */
  timestamp: Date;
  /** Submitted through the provider's batch API: priced at the model's batch price. */
  batch?: boolean;
  /** Whose call it is: that tenant's overrides and default price apply before the global ones. */
  tenant?: string;
}

export interface PricedCall {
  priced: true;
  /** Exact cost in USD as a decimal string with up to 12 decimals, e.g. "0.0123". */
  costUsd: string;
  /** The same cost in integer nano-USD, rounded half up. */
  costNanoUsd: bigint;
  /** The price's identity: `catalogue:<provider>/<model>` or `override:<id>`. */
  priceId: string;
  /** Which version of that price: catalogue version and start date, or the override's effective date. */
  priceVersion: string;
  /** The model id the price matched (may differ from the requested name, e.g. dated aliases). */
  matchedModel: string;
  /** Where the price came from: the catalogue, an override, or a tenant's default for unknown models. */
  source: 'catalogue' | 'override' | 'default';
  /** What cache reads saved against the same call with every input token uncached (≥ 0). */
  cacheSavingsUsd: string;
}

export interface UnpricedCall {
  priced: false;
  /** unknown_model: no price for any of its names; no_batch_price: a batch call whose model has
   * no batch price; not_per_token: priced by something other than tokens (audio hours, images)
   * that the call does not report; no_item_price: the call has items (seconds of audio,
   * characters) its price has no rate for. */
  reason: 'unknown_model' | 'invalid_usage' | 'no_batch_price' | 'not_per_token' | 'no_item_price';
  detail: string;
}

export type PriceResult = PricedCall | UnpricedCall;

/**
 * A price override: data, never code. Prices use @pydantic/genai-prices' keys
 * (input_mtok, output_mtok, cache_read_mtok, cache_write_mtok, cache_write_1h_mtok,
 * input_audio_mtok, output_audio_mtok, …: USD per million tokens).
 */
export interface PriceOverride {
  id: string;
  /** A provider id; `*` (defaults only) for every provider. */
  provider: string;
  /**
   * Model name, case-insensitive (it also covers the model's dated snapshots). `<model>:batch` is
   * the model's batch price. `*` is a default: the price of models nobody else prices.
   */
  model: string;
  /** The tenant it applies to; '' or absent: every tenant (a tenant's own override wins). */
  tenant?: string;
  /** ISO timestamp from which this override applies (inclusive). */
  effectiveFrom: string;
  prices: Record<string, number>;
  note?: string;
}
