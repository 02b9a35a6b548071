-- The discovery metadata of the last valid listing (service name, tags, input/output schemas)
-- as JSON, kept while degraded like the other listing columns, so a service's detail still shows
-- its schemas after a failing probe.
ALTER TABLE services ADD COLUMN discovery TEXT;

-- The changes feed (`GET /api/v1/changes`) reads status changes in time order.
CREATE INDEX status_changes_time ON status_changes (changed_at);
