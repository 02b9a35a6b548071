"""The official PyPI discovery client (`x402` with_bazaar) against a facilitator URL:
    python bazaar_client.py <base-url> list|search '<params as JSON>'
Params use the client's snake_case names. Prints the parsed answer as JSON, or {"error": message}."""

import dataclasses
import json
import sys

from x402.extensions.bazaar import ListDiscoveryResourcesParams, SearchDiscoveryResourcesParams, with_bazaar
from x402.http import FacilitatorConfig, HTTPFacilitatorClientSync


def main() -> None:
    base, operation, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    client = with_bazaar(HTTPFacilitatorClientSync(FacilitatorConfig(url=base)))
    try:
        if operation == "search":
            answer = client.extensions.bazaar.search(SearchDiscoveryResourcesParams(**params))
        else:
            answer = client.extensions.bazaar.list_resources(ListDiscoveryResourcesParams(**params))
        print(json.dumps(dataclasses.asdict(answer)))
    except Exception as error:  # the client raises ValueError with the body on non-2xx
        print(json.dumps({"error": str(error)}))


main()
