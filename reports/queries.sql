-- Handy queries over a fotasim database:
--   sqlite3 -header -column results.db < reports/queries.sql

-- Runs and their outcome.
SELECT id, name, preset, block_size, verify, status, boundaries,
       trials_planned, started_at, ended_at
FROM runs ORDER BY id;

-- Verdicts per run.
SELECT * FROM v_verdicts_per_run;

-- Re-download per power cut: mean and worst, per run.
SELECT run_id, count(*) AS trials,
       round(avg(bytes_redownloaded)) AS mean_redownload_bytes,
       max(bytes_redownloaded) AS max_redownload_bytes,
       max(blocks_redownloaded) AS max_redownload_blocks
FROM trials GROUP BY run_id;

-- Where the cut landed and what it cost, by area and op.
SELECT run_id, cut1_area, cut1_op, count(*) AS trials,
       round(avg(bytes_redownloaded)) AS mean_redownload,
       round(avg(recover_ns) / 1e6, 1) AS mean_recover_ms,
       round(avg(scan_ns) / 1e6, 1) AS mean_scan_ms
FROM trials GROUP BY run_id, cut1_area, cut1_op;

-- The most-erased units.
SELECT run_id, unit, erases_update, erases_max
FROM wear ORDER BY erases_max DESC LIMIT 10;

-- Every failing trial, with the command that replays it.
SELECT run_id, trial_id, verdict, detail, replay FROM v_failed_cuts;
