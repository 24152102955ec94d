-- Prices per tenant (issue 15): an override may apply to one tenant ('' = every tenant; the
-- tenant's own wins over a global one), and model '*' is a default price for models no
-- catalogue knows (calls priced by it are stored with cost_source = 'default').

ALTER TABLE {db}.{local:price_overrides} {on_cluster} ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT '' COMMENT 'empty: every tenant' AFTER id;

-- @distributed-alter price_overrides ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT '' AFTER id
