-- The abandon lock-out: before each dial, the dialer looks for an abandoned call to the same
-- number of the same customer within the lock-out (one probe of this partial index, which
-- holds abandoned calls only).
CREATE INDEX campaigncalls_abandoned
    ON campaigncalls (customer_id, json_extract(destination, '$.target'), tm_update)
    WHERE disposition = 'abandoned';
