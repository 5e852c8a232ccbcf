"""Logs carry no unmasked PII: mails and webhooks full of card numbers, OTPs and passwords are
processed (successes, failures, refusals) with every logger at DEBUG, and the captured log
records and the Powertools JSON on stdout are searched for the raw values."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Any

import pytest
from deskintake.commands.chat_send import build_request

from tests.chat_support import SECRETS, call, load_handler
from tests.reliability.conftest import AsyncLambda, Faults, put_mail

CARD = "4111 1111 1111 1111"
CARD_DIGITS = "4111111111111111"
OTP = "739204"
PASSWORD = "Rahasia!Sekali99"
RAW_VALUES = [CARD, CARD_DIGITS, OTP, PASSWORD]
TEXT = (f"Kartu saya {CARD} kena tipu, kode OTP {OTP} sudah saya kasih. "
        f"Password saya: {PASSWORD}. Tolong blokir.")


@pytest.fixture
def loud(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("DESKINTAKE_LOCAL", "1")
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    caplog.set_level(logging.DEBUG)
    # A function's Powertools Logger keeps the level of the first handler module loaded in this
    # process (another test may have loaded one at WARNING): every function's logger at DEBUG.
    for service in ("deskintake-email", "deskintake-chat", "deskintake-follow-up",
                    "deskintake-tickets-api"):
        caplog.set_level(logging.DEBUG, logger=service)
    # botocore's own DEBUG dumps request bodies (our test's S3 upload of the raw mail among them);
    # Lambda runs it at WARNING, so it is held at INFO here and everything else is at DEBUG.
    for noisy in ("botocore", "boto3", "urllib3", "moto", "s3transfer"):
        caplog.set_level(logging.INFO, logger=noisy)


def _captured(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr()
    records = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    return "\n".join([out.out, out.err, records])


def test_email_path_logs_no_card_otp_or_password(moto_stack: dict[str, Any], loud: None, faults: Faults,
                                                 caplog: pytest.LogCaptureFixture,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from deskintake.runtime.wiring import client

    email = AsyncLambda(moto_stack, "EmailIntakeFunction")
    mail = EmailMessage()
    mail["From"] = f"Budi {OTP} <budi@mail.example.net>"
    mail["To"] = "info@support.localhost"
    mail["Subject"] = f"Kartu {CARD} dicuri"
    mail["Message-ID"] = "<pii-1@mail.example.net>"
    mail.set_content(TEXT)
    email.deliver(put_mail(moto_stack, bytes(mail), "pii0001"))  # filed
    email.deliver(put_mail(moto_stack, f"{TEXT}\n".encode(), "pii0002"))  # headerless: kept
    faults.fail(client("ses"), "SendRawEmail", code="MessageRejected")  # ack fails, logged
    mail.replace_header("Message-ID", "<pii-2@mail.example.net>")
    mail.replace_header("From", "Sari <sari@mail.example.net>")
    email.deliver(put_mail(moto_stack, bytes(mail), "pii0003"))
    faults.clear()
    faults.fail(client("dynamodb"), "TransactWriteItems", code="InternalServerError", status=500)
    mail.replace_header("Message-ID", "<pii-3@mail.example.net>")
    email.deliver(put_mail(moto_stack, bytes(mail), "pii0004"))  # exhausted: DLQ, logged

    logs = _captured(caplog, capsys)
    assert "mail filed" in logs and len(logs) > 1000  # we did capture the handler's output
    for value in RAW_VALUES:
        at = logs.find(value)
        assert at < 0, (value, logs[max(0, at - 300):at + 100])


def test_chat_path_logs_no_card_otp_or_password(moto_stack: dict[str, Any], loud: None,
                                                caplog: pytest.LogCaptureFixture,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from deskintake.runtime import chat_wiring

    chat_wiring._deps.cache_clear()
    handler = load_handler("functions/chat_webhook/handler.py", "pii_chat_handler")
    for platform, sender in (("whatsapp", "6281200000001"), ("telegram", "700000009"),
                             ("livechat", "sari@example.com")):
        path, headers, body = build_request(platform, TEXT, sender=sender, name=f"Sari {OTP}",
                                            secrets_env=SECRETS)
        assert call(handler, "POST", path, body, headers)[0] == 200
        assert call(handler, "POST", path, body + b"x", headers)[0] in {400, 401}  # refused: logged
        path, headers, _ = build_request(platform, TEXT, sender=sender, secrets_env=SECRETS)
        bad = body.replace(b'"', b"'", 3)
        call(handler, "POST", path, bad, headers)
    chat_wiring._deps.cache_clear()

    logs = _captured(caplog, capsys)
    assert "webhook filed" in logs
    for value in RAW_VALUES:
        at = logs.find(value)
        assert at < 0, (value, logs[max(0, at - 300):at + 100])
