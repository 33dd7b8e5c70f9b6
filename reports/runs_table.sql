-- The runs as the report shows them: human column names, sizes in KiB
-- (the part and the engine are on the cover).
SELECT id AS "run", name AS "scenario",
       CASE WHEN block_size % 1024 = 0 THEN (block_size / 1024) || ' KiB'
            ELSE block_size || ' B' END AS "block",
       hash || ' / ' || digest AS "hash / digest", verify AS "verify",
       CASE mirror WHEN 1 THEN 'yes' ELSE 'no' END AS "mirror",
       CASE WHEN image_size >= 1048576
            THEN rtrim(rtrim(printf('%.2f', image_size / 1048576.0), '0'), '.')
                 || ' MiB'
            ELSE printf('%.0f KiB', image_size / 1024.0) END AS "image",
       printf('%,d', trials_planned) ||
           CASE WHEN shard_count > 1
                THEN ' (shard ' || shard_index || '/' || shard_count || ')'
                ELSE '' END AS "power cuts",
       status AS "status", replace(substr(started_at, 1, 16), 'T', ' ')
           AS "started (UTC)"
FROM runs ORDER BY id;
