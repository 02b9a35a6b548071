-- Sellers own their listings; operators moderate (docs/OWNERSHIP.md).

-- A proof Agora asked for: single use, short-lived. `well_known`: the seller serves `proof` at
-- /.well-known/agora-verification/<nonce> on `subject` (an origin). `siwx`: the seller signs the
-- CAIP-122 message `info` describes with the payTo `subject`.
CREATE TABLE claim_challenges (
    nonce      TEXT    PRIMARY KEY,
    method     TEXT    NOT NULL CHECK (method IN ('well_known', 'siwx')),
    subject    TEXT    NOT NULL,
    -- What the claim covers: an origin (`https://host[:port]`) or one service URL.
    scope      TEXT    NOT NULL,
    proof      TEXT,             -- well_known: the file's content
    info       TEXT,             -- siwx: the message fields issued (JSON)
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX claim_challenges_expiry ON claim_challenges (expires_at);

-- A proven claim. `origin` claims cover every service of the origin; `pay_to` claims the
-- services in `scope` whose offers pay `subject` (an address key: EVM lowercased), and lapse when
-- no covered offer pays it any more. The owner token is kept only as a SHA-256 hash.
CREATE TABLE claims (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('origin', 'pay_to')),
    method      TEXT    NOT NULL CHECK (method IN ('well_known', 'eip191', 'ed25519')),
    subject     TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL,
    proven_at   INTEGER NOT NULL,
    rotated_at  INTEGER,
    ended_at    INTEGER,
    end_reason  TEXT    CHECK (end_reason IN ('lapsed', 'revoked'))
);
CREATE INDEX claims_active ON claims (kind, subject) WHERE ended_at IS NULL;

-- Which services a claim covers now.
CREATE TABLE claim_services (
    claim_id   INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    since      INTEGER NOT NULL,
    PRIMARY KEY (claim_id, service_id)
) WITHOUT ROWID;
CREATE INDEX claim_services_service ON claim_services (service_id);

-- Display metadata an owner pinned: probes and imports never write these columns (NULL: the
-- challenge's own value shows). `pinned_at` is NULL when nothing is pinned.
ALTER TABLE services ADD COLUMN pin_name TEXT;
ALTER TABLE services ADD COLUMN pin_description TEXT;
ALTER TABLE services ADD COLUMN pin_tags TEXT;        -- JSON array
ALTER TABLE services ADD COLUMN pin_category TEXT;
ALTER TABLE services ADD COLUMN pin_docs_url TEXT;
ALTER TABLE services ADD COLUMN pin_icon_url TEXT;
ALTER TABLE services ADD COLUMN pin_icon_hash TEXT;   -- the pinned icon, kept like a seller's (icons)
ALTER TABLE services ADD COLUMN pinned_at INTEGER;

-- Withheld from search, the Bazaar endpoints and the feeds: by its owner (delisted, until they
-- relist) or by an operator (hidden, with a public reason).
ALTER TABLE services ADD COLUMN owner_delisted_at INTEGER;
ALTER TABLE services ADD COLUMN hidden_at INTEGER;
ALTER TABLE services ADD COLUMN hidden_reason TEXT;
ALTER TABLE services ADD COLUMN hidden_by_block INTEGER; -- the block that hid it (lifting it unhides)

-- What may not be registered, imported or listed.
CREATE TABLE blocks (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('host', 'origin', 'pay_to')),
    value      TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, value)
);

-- Every owner and operator action, and what probes did to claims. `actor`: `owner:<claim id>`,
-- `operator` (API), `operator:cli`, `probe`. Owners' actions on a service also show in the changes
-- feed (`db::events`).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    service_id INTEGER REFERENCES services (id) ON DELETE SET NULL,
    target     TEXT,
    detail     TEXT
);
CREATE INDEX audit_log_time ON audit_log (at);
CREATE INDEX audit_log_service ON audit_log (service_id, at);
