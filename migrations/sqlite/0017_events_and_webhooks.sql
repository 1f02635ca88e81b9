-- The event stream: one row per change a tenant can watch (a campaigncall created or updated,
-- a campaign created, updated or deleted, an agent's, a queue's or a trunk's state). Each row
-- is written in the same transaction as the change it describes, so the stream and the
-- webhooks lose none across a restart. `id` is the stream's position (the SSE id); it only
-- grows, also after old rows are pruned (AUTOINCREMENT). `data` is the resource's API
-- representation at that moment, as JSON.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    resource_id TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    tm_create   TEXT    NOT NULL
);
CREATE INDEX events_by_customer ON events (customer_id, id);

-- How far each webhook has taken events into its outbox (the last event id looked at).
CREATE TABLE webhook_cursors (
    webhook_id TEXT    PRIMARY KEY,
    event_id   INTEGER NOT NULL
);

-- The outbox: one delivery per webhook and event, with the body as it is sent (it outlives
-- the event's row). `status` is `pending` (due at `next_at`, unix ms), `delivered` or
-- `failed` (every attempt used).
CREATE TABLE webhook_deliveries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    webhook_id  TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    event_id    INTEGER NOT NULL,
    event_type  TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT    NOT NULL DEFAULT '',
    tm_create   TEXT    NOT NULL,
    tm_update   TEXT    NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, seq);
