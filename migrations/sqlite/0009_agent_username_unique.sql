-- An agent's username is the SIP user its softphone registers as: one live agent per
-- username on the node, whichever customer owns it. A deleted agent frees its username.
CREATE UNIQUE INDEX agents_by_username ON documents (json_extract(body, '$.username'))
WHERE kind = 'agent' AND deleted = 0;
