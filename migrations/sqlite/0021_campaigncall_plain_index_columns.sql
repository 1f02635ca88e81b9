-- The indexes on campaigncalls that read inside its JSON columns now read plain columns the
-- dialer writes beside them: `number`, the destination's telephone number (its `target` when
-- its `type` is `tel`, else NULL), written with the attempt's begin; and `digits`, what the
-- flow's last `digits_receive` collected (`flow_result`'s `digits`, NULL with no flow),
-- written with its end.
--
-- Why: an index on an expression that calls a function (`json_extract`) makes every statement
-- that writes the table call that function per row, and SQLite opens a statement journal for
-- any multi-row write that calls a function (a function may fail half-way). The dialer's
-- batched begins and ends then copied every page they changed into that journal. Without a
-- function in them they write no statement journal (see src/store/sqlite/apply.rs).
ALTER TABLE campaigncalls ADD COLUMN number TEXT;
ALTER TABLE campaigncalls ADD COLUMN digits TEXT;

UPDATE campaigncalls SET number = json_extract(destination, '$.target')
WHERE json_extract(destination, '$.type') = 'tel';
UPDATE campaigncalls SET digits = json_extract(flow_result, '$.digits')
WHERE flow_result IS NOT NULL AND json_type(flow_result, '$.digits') = 'text';

DROP INDEX campaigncalls_abandoned;
CREATE INDEX campaigncalls_abandoned ON campaigncalls (customer_id, number, tm_update)
    WHERE disposition = 'abandoned';

DROP INDEX campaigncalls_by_digits;
CREATE INDEX campaigncalls_by_digits ON campaigncalls (campaign_id, digits, seq)
    WHERE digits IS NOT NULL;
DROP INDEX campaigncalls_by_customer_digits;
CREATE INDEX campaigncalls_by_customer_digits ON campaigncalls (customer_id, digits, seq)
    WHERE digits IS NOT NULL;
