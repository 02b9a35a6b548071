// A local stand-in for an x402 facilitator: the SDK sellers fetch GET /supported at start-up to
// learn which (version, scheme, network) kinds can be settled, and answer 500 without it.
// Verification and settlement need a blockchain, which tests cannot reach, so they are not served.
import http from "node:http";

export const SOLANA_FEE_PAYER = "BENrLoUbndxoNMUS5JXApGMtNykLjFXXixMtpDwDR9SP";
/** The facilitator's own addresses for the late-2026 schemes (upto's Permit2 witness, batch-settlement's receiver authorizer). */
export const FACILITATOR_ADDRESS = "0x1111111111111111111111111111111111111111";

const kinds = [
  { x402Version: 2, scheme: "exact", network: "eip155:8453" },
  { x402Version: 2, scheme: "exact", network: "eip155:84532" },
  { x402Version: 2, scheme: "exact", network: "eip155:137" },
  { x402Version: 2, scheme: "exact", network: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", extra: { feePayer: SOLANA_FEE_PAYER } },
  { x402Version: 2, scheme: "exact", network: "eip155:31612" },
  { x402Version: 2, scheme: "upto", network: "eip155:8453", extra: { facilitatorAddress: FACILITATOR_ADDRESS } },
  { x402Version: 2, scheme: "batch-settlement", network: "eip155:8453", extra: { receiverAuthorizer: FACILITATOR_ADDRESS } },
  { x402Version: 2, scheme: "upto", network: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", extra: { feePayer: SOLANA_FEE_PAYER, receiverAuthorizer: SOLANA_FEE_PAYER } },
  { x402Version: 1, scheme: "exact", network: "base" },
  { x402Version: 1, scheme: "exact", network: "base-sepolia" },
  { x402Version: 1, scheme: "exact", network: "solana-devnet", extra: { feePayer: SOLANA_FEE_PAYER } },
];

/** Starts the stand-in on 127.0.0.1 and resolves to its base URL. */
export function startFacilitator() {
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url.startsWith("/supported")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ kinds, extensions: ["bazaar"], signers: {} }));
      return;
    }
    res.writeHead(501, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "this test facilitator cannot verify or settle payments" }));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}
