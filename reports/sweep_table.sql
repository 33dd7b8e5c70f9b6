-- The trade-off across runs (a sweep) as the report shows it: rounded, in
-- KiB and ms. "flash scan" is the simulated flash time of the boot-time
-- resume scan only; the sweep's own table (its lead, sweep_values.scan_ms)
-- adds the CPU re-hash (engine.cpu_hash_rate).
SELECT r.name AS "scenario",
       CASE WHEN r.block_size % 1024 = 0 THEN (r.block_size / 1024) || ' KiB'
            ELSE r.block_size || ' B' END AS "block",
       printf('%.1f KiB', avg(t.bytes_redownloaded) / 1024.0)
           AS "extra download per cut, mean",
       printf('%.1f KiB', max(t.bytes_redownloaded) / 1024.0) AS "worst",
       printf('%.1f ms', avg(t.scan_ns) / 1e6) AS "flash scan, mean",
       printf('%.2f s', avg(t.recover_ns) / 1e9) AS "recovery, mean",
       printf('%,d', sum(t.failed)) AS "failing"
FROM runs r JOIN trials t ON t.run_id = r.id
GROUP BY r.id ORDER BY r.name, r.block_size;
