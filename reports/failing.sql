-- Every failing trial of run :run with the command that replays it.
SELECT trial_id, verdict, depth, cut1, cut1_op, cut1_area, detail
FROM trials WHERE run_id = :run AND failed ORDER BY trial_id LIMIT 500;
