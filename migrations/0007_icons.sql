-- Seller icons (x402 `resource.iconUrl`, docs/CATALOG.md): fetched once through the safe fetcher,
-- checked, and kept by content hash, so Agora serves them from its own origin and never
-- hot-links a seller's server. A service points at its icon; the URL and when it was last
-- tried say whether to fetch again.
CREATE TABLE icons (
    hash         TEXT    PRIMARY KEY, -- Keccak-256 of the bytes, hex
    content_type TEXT    NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    bytes        BLOB    NOT NULL,
    stored_at    INTEGER NOT NULL
);
ALTER TABLE services ADD COLUMN icon_url TEXT;        -- as the seller gave it
ALTER TABLE services ADD COLUMN icon_hash TEXT;       -- the kept icon, or NULL
ALTER TABLE services ADD COLUMN icon_checked_at INTEGER;
ALTER TABLE services ADD COLUMN icon_problem TEXT;    -- why the icon was not kept (a probe code)
