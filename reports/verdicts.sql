-- Verdict counts of run :run.
SELECT verdict, printf('%,d', count(*)) AS trials,
       printf('%,d', sum(failed)) AS failing
FROM trials WHERE run_id = :run
GROUP BY verdict ORDER BY min(verdict_code);
