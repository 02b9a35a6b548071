-- What a service is (x402 late 2026, PROTOCOL §8.4): `http`, or `mcp` when its bazaar metadata
-- describes an MCP tool, with that tool's name. Set from each valid listing; services listed
-- before this migration take it from their stored discovery metadata now.
ALTER TABLE services ADD COLUMN service_type TEXT NOT NULL DEFAULT 'http';
ALTER TABLE services ADD COLUMN tool_name TEXT;
UPDATE services
SET service_type = 'mcp',
    tool_name = COALESCE(json_extract(discovery, '$.input.toolName'), json_extract(discovery, '$.input.tool'))
WHERE json_valid(discovery) AND json_extract(discovery, '$.input.type') = 'mcp';
