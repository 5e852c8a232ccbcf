"""The chat webhook handler as a test drives it: loaded from its file, fed API Gateway v2 events."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from deskintake.local.functions import LambdaContext
from deskintake.local.gateway import v2_event
from deskintake.local.template import HttpRoute

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {
    "DESKINTAKE_WHATSAPP_APP_SECRET": "wa-secret",
    "DESKINTAKE_WHATSAPP_VERIFY_TOKEN": "wa-verify",
    "DESKINTAKE_TELEGRAM_SECRET_TOKEN": "tg-secret",
    "DESKINTAKE_LIVECHAT_SECRET": "lc-secret",
}


def load_handler(relative: str, name: str) -> Any:
    """A function's handler module loaded from its file, as Lambda loads it."""
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(handler: Any, method: str, path: str, body: bytes = b"",
         headers: dict[str, str] | None = None, query: str = "") -> tuple[int, Any]:
    """One request through the handler: (status, JSON answer or text)."""
    event = v2_event(method, HttpRoute("ChatWebhookFunction", method, path), path, query,
                     {k.lower(): v for k, v in (headers or {}).items()}, body, {}, "203.0.113.9")
    response = handler.lambda_handler(event, LambdaContext(function_name="ChatWebhookFunction"))
    text = response.get("body") or ""
    try:
        return response["statusCode"], json.loads(text)
    except json.JSONDecodeError:
        return response["statusCode"], text
