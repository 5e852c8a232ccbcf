"""Chat webhooks on the local stack over HTTP: refusals, idempotency under concurrency, threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from deskintake.commands.chat_send import build_request
from deskintake.domain.model import Channel, TicketStatus
from deskintake.domain.ticket import Direction

from tests.e2e.chat.conftest import ROOT, ChatStack

pytestmark = pytest.mark.e2e


def fresh(platform: str) -> str:
    n = uuid.uuid4().int
    return {
        "whatsapp": f"628{n % 10**10:010d}",
        "telegram": str(800_000_000 + n % 10**8),
        "livechat": f"cust-{n % 10**8}@example.com",
    }[platform]


def request(
    stack: ChatStack,
    platform: str,
    text: str,
    *,
    sender: str,
    message_id: str | None = None,
    category: str | None = None,
    channel_id: str | None = None,
) -> tuple[str, dict[str, str], bytes]:
    return build_request(
        platform,
        text,
        sender=sender,
        name="Test Customer",
        category=category,
        message_id=message_id,
        secrets_env=stack.env,
        channel_id=channel_id,
    )


def inbound_of(stack: ChatStack, ticket_id: str) -> list[Any]:
    return [m for m in stack.repo().messages(ticket_id) if m.direction == Direction.INBOUND]


def tickets_of(stack: ChatStack, channel: str, customer: str) -> list[dict[str, Any]]:
    from deskintake.adapters._dynamo import from_attrs

    ddb = stack.client("dynamodb")
    found = []
    for page in ddb.get_paginator("scan").paginate(TableName=stack.env["DESKINTAKE_TABLE"]):
        for item in page["Items"]:
            data = from_attrs(item)
            if (
                data.get("sk") == "T"
                and data.get("customer") == customer
                and data.get("channel") == channel
            ):
                found.append(data)
    return found


@pytest.mark.parametrize("platform", ["whatsapp", "telegram", "livechat"])
def test_the_same_delivery_fired_concurrently_files_one_message(
    chat_stack: ChatStack, platform: str
) -> None:
    customer = fresh(platform)
    message_id = (
        str(uuid.uuid4().int % 10**9) if platform == "telegram" else f"retry-{uuid.uuid4().hex}"
    )
    path, headers, body = request(
        chat_stack,
        platform,
        "Saya sudah transfer tapi saldo belum bertambah",
        sender=customer,
        message_id=message_id,
    )
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: chat_stack.post(path, body, headers), range(10)))
    assert all(status == 200 for status, _ in answers), answers
    ticket_ids = {a["tickets"][0]["ticket_id"] for _, a in answers}
    assert len(ticket_ids) == 1
    assert sum(a["tickets"][0]["created"] for _, a in answers) == 1
    (ticket,) = tickets_of(chat_stack, platform, customer)
    (stored,) = inbound_of(chat_stack, ticket["id"])
    assert stored.repeat_count == 1
    assert (
        len(
            [
                s
                for s in chat_stack.fake.sent
                if s.payload.get("to") == customer or str(s.payload.get("chat_id")) == customer
            ]
        )
        == 1
    )  # one ack, not ten


@pytest.mark.parametrize("platform", ["whatsapp", "telegram", "livechat"])
def test_five_identical_texts_at_once_are_one_message_with_repeat_count_five(
    chat_stack: ChatStack, platform: str
) -> None:
    customer = fresh(platform)
    requests = [
        request(
            chat_stack,
            platform,
            "Halo kak, tolong dibantu, pesanan saya belum masuk",
            sender=customer,
        )
        for _ in range(5)
    ]
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda r: chat_stack.post(*r[:1], r[2], r[1]), requests))
    assert all(status == 200 for status, _ in answers), answers
    (ticket,) = tickets_of(chat_stack, platform, customer)
    (stored,) = inbound_of(chat_stack, ticket["id"])
    assert stored.repeat_count == 5
    assert sum(a["tickets"][0]["created"] for _, a in answers) == 1
    assert sum(a["tickets"][0]["repeated"] for _, a in answers) == 4


def test_later_messages_join_the_open_ticket_and_a_closed_one_makes_a_linked_new_ticket(
    chat_stack: ChatStack,
) -> None:
    customer = fresh("whatsapp")
    first = chat_stack.post(
        *_p(request(chat_stack, "whatsapp", "pulsa saya belum masuk", sender=customer))
    )
    second = chat_stack.post(
        *_p(request(chat_stack, "whatsapp", "sudah 1 jam kak", sender=customer))
    )
    ticket_id = first[1]["tickets"][0]["ticket_id"]
    assert (
        second[1]["tickets"][0]["ticket_id"] == ticket_id and not second[1]["tickets"][0]["created"]
    )
    repo = chat_stack.repo()
    ticket = repo.get(ticket_id)
    assert ticket.message_count == 2
    repo.save(
        ticket.with_status(TicketStatus.CLOSED, datetime.now(UTC)), expected_version=ticket.version
    )
    third = chat_stack.post(
        *_p(request(chat_stack, "whatsapp", "masalah baru: refund belum masuk", sender=customer))
    )
    new = third[1]["tickets"][0]
    assert new["created"] and new["ticket_id"] != ticket_id
    assert repo.get(new["ticket_id"]).linked_ticket == ticket_id


def _p(r: tuple[str, dict[str, str], bytes]) -> tuple[str, bytes, dict[str, str]]:
    return r[0], r[2], r[1]


@pytest.mark.parametrize("platform", ["whatsapp", "telegram", "livechat"])
def test_missing_or_wrong_authentication_gets_401_and_stores_nothing(
    chat_stack: ChatStack, platform: str
) -> None:
    customer = fresh(platform)
    path, headers, body = request(
        chat_stack, platform, "kartu saya 4111 1111 1111 1111 hilang", sender=customer
    )
    before_items, before_raw = chat_stack.item_count(), chat_stack.raw_keys()
    variants: list[dict[str, str]] = [{}, {k: v + "0" for k, v in headers.items()}]
    if platform == "livechat":
        old = str(int(time.time()) - 301)
        variants.append({**headers, "X-Timestamp": old})  # a replay from six minutes ago
        _, stale_headers, _ = build_request(
            platform, "x", sender=customer, secrets_env=chat_stack.env, now=time.time() - 400
        )
        variants.append(stale_headers)
    for variant in variants:
        status, answer = chat_stack.post(path, body, variant)
        assert status == 401 and answer == {"message": "unauthorized"}, (variant, answer)
    assert chat_stack.item_count() == before_items and chat_stack.raw_keys() == before_raw
    assert not tickets_of(chat_stack, platform, customer)


@pytest.mark.parametrize("platform", ["whatsapp", "telegram", "livechat"])
def test_malformed_bodies_get_400_with_a_reason(chat_stack: ChatStack, platform: str) -> None:
    for body in (b"{not json", b"[]", b""):
        path, headers, _ = request(chat_stack, platform, "x", sender=fresh(platform))
        headers = _resign(chat_stack, platform, headers, body)
        status, answer = chat_stack.post(path, body, headers)
        assert status == 400 and answer["message"].startswith(f"malformed {platform} webhook"), (
            answer
        )


def _resign(
    stack: ChatStack, platform: str, headers: dict[str, str], body: bytes
) -> dict[str, str]:
    from deskintake.inbound.signatures import livechat_signature, whatsapp_signature

    if platform == "whatsapp":
        return {
            "X-Hub-Signature-256": whatsapp_signature(
                body, stack.env["DESKINTAKE_WHATSAPP_APP_SECRET"]
            )
        }
    if platform == "livechat":
        ts = str(int(time.time()))
        return {
            "X-Timestamp": ts,
            "X-Signature": livechat_signature(body, ts, stack.env["DESKINTAKE_LIVECHAT_SECRET"]),
        }
    return headers


@pytest.mark.parametrize("platform", ["whatsapp", "telegram", "livechat"])
def test_bodies_over_256_kb_are_refused_with_413(chat_stack: ChatStack, platform: str) -> None:
    path, headers, body = request(chat_stack, platform, "a" * (300 * 1024), sender=fresh(platform))
    before = chat_stack.item_count()
    status, _ = chat_stack.post(path, body, headers)
    assert status == 413 and chat_stack.item_count() == before


def test_unknown_events_are_acknowledged_and_ignored(chat_stack: ChatStack) -> None:
    cases = [
        ("telegram", {"update_id": 77, "business_connection": {"id": "x"}}),
        (
            "whatsapp",
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {}}]}],
            },
        ),
        ("livechat", {"event": "visitor_left", "visitor": {"id": "v-1"}}),
    ]
    before = chat_stack.item_count()
    for platform, payload in cases:
        body = json.dumps(payload).encode()
        path, headers, _ = request(chat_stack, platform, "x", sender=fresh(platform))
        status, answer = chat_stack.post(path, body, _resign(chat_stack, platform, headers, body))
        assert status == 200 and answer["ignored"] and not answer["tickets"], answer
    assert chat_stack.item_count() == before


def test_whatsapp_verification_handshake(chat_stack: ChatStack) -> None:
    token = chat_stack.env["DESKINTAKE_WHATSAPP_VERIFY_TOKEN"]
    assert chat_stack.get(
        f"/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}"
    ) == (200, "1158201444")
    assert (
        chat_stack.get(
            "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatyhamhock"
        )[0]
        == 403
    )


def test_livechat_reply_goes_to_the_widget_callback_signed(chat_stack: ChatStack) -> None:
    customer = fresh("livechat")
    status, answer = chat_stack.post(
        *_p(
            request(
                chat_stack,
                "livechat",
                "我的积分没有到账",
                sender=customer,
                category="rewards_points",
                channel_id="kartu-web",  # the demo brand that answers in Chinese
            )
        )
    )
    assert status == 200 and answer["tickets"][0]["acknowledged"]
    ticket_id = answer["tickets"][0]["ticket_id"]
    (sent,) = chat_stack.fake.to(customer)  # the fake verified X-Signature before accepting it
    assert sent.platform == "livechat" and sent.payload["ticket_id"] == ticket_id
    assert sent.payload["text"].startswith("感谢")  # acknowledged in the customer's language
    (ack,) = [m for m in chat_stack.repo().messages(ticket_id) if m.direction == Direction.OUTBOUND]
    assert ack.external_id == sent.answer_id


def test_masked_before_storage_everywhere(chat_stack: ChatStack) -> None:
    customer = fresh("telegram")
    text = "kartu 4111 1111 1111 1111, kode OTP 739201, password: Sup3rRahasia!"
    status, answer = chat_stack.post(*_p(request(chat_stack, "telegram", text, sender=customer)))
    assert status == 200
    ticket_id = answer["tickets"][0]["ticket_id"]
    from deskintake.adapters._dynamo import from_attrs

    ddb = chat_stack.client("dynamodb")
    items = ddb.query(
        TableName=chat_stack.env["DESKINTAKE_TABLE"],
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": f"T#{ticket_id}"}},
    )["Items"]
    dumped = json.dumps([from_attrs(i) for i in items], default=str)
    for secret in ("4111 1111 1111 1111", "739201", "Sup3rRahasia!"):
        assert secret not in dumped
    (stored,) = inbound_of(chat_stack, ticket_id)
    assert {r.kind for r in stored.redactions} == {"card", "otp", "password"}


def test_chat_send_command_posts_to_the_running_stack(chat_stack: ChatStack) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKINTAKE_", "AWS_"))}
    env["DESKINTAKE_STATE_DIR"] = str(chat_stack.state_dir)
    customer = fresh("telegram")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "deskintake.cli",
            "chat-send",
            "--platform",
            "telegram",
            "--from",
            customer,
            "--text",
            "Saldo DANA saya terpotong tapi token listrik belum masuk",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "HTTP 200" in done.stdout
    (ticket,) = tickets_of(chat_stack, "telegram", customer)
    assert ticket["id"] in done.stdout and ticket["lang"] == "id"
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "deskintake.cli",
            "chat-send",
            "--platform",
            "whatsapp",
            "--text",
            "x",
            "--bad-signature",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert bad.returncode == 1 and "HTTP 401" in bad.stdout


def test_a_platform_outage_leaves_the_ack_stored_as_failed(chat_stack: ChatStack) -> None:
    customer = fresh("whatsapp")
    chat_stack.fake.fail_with = 503
    try:
        status, answer = chat_stack.post(
            *_p(request(chat_stack, "whatsapp", "refund saya kapan masuk?", sender=customer))
        )
    finally:
        chat_stack.fake.fail_with = None
    assert status == 200 and not answer["tickets"][0]["acknowledged"]
    ticket_id = answer["tickets"][0]["ticket_id"]
    (ack,) = [m for m in chat_stack.repo().messages(ticket_id) if m.direction == Direction.OUTBOUND]
    assert (
        ack.delivery_status == "failed"
        and chat_stack.repo().find_message(Channel.WHATSAPP, "x") is None
    )
