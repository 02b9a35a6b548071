"""A real x402 v2 seller built with the official PyPI `x402` SDK (Flask middleware, EVM exact).

Prints {"port": N} once listening. A local stand-in facilitator answers GET /supported, which
the SDK fetches at start-up; verification and settlement would need a blockchain.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask import Flask, jsonify
from werkzeug.serving import make_server
from x402 import x402ResourceServerSync
from x402.http import HTTPFacilitatorClientSync
from x402.http.middleware.flask import payment_middleware
from x402.http.types import PaymentOption, RouteConfig
from x402.mechanisms.evm.exact import ExactEvmServerScheme

PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
KINDS = [
    {"x402Version": 2, "scheme": "exact", "network": "eip155:8453"},
    {"x402Version": 2, "scheme": "exact", "network": "eip155:84532"},
]


class Facilitator(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.startswith("/supported"):
            body = json.dumps({"kinds": KINDS, "extensions": [], "signers": {}}).encode()
            self.send_response(200)
        else:
            body = b'{"error":"not served by the test facilitator"}'
            self.send_response(501)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


facilitator = ThreadingHTTPServer(("127.0.0.1", 0), Facilitator)
threading.Thread(target=facilitator.serve_forever, daemon=True).start()
facilitator_url = f"http://127.0.0.1:{facilitator.server_address[1]}"

server = x402ResourceServerSync(HTTPFacilitatorClientSync({"url": facilitator_url}))
server.register("eip155:*", ExactEvmServerScheme())

routes = {
    "GET /quote": RouteConfig(
        accepts=[
            PaymentOption(scheme="exact", pay_to=PAY_TO, price="$0.003", network="eip155:8453"),
            PaymentOption(scheme="exact", pay_to=PAY_TO, price="$0.003", network="eip155:84532"),
        ],
        description="A stock quote",
        mime_type="application/json",
        service_name="Quotes",
        tags=["finance"],
    ),
    "POST /classify": RouteConfig(
        accepts=PaymentOption(scheme="exact", pay_to=PAY_TO, price="$0.02", network="eip155:8453"),
        description="Classify a text",
        mime_type="application/json",
    ),
}

app = Flask(__name__)
payment_middleware(app, routes, server)


@app.get("/quote")
def quote():
    return jsonify(symbol="X", price=1)


@app.post("/classify")
def classify():
    return jsonify(label="news")


http_server = make_server("127.0.0.1", 0, app, threaded=True)
print(json.dumps({"port": http_server.server_port}), flush=True)
sys.stdout.flush()
http_server.serve_forever()
