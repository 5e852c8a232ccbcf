"""Hostile mail: the parser never crashes (only EmailParseError), nothing is expanded, and nothing
a sender writes can add headers to our acknowledgement."""

from __future__ import annotations

import io
import os
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from deskintake.adapters.ses_sender import SesEmailSender
from deskintake.domain.errors import EmailParseError
from deskintake.inbound.email import parse_email
from deskintake.services import email_intake, intake
from deskintake.services.email_intake import EmailIntakeDeps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import (
    InMemoryFailureLog,
    InMemoryRateLimiter,
    InMemoryRawStore,
    InMemoryTicketRepository,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
# `make fuzz` raises this for a long run; `make test` keeps it small.
EXAMPLES = int(os.environ.get("DESKINTAKE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("DESKINTAKE_FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _parse_or_refuse(raw: bytes) -> Any:
    try:
        return parse_email(raw, received_at=NOW)
    except EmailParseError:
        return None


# ------------------------------------------------------------------ fuzz: structure-aware MIME

_header_names = st.sampled_from(["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References",
                                 "Content-Type", "Content-Transfer-Encoding", "Date", "Auto-Submitted",
                                 "Content-Disposition", "X-Mailer", "Return-Path", "Reply-To"])
_header_values = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"multipart/mixed; boundary=\"b\"", b"text/plain; charset=gb2312",
                     b"text/html; charset=\"x-unknown\"", b"base64", b"quoted-printable",
                     b"=?utf-8?b?SGVsbG8NCkJjYzogZXZpbEBleGFtcGxlLmNvbQ==?=", b"<a@b>",
                     b"=?gb2312?B?\xff\xfe?=", b"multipart/alternative; boundary=", b"\"\" <@>"]),
)
_bodies = st.one_of(
    st.binary(max_size=2000),
    st.sampled_from([b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--", b"=\r\n=ZZ=",
                     b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n",
                     b"PGh0bWw+PHNjcmlwdD4=", b"\xff\xfe\x00\x00", b"begin 644 x\r\n`\r\nend"]),
)


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(_header_names, _header_values), max_size=12))
    sep = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    head = sep.join(name.encode() + b": " + value for name, value in headers)
    return head + sep + sep + draw(_bodies)


@FUZZ
@given(mails())
def test_fuzzed_mime_parses_or_is_refused_cleanly(raw: bytes) -> None:
    parsed = _parse_or_refuse(raw)
    if parsed is not None:
        # What gets stored must be valid text: no lone surrogates, no NULs.
        for value in (parsed.subject, parsed.text, parsed.from_addr, parsed.from_name):
            value.encode("utf-8")
            assert "\x00" not in value


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes_parse_or_are_refused_cleanly(raw: bytes) -> None:
    _parse_or_refuse(raw)


# ------------------------------------------------------------------ hand-written attacks


