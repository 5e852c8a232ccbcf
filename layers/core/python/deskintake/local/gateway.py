"""The local gateway: API Gateway HTTP API (payload v2) on loopback, in front of the real handlers.

Routes come from the functions' `HttpApi` events in template.yaml. Anything else is served
from the dashboard's static folder, with the same security headers CloudFront adds.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from deskintake.local.template import ACCOUNT, HttpRoute

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024  # the HTTP API payload limit
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass
class CompiledRoute:
    route: HttpRoute
    pattern: re.Pattern[str]
    specificity: tuple[int, int]

    @classmethod
    def of(cls, route: HttpRoute) -> CompiledRoute:
        regex, literal = "", 0
        for part in route.path.strip("/").split("/"):
            if not part:
                continue
            if part.endswith("+}"):
                regex += rf"/(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += rf"/(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += "/" + re.escape(part)
                literal += 1
        return cls(route, re.compile(f"^{regex or '/'}/?$"), (literal, -route.path.count("{")))


def v2_event(method: str, route: HttpRoute, raw_path: str, query: str, headers: dict[str, str],
             body: bytes, params: dict[str, str], source_ip: str) -> dict[str, Any]:
    """The API Gateway HTTP API payload format 2.0 event for one request."""
    now = datetime.now(UTC)
    text_body: str | None
    try:
        text_body, is_b64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text_body, is_b64 = base64.b64encode(body).decode(), True
    route_key = f"{route.method} {route.path}" if route.method != "ANY" else f"ANY {route.path}"
    query_params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": headers.get("user-agent", "")},
            "requestId": f"local-{time.monotonic_ns()}",
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": is_b64,
    }
    if query_params:
        event["queryStringParameters"] = query_params
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = text_body
    return event


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 resets connections when a burst of webhooks arrives
    # (seen under `make load`); platforms send bursts, so the local gateway must queue them.
    request_queue_size = 128
    daemon_threads = True


class LocalGateway:
    def __init__(self, routes: list[HttpRoute], invoke: Callable[[str, dict[str, Any]], Any], *,
                 static_dir: Path | None = None,
                 extra: dict[str, Callable[[], tuple[int, dict[str, Any]]]] | None = None) -> None:
        self.routes = sorted((CompiledRoute.of(r) for r in routes), key=lambda c: c.specificity,
                             reverse=True)
        self.invoke = invoke
        self.static_dir = static_dir
        self.extra = extra or {}
        self._server: ThreadingHTTPServer | None = None

    def match(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        for compiled in self.routes:
            if compiled.route.method not in {"ANY", method}:
                continue
            if (m := compiled.pattern.match(path)) is not None:
                return compiled.route, {k: unquote(v) for k, v in m.groupdict().items()}
        return None

    def start(self, host: str, port: int) -> None:
        import threading

        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "deskintake-local"

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug(fmt, *args)

            def _handle(self) -> None:
                gateway.handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle  # noqa: N815

        self._server = _Server((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- one request --------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        path = url.path or "/"
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(request, 413, {"content-type": "application/json"},
                       json.dumps({"message": "Request Entity Too Large"}).encode())
            request.close_connection = True
            return
        body = request.rfile.read(length) if length else b""
        if path in self.extra and request.command == "GET":
            status, payload = self.extra[path]()
            self._send(request, status, {"content-type": "application/json"}, json.dumps(payload).encode())
            return
        found = self.match(request.command, path)
        if found is None:
            self._static(request, path)
            return
        route, params = found
        headers = {k.lower(): v for k, v in request.headers.items()}
        event = v2_event(request.command, route, path, url.query, headers, body, params,
                         request.client_address[0])
        try:
            response = self.invoke(route.function, event)
        except Exception:
            log.exception("function %s failed", route.function)
            self._send(request, 500, {"content-type": "application/json"},
                       b'{"message":"Internal Server Error"}')
            return
        self._lambda_response(request, response)

    def _lambda_response(self, request: BaseHTTPRequestHandler, response: Any) -> None:
        if not isinstance(response, dict) or "statusCode" not in response:
            self._send(request, 200, {"content-type": "application/json"}, json.dumps(response).encode())
            return
        body = response.get("body") or ""
        raw = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
        headers = {k.lower(): str(v) for k, v in (response.get("headers") or {}).items()}
        for key, values in (response.get("multiValueHeaders") or {}).items():
            headers[key.lower()] = ", ".join(str(v) for v in values)
        self._send(request, int(response["statusCode"]), headers, raw,
                   cookies=list(response.get("cookies") or []))

    def _static(self, request: BaseHTTPRequestHandler, path: str) -> None:
        if self.static_dir is None or request.command not in {"GET", "HEAD"}:
            self._send(request, 404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
            return
        root = self.static_dir.resolve()
        target = (root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            target = root / "index.html"  # the dashboard routes in the browser
            if not target.is_file():
                self._send(request, 404, {"content-type": "text/plain"}, b"Not Found")
                return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in {"application/javascript", "application/json"}:
            kind += "; charset=utf-8"
        self._send(request, 200, {"content-type": kind, "cache-control": "no-cache", **SECURITY_HEADERS},
                   target.read_bytes())

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes,
              cookies: list[str] | None = None) -> None:
        request.send_response(status)
        for key, value in headers.items():
            if key not in {"content-length", "connection", "transfer-encoding"}:
                request.send_header(key, value)
        for cookie in cookies or []:
            request.send_header("set-cookie", cookie)
        request.send_header("content-length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
