-- The agent who took an attempt's call from a queue, and how long the call waited for it
-- (answer to agent connected); both NULL when no agent took the call.
ALTER TABLE campaigncalls ADD COLUMN agent_id TEXT;
ALTER TABLE campaigncalls ADD COLUMN wait_ms INTEGER;
