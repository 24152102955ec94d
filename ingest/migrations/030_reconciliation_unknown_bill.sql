-- Reconciliation that cannot be misread (issue 15). A bill that could not be read is NULL, never
-- 0, so that no sum counts it as a $0 bill; drift has one definition, (billed − tracked) / tracked
-- in percent (a bill 5 % above tracked is +5), NULL where it has no value (bill unknown, or
-- nothing tracked while something was billed). Rows written before keep their figures: unread
-- bills become NULL and drift is recomputed from the stored tracked and billed amounts.

ALTER TABLE {db}.{local:reconciliation} {on_cluster} MODIFY COLUMN billed_usd Nullable(Decimal(38, 12)) COMMENT 'NULL: the bill could not be read (status error)';

ALTER TABLE {db}.{local:reconciliation} {on_cluster} MODIFY COLUMN drift_pct Nullable(Float64) COMMENT '(billed - tracked) / tracked x 100; NULL when the bill is unknown or nothing was tracked';

ALTER TABLE {db}.{local:reconciliation} {on_cluster} UPDATE
  billed_usd = if(status = 'error', NULL, billed_usd),
  drift_pct = multiIf(
    status = 'error', NULL,
    tracked_usd = 0 AND ifNull(billed_usd, 0) = 0, 0,
    tracked_usd = 0, NULL,
    round((toFloat64(billed_usd) - toFloat64(tracked_usd)) * 100 / toFloat64(tracked_usd), 4))
  WHERE 1 SETTINGS mutations_sync = 2;

-- @distributed-alter reconciliation MODIFY COLUMN billed_usd Nullable(Decimal(38, 12))
-- @distributed-alter reconciliation MODIFY COLUMN drift_pct Nullable(Float64)
