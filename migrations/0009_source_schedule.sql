-- Sources are re-imported on a schedule (docs/SOURCES.md): every 6 hours, backing off after
-- failed runs (12 h, 24 h, then every 48 h) until one succeeds.
ALTER TABLE sources ADD COLUMN next_run_at INTEGER;
ALTER TABLE sources ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
