"""Senders for the chat channels: WhatsApp Cloud API, Telegram Bot API, our live-chat widget.

Each returns the id the platform gave the message, which the outbox indexes so the platform's
later status webhooks find it. Base URLs are configurable so tests (and the local stack) point
them at a fake platform server. Secrets are fetched through a callable at send time, so a
rotated token is picked up when the parameter cache expires.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from deskintake.domain.errors import ConfigError, TransientError
from deskintake.domain.ticket import Message, Ticket
from deskintake.inbound.signatures import livechat_signature

log = logging.getLogger(__name__)

SecretSource = Callable[[], str | None]
DEFAULT_TIMEOUT = 8.0


class SendError(TransientError):
    """The platform refused or could not be reached; the outbox records it as failed."""


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """POST JSON and return the JSON answer; SendError with the platform's reason otherwise."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    raw = post_bytes(url, body, headers={"accept": "application/json", **(headers or {})},
                     timeout=timeout)
    try:
        answer = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise SendError(f"{_host(url)} answered with something that is not JSON") from exc
    return answer if isinstance(answer, dict) else {"result": answer}


def post_bytes(url: str, body: bytes, *, headers: dict[str, str], timeout: float) -> bytes:
    """POST a JSON body as given (signatures cover these exact bytes) and return the raw answer."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw: bytes = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode("utf-8", "replace")
        raise SendError(f"HTTP {exc.code} from {_host(url)}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SendError(f"cannot reach {_host(url)}: {exc}") from exc
    return raw


def _host(url: str) -> str:
    # Never log a full URL: Telegram's carries the bot token in its path.
    return url.split("/")[2] if "://" in url else "platform"


def _secret(source: SecretSource, what: str) -> str:
    value = source()
    if not value:
        raise ConfigError(f"{what} is not configured")
    return value


class WhatsAppSender:
    """POST {base}/{version}/{phone number id}/messages with the business access token."""

    def __init__(
        self,
        *,
        base_url: str,
        api_version: str,
        phone_number_id: SecretSource,
        access_token: SecretSource,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.phone_number_id = phone_number_id
        self.access_token = access_token
        self.timeout = timeout

    def send(self, ticket: Ticket, message: Message) -> str:
        # The number the customer wrote to, when the message names it, else our configured one.
        number_id = str(message.meta.get("phone_number_id") or "") or _secret(
            self.phone_number_id, "WhatsApp phone number id"
        )
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": ticket.customer,
            "type": "text",
            "text": {"preview_url": False, "body": message.text[:4096]},
        }
        if reply_to := message.meta.get("reply_to_platform_id"):
            payload["context"] = {"message_id": str(reply_to)}
        answer = post_json(
            f"{self.base_url}/{self.api_version}/{quote(number_id)}/messages",
            payload,
            headers={
                "authorization": f"Bearer {_secret(self.access_token, 'WhatsApp access token')}"
            },
            timeout=self.timeout,
        )
        messages = answer.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or not isinstance(messages[0], dict)
            or not messages[0].get("id")
        ):
            raise SendError("WhatsApp answered without a message id")
        return str(messages[0]["id"])


class TelegramSender:
    """POST {base}/bot{token}/sendMessage to the customer's chat."""

    def __init__(
        self, *, base_url: str, bot_token: SecretSource, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot_token = bot_token
        self.timeout = timeout

    def send(self, ticket: Ticket, message: Message) -> str:
        token = _secret(self.bot_token, "Telegram bot token")
        payload: dict[str, Any] = {
            "chat_id": int(ticket.customer)
            if ticket.customer.lstrip("-").isdigit()
            else ticket.customer,
            "text": message.text[:4096],
        }
        reply_to = str(message.meta.get("reply_to_platform_id") or "")
        chat, _, msg_id = reply_to.rpartition(":")
        if msg_id.isdigit() and chat == ticket.customer:
            payload["reply_parameters"] = {
                "message_id": int(msg_id),
                "allow_sending_without_reply": True,
            }
        answer = post_json(
            f"{self.base_url}/bot{quote(token, safe=':')}/sendMessage",
            payload,
            timeout=self.timeout,
        )
        result = answer.get("result")
        if not answer.get("ok") or not isinstance(result, dict) or "message_id" not in result:
            raise SendError(
                f"Telegram refused the message: {answer.get('description') or 'no result'}"
            )
        chat_id = (result.get("chat") or {}).get("id", ticket.customer)
        # The same "<chat>:<message>" form inbound messages use: unique per chat on Telegram.
        return f"{chat_id}:{result['message_id']}"


class LivechatSender:
    """Our widget: POST the reply, signed like the widget's webhooks, to its callback URL.

    Without a callback URL the reply stays in the outbox (already stored) for the widget to
    fetch, and the id returned marks it as waiting there.
    """

    def __init__(
        self, *, callback_url: SecretSource, secret: SecretSource, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.callback_url = callback_url
        self.secret = secret
        self.timeout = timeout

    def send(self, ticket: Ticket, message: Message) -> str:
        url = self.callback_url()
        if not url:
            return f"livechat:{ticket.id}:{message.id}"
        payload = {
            "event": "reply",
            "reply_id": str(uuid.uuid4()),
            "ticket_id": ticket.id,
            "message_id": message.id,
            "to": ticket.customer,
            "text": message.text,
            "sent_at": message.created_at.isoformat(),
        }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        timestamp = str(int(time.time()))
        signature = livechat_signature(body, timestamp, _secret(self.secret, "live-chat secret"))
        raw = post_bytes(url, body, headers={"x-timestamp": timestamp, "x-signature": signature},
                         timeout=self.timeout)
        try:
            answer = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            answer = {}  # the widget's own answer is optional: the reply was delivered
        given = answer.get("id") if isinstance(answer, dict) else None
        return str(given) if given else f"livechat:{payload['reply_id']}"


class LocalSinkSender:
    """Local stack without a platform to talk to: logs the reply and gives it a local id."""

    def __init__(self, platform: str) -> None:
        self.platform = platform

    def send(self, ticket: Ticket, message: Message) -> str:
        log.info("local %s reply to %s: %s", self.platform, ticket.customer, message.text[:200])
        return f"local-{self.platform}-{uuid.uuid4().hex[:16]}"
