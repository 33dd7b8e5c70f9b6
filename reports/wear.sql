-- Erases per erase unit of run :run: the uncut update, and the worst trial.
SELECT unit, erases_update, erases_max FROM wear
WHERE run_id = :run ORDER BY unit;