def _mail(body: str = "Saldo saya terpotong.", **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = headers.pop("From", "Budi <budi@mail.example.net>")
    mail["To"] = "info@support.localhost"
    mail["Subject"] = headers.pop("Subject", "Pulsa belum masuk")
    mail["Message-ID"] = headers.pop("Message_ID", "<hostile-1@mail.example.net>")
    mail.set_content(body)
    return mail


def _intake_deps(raw: dict[str, bytes]) -> tuple[EmailIntakeDeps, list[Any]]:
    from deskintake.runtime.wiring import classify_inbound

    built: list[Any] = []

    class BuildingSender:
        """The real SES message builder; the bytes it would send are kept for inspection."""

        def send(self, ticket: Any, message: Any) -> str:
            built.append(SesEmailSender(None, sender="info@support.localhost").build(ticket, message))
            return f"ack-{len(built)}@amazonses.com"

    core = intake.IntakeDeps(tickets=InMemoryTicketRepository(), classify=classify_inbound,
                             events=_NoEvents(), limiter=InMemoryRateLimiter(),
                             senders={"email": BuildingSender()})  # type: ignore[dict-item]
    return EmailIntakeDeps(raw=InMemoryRawStore(raw), failures=InMemoryFailureLog(), intake=core), built


class _NoEvents:
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        pass

    def publish_many(self, events: Any) -> None:
        pass


def test_a_zip_bomb_attachment_is_stored_as_sent_and_never_expanded() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bomb.bin", b"\0" * (200 * 1024 * 1024))  # 200 MB inside
    bomb = buffer.getvalue()
    assert len(bomb) < 300 * 1024  # a small file on the wire
    mail = _mail()
    mail.add_attachment(bomb, maintype="application", subtype="zip", filename="bukti.zip")
    raw = bytes(mail)

    deps, _ = _intake_deps({"inbound/bomb": raw})
    tracemalloc.start()
    outcome = email_intake.process_stored_mail("inbound/bomb", deps, now=NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert outcome.result is not None
    stored = [v for k, v in deps.raw.objects.items() if k.startswith("attachments/")]  # type: ignore[attr-defined]
    assert stored == [bomb]  # kept byte for byte, as the customer sent it
    assert peak < 40 * 1024 * 1024, f"peak {peak} bytes: something expanded the archive"


def test_oversized_mail_with_a_large_attachment_and_100kb_lines() -> None:
    long_line = "A" * 100_000
    mail = _mail(body=(long_line + "\n") * 30 + "Tolong cek kartu 4111 1111 1111 1111")
    mail.add_attachment(os.urandom(8 * 1024 * 1024), maintype="application", subtype="pdf",
                        filename="x" * 5000 + ".pdf")
    raw = bytes(mail)
    assert len(raw) > 10 * 1024 * 1024

    started = time.monotonic()
    deps, _ = _intake_deps({"inbound/big": raw})
    outcome = email_intake.process_stored_mail("inbound/big", deps, now=NOW)
    elapsed = time.monotonic() - started

    assert outcome.result is not None and elapsed < 20, elapsed
    (message,) = [m for m in deps.intake.tickets.msgs[outcome.result.ticket.id].values()  # type: ignore[attr-defined]
                  if m.direction == "in"]
    assert "4111 1111 1111 1111" not in message.text
    (key,) = [k for k in deps.raw.objects if k.startswith("attachments/")]  # type: ignore[attr-defined]
    assert len(key) < 200  # a 5000-character filename does not become a 5000-character key


def test_deeply_nested_mime_is_parsed_or_refused_not_crashed() -> None:
    depth = 400
    parts = [b"From: a@example.net\r\nSubject: nested\r\nMessage-ID: <n@example.net>\r\n"]
    for level in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode())
    parts.append(b"Content-Type: text/plain\r\n\r\nhalo, saldo saya hilang\r\n")
    for level in reversed(range(depth)):
        parts.append(f"--b{level}--\r\n".encode())
    raw = b"".join(parts)

    deps, _ = _intake_deps({"inbound/nested": raw})
    outcome = email_intake.process_stored_mail("inbound/nested", deps, now=NOW)
    # Filed, or kept as a failure with the raw mail untouched; never an unhandled exception.
    assert outcome.result is not None or outcome.failure_id is not None


def test_invalid_utf8_everywhere() -> None:
    raw = (b"From: \xff\xfe Budi <budi\xc3@mail.example.net>\r\nTo: info@support.localhost\r\n"
           b"Subject: Saldo \xed\xa0\x80 hilang \xc0\xaf\r\nMessage-ID: <u\xff@mail.example.net>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; "
           b"filename=\"\xff\xfe.txt\"\r\n\r\nKartu \x80\x81 4111111111111111 \xf8\x88\x80\x80\x80\r\n")
    parsed = parse_email(raw, received_at=NOW)
    for value in (parsed.subject, parsed.text, parsed.from_addr, parsed.from_name,
                  *(a.filename for a in parsed.attachments)):
        value.encode("utf-8")  # no surrogates reach storage
    assert "4111111111111111" not in parsed.full_text


@pytest.mark.parametrize("subject", [
    "Hello\r\nBcc: victim@example.com",
    "=?utf-8?b?SGVsbG8NCkJjYzogdmljdGltQGV4YW1wbGUuY29t?=",  # the same, as an encoded word
    "=?utf-8?q?Hello=0ABcc:_victim@example.com?=",
])
def test_cr_lf_in_subject_or_name_never_reaches_the_ack_headers(subject: str) -> None:
    raw = (f"From: =?utf-8?q?Evil=0D=0ABcc=3A_victim2=40example.com?= <budi@mail.example.net>\r\n"
           f"To: info@support.localhost\r\nSubject: {subject}\r\nMessage-ID: <inj@mail.example.net>\r\n"
           "\r\nTolong cek saldo saya\r\n").encode()
    deps, built = _intake_deps({"inbound/inj": raw})
    outcome = email_intake.process_stored_mail("inbound/inj", deps, now=NOW)
    assert outcome.result is not None and outcome.result.acknowledged
    (ack,) = built
    wire = ack.as_bytes()
    head = wire.split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in head and b"\nbcc:" not in head.lower()
    assert ack.get_all("Bcc") is None
    assert [k.lower() for k in ack].count("to") == 1
    assert ack["To"].addresses[0].addr_spec == "budi@mail.example.net"


def test_the_sender_itself_refuses_cr_lf_in_every_header_it_writes() -> None:
    from deskintake.domain.ticket import Direction, Message, Ticket

    ticket = Ticket.model_validate({
        "id": "TKT-AAAAAAA", "channel": "email", "customer": "budi@mail.example.net",
        "customer_name": "Budi\r\nBcc: a@example.com", "subject": "x\nBcc: b@example.com",
        "category": "general_inquiry", "priority": "normal", "created_at": NOW, "updated_at": NOW,
    })
    message = Message(ticket_id=ticket.id, id="m1", direction=Direction.OUTBOUND, channel="email",
                      author="system", subject="Re: y\r\nBcc: c@example.com", text="hi", created_at=NOW,
                      meta={"in_reply_to": "<a@b>\r\nBcc: d@example.com",
                            "references": ["<r@b>\nBcc: e@example.com"]})
    mail = SesEmailSender(None, sender="info@support.localhost").build(ticket, message)
    head = mail.as_bytes().split(b"\n\n", 1)[0].lower()
    assert b"\nbcc:" not in head
    assert mail["To"].addresses[0].addr_spec == "budi@mail.example.net"
    assert "\n" not in str(mail["Subject"]) and "\r" not in str(mail["In-Reply-To"])
