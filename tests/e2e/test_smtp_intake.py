"""Mail over real SMTP into the local stack, read back from its DynamoDB (moto server)."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from typing import Any

from tests.conftest import EXAMPLES
from tests.e2e.conftest import RunningStack


def wait_for(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def send(stack: RunningStack, mail: EmailMessage, to: str = "info@support.localhost") -> None:
    with smtplib.SMTP(stack.config.host, stack.config.smtp_port, timeout=30) as smtp:
        smtp.send_message(mail, to_addrs=[to])


def test_a_mail_sent_with_smtplib_is_a_ticket_within_a_second(local_stack: RunningStack) -> None:
    mail = EmailMessage()
    mail["From"] = "Dewi Lestari <dewi.lestari@mail.example.net>"
    mail["To"] = "info@support.localhost"
    mail["Subject"] = "Token PLN belum masuk padahal sukses"
    mail["Message-ID"] = "<e2e-token-1@mail.example.net>"
    mail.set_content("Halo kak, beli token PLN 100rb statusnya sukses tapi token tidak masuk ke meteran. "
                     "Kartu saya 4111 1111 1111 1111. Mohon dibantu.")
    started = time.monotonic()
    send(local_stack, mail)

    ticket = wait_for(lambda: next((t for t in local_stack.tickets()
                                    if t["customer"] == "dewi.lestari@mail.example.net"), None), timeout=1.0)
    assert time.monotonic() - started < 1.5
    assert ticket["lang"] == "id"
    assert ticket["category"] == "product_not_received" and ticket["priority"] == "high"
    assert "4111 1111 1111 1111" not in ticket["preview"] and "411111******1111" in ticket["preview"]
    assert local_stack.acknowledgement(ticket["id"])


def test_a_reply_to_the_acknowledgement_joins_the_same_ticket(local_stack: RunningStack) -> None:
    first = EmailMessage()
    first["From"] = "lee.wei@mail.example.com"
    first["To"] = "info@support.localhost"
    first["Subject"] = "Refund for failed top-up"
    first["Message-ID"] = "<e2e-refund-1@mail.example.com>"
    first.set_content("My e-wallet top-up of $20 failed but the money was taken from my card. Please refund it.")
    send(local_stack, first)
    ticket = wait_for(lambda: next((t for t in local_stack.tickets() if t["customer"] == "lee.wei@mail.example.com"), None))
    ack = wait_for(lambda: local_stack.acknowledgement(ticket["id"]))

    reply = EmailMessage()
    reply["From"] = "lee.wei@mail.example.com"
    reply["To"] = "info@support.localhost"
    reply["Subject"] = "Re: something"
    reply["Message-ID"] = "<e2e-refund-2@mail.example.com>"
    reply["In-Reply-To"] = f"<{ack}@ap-southeast-1.amazonses.com>"
    reply.set_content("Any news? It has been two days.\n\nOn Mon, Support wrote:\n> Thank you, we have received")
    send(local_stack, reply)

    wait_for(lambda: next((t for t in local_stack.tickets() if t["id"] == ticket["id"]
                           and t["message_count"] == 2), None))
    assert len([t for t in local_stack.tickets() if t["customer"] == "lee.wei@mail.example.com"]) == 1


def test_mail_to_an_address_nobody_receives_is_refused_like_ses(local_stack: RunningStack) -> None:
    mail = EmailMessage()
    mail["From"] = "a@mail.example.net"
    mail["Subject"] = "hi"
    mail.set_content("hello")
    try:
        send(local_stack, mail, to="someone@elsewhere.example")
    except smtplib.SMTPRecipientsRefused as refused:
        assert "550" in str(refused.recipients)
    else:
        raise AssertionError("recipient was accepted")


def test_ingest_sends_files_through_the_smtp_port_and_duplicates_make_nothing_new(local_stack: RunningStack) -> None:
    path = EXAMPLES / "emails" / "07-zh-points.eml"
    before = len(local_stack.tickets())

    for _ in range(2):
        run = local_stack.cli("ingest", str(path))
        assert run.returncode == 0, run.stderr

    after = wait_for(lambda: (ts := local_stack.tickets()) and len(ts) > before and ts)
    time.sleep(0.5)
    mine = [t for t in local_stack.tickets() if t["customer"] == "chen.zm@mail.example.tw"]
    assert len(after) == before + 1 and len(mine) == 1
    assert mine[0]["lang"] == "zh" and mine[0]["category"] == "rewards_points"


def test_health_reports_the_table(local_stack: RunningStack) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{local_stack.base_url}/health", timeout=5) as response:
        assert json.load(response)["table"] == "ACTIVE"
