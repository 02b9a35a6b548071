// A real x402 v2 seller built with the official @x402/express SDK (EVM and Solana schemes, several
// accepts, the bazaar discovery extension, a POST route). Prints {"port": N} once listening.
import express from "express";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { ExactSvmScheme } from "@x402/svm/exact/server";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { bazaarResourceServerExtension, declareDiscoveryExtension } from "@x402/extensions/bazaar";
import { startFacilitator } from "./facilitator.mjs";

const EVM_PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const SVM_PAY_TO = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
const SOLANA = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";

const facilitatorUrl = await startFacilitator();
const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitatorUrl }))
  .register("eip155:8453", new ExactEvmScheme())
  .register("eip155:84532", new ExactEvmScheme())
  .register("eip155:137", new ExactEvmScheme())
  .register(SOLANA, new ExactSvmScheme())
  .registerExtension(bazaarResourceServerExtension);

const routes = {
  "GET /weather": {
    accepts: [
      { scheme: "exact", price: "$0.001", network: "eip155:8453", payTo: EVM_PAY_TO },
      { scheme: "exact", price: "$0.001", network: SOLANA, payTo: SVM_PAY_TO },
    ],
    description: "Current weather for a city",
    mimeType: "application/json",
    serviceName: "Weather Now",
    tags: ["weather", "forecast"],
    extensions: {
      ...declareDiscoveryExtension({
        input: { city: "Paris" },
        inputSchema: { properties: { city: { type: "string" } }, required: ["city"] },
        output: { example: { city: "Paris", temperatureC: 21 } },
      }),
    },
  },
  "POST /summarize": {
    accepts: { scheme: "exact", price: "$0.05", network: "eip155:84532", payTo: EVM_PAY_TO },
    description: "Summarize a text",
    mimeType: "application/json",
    extensions: {
      ...declareDiscoveryExtension({
        bodyType: "json",
        input: { text: "A long text" },
        inputSchema: { properties: { text: { type: "string" } }, required: ["text"] },
        output: { example: { summary: "A text" } },
      }),
    },
  },
  "GET /premium": {
    accepts: [
      { scheme: "exact", price: "$0.25", network: "eip155:8453", payTo: EVM_PAY_TO },
      { scheme: "exact", price: "$0.25", network: "eip155:137", payTo: EVM_PAY_TO },
      { scheme: "exact", price: "$0.25", network: "eip155:84532", payTo: EVM_PAY_TO },
    ],
    description: "Premium market data",
  },
};

const app = express();
app.use(paymentMiddleware(routes, resourceServer));
app.get("/weather", (_req, res) => res.json({ city: "Paris", temperatureC: 21 }));
app.post("/summarize", (_req, res) => res.json({ summary: "A text" }));
app.get("/premium", (_req, res) => res.json({ data: [] }));
app.get("/free", (_req, res) => res.json({ free: true }));

const server = app.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
