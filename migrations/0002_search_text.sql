-- Search: the field names and descriptions of a listing's discovery schema, as plain words
-- (kept while degraded, like the other listing columns, so the service stays findable by them).
ALTER TABLE services ADD COLUMN schema_text TEXT;
