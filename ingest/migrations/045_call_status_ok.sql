-- A call's status is `ok` or `error`: OpenTelemetry's `unset` (no status set by the
-- instrumentation, the usual case for a success) is stored as `ok` from now on
-- (instrumentation/src/normalize/normalize.ts); rows stored before say `unset` and become `ok`.
-- Rollups count only `error`, so they do not change.

ALTER TABLE {db}.{local:ai_calls} {on_cluster} UPDATE status = 'ok' WHERE status = 'unset' SETTINGS mutations_sync = 2;
