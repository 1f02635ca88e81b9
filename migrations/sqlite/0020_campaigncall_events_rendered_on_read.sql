-- A campaigncall's event no longer carries the campaigncall: its row says which call (by
-- `resource_id`) and at which point of the attempt (`phase`: 'created' at its begin,
-- 'answered' at its answer, 'ended' at its end), with an empty `data`, and the campaigncall
-- as the API showed it at that point is rendered when the event is read, from the call's row.
-- The rows of the table are `event_rows`; `events` is the view every reader reads, with the
-- columns the table had (`data` filled in). A row with no `phase` holds its `data` itself
-- (every other kind of event, and a campaigncall's event whose row could not be projected:
-- see src/store/sqlite/apply.rs).
--
-- The projection is exact because of what the dialer writes to a campaigncall after its begin:
-- its answer changes `status`, `dialog` and `tm_update` only (`tm_update` is the answer's time,
-- which is also the answered event's `tm_create`); its end sets the end's fields, `status`,
-- `result`, `tm_update` and perhaps `queue_id` (the queue that served it: the one it had then
-- is kept in `queue_id_before`); nothing changes a campaigncall after its end, and none is
-- deleted. Until its end a call has the columns' defaults for every field its end sets.
ALTER TABLE events RENAME TO event_rows;
ALTER TABLE event_rows ADD COLUMN phase TEXT;
ALTER TABLE campaigncalls ADD COLUMN queue_id_before TEXT;

CREATE VIEW events (id, customer_id, type, resource_id, data, tm_create) AS
SELECT e.id, e.customer_id, e.type, e.resource_id,
  CASE WHEN e.phase IS NULL THEN e.data ELSE json_object(
    'id', c.id, 'customer_id', c.customer_id, 'campaign_id', c.campaign_id,
    'outplan_id', c.outplan_id, 'outdial_id', c.outdial_id,
    'outdial_target_id', c.outdial_target_id,
    'queue_id', CASE e.phase WHEN 'ended' THEN c.queue_id
                ELSE COALESCE(c.queue_id_before, c.queue_id) END,
    'reference_type', c.reference_type, 'reference_id', c.reference_id,
    'sip_call_id', c.sip_call_id,
    'status', CASE e.phase WHEN 'created' THEN 'dialing' WHEN 'answered' THEN 'progressing'
              ELSE c.status END,
    'result', CASE e.phase WHEN 'ended' THEN c.result ELSE '' END,
    'source', json(c.source), 'caller_id', c.caller_id,
    'destination', json(c.destination), 'destination_index', c.destination_index,
    'try_count', c.try_count,
    'disposition', CASE e.phase WHEN 'ended' THEN c.disposition END,
    'sip_code', CASE e.phase WHEN 'ended' THEN c.sip_code END,
    'reason', CASE e.phase WHEN 'ended' THEN c.reason ELSE '' END,
    'hangup_by', CASE e.phase WHEN 'ended' THEN c.hangup_by END,
    'setup_ms', CASE e.phase WHEN 'ended' THEN c.setup_ms ELSE 0 END,
    'talk_ms', CASE e.phase WHEN 'ended' THEN c.talk_ms ELSE 0 END,
    'flow_result', json(CASE e.phase WHEN 'ended' THEN c.flow_result END),
    'agent_id', CASE e.phase WHEN 'ended' THEN c.agent_id END,
    'wait_ms', CASE e.phase WHEN 'ended' THEN c.wait_ms END,
    'amd_result', CASE e.phase WHEN 'ended' THEN c.amd_result END,
    'tm_create', c.tm_create,
    'tm_update', CASE e.phase WHEN 'created' THEN c.tm_create WHEN 'answered' THEN e.tm_create
                 ELSE c.tm_update END,
    'tm_delete', c.tm_delete) END,
  e.tm_create
FROM event_rows e LEFT JOIN campaigncalls c ON e.phase IS NOT NULL AND c.id = e.resource_id;
