-- Insert tokens deduplicate on a single-node ClickHouse too (Replicated tables already do):
-- an alert transition recorded by two service replicas, or a retried budget write, is stored
-- once. The evaluator's tokens are `alert-<fingerprint>-<state>`; budgets' `budget-<id>-<version>`.

ALTER TABLE {db}.{local:alert_events} {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;

ALTER TABLE {db}.{local:budgets} {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
