-- A scratch table the writer commits a large row to (and deletes it again) to learn whether
-- the database can grow after a commit failed (a full disk or the configured size cap).
CREATE TABLE write_probe (
    id  INTEGER PRIMARY KEY,
    pad BLOB NOT NULL
);
