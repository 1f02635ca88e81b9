-- Addresses are read as typed values now, and no field of one may hold a control character
-- (CR and LF among them: they once let a source add header lines to an INVITE). Addresses
-- stored before that check would no longer read; this clears the ones holding a control
-- character, the only refused form SQL can tell:
--   - an outplan's source becomes unset (calls then carry the trunk's caller id);
--   - a target's destination slot becomes null, and a target whose first slot is cleared is
--     done with result `fail` (there is nothing to dial);
--   - an attempt's recorded source or destination becomes the unset address.
UPDATE documents SET body = json_set(body, '$.source', json('{"type":"","target":"","target_name":"","name":"","detail":""}'))
WHERE kind = 'outplan' AND EXISTS (SELECT 1 FROM json_each(documents.body, '$.source') AS f
             WHERE f.type = 'text' AND f.value GLOB '*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127) || ']*');
UPDATE targets SET destinations = json_set(destinations, '$.destination_0', json('null')), status = 'done', result = 'fail', next_at = 0
WHERE EXISTS (SELECT 1 FROM json_each(targets.destinations, '$.destination_0') AS f
             WHERE f.type = 'text' AND f.value GLOB '*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127) || ']*');
UPDATE targets SET destinations = json_set(destinations, '$.destination_1', json('null'))
WHERE EXISTS (SELECT 1 FROM json_each(targets.destinations, '$.destination_1') AS f
             WHERE f.type = 'text' AND f.value GLOB '*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127) || ']*');
UPDATE targets SET destinations = json_set(destinations, '$.destination_2', json('null'))
WHERE EXISTS (SELECT 1 FROM json_each(targets.destinations, '$.destination_2') AS f
             WHERE f.type = 'text' AND f.value GLOB '*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127) || ']*');
UPDATE targets SET destinations = json_set(destinations, '$.destination_3', json('null'))
WHERE EXISTS (SELECT 1 FROM json_each(targets.destinations, '$.destination_3') AS f
             WHERE f.type = 'text' AND f.value GLOB '*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127) || ']*');
UPDATE targets SET destinations = json_set(destinations, '$.destination_4', json('null'))
WHERE EXISTS (SELECT 1 FROM json_each(targets.destinations, '$.destination_4') AS f
             WHERE f.type = 'text' AND f.value GLOB '*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127) || ']*');
UPDATE campaigncalls SET source = json('{"type":"","target":"","target_name":"","name":"","detail":""}')
WHERE EXISTS (SELECT 1 FROM json_each(campaigncalls.source, '$') AS f
             WHERE f.type = 'text' AND f.value GLOB '*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127) || ']*');
UPDATE campaigncalls SET destination = json('{"type":"","target":"","target_name":"","name":"","detail":""}')
WHERE EXISTS (SELECT 1 FROM json_each(campaigncalls.destination, '$') AS f
             WHERE f.type = 'text' AND f.value GLOB '*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127) || ']*');
