-- Sources Agora imports from (docs/SOURCES.md): facilitators' Bazaar lists and lists of URLs.
-- Nothing a source says is trusted: its URLs are registered and probed like any other; what it
-- claimed about each is kept beside the service as provenance.
CREATE TABLE sources (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,           -- facilitator | list
    location     TEXT    NOT NULL UNIQUE,    -- the base URL, list URL or file path as given
    added_at     INTEGER NOT NULL,
    last_run_at  INTEGER,
    last_outcome TEXT,                       -- `ok`, or the code of what stopped the last run
    last_counts  TEXT                        -- JSON: found, new, known, refused, ...
);

-- Which sources list which service, since when, and what each last claimed about it.
CREATE TABLE service_sources (
    service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    source_id  INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    claim      TEXT,                         -- JSON: scheme, network, pay_to, usd, description
    PRIMARY KEY (service_id, source_id)
);
CREATE INDEX service_sources_by_source ON service_sources (source_id);
