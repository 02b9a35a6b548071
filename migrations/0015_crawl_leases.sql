-- Crawl leases (src/db/leases.rs). On SQLite one process crawls and these stay empty; the
-- columns exist so both stores run the same statements (migrations/postgres/0002).
ALTER TABLE services ADD COLUMN lease_owner TEXT;
ALTER TABLE services ADD COLUMN lease_until INTEGER;
