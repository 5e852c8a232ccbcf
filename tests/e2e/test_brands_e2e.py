"""Two brands on the running local stack: mail and chat reach their brand, agents see their own."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from deskintake.local.stack import send_raw

from tests.e2e.conftest import RunningStack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.3)
    raise AssertionError("timed out")


def call(stack: RunningStack, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(stack.base_url + path, headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def agent_token(stack: RunningStack, brand: str) -> str:
    return next(a["token"] for a in stack.info["agents"] if a["brands"] == [brand])


def mine(stack: RunningStack, customer: str) -> dict[str, Any] | None:
    return next((t for t in stack.tickets() if t["customer"] == customer), None)


def test_mail_to_the_card_issuer_is_its_ticket_with_its_acknowledgement(local_stack: RunningStack) -> None:
    raw = (EXAMPLES / "emails" / "10-en-kartu-card-fraud.eml").read_bytes()
    send_raw(raw, host=local_stack.config.host, port=local_stack.config.smtp_port, to="info@kartu.localhost")
    ticket = wait_for(lambda: mine(local_stack, "arif.w@mail.example.com"))
    assert ticket["brand"] == "kartu" and ticket["category"] == "card_fraud"

    kartu, pulsa = agent_token(local_stack, "kartu"), agent_token(local_stack, "pulsa")
    status, detail = wait_for(lambda: (r := call(local_stack, f"/api/tickets/{ticket['id']}", kartu))
                              and len(r[1].get("messages", [])) >= 2 and r)
    assert status == 200
    ack = next(m for m in detail["messages"] if m["kind"] == "ack")
    assert "Thank you for contacting Kartu Kredit Nusantara" in ack["text"]
    assert call(local_stack, f"/api/tickets/{ticket['id']}", pulsa) == (404, {"message": "ticket not found"})
    listed = call(local_stack, "/api/tickets", pulsa)[1]["tickets"]
    assert ticket["id"] not in [t["id"] for t in listed]


def test_mail_to_an_address_no_brand_owns_is_kept_and_reported(local_stack: RunningStack) -> None:
    raw = (b"From: Tono <tono@mail.example.net>\r\nTo: promo@support.localhost\r\n"
           b"Subject: Kerja sama\r\nMessage-ID: <unowned-1@mail.example.net>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nHalo, kami ingin menawarkan kerja sama.\r\n")
    send_raw(raw, host=local_stack.config.host, port=local_stack.config.smtp_port, to="promo@support.localhost")

    def reported() -> dict[str, Any] | None:
        run = local_stack.cli("reprocess", "--list")
        rows = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
        return next((r for r in rows if r["reason"] == "no brand owns promo@support.localhost"), None)

    failure = wait_for(reported)
    assert failure["key"].startswith("inbound/")
    s3 = local_stack.aws.client("s3")
    kept = s3.get_object(Bucket=local_stack.info["env"]["DESKINTAKE_RAW_BUCKET"], Key=failure["key"])
    assert b"kerja sama" in kept["Body"].read()
    assert mine(local_stack, "tono@mail.example.net") is None


def test_a_chat_to_the_card_issuers_number_is_its_ticket(local_stack: RunningStack) -> None:
    run = local_stack.cli("chat-send", "--platform", "whatsapp", "--from", "6281277776666",
                          "--name", "Lim", "--channel-id", "100000000000002",
                          "--text", "您好，我的信用卡额度想提高，请问怎么申请？")
    assert run.returncode == 0, run.stderr
    ticket = wait_for(lambda: mine(local_stack, "6281277776666"))
    assert ticket["brand"] == "kartu"
