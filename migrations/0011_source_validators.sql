-- Conditional re-imports (docs/SOURCES.md): the ETag and Last-Modified each document of a source
-- last answered with, by URL (JSON), sent back as If-None-Match / If-Modified-Since.
ALTER TABLE sources ADD COLUMN validators TEXT;
