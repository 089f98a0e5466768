"""A stand-in for Finnhub's REST `/quote` on 127.0.0.1 (Finnhub itself is not reachable from the test machine).

It answers like the documented API (../shared/docs/finnhub-api.md): a quote object with `c d dp h l o pc t`,
an all-zero object for unknown symbols, and HTTP 429 with Retry-After for every `rate_limit_every`-th call, so
the producer's REST path (rate limiting, zero quotes, fetch errors) runs for real and exports its metrics.
Symbols starting with `ERR` get HTTP 500 (the producer retries, then counts a fetch error).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

KNOWN = {"AAPL": 190.0, "MSFT": 410.0}


class FinnhubStandIn:
    def __init__(self, rate_limit_every: int = 4):
        self.rate_limit_every = rate_limit_every
        self.calls = 0
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin.handle(self)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        symbol = parse_qs(url.query).get("symbol", [""])[0]
        with self._lock:
            self.calls += 1
            limited = self.calls % self.rate_limit_every == 0
        if not url.path.endswith("/quote"):
            self._send(request, 404, {"error": "not found"})
        elif limited:
            self._send(request, 429, {"error": "API limit reached"}, {"Retry-After": "1"})
        elif symbol.startswith("ERR"):
            self._send(request, 500, {"error": "internal"})
        elif symbol in KNOWN:
            now = int(time.time())
            price = KNOWN[symbol] * (1 + 0.001 * (now % 7 - 3))
            prev = KNOWN[symbol]
            quote = {"c": round(price, 2), "d": round(price - prev, 2), "dp": round(100 * (price / prev - 1), 4)}
            quote |= {"h": round(price * 1.01, 2), "l": round(price * 0.99, 2), "o": prev, "pc": prev, "t": now}
            self._send(request, 200, quote)
        else:
            self._send(request, 200, {"c": 0, "d": None, "dp": None, "h": 0, "l": 0, "o": 0, "pc": 0, "t": 0})

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler, status: int, body: object, headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(payload)
