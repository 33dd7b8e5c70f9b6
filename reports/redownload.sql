-- Where the power failed (boundary of the first cut) and what it cost
-- (bytes downloaded again), per trial of run :run.
SELECT cut1, bytes_redownloaded, cut1_area FROM trials
WHERE run_id = :run ORDER BY cut1;
