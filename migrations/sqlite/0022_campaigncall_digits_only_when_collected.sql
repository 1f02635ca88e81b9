-- A campaigncall's `digits` column holds the digits its flow collected, and NULL when it
-- collected none: the flow's `flow_result` still says `"digits": ""`, but the partial indexes
-- on `digits` (`WHERE digits IS NOT NULL`) no longer take an entry for every call that ran a
-- flow without a `digits_receive`, which the dialer's batched ends wrote for each such call.
-- The `digits` filter with an empty value (the calls whose flow collected nothing) reads
-- `flow_result` instead (see src/store/sqlite/call_list.rs).
UPDATE campaigncalls SET digits = NULL WHERE digits = '';
