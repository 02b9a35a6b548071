-- The change feed reads provenance by when a source first listed a service.
CREATE INDEX service_sources_first_seen ON service_sources (first_seen);
