/**
 * The general-purpose small models advice may suggest for small calls, per provider, most
 * capable first. A list, because the catalogue also holds embedding, audio, image,
 * reasoning and retired models that are cheaper but do not do the same job; the prices
 * themselves always come from the catalogue (@pydantic/genai-prices), priced on the
 * tenant's own token mix. Reviewed 2026-11 against each provider's model overview.
 */
export const SMALL_MODELS: Readonly<Record<string, readonly string[]>> = {
  openai: ['gpt-4.1-mini', 'gpt-4o-mini', 'gpt-4.1-nano'],
  anthropic: ['claude-haiku-4-5', 'claude-3-5-haiku'],
  google: ['gemini-2.5-flash', 'gemini-2.5-flash-lite'],
};

/** A call is small when its average input and output stay under these (tokens). */
export const SMALL_CALL = { maxInputTokens: 1_000, maxOutputTokens: 300 };

/**
 * Prompt caching pays on large inputs sent often: providers cache prefixes from 1,024
 * tokens (OpenAI automatic caching; Anthropic's minimum for most models).
 */
export const CACHE = { minInputTokens: 1_024, maxReadRatio: 0.1, minCallsPerDay: 10, assumedCacheableShare: 0.5 };

/** Names that say a service or feature runs without a person waiting. */
export const OFFLINE_NAME = /batch|worker|cron|job|nightly|offline|etl|backfill|pipeline|digest|report|index|embed/i;
/** Share of calls without an end user above which traffic counts as machine-driven. */
export const OFFLINE_ANONYMOUS_SHARE = 0.9;
