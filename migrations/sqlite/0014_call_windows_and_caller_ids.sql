-- Call windows: a target's time zone as given (empty: derived from its number), the zones its
-- call window is read in (IANA names joined by ','; empty: the outplan's default), and why a
-- waiting target's next_at is in the future ('window': its call window was closed; '': a
-- retry interval or a new target).
ALTER TABLE targets ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
ALTER TABLE targets ADD COLUMN zones TEXT NOT NULL DEFAULT '';
ALTER TABLE targets ADD COLUMN wait TEXT NOT NULL DEFAULT '';
-- The caller id each attempt's INVITE carried (one of its outplan's sources).
ALTER TABLE campaigncalls ADD COLUMN caller_id TEXT NOT NULL DEFAULT '';
