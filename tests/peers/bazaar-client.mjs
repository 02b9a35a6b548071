// The official npm discovery client (`@x402/extensions` withBazaar) against a facilitator URL:
//   node bazaar-client.mjs <base-url> list|search '<params as JSON>'
// Prints the client's parsed answer as JSON, or {"error": message} when the client throws.
import { HTTPFacilitatorClient } from "@x402/core/server";
import { withBazaar } from "@x402/extensions/bazaar";

const [base, operation, params] = process.argv.slice(2);
const client = withBazaar(new HTTPFacilitatorClient({ url: base }));
try {
  const answer =
    operation === "search"
      ? await client.extensions.bazaar.search(JSON.parse(params))
      : await client.extensions.bazaar.listResources(JSON.parse(params));
  console.log(JSON.stringify(answer));
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.message ?? error) }));
}
