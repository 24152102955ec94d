-- Items a call is priced by beside its tokens (issue 15, "APIs priced per item"): seconds of
-- transcribed audio (whisper-1, per minute) and characters of speech input (tts-1, per 1M
-- characters). Kept so that ingest and reprice price a stored call exactly as the
-- instrumentation did. Not in any rollup: only the cost they lead to is summed.

ALTER TABLE {db}.{local:ai_calls} {on_cluster} ADD COLUMN IF NOT EXISTS audio_seconds UInt64 DEFAULT 0 AFTER cache_audio_read_tokens;
ALTER TABLE {db}.{local:ai_calls} {on_cluster} ADD COLUMN IF NOT EXISTS input_characters UInt64 DEFAULT 0 AFTER audio_seconds;

-- @distributed-alter ai_calls ADD COLUMN IF NOT EXISTS audio_seconds UInt64 DEFAULT 0 AFTER cache_audio_read_tokens
-- @distributed-alter ai_calls ADD COLUMN IF NOT EXISTS input_characters UInt64 DEFAULT 0 AFTER audio_seconds
