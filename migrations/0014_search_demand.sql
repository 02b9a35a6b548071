-- Text searches that found nothing, per UTC day: the demand sellers can meet (docs/SEARCH.md
-- "Demand"). Nothing about who asked: no address, agent, session or time finer than the day.
CREATE TABLE search_demand (
    day    INTEGER NOT NULL, -- days since 1970-01-01 (UTC)
    query  TEXT    NOT NULL, -- normalized (lowercase, single spaces, at most 100 characters)
    misses INTEGER NOT NULL,
    PRIMARY KEY (day, query)
) WITHOUT ROWID;
