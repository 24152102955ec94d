-- Built-in tool calls a call ran, billed per 1,000 calls on top of its tokens (issue 15, "APIs
-- priced per item"): OpenAI Responses web search (`web_search_call` items) and file search
-- (`file_search_call`). Kept so that ingest and reprice price a stored call exactly as the
-- instrumentation did. Not in any rollup: only the cost they lead to is summed.

ALTER TABLE {db}.{local:ai_calls} {on_cluster} ADD COLUMN IF NOT EXISTS web_search_calls UInt32 DEFAULT 0 AFTER input_characters;
ALTER TABLE {db}.{local:ai_calls} {on_cluster} ADD COLUMN IF NOT EXISTS file_search_calls UInt32 DEFAULT 0 AFTER web_search_calls;

-- @distributed-alter ai_calls ADD COLUMN IF NOT EXISTS web_search_calls UInt32 DEFAULT 0 AFTER input_characters
-- @distributed-alter ai_calls ADD COLUMN IF NOT EXISTS file_search_calls UInt32 DEFAULT 0 AFTER web_search_calls
