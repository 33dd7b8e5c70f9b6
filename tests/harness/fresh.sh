#!/usr/bin/env bash
# fresh.sh DB COMMAND...: run COMMAND with DB (and its WAL files) removed
# first, so a test never appends to an earlier run's database.
db=$1; shift
rm -f "$db" "$db-wal" "$db-shm"
exec "$@"
