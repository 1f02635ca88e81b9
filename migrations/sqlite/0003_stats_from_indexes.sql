-- A campaign's figures are counted from index entries alone, never from the rows.
--
-- Targets: the due-targets index also carries `deleted` and `result`, in an order that both
-- counts an outdial's targets by status and result in index order and still finds the due
-- targets in order (equal outdial, deleted, status and result, then next_at, seq). A waiting
-- target's result is always empty; the update below makes sure of it for older databases.
UPDATE targets SET result = '' WHERE status = 'idle' AND result <> '';
DROP INDEX targets_due;
CREATE INDEX targets_due ON targets (outdial_id, deleted, status, result, next_at, seq);
-- Attempts of a campaign by disposition.
CREATE INDEX campaigncalls_by_disposition ON campaigncalls (campaign_id, disposition);
