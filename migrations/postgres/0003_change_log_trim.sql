-- The change log is trimmed (src/db/change_feed.rs `trim`): rows older than a week go once every
-- transaction below them has finished, and `trimmed_below` records the transaction watermark
-- below which rows may be missing, so a node whose index position is older rebuilds its index
-- instead of catching up through a gap.
ALTER TABLE changes ADD COLUMN written_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE store_identity ADD COLUMN trimmed_below BIGINT NOT NULL DEFAULT 0;
-- Maintenance finds the old rows by this (the log holds a week of changes: no full scan hourly).
CREATE INDEX changes_written_at ON changes (written_at);
