// A real x402 v2 seller with the late-2026 schemes and flows, built with the official
// @x402/express SDK 2.27: `upto` (a maximum, Permit2), `batch-settlement` (receiver authorizer
// and withdraw delay), `exact` paid upfront, Mezo's 18-decimal, Permit2-only mUSD, and Solana
// `upto` (escrow, no facilitatorAddress).
// Prints {"port": N} once listening.
import express from "express";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { UptoEvmScheme } from "@x402/evm/upto/server";
import { BatchSettlementEvmScheme } from "@x402/evm/batch-settlement/server";
import { UptoSvmScheme } from "@x402/svm/upto/server";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { startFacilitator } from "./facilitator.mjs";

const PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const SVM_PAY_TO = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
const SOLANA = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";

const facilitatorUrl = await startFacilitator();
const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitatorUrl }))
  .register("eip155:8453", new ExactEvmScheme())
  .register("eip155:31612", new ExactEvmScheme())
  .register("eip155:8453", new UptoEvmScheme())
  .register("eip155:8453", new BatchSettlementEvmScheme(PAY_TO, { withdrawDelay: 86400 }))
  .register(SOLANA, new UptoSvmScheme());

const routes = {
  "GET /metered": {
    accepts: { scheme: "upto", price: "$0.01", network: "eip155:8453", payTo: PAY_TO },
    description: "Metered inference, billed by tokens used up to a maximum",
  },
  "GET /batched": {
    accepts: { scheme: "batch-settlement", price: "$0.002", network: "eip155:8453", payTo: PAY_TO },
    description: "High-frequency quotes settled in batches",
  },
  "GET /upfront": {
    accepts: { scheme: "exact", price: "$0.003", network: "eip155:8453", payTo: PAY_TO, extra: { paymentFlow: "upfront" } },
    description: "A report generated once paid",
  },
  "GET /solana-metered": {
    accepts: { scheme: "upto", price: "$0.01", network: SOLANA, payTo: SVM_PAY_TO },
    description: "Metered on Solana, held in escrow",
  },
  "GET /mezo": {
    accepts: { scheme: "exact", price: "$0.01", network: "eip155:31612", payTo: PAY_TO },
    description: "Priced in Mezo USD",
  },
};

const app = express();
app.use(paymentMiddleware(routes, resourceServer));
for (const path of Object.keys(routes).map((r) => r.split(" ")[1])) {
  app.get(path, (_req, res) => res.json({ ok: true }));
}

const server = app.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
