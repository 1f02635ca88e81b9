-- A queue's counters, kept apart from its document so that the queue adds to them in one
-- statement (no read-then-write) and an API update of the document cannot put back old counts.
-- wait_ms sums the waits of the calls that left the waiting list (answered or abandoned);
-- answered_in_time counts the answers within the queue's service-level time.
CREATE TABLE queue_counts (
    queue_id TEXT PRIMARY KEY NOT NULL,
    incoming INTEGER NOT NULL DEFAULT 0,
    serviced INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0,
    wait_ms INTEGER NOT NULL DEFAULT 0,
    answered_in_time INTEGER NOT NULL DEFAULT 0
);

-- Calls a queue has bridged to an agent, while the bridge lasts: a node that stops without
-- ending them closes their attempts at the next start with the agent who took the call, and
-- hangs up the agent's leg (agent_dialog: its DialogRecord as JSON) as it does the callee's.
CREATE TABLE queue_bridges (
    campaigncall_id TEXT PRIMARY KEY NOT NULL,
    queue_id TEXT,
    agent_id TEXT NOT NULL,
    wait_ms INTEGER NOT NULL,
    agent_dialog TEXT
);
