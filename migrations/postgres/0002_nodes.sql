-- Several nodes on one database (docs/DEPLOY.md).

-- Crawl leases: a node claims due services (FOR UPDATE SKIP LOCKED) by writing its name and an
-- expiry; recording the probe clears them; a dead node's claims return to the pool when they
-- expire (src/db/leases.rs).
ALTER TABLE services ADD COLUMN lease_owner TEXT COLLATE "C";
ALTER TABLE services ADD COLUMN lease_until BIGINT;

-- Which database a node's search index was built from: an index whose commit names another
-- store is rebuilt (a node pointed at a new database, or a restored one, never serves the old
-- catalog's documents).
CREATE TABLE store_identity (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    id       TEXT COLLATE "C" NOT NULL
);
INSERT INTO store_identity (id) VALUES (gen_random_uuid()::text);
