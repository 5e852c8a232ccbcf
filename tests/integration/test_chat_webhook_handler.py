"""The chat webhook Lambda handler itself, with API Gateway v2 events, inside moto."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
from deskintake.commands.chat_send import build_request
from deskintake.domain.model import Channel

from tests.chat_support import SECRETS, call

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def handler(chat_handler: Any) -> Any:
    return chat_handler


def stored(moto_stack: dict[str, Any]) -> tuple[int, list[str]]:
    env = moto_stack["env"]
    items = moto_stack["client"]("dynamodb").scan(
        TableName=env["DESKINTAKE_TABLE"], Select="COUNT"
    )["Count"]
    listed = moto_stack["client"]("s3").list_objects_v2(
        Bucket=env["DESKINTAKE_RAW_BUCKET"], Prefix="webhooks/"
    )
    return items, [o["Key"] for o in listed.get("Contents", [])]


@pytest.mark.parametrize("platform", ["whatsapp", "telegram", "livechat"])
def test_signed_message_files_a_ticket_and_keeps_the_raw_body(
    handler: Any, moto_stack: dict[str, Any], platform: str
) -> None:
    sender = {"whatsapp": "6281200000001", "telegram": "700000009", "livechat": "sari@example.com"}[
        platform
    ]
    path, headers, body = build_request(
        platform,
        "Saldo saya terpotong tapi pulsa belum masuk",
        sender=sender,
        name="Sari",
        secrets_env=SECRETS,
    )
    status, answer = call(handler, "POST", path, body=body, headers=headers)
    assert status == 200, answer
    (filed,) = answer["tickets"]
    repo = DynamoTicketRepository(
        moto_stack["client"]("dynamodb"), moto_stack["env"]["DESKINTAKE_TABLE"]
    )
    ticket = repo.get(filed["ticket_id"])
    assert ticket.channel == Channel(platform) and ticket.customer == sender
    inbound = next(m for m in repo.messages(ticket.id) if m.direction == "in")
    _, keys = stored(moto_stack)
    assert inbound.raw_key in keys
    raw = (
        moto_stack["client"]("s3")
        .get_object(Bucket=moto_stack["env"]["DESKINTAKE_RAW_BUCKET"], Key=inbound.raw_key)["Body"]
        .read()
    )
    assert raw == body


@pytest.mark.parametrize("platform", ["whatsapp", "telegram", "livechat"])
def test_bad_signature_is_401_and_nothing_is_stored(
    handler: Any, moto_stack: dict[str, Any], platform: str
) -> None:
    path, headers, body = build_request(
        platform, "halo", secrets_env={k: v + "!" for k, v in SECRETS.items()}
    )
    before = stored(moto_stack)
    assert call(handler, "POST", path, body=body, headers=headers) == (
        401,
        {"message": "unauthorized"},
    )
    assert call(handler, "POST", path, body=body) == (401, {"message": "unauthorized"})
    assert stored(moto_stack) == before


def test_malformed_and_oversized_bodies(handler: Any, moto_stack: dict[str, Any]) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRETS["DESKINTAKE_TELEGRAM_SECRET_TOKEN"]}
    status, answer = call(
        handler, "POST", "/webhooks/telegram", body=b'{"message": {}}', headers=headers
    )
    assert status == 400 and "update_id" in answer["message"]
    status, _ = call(
        handler,
        "POST",
        "/webhooks/telegram",
        body=b"{" + b" " * (256 * 1024) + b"}",
        headers=headers,
    )
    assert status == 413
    assert stored(moto_stack)[1] == []


def test_binary_bodies_are_checked_as_bytes(handler: Any, moto_stack: dict[str, Any]) -> None:
    # Not UTF-8: the gateway base64-encodes it; the signature still covers the original bytes.
    from deskintake.inbound.signatures import whatsapp_signature

    body = b'{"object": "whatsapp_business_account", "entry": [\xff]}'
    headers = {
        "X-Hub-Signature-256": whatsapp_signature(body, SECRETS["DESKINTAKE_WHATSAPP_APP_SECRET"])
    }
    status, answer = call(handler, "POST", "/webhooks/whatsapp", body=body, headers=headers)
    assert status == 400 and "UTF-8" in answer["message"]


def test_whatsapp_handshake(handler: Any) -> None:
    query = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wa-verify"
    assert call(handler, "GET", "/webhooks/whatsapp", query=query) == (200, 1158201444)
    assert (
        call(handler, "GET", "/webhooks/whatsapp", query=query.replace("wa-verify", "nope"))[0]
        == 403
    )


def test_secrets_come_from_ssm_in_the_cloud(
    handler: Any, moto_stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DESKINTAKE_LOCAL")
    monkeypatch.delenv("DESKINTAKE_TELEGRAM_SECRET_TOKEN")
    name = moto_stack["env"]["DESKINTAKE_TELEGRAM_SECRET_TOKEN_PARAM"]
    path, headers, body = build_request(
        "telegram", "halo kak", secrets_env={"DESKINTAKE_TELEGRAM_SECRET_TOKEN": "from-ssm-token"}
    )
    assert (
        call(handler, "POST", path, body=body, headers=headers)[0] == 401
    )  # no parameter yet: fail closed
    moto_stack["client"]("ssm").put_parameter(
        Name=name, Value="from-ssm-token", Type="SecureString"
    )
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    status, answer = call(handler, "POST", path, body=body, headers=headers)
    assert status == 200 and answer["tickets"], answer


def test_a_replayed_livechat_request_is_refused_after_five_minutes(
    handler: Any, moto_stack: dict[str, Any]
) -> None:
    path, headers, body = build_request(
        "livechat", "halo", secrets_env=SECRETS, now=time.time() - 301
    )
    assert call(handler, "POST", path, body=body, headers=headers)[0] == 401
    path, headers, body = build_request(
        "livechat", "halo", secrets_env=SECRETS, now=time.time() - 200
    )
    assert call(handler, "POST", path, body=body, headers=headers)[0] == 200


def _poll(
    handler: Any, query: str, *, secret: str = SECRETS["DESKINTAKE_LIVECHAT_SECRET"]
) -> tuple[int, Any]:
    from deskintake.inbound.signatures import livechat_signature

    ts = str(int(time.time()))
    headers = {"X-Timestamp": ts, "X-Signature": livechat_signature(query.encode(), ts, secret)}
    return call(handler, "GET", "/webhooks/livechat/replies", headers=headers, query=query)


def test_the_widget_polls_its_replies_when_no_callback_is_configured(
    handler: Any, moto_stack: dict[str, Any]
) -> None:
    from urllib.parse import urlencode

    path, headers, body = build_request(
        "livechat", "Poin reward saya tidak masuk", sender="Rina@Example.com", secrets_env=SECRETS
    )
    status, answer = call(handler, "POST", path, body=body, headers=headers)
    assert status == 200 and answer["tickets"][0]["acknowledged"]
    ticket_id = answer["tickets"][0]["ticket_id"]
    status, polled = _poll(handler, urlencode({"email": "rina@example.com"}))
    assert status == 200 and polled["ticket_id"] == ticket_id
    (reply,) = polled["replies"]
    assert ticket_id in reply["text"] and reply["text"].startswith("Terima kasih")
    repo = DynamoTicketRepository(
        moto_stack["client"]("dynamodb"), moto_stack["env"]["DESKINTAKE_TABLE"]
    )
    (ack,) = [m for m in repo.messages(ticket_id) if m.direction == "out"]
    assert ack.delivery_status == "delivered"  # handed to the widget
    later = urlencode({"email": "rina@example.com", "since": reply["sent_at"]})
    assert _poll(handler, later) == (200, {"ticket_id": ticket_id, "replies": []})
    assert _poll(handler, urlencode({"email": "rina@example.com"}), secret="wrong")[0] == 401
    assert _poll(handler, urlencode({"since": "yesterday"}))[0] == 400
    assert _poll(handler, urlencode({"phone": "+628111"}))[1] == {"ticket_id": None, "replies": []}
