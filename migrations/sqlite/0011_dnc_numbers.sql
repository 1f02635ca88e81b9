-- Do-not-call lists' numbers. The lists themselves are documents (kind 'dnclist'). The dialer
-- looks a number up by `number` (one index probe per attempt) and keeps the rows of the lists
-- that apply; the API reads a list's numbers by the primary key.
CREATE TABLE dnc_numbers (
    list_id     TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    number      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    -- unix ms after which the entry no longer applies; NULL: never
    expire_at   INTEGER,
    tm_create   TEXT    NOT NULL,
    PRIMARY KEY (list_id, number)
) WITHOUT ROWID;
CREATE INDEX dnc_numbers_by_number ON dnc_numbers (number);
