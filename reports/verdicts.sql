-- Verdict counts of run :run.
SELECT verdict, count(*) AS trials, sum(failed) AS failing
FROM trials WHERE run_id = :run
GROUP BY verdict ORDER BY min(verdict_code);
