-- A campaign's stats count only the targets its own attempts finished: its attempts by target
-- and result, read from index entries alone.
CREATE INDEX campaigncalls_by_campaign_target ON campaigncalls (campaign_id, outdial_target_id, result);
