-- One row per run: what was run and how it ended.
SELECT id, name, preset, block_size, hash, digest, verify, mirror,
       image_size, seed, boundaries, trials_planned, shard_index,
       shard_count, status, tool_version, started_at, ended_at
FROM runs ORDER BY id;
