-- An origin is authoritative for its own routes (docs/SOURCES.md): a route its documents no
-- longer list is withdrawn — delisted with reason `removed_by_origin`, and kept delisted by
-- probes — until a document lists it again.
ALTER TABLE services ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;
