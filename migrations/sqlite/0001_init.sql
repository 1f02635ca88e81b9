-- Configuration resources (outplans, outdials, campaigns, flows) are JSON documents with the
-- columns the engine filters on; targets and campaigncalls, the hot path, are typed rows.
CREATE TABLE documents (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT '',
    deleted     INTEGER NOT NULL DEFAULT 0,
    body        TEXT    NOT NULL,
    UNIQUE (kind, id)
);
CREATE INDEX documents_by_customer ON documents (kind, customer_id, deleted, seq);
CREATE INDEX documents_by_status ON documents (kind, status);

CREATE TABLE targets (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    customer_id  TEXT    NOT NULL,
    outdial_id   TEXT    NOT NULL,
    dedupe       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    data         TEXT    NOT NULL,
    destinations TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    result       TEXT    NOT NULL DEFAULT '',
    next_at      INTEGER NOT NULL DEFAULT 0,
    try_count_0  INTEGER NOT NULL DEFAULT 0,
    try_count_1  INTEGER NOT NULL DEFAULT 0,
    try_count_2  INTEGER NOT NULL DEFAULT 0,
    try_count_3  INTEGER NOT NULL DEFAULT 0,
    try_count_4  INTEGER NOT NULL DEFAULT 0,
    deleted      INTEGER NOT NULL DEFAULT 0,
    tm_create    TEXT    NOT NULL,
    tm_update    TEXT    NOT NULL,
    tm_delete    TEXT    NOT NULL,
    UNIQUE (outdial_id, dedupe)
);
CREATE INDEX targets_due ON targets (outdial_id, status, next_at, seq);

CREATE TABLE campaigncalls (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    customer_id       TEXT    NOT NULL,
    campaign_id       TEXT    NOT NULL,
    outplan_id        TEXT    NOT NULL,
    outdial_id        TEXT    NOT NULL,
    outdial_target_id TEXT    NOT NULL,
    queue_id          TEXT    NOT NULL,
    reference_type    TEXT    NOT NULL,
    reference_id      TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    result            TEXT    NOT NULL,
    source            TEXT    NOT NULL,
    destination       TEXT    NOT NULL,
    destination_index INTEGER NOT NULL,
    try_count         INTEGER NOT NULL,
    disposition       TEXT,
    sip_code          INTEGER,
    reason            TEXT    NOT NULL DEFAULT '',
    hangup_by         TEXT,
    setup_ms          INTEGER NOT NULL DEFAULT 0,
    talk_ms           INTEGER NOT NULL DEFAULT 0,
    tm_create         TEXT    NOT NULL,
    tm_update         TEXT    NOT NULL,
    tm_delete         TEXT    NOT NULL
);
CREATE INDEX campaigncalls_by_campaign ON campaigncalls (campaign_id, seq);
CREATE INDEX campaigncalls_by_customer ON campaigncalls (customer_id, seq);
CREATE INDEX campaigncalls_open ON campaigncalls (status) WHERE status <> 'done';
