-- How each offer is paid (x402 late 2026, docs/PROBE.md): its payment flow, the EVM transfer
-- method, and whether the official SDK clients can pay it. Rows written before this migration
-- take the defaults every earlier offer had; the next probe of each service rewrites them.
ALTER TABLE offers ADD COLUMN payment_flow TEXT NOT NULL DEFAULT 'authorization';
ALTER TABLE offers ADD COLUMN asset_transfer_method TEXT;
ALTER TABLE offers ADD COLUMN payable INTEGER NOT NULL DEFAULT 1;
