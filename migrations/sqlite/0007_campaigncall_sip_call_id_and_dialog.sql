-- The SIP Call-ID of each attempt, chosen and recorded before its INVITE is sent.
ALTER TABLE campaigncalls ADD COLUMN sip_call_id TEXT NOT NULL DEFAULT '';
-- An answered attempt's dialog (Call-ID, tags, From/To, remote target, route set, CSeq, peer,
-- transport) as JSON while the call lasts, so that after a crash the next start can end the
-- call with a BYE; cleared when the attempt ends.
ALTER TABLE campaigncalls ADD COLUMN dialog TEXT;
