"""Send a signed WhatsApp, Telegram or live-chat webhook to the running local stack."""

from __future__ import annotations

import argparse
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from deskintake.inbound.signatures import livechat_signature, whatsapp_signature

PLATFORMS = ("telegram", "whatsapp", "livechat")
DEFAULT_FROM = {
    "whatsapp": "6281234567890",
    "telegram": "700000001",
    "livechat": "budi@example.com",
}
# Meta sends the business number the customer wrote to; the local stack answers from it.
LOCAL_PHONE_NUMBER_ID = "100000000000001"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--platform", choices=PLATFORMS, required=True)
    parser.add_argument("--text", required=True, help="what the customer writes")
    parser.add_argument(
        "--from",
        dest="sender",
        default=None,
        help="WhatsApp number, Telegram chat id, or live-chat email / phone",
    )
    parser.add_argument("--name", default="Budi Santoso", help="the customer's display name")
    parser.add_argument("--category", default=None, help="live chat: the pre-chat form's choice")
    parser.add_argument(
        "--id",
        dest="message_id",
        default=None,
        help="platform message id (repeat it to see a retried delivery deduplicated)",
    )
    parser.add_argument(
        "--channel-id",
        default=None,
        help="the brand's channel: WhatsApp phone_number_id, Telegram bot id, widget site id",
    )
    parser.add_argument("--bad-signature", action="store_true", help="sign with a wrong secret")
    parser.add_argument("--state-dir", type=Path, default=None, help="the stack's state folder")
    parser.add_argument("--url", default=None, help="gateway base URL (default: from the stack)")
    parser.add_argument("--curl", action="store_true", help="also print an equivalent curl command")


def build_request(
    platform: str,
    text: str,
    *,
    sender: str | None = None,
    name: str = "",
    category: str | None = None,
    message_id: str | None = None,
    secrets_env: dict[str, str],
    now: float | None = None,
    channel_id: str | None = None,
) -> tuple[str, dict[str, str], bytes]:
    """(path, headers, body) of a realistic, correctly signed webhook for `platform`."""
    now = time.time() if now is None else now
    who = sender or DEFAULT_FROM[platform]
    if platform == "whatsapp":
        body = whatsapp_body(text, wa_id=who, name=name, message_id=message_id, now=now,
                             phone_number_id=channel_id or LOCAL_PHONE_NUMBER_ID)
        signature = whatsapp_signature(body, secrets_env["DESKINTAKE_WHATSAPP_APP_SECRET"])
        return "/webhooks/whatsapp", {"X-Hub-Signature-256": signature}, body
    if platform == "telegram":
        body = telegram_body(text, chat_id=int(who), name=name, message_id=message_id, now=now)
        return (
            "/webhooks/telegram" + (f"?bot={channel_id}" if channel_id else ""),
            {"X-Telegram-Bot-Api-Secret-Token": secrets_env["DESKINTAKE_TELEGRAM_SECRET_TOKEN"]},
            body,
        )
    if platform == "livechat":
        body = livechat_body(
            text, who=who, name=name, category=category, message_id=message_id, now=now,
            site_id=channel_id,
        )
        timestamp = str(int(now))
        return (
            "/webhooks/livechat",
            {
                "X-Timestamp": timestamp,
                "X-Signature": livechat_signature(
                    body, timestamp, secrets_env["DESKINTAKE_LIVECHAT_SECRET"]
                ),
            },
            body,
        )
    raise ValueError(f"unknown platform {platform!r}")


