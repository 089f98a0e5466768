"""A local server that speaks Finnhub's API (REST `/quote` and websocket trades), for tests and benches.

It behaves as `../shared/docs/finnhub-api.md` describes: token in header or query (401 otherwise, the
websocket handshake included),
all-zero quotes for unknown symbols, 429 with Retry-After over a per-key rate limit, and a websocket
that answers subscribe messages with trades, sends `{"type":"ping"}` and can drop its clients.
Tests script misbehaviour per symbol with `plan(symbol, *behaviours)`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve


@dataclass
class Call:
    at: float
    symbol: str
    status: int


@dataclass
class FinnhubServer:
    token: str = "test-token"  # noqa: S105 - a test server's fixed token
    prices: dict[str, float] = field(default_factory=dict)
    rate_limit_per_second: int | None = None  # 429 beyond this many calls in any one-second window
    retry_after: float | None = 1.0
    calls: list[Call] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    ws_connections: int = 0
    ws_refused: int = 0  # handshakes refused with 401

    def __post_init__(self) -> None:
        self._plans: dict[str, deque[str | tuple[str, float]]] = {}
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self._clients: list[ServerConnection] = []
        self._http: ThreadingHTTPServer | None = None
        self._ws: Server | None = None

    # -- scripting --------------------------------------------------------------------------------
    def plan(self, symbol: str, *behaviours: str | tuple[str, float]) -> None:
        """Queue answers for `symbol`: "ok", "zero", "500", "401" (a refusal of the right token), "malformed"
        (not JSON), "missing_fields" (a JSON object without `c`/`t`), ("429", retry_after), ("slow", s)."""
        with self._lock:
            self._plans.setdefault(symbol, deque()).extend(behaviours)

    def calls_for(self, symbol: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.symbol == symbol]

    # -- REST -------------------------------------------------------------------------------------
    def _quote(self, symbol: str) -> dict[str, Any]:
        if symbol not in self.prices:
            return {"c": 0, "d": None, "dp": None, "h": 0, "l": 0, "o": 0, "pc": 0, "t": 0}
        price = self.prices[symbol]
        prev = round(price * 0.99, 4)
        return {
            "c": price,
            "d": round(price - prev, 4),
            "dp": round(100 * (price - prev) / prev, 4),
            "h": price * 1.01,
            "l": price * 0.98,
            "o": prev,
            "pc": prev,
            "t": int(time.time()),
        }

    def _answer(self, symbol: str) -> tuple[int, dict[str, str], bytes]:
        now = time.monotonic()
        with self._lock:
            behaviour = self._plans[symbol].popleft() if self._plans.get(symbol) else "ok"
            if self.rate_limit_per_second is not None:
                while self._window and now - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) >= self.rate_limit_per_second:
                    behaviour = ("429", self.retry_after or 0.0)
                else:
                    self._window.append(now)
        kind, arg = behaviour if isinstance(behaviour, tuple) else (behaviour, 0.0)
        status = {"429": 429, "500": 500, "401": 401}.get(kind, 200)
        with self._lock:  # recorded on arrival, so a slow answer still in progress is already counted
            self.calls.append(Call(now, symbol, status))
        if kind == "429":
            headers = {"Retry-After": f"{arg:g}"} if self.retry_after is not None else {}
            body = b'{"error":"API limit reached. Please try again later. Remaining Limit: 0"}'
            return 429, headers, body
        if kind == "500":
            return 500, {}, b'{"error":"internal"}'
        if kind == "401":
            return 401, {}, b'{"error":"Invalid API key"}'
        if kind == "malformed":
            return 200, {}, b'{"c": 12.5, "t": '
        if kind == "missing_fields":
            return 200, {}, b'{"d": 0.5, "dp": 0.4}'
        if kind == "slow":
            time.sleep(arg)
        if kind == "zero":
            return (
                200,
                {},
                json.dumps({"c": 0, "d": None, "dp": None, "h": 0, "l": 0, "o": 0, "pc": 0, "t": 0}).encode(),
            )
        return 200, {}, json.dumps(self._quote(symbol)).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                token = self.headers.get("X-Finnhub-Token") or (query.get("token") or [""])[0]
                symbol = (query.get("symbol") or [""])[0]
                if token != server.token:
                    with server._lock:
                        server.calls.append(Call(time.monotonic(), symbol, 401))
                    self._send(401, {}, b'{"error":"Invalid API key"}')
                    return
                if url.path != "/api/v1/quote":
                    self._send(404, {}, b'{"error":"not found"}')
                    return
                self._send(*server._answer(symbol))

        return Handler

    # -- websocket --------------------------------------------------------------------------------
    def _ws_authorise(self, conn: ServerConnection, request: Request) -> Response | None:
        """A wrong token is refused at the handshake with HTTP 401, as the REST API refuses it."""
        if (parse_qs(urlparse(request.path).query).get("token") or [""])[0] == self.token:
            return None
        with self._lock:
            self.ws_refused += 1
        response = conn.respond(401, '{"error":"Invalid API key"}\n')
        response.headers["Content-Type"] = "application/json"
        return response

    def _ws_handler(self, conn: ServerConnection) -> None:
        with self._lock:
            self.ws_connections += 1
            self._clients.append(conn)
        try:
            for raw in conn:
                message = json.loads(raw)
                if message.get("type") == "subscribe":
                    with self._lock:
                        self.subscriptions.append(str(message["symbol"]))
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                if conn in self._clients:
                    self._clients.remove(conn)

    def push(self, message: dict[str, Any] | str) -> int:
        """Send a message (or raw text) to every connected websocket client; return how many got it."""
        text = message if isinstance(message, str) else json.dumps(message)
        with self._lock:
            clients = list(self._clients)
        sent = 0
        for conn in clients:
            try:
                conn.send(text)
                sent += 1
            except ConnectionClosed:
                continue
        return sent

    def trades(self, symbol: str, count: int, start_ms: int | None = None) -> dict[str, Any]:
        base = start_ms or int(time.time() * 1000)
        price = self.prices.get(symbol, 100.0)
        return {
            "type": "trade",
            "data": [
                {"s": symbol, "p": price + i * 0.01, "t": base + i, "v": 10 + i, "c": ["1"]} for i in range(count)
            ],
        }

    def drop_clients(self) -> None:
        """Close every websocket, as Finnhub does on deployments."""
        with self._lock:
            clients, self._clients = list(self._clients), []
        for conn in clients:
            conn.close(1001, "going away")

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}/api/v1"

    @property
    def ws_url(self) -> str:
        assert self._ws is not None
        return f"ws://127.0.0.1:{self._ws.socket.getsockname()[1]}"

    def start(self) -> FinnhubServer:
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        self._ws = serve(self._ws_handler, "127.0.0.1", 0, process_request=self._ws_authorise)
        threading.Thread(target=self._ws.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._http:
            self._http.shutdown()
            self._http.server_close()
        if self._ws:
            self.drop_clients()
            self._ws.shutdown()
