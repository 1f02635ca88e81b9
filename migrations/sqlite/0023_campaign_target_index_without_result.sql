-- The index of a campaign's attempts by target no longer holds each attempt's `result`: the
-- attempt's end, which sets its result, then leaves the index as it is instead of moving its
-- entry. The counters read a result only for a target that another campaign over the same
-- outdial also dialed, and then from the attempt's row, which the index finds
-- (src/store/sqlite/counts.rs).
DROP INDEX campaigncalls_by_campaign_target;
CREATE INDEX campaigncalls_by_campaign_target ON campaigncalls (campaign_id, outdial_target_id);
