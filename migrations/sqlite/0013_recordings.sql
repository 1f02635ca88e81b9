-- Recordings of bridged calls: one row per WAV file under the configured recordings folder.
-- A recording starts `recording` when the relay opens its file and ends `finished` or `failed`
-- (with the reason: a full disk, for example). `path` is where the file is; a deleted
-- recording has its file removed and `tm_delete` set.
CREATE TABLE recordings (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    customer_id     TEXT    NOT NULL,
    campaign_id     TEXT,
    campaigncall_id TEXT,
    queue_id        TEXT,
    agent_id        TEXT,
    format          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    reason          TEXT    NOT NULL DEFAULT '',
    path            TEXT    NOT NULL,
    channels        INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL DEFAULT 0,
    size            INTEGER NOT NULL DEFAULT 0,
    tm_start        TEXT    NOT NULL,
    tm_end          TEXT    NOT NULL,
    tm_create       TEXT    NOT NULL,
    tm_update       TEXT    NOT NULL,
    tm_delete       TEXT    NOT NULL
);
CREATE INDEX recordings_by_customer ON recordings (customer_id, tm_delete, seq);
CREATE INDEX recordings_by_campaigncall ON recordings (campaigncall_id);
