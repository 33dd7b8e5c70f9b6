-- The trade-off across runs of one scenario (a sweep): per block size,
-- mean and worst re-download per cut, mean boot-scan and recovery time.
SELECT r.name, r.block_size,
       avg(t.bytes_redownloaded) AS mean_redownload,
       max(t.bytes_redownloaded) AS max_redownload,
       avg(t.scan_ns) / 1e6 AS mean_scan_ms,
       avg(t.recover_ns) / 1e9 AS mean_recover_s,
       sum(t.failed) AS failing
FROM runs r JOIN trials t ON t.run_id = r.id
GROUP BY r.id ORDER BY r.name, r.block_size;