def whatsapp_body(text: str, *, wa_id: str, name: str, message_id: str | None, now: float,
                  phone_number_id: str = LOCAL_PHONE_NUMBER_ID) -> bytes:
    """A Cloud API `messages` notification as Meta sends it (non-ASCII escaped as \\uXXXX)."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": message_id or f"wamid.LOCAL{uuid.uuid4().hex.upper()}",
                                    "timestamp": str(int(now)),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode("ascii")


def telegram_body(
    text: str, *, chat_id: int, name: str, message_id: str | None, now: float
) -> bytes:
    """A Bot API `Update` with a private-chat message."""
    first, _, last = name.partition(" ")
    person: dict[str, Any] = {"id": chat_id, "first_name": first or "Customer"}
    if last:
        person["last_name"] = last
    payload = {
        "update_id": secrets.randbelow(2**31 - 1) + 1,
        "message": {
            "message_id": int(message_id)
            if message_id and message_id.isdigit()
            else secrets.randbelow(2**31 - 1) + 1,
            "from": {**person, "is_bot": False, "language_code": "id"},
            "chat": {**person, "type": "private"},
            "date": int(now),
            "text": text,
        },
    }
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def livechat_body(
    text: str, *, who: str, name: str, category: str | None, message_id: str | None, now: float,
    site_id: str | None = None,
) -> bytes:
    """Our widget's message event with its pre-chat form (contract in docs/webhooks.md)."""
    visitor: dict[str, Any] = {"id": f"v-{uuid.uuid4().hex[:12]}", "name": name}
    visitor["email" if "@" in who else "phone"] = who
    payload: dict[str, Any] = {
        "event": "message",
        "message_id": message_id or f"w-{uuid.uuid4().hex}",
        "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "visitor": visitor,
        "text": text,
    }
    if category:
        payload["category"] = category
    if site_id:
        payload["site_id"] = site_id
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def post(
    url: str, headers: dict[str, str], body: bytes, *, timeout: float = 30
) -> tuple[int, dict[str, Any]]:
    """POST the webhook; (HTTP status, JSON answer)."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        answer = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        answer = {"body": raw.decode("utf-8", "replace")}
    return status, answer if isinstance(answer, dict) else {"body": answer}


def curl_command(url: str, headers: dict[str, str], body: bytes) -> str:
    import shlex

    parts = [
        "curl",
        "-sS",
        "-X",
        "POST",
        shlex.quote(url),
        "-H",
        shlex.quote("content-type: application/json"),
    ]
    for key, value in headers.items():
        parts += ["-H", shlex.quote(f"{key}: {value}")]
    parts += ["--data-binary", shlex.quote(body.decode("utf-8"))]
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    from deskintake.local.attach import stack_info

    info = stack_info(args.state_dir)
    base = (args.url or info["dashboard"]).rstrip("/")
    env = dict(info["env"])
    if args.bad_signature:
        env = {k: v + "-wrong" if k.startswith("DESKINTAKE_") else v for k, v in env.items()}
    path, headers, body = build_request(
        args.platform,
        args.text,
        sender=args.sender,
        name=args.name,
        category=args.category,
        message_id=args.message_id,
        secrets_env=env,
        channel_id=args.channel_id,
    )
    if args.curl:
        print(curl_command(base + path, headers, body))
    status, answer = post(base + path, headers, body)
    print(f"HTTP {status}")
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    for filed in answer.get("tickets") or []:
        _show_ticket(args.state_dir, str(filed["ticket_id"]))
    return 0 if 200 <= status < 300 else 1


def _show_ticket(state_dir: Path | None, ticket_id: str) -> None:
    """Print the ticket and its thread as stored in the local stack."""
    from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
    from deskintake.local.attach import attach
    from deskintake.runtime.wiring import client

    info = attach(state_dir)
    repo = DynamoTicketRepository(client("dynamodb"), info["env"]["DESKINTAKE_TABLE"])
    ticket = repo.get(ticket_id)
    print(
        f"\n{ticket.id}  [{ticket.status}] {ticket.channel} {ticket.customer} "
        f"({ticket.customer_name})"
    )
    print(
        f"  category {ticket.category}  priority {ticket.priority}  lang {ticket.lang}  "
        f"confidence {ticket.confidence:.2f}  triage {ticket.needs_triage}"
    )
    for line in ticket.explanation:
        print(f"  why: {line}")
    for message in repo.messages(ticket_id):
        extra = f" x{message.repeat_count}" if message.repeat_count > 1 else ""
        status = f" ({message.delivery_status})" if message.delivery_status else ""
        print(f"  {message.direction:>3}{extra}{status}: {message.text}")
