-- How many calls each agent has handled and how long it talked on them: a call counts when its
-- attempt ends with the agent who took it (the transaction that ends the attempt adds to the
-- counts, once per attempt), so that an agent's answer reads one row however many calls it
-- took. talk_ms sums each call's talk_ms less its wait_ms (answer to hang-up, less the wait
-- for the agent). Counted from the attempts already recorded.
CREATE TABLE agent_counts (
    agent_id TEXT PRIMARY KEY NOT NULL,
    handled INTEGER NOT NULL DEFAULT 0,
    talk_ms INTEGER NOT NULL DEFAULT 0
);

INSERT INTO agent_counts (agent_id, handled, talk_ms)
SELECT agent_id, COUNT(*), SUM(MAX(COALESCE(talk_ms, 0) - COALESCE(wait_ms, 0), 0))
FROM campaigncalls
WHERE agent_id IS NOT NULL AND status = 'done'
GROUP BY agent_id;
