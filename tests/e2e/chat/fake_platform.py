"""A fake WhatsApp Graph API, Telegram Bot API and widget callback, over real HTTP on loopback.

It checks what the real platforms check (bearer token, bot token in the path, the widget's
signature) and answers in their shapes, so the senders are tested end to end, not mocked.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deskintake.inbound.signatures import verify_livechat

WA_TOKEN = "fake-wa-access-token"
WA_PHONE_ID = "100000000000001"
TG_TOKEN = "123456:FAKE-bot-token"
LIVECHAT_SECRET = "dev-livechat-secret"


@dataclass
class Sent:
    platform: str
    path: str
    headers: dict[str, str]
    payload: dict[str, Any]
    answer_id: str


@dataclass
class FakePlatform:
    host: str = "127.0.0.1"
    sent: list[Sent] = field(default_factory=list)
    fail_with: int | None = None  # answer every send with this HTTP status
    _server: ThreadingHTTPServer | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> FakePlatform:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                status, answer = fake.handle(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def to(self, recipient: str) -> list[Sent]:
        """What was sent to one customer (WhatsApp number, Telegram chat id, widget customer)."""
        with self._lock:
            return [
                s
                for s in self.sent
                if str(s.payload.get("to") or s.payload.get("chat_id")) == recipient
            ]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if self.fail_with is not None:
            return self.fail_with, {"error": {"message": "fake outage", "code": 2}}
        payload = json.loads(body)
        n = next(self._ids)
        if m := re.fullmatch(r"/v[\d.]+/(\d+)/messages", path):
            if headers.get("authorization") != f"Bearer {WA_TOKEN}":
                return 401, {
                    "error": {
                        "message": "Invalid OAuth access token.",
                        "type": "OAuthException",
                        "code": 190,
                    }
                }
            if (
                m.group(1) != WA_PHONE_ID
                or payload.get("messaging_product") != "whatsapp"
                or not payload.get("to")
            ):
                return 400, {"error": {"message": "(#100) Invalid parameter", "code": 100}}
            wamid = f"wamid.FAKE{n:06d}"
            self._record("whatsapp", path, headers, payload, wamid)
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [{"input": payload["to"], "wa_id": payload["to"]}],
                "messages": [{"id": wamid}],
            }
        if m := re.fullmatch(r"/bot([^/]+)/sendMessage", path):
            if m.group(1) != TG_TOKEN:
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            if "chat_id" not in payload or not payload.get("text"):
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message text is empty",
                }
            self._record("telegram", path, headers, payload, str(n))
            return 200, {
                "ok": True,
                "result": {
                    "message_id": n,
                    "date": int(time.time()),
                    "chat": {"id": payload["chat_id"], "type": "private"},
                    "text": payload["text"],
                },
            }
        if path == "/livechat/callback":
            from datetime import UTC, datetime

            try:
                verify_livechat(
                    body,
                    headers.get("x-signature"),
                    headers.get("x-timestamp"),
                    LIVECHAT_SECRET,
                    now=datetime.now(UTC),
                )
            except Exception as exc:  # noqa: BLE001 - the answer says why
                return 401, {"message": str(exc)}
            answer_id = f"lc-{n}"
            self._record("livechat", path, headers, payload, answer_id)
            return 200, {"id": answer_id}
        return 404, {"message": f"no such fake endpoint {path}"}

    def _record(
        self,
        platform: str,
        path: str,
        headers: dict[str, str],
        payload: dict[str, Any],
        answer_id: str,
    ) -> None:
        with self._lock:
            self.sent.append(Sent(platform, path, headers, payload, answer_id))
