-- The catalog: services, their offers, every probe, and what changed.
-- Times are Unix epoch milliseconds (INTEGER). Money is never a float: atomic amounts and USD
-- are exact decimal TEXT; `usd_micros` (rounded up) exists only for sorting and range filters.

-- One row per (canonical URL, method), rejected URLs included (shared/INTERFACES.md "Storage").
CREATE TABLE services (
    id               INTEGER PRIMARY KEY,
    url              TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    -- Politeness key: host name or IP, without the port.
    host             TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'listed', 'rejected', 'degraded', 'delisted')),
    -- The last probe: its verdict and the first problem, the reason a seller can act on.
    verdict          TEXT    CHECK (verdict IN ('listed', 'not_x402', 'invalid', 'fetch_error', 'refused')),
    reason_code      TEXT,
    reason           TEXT,
    -- From the last valid challenge (kept while degraded, so the page can still say what it was).
    x402_version     INTEGER,
    name             TEXT,
    description      TEXT,
    mime_type        TEXT,
    tags             TEXT,    -- JSON array
    route_template   TEXT,
    has_schema       INTEGER NOT NULL DEFAULT 0,
    challenge_hash   TEXT,    -- of the normalized listing: a change here is a change for buyers
    registered_at    INTEGER NOT NULL,
    first_listed_at  INTEGER,
    last_probed_at   INTEGER,
    last_listed_at   INTEGER, -- last probe that found a valid challenge
    status_since     INTEGER NOT NULL,
    failure_streak   INTEGER NOT NULL DEFAULT 0,
    failing_since    INTEGER,
    interval_ms      INTEGER NOT NULL,
    next_due_at      INTEGER NOT NULL,
    -- Bumped on every committed change, so a derived index can catch up after a crash.
    change_seq       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (url, method)
);
CREATE INDEX services_due ON services (next_due_at);
CREATE INDEX services_status ON services (status);
CREATE INDEX services_host ON services (host);
CREATE INDEX services_change_seq ON services (change_seq);

-- One row per `accepts` entry of the last valid challenge.
CREATE TABLE offers (
    id                  INTEGER PRIMARY KEY,
    service_id          INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    position            INTEGER NOT NULL,
    scheme              TEXT    NOT NULL,
    network             TEXT    NOT NULL, -- CAIP-2
    network_v1          TEXT,
    family              TEXT    NOT NULL,
    testnet             INTEGER NOT NULL,
    asset               TEXT    NOT NULL,
    asset_symbol        TEXT,
    decimals            INTEGER,
    amount              TEXT    NOT NULL, -- atomic units, decimal
    usd                 TEXT,             -- exact decimal, NULL for unknown assets
    usd_micros          INTEGER,          -- ceil(usd × 10^6), for sorting and ranges only
    usd_is_max          INTEGER NOT NULL,
    pay_to              TEXT    NOT NULL,
    max_timeout_seconds INTEGER NOT NULL,
    extra               TEXT    NOT NULL, -- JSON
    UNIQUE (service_id, position)
);
CREATE INDEX offers_usd ON offers (usd_micros);

-- Every probe (raw history; pruned after the retention window once rolled up).
CREATE TABLE probes (
    id             INTEGER PRIMARY KEY,
    service_id     INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    probed_at      INTEGER NOT NULL,
    verdict        TEXT    NOT NULL,
    http_status    INTEGER,
    connect_ms     REAL,
    first_byte_ms  REAL,
    total_ms       REAL,
    codes          TEXT    NOT NULL, -- JSON array of problem codes
    challenge_hash TEXT
);
CREATE INDEX probes_service_time ON probes (service_id, probed_at);
CREATE INDEX probes_time ON probes (probed_at);

-- Per service and UTC day: what uptime figures read once raw probes are pruned.
CREATE TABLE probe_daily (
    service_id     INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    day            INTEGER NOT NULL, -- days since 1970-01-01 (UTC)
    probes         INTEGER NOT NULL,
    successes      INTEGER NOT NULL, -- verdict `listed`
    latency_p50_ms REAL,
    latency_p95_ms REAL,
    latency_max_ms REAL,
    PRIMARY KEY (service_id, day)
) WITHOUT ROWID;

-- The latest probe report, one row per service: the seller's "why", with the raw challenge as
-- the seller sent it in its `challenge` field (shared/INTERFACES.md "Probe report").
CREATE TABLE latest_reports (
    service_id INTEGER PRIMARY KEY REFERENCES services (id) ON DELETE CASCADE,
    probed_at  INTEGER NOT NULL,
    report     TEXT    NOT NULL
);

-- Offer changes between two valid challenges: price and payTo changes, offers added or removed.
CREATE TABLE offer_changes (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    changed_at INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('price', 'pay_to', 'added', 'removed')),
    scheme     TEXT    NOT NULL,
    network    TEXT    NOT NULL,
    asset      TEXT    NOT NULL,
    old_value  TEXT,
    new_value  TEXT
);
CREATE INDEX offer_changes_service ON offer_changes (service_id, changed_at);
CREATE INDEX offer_changes_time ON offer_changes (changed_at);

-- Every status transition.
CREATE TABLE status_changes (
    id          INTEGER PRIMARY KEY,
    service_id  INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    changed_at  INTEGER NOT NULL,
    old_status  TEXT,
    new_status  TEXT    NOT NULL,
    reason_code TEXT
);
CREATE INDEX status_changes_service ON status_changes (service_id, changed_at);
