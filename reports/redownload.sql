-- Where the power failed (boundary of the first cut) and what it cost
-- (bytes downloaded again), per trial of run :run; decimated to the
-- chart's resolution: the cut positions fall into 600 columns and each
-- column keeps one point per distinct cost, so no value a reader could
-- see is lost and a run of 100,000 trials stays a light page. The
-- trials table holds every point.
SELECT min(cut1) AS cut1, bytes_redownloaded
FROM trials
WHERE run_id = :run
GROUP BY (cut1 * 600) / (SELECT max(cut1) + 1 FROM trials WHERE run_id = :run),
         bytes_redownloaded
ORDER BY 1;
