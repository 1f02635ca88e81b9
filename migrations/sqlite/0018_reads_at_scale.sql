-- Reads at scale: every page is read from an index in its order, and a campaign's figures
-- come from counters kept as the rows change instead of being counted on each request.

-- A page of an outdial's live targets, newest first.
CREATE INDEX targets_by_outdial ON targets (outdial_id, deleted, seq);

-- A page of a campaign's calls taken by one agent, or whose flow collected some digits, newest
-- first. (One disposition: `campaigncalls_by_disposition (campaign_id, disposition)`, whose
-- entries end in the rowid, `seq`, like every index's.)
CREATE INDEX campaigncalls_by_agent ON campaigncalls (campaign_id, agent_id, seq)
    WHERE agent_id IS NOT NULL;
CREATE INDEX campaigncalls_by_digits
    ON campaigncalls (campaign_id, json_extract(flow_result, '$.digits'), seq)
    WHERE json_extract(flow_result, '$.digits') IS NOT NULL;
-- The same two across a customer's campaigns (small: only calls with an agent or digits).
-- Across campaigns, a disposition is looked for in the customer's calls newest first.
CREATE INDEX campaigncalls_by_customer_agent ON campaigncalls (customer_id, agent_id, seq)
    WHERE agent_id IS NOT NULL;
CREATE INDEX campaigncalls_by_customer_digits
    ON campaigncalls (customer_id, json_extract(flow_result, '$.digits'), seq)
    WHERE json_extract(flow_result, '$.digits') IS NOT NULL;

-- An outdial's live targets by where they stand: `idle` (queued), `progressing` (dialing),
-- `done` with result `success` (succeeded) or any other (failed).
CREATE TABLE outdial_counts (
    outdial_id TEXT    PRIMARY KEY NOT NULL,
    queued     INTEGER NOT NULL DEFAULT 0,
    dialing    INTEGER NOT NULL DEFAULT 0,
    succeeded  INTEGER NOT NULL DEFAULT 0,
    failed     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- A campaign's attempts on the targets of one outdial (`calls`: campaigncalls created), and
-- the live done targets of that outdial it finished: `succeeded`, done with result `success`
-- and reached by one of its attempts; `failed`, done with any other result that it tried
-- (result `fail`) or reached.
CREATE TABLE campaign_counts (
    campaign_id TEXT    NOT NULL,
    outdial_id  TEXT    NOT NULL,
    calls       INTEGER NOT NULL DEFAULT 0,
    succeeded   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, outdial_id)
) WITHOUT ROWID;
CREATE INDEX campaign_counts_by_outdial ON campaign_counts (outdial_id);

-- A campaign's ended attempts by disposition.
CREATE TABLE campaign_dispositions (
    campaign_id TEXT    NOT NULL,
    disposition TEXT    NOT NULL,
    n           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, disposition)
) WITHOUT ROWID;

-- The counters of the rows already stored.
INSERT INTO outdial_counts (outdial_id, queued, dialing, succeeded, failed)
SELECT outdial_id, SUM(status = 'idle'), SUM(status = 'progressing'),
       SUM(status = 'done' AND result = 'success'), SUM(status = 'done' AND result <> 'success')
FROM targets WHERE deleted = 0 GROUP BY outdial_id;

INSERT INTO campaign_counts (campaign_id, outdial_id, calls)
SELECT campaign_id, outdial_id, COUNT(*) FROM campaigncalls GROUP BY campaign_id, outdial_id;

UPDATE campaign_counts SET
    succeeded = (SELECT COUNT(*) FROM targets t
                 WHERE t.outdial_id = campaign_counts.outdial_id AND t.deleted = 0
                   AND t.status = 'done' AND t.result = 'success'
                   AND EXISTS (SELECT 1 FROM campaigncalls c
                               WHERE c.campaign_id = campaign_counts.campaign_id
                                 AND c.outdial_target_id = t.id AND c.result = 'success')),
    failed = (SELECT COUNT(*) FROM targets t
              WHERE t.outdial_id = campaign_counts.outdial_id AND t.deleted = 0
                AND t.status = 'done' AND t.result <> 'success'
                AND EXISTS (SELECT 1 FROM campaigncalls c
                            WHERE c.campaign_id = campaign_counts.campaign_id
                              AND c.outdial_target_id = t.id
                              AND (t.result = 'fail' OR c.result = 'success')));

INSERT INTO campaign_dispositions (campaign_id, disposition, n)
SELECT campaign_id, disposition, COUNT(*) FROM campaigncalls
WHERE disposition IS NOT NULL GROUP BY campaign_id, disposition;
