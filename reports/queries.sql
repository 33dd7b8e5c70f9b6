-- Handy queries over a fotasim database (schema: docs/database.md):
--   sqlite3 -header -column results.db < reports/queries.sql
--
-- The three views fotasim creates are repeated first, as CREATE VIEW IF
-- NOT EXISTS: on a fotasim database they are already there and nothing
-- changes; the SQL is here to read, or to rebuild them in a copy.

CREATE VIEW IF NOT EXISTS v_verdicts_per_run AS
SELECT r.id AS run_id, r.name, t.verdict, count(*) AS trials,
       sum(t.failed) AS failing
FROM runs r JOIN trials t ON t.run_id = r.id
GROUP BY r.id, t.verdict ORDER BY r.id, t.verdict_code;

-- Each run's maximum is computed once (a correlated subquery would scan
-- the run again for every row).
CREATE VIEW IF NOT EXISTS v_worst_redownload AS
SELECT t.run_id, t.trial_id, t.cut1, t.cut1_op, t.cut1_addr, t.cut1_area,
       t.verdict, t.bytes_redownloaded, t.blocks_redownloaded
FROM trials t
JOIN (SELECT run_id, max(bytes_redownloaded) AS worst
      FROM trials GROUP BY run_id) w ON w.run_id = t.run_id
WHERE w.worst > 0 AND t.bytes_redownloaded = w.worst
ORDER BY t.run_id, t.trial_id;

-- The replay command names the database as SQLite opened it.
CREATE VIEW IF NOT EXISTS v_failed_cuts AS
SELECT run_id, trial_id, depth, cut1, cut2, cut3, cut4, cut1_op, cut1_addr,
       cut1_area, verdict, detail,
       printf('fotasim replay %s --run %d --trial %d',
              coalesce((SELECT nullif(file, '') FROM pragma_database_list
                        WHERE name = 'main'), '<db>'),
              run_id, trial_id) AS replay
FROM trials WHERE failed ORDER BY run_id, trial_id;

-- Runs and their outcome.
SELECT id, name, preset, block_size, verify, status, boundaries,
       trials_planned,
       (SELECT count(*) FROM trials t WHERE t.run_id = r.id) AS trials_done,
       started_at, ended_at
FROM runs r ORDER BY id;

-- Verdicts per run.
SELECT * FROM v_verdicts_per_run;

-- Re-download per power cut: mean and worst, per run.
SELECT run_id, count(*) AS trials,
       round(avg(bytes_redownloaded)) AS mean_redownload_bytes,
       max(bytes_redownloaded) AS max_redownload_bytes,
       max(blocks_redownloaded) AS max_redownload_blocks
FROM trials GROUP BY run_id;

-- The cuts that cost the most download (first 20).
SELECT * FROM v_worst_redownload LIMIT 20;

-- Where the cut landed and what it cost, by area and op.
SELECT run_id, cut1_area, cut1_op, count(*) AS trials,
       round(avg(bytes_redownloaded)) AS mean_redownload,
       round(avg(recover_ns) / 1e6, 1) AS mean_recover_ms,
       round(avg(scan_ns) / 1e6, 1) AS mean_scan_ms
FROM trials GROUP BY run_id, cut1_area, cut1_op;

-- Trials a reboot believed a block of the wrong bytes in (the oracle's
-- claim check); should be none.
SELECT run_id, trial_id, false_claim - 1 AS block, verdict, detail
FROM trials WHERE false_claim > 0 LIMIT 20;

-- The most-erased units.
SELECT run_id, unit, erases_update, erases_max
FROM wear ORDER BY erases_max DESC LIMIT 10;

-- Host time: slowest trials.
SELECT run_id, trial_id, round(wall_ns / 1e3) AS wall_us, boots, cut1_area
FROM trials ORDER BY wall_ns DESC LIMIT 10;

-- Every failing trial, with the command that replays it.
SELECT run_id, trial_id, verdict, detail, replay FROM v_failed_cuts;
