-- Canonical URLs have no empty query: `…/case?` is `…/case` to every client (docs/CATALOG.md).
-- Services registered with a bare `?` take the canonical spelling, with a new change_seq each so
-- the search index picks the new URL up. Where the canonical spelling is already a service of
-- its own, both rows stay (merging would drop one's history); new registrations of either
-- spelling find the canonical one.
UPDATE services
SET url = substr(url, 1, length(url) - 1),
    change_seq = (SELECT COALESCE(MAX(change_seq), 0) FROM services) + id
WHERE instr(url, '?') = length(url)
  AND NOT EXISTS (
      SELECT 1 FROM services AS twin
      WHERE twin.url = substr(services.url, 1, length(services.url) - 1) AND twin.method = services.method
  );
