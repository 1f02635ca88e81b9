-- How many calls each agent has handled: a call counts when its attempt ends with the agent
-- who took it (the transaction that ends the attempt adds to the count, once per attempt), so
-- that an agent's answer reads one row however many calls it took. Counted from the attempts
-- already recorded.
CREATE TABLE agent_counts (
    agent_id TEXT PRIMARY KEY NOT NULL,
    handled INTEGER NOT NULL DEFAULT 0
);

INSERT INTO agent_counts (agent_id, handled)
SELECT agent_id, COUNT(*) FROM campaigncalls
WHERE agent_id IS NOT NULL AND status = 'done'
GROUP BY agent_id;
