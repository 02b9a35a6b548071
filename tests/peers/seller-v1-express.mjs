// A real x402 v1 seller built with the official legacy `x402-express` 1.x SDK: challenges in the
// JSON body, v1 network names, `outputSchema` discovery data. Prints {"port": N} once listening.
import express from "express";
import { paymentMiddleware } from "x402-express";
import { startFacilitator } from "./facilitator.mjs";

const PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const facilitatorUrl = await startFacilitator();

const app = express();
app.use(
  paymentMiddleware(
    PAY_TO,
    {
      "GET /joke": {
        price: "$0.01",
        network: "base-sepolia",
        config: { description: "A random joke", mimeType: "application/json" },
      },
      "POST /translate": {
        price: "$0.05",
        network: "base",
        config: {
          description: "Translate a text",
          mimeType: "application/json",
          inputSchema: { bodyType: "json", bodyFields: { text: { type: "string" }, to: { type: "string" } } },
          outputSchema: { type: "object", properties: { translation: { type: "string" } } },
        },
      },
      "GET /solana-fact": {
        price: "$0.002",
        network: "solana-devnet",
        config: { description: "A fact, paid on Solana devnet" },
      },
    },
    { url: facilitatorUrl },
  ),
);
app.get("/joke", (_req, res) => res.json({ joke: "…" }));
app.post("/translate", (_req, res) => res.json({ translation: "…" }));
app.get("/solana-fact", (_req, res) => res.json({ fact: "…" }));

const server = app.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
