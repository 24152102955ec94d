-- The part of a call's cache reads that is audio (Gemini's cacheTokensDetails AUDIO): it is also
-- part of input_audio_tokens, and the catalogue prices it once, at the cached-audio rate. Kept
-- so that ingest and reprice price a stored call exactly as the instrumentation did (issue 15).
-- Not in any rollup: only the cost it leads to is summed.

ALTER TABLE {db}.{local:ai_calls} {on_cluster} ADD COLUMN IF NOT EXISTS cache_audio_read_tokens UInt64 DEFAULT 0 AFTER output_audio_tokens;

-- @distributed-alter ai_calls ADD COLUMN IF NOT EXISTS cache_audio_read_tokens UInt64 DEFAULT 0 AFTER output_audio_tokens
