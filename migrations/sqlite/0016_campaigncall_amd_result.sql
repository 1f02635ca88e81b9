-- What the flow's last answering-machine detection found on an attempt's call: 'human',
-- 'machine' or 'notsure'; NULL when no `amd` action ran to its end.
ALTER TABLE campaigncalls ADD COLUMN amd_result TEXT;
