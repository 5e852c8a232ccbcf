"""parse_email on hand-written MIME fixtures: headers, new text, charsets, loops, secrets."""

from __future__ import annotations

import argparse
import io
import json
import re
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import pytest
from deskintake.commands import parse_email as parse_email_command
from deskintake.domain.errors import EmailParseError
from deskintake.domain.model import Channel, Lang
from deskintake.inbound.email import ParsedEmail, find_thread_token, parse_email

FIXTURES = Path(__file__).resolve().parents[1] / "events" / "emails"


def load(name: str) -> ParsedEmail:
    return parse_email((FIXTURES / name).read_bytes())


def run_command(*files: Path) -> list[dict[str, object]]:
    parser = argparse.ArgumentParser()
    parse_email_command.add_arguments(parser)
    out = io.StringIO()
    with redirect_stdout(out):
        rc = parse_email_command.run(parser.parse_args([str(f) for f in files]))
    assert rc == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_indonesian_reply_keeps_only_the_new_text_and_reads_the_headers() -> None:
    mail = load("id_reply_pada_menulis.eml")

    assert mail.from_addr == "budi.santoso@gmail.example"
    assert mail.from_name == "Budi Santoso"
    assert mail.to == ["support@deskintake.example"]
    assert mail.delivered_to == ["support@deskintake.example"]
    assert mail.subject == "Re: [TKT-7Q2K9] Saldo belum masuk"
    assert mail.thread_token == "TKT-7Q2K9"
    assert mail.message_id == "<CAB1234id@mail.gmail.example>"
    assert mail.in_reply_to == "<tkt-7q2k9.1@deskintake.example>"
    assert mail.references == [
        "<tkt-7q2k9.0@deskintake.example>",
        "<tkt-7q2k9.1@deskintake.example>",
    ]
    assert mail.date == datetime(2024, 6, 3, 4, 2, 45, tzinfo=UTC)
    assert mail.lang == Lang.ID
    assert mail.is_auto is False
    assert mail.text.startswith("Halo kak,")
    assert "order ID INV-88213" in mail.text
    # quoted history and the phone footer are gone from the new text, kept in the full text
    assert "Pada Sen" not in mail.text and "bukti transfer" not in mail.text
    assert "Dikirim dari iPhone" not in mail.text
    assert "bukti transfer" in mail.full_text


def test_gbk_bytes_under_a_gb2312_label_decode_without_replacement_characters() -> None:
    mail = load("zh_gbk_reply.eml")

    assert mail.from_name == "王喆"
    assert mail.subject == "回复：账单上有不认识的消费"
    assert "喆镕商贸" in mail.text  # both characters are outside GB2312
    assert "\ufffd" not in mail.text + mail.subject + mail.from_name
    assert "写道" not in mail.text and "请提供交易日期" not in mail.text
    assert mail.lang == Lang.ZH


def test_qq_original_message_separator_cuts_the_history() -> None:
    mail = load("zh_qq_reply.eml")

    assert mail.text == "请问积分什么时候到账？已经等了三天了。"
    assert mail.subject == "回复：积分兑换"


def test_outlook_reply_drops_the_header_block_and_the_sign_off() -> None:
    mail = load("outlook_reply.eml")

    assert mail.text == (
        "Hi team,\n\nI was charged twice for the same top-up yesterday. Please refund one of them."
    )
    assert "transaction ids" in mail.full_text
    assert mail.lang == Lang.EN


def test_html_only_mail_becomes_text_without_script_style_or_blockquote() -> None:
    mail = load("html_only.eml")

    assert mail.text == "Hello,\n\nMy café voucher never arrived – I paid at 10:02.\nOrder 771204."
    assert "alert" not in mail.full_text and "color" not in mail.full_text
    assert "Old message from support" not in mail.text
    assert mail.html is not None and "<blockquote" in mail.html


def test_attachment_filenames_in_rfc2231_and_encoded_words_are_decoded() -> None:
    mail = load("attachment_chinese_filename.eml")

    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("发票.pdf", "application/pdf"),
        ("付款截图.png", "image/png"),
    ]
    assert mail.attachment_payloads[0].startswith(b"%PDF-1.4")
    assert mail.attachment_payloads[1] == bytes(range(64))
    assert [a.size for a in mail.attachments] == [len(p) for p in mail.attachment_payloads]
    assert "attachment_payloads" not in mail.model_dump(mode="json")
    assert mail.text == "附件是发票和付款截图。"


def test_out_of_office_reply_is_flagged_as_auto() -> None:
    mail = load("auto_reply.eml")

    assert mail.is_auto is True
    assert mail.auto_reason is not None and "auto-replied" in mail.auto_reason
    assert mail.thread_token == "TKT-7Q2K9"


def test_delivery_status_notification_is_flagged_as_a_bounce() -> None:
    mail = load("dsn_bounce.eml")

    assert mail.is_auto is True
    assert mail.auto_reason is not None and "delivery-status" in mail.auto_reason
    assert mail.from_addr == "mailer-daemon@mx.deskintake.example"
    assert any(a.content_type == "text/rfc822-headers" for a in mail.attachments)


def test_card_otp_and_password_are_masked_everywhere_in_the_json() -> None:
    [record] = run_command(FIXTURES / "secrets.eml")

    dumped = json.dumps(record, ensure_ascii=False)
    for secret in (
        "4111 1111 1111 1111",
        "5555-5555-5555-4444",
        "482913",
        "771903",
        "Rahasia123",
    ):
        assert secret not in dumped
    assert "411111******1111" in record["text"]  # type: ignore[operator]
    assert record["subject"] == "Kartu 555555******4444 dibobol, OTP [OTP]"
    kinds = {r["kind"]: r["count"] for r in record["redactions"]}  # type: ignore[union-attr]
    assert kinds == {"card": 2, "otp": 2, "password": 1}


def test_secrets_are_masked_in_the_html_body_too() -> None:
    mail = load("secrets.eml")

    assert mail.html is not None
    for secret in ("4111 1111 1111 1111", "482913", "Rahasia123"):
        assert secret not in mail.html and secret not in mail.full_text


def test_missing_message_id_gets_a_stable_synthetic_id() -> None:
    raw = (FIXTURES / "missing_message_id.eml").read_bytes()
    first, again = parse_email(raw), parse_email(raw)

    assert first.message_id is None
    assert re.fullmatch(r"<[0-9a-f]{64}@deskintake\.invalid>", first.external_id)
    assert first.external_id == again.external_id
    assert parse_email(raw + b"\n").external_id != first.external_id


def test_to_inbound_builds_the_channel_neutral_message() -> None:
    mail = load("id_reply_pada_menulis.eml")
    received = datetime(2024, 6, 3, 4, 5, tzinfo=UTC)

    inbound = parse_email(
        (FIXTURES / "id_reply_pada_menulis.eml").read_bytes(), received_at=received
    ).to_inbound("raw/2024/06/03/abc.eml")

    assert inbound.channel == Channel.EMAIL
    assert inbound.external_id == "<CAB1234id@mail.gmail.example>"
    assert inbound.customer == "budi.santoso@gmail.example"
    assert inbound.customer_name == "Budi Santoso"
    assert inbound.text == mail.text
    assert inbound.thread_token == "TKT-7Q2K9"
    assert inbound.received_at == received
    assert inbound.raw_key == "raw/2024/06/03/abc.eml"
    assert inbound.lang == Lang.ID


@pytest.mark.parametrize(
    ("subject", "token"),
    [
        ("Re: [TKT-7Q2K9] Saldo belum masuk", "TKT-7Q2K9"),
        ("re: [tkt-7q2k9] saldo", "TKT-7Q2K9"),
        ("Balasan TKT-ABCDE12 tolong", "TKT-ABCDE12"),
        ("[TKT-7Q2K] too short", None),
        ("[TKT-7Q2KU] U is not Crockford", None),
        ("XTKT-7Q2K9 glued to a word", None),
        ("no token here", None),
    ],
)
def test_thread_token_is_found_in_the_subject(subject: str, token: str | None) -> None:
    assert find_thread_token(subject) == token


def test_mislabelled_charsets_are_recovered() -> None:
    # UTF-8 bytes under a Latin-1 label, and one stray Latin-1 byte inside UTF-8 text.
    utf8_as_latin1 = (
        b"From: a@example.com\r\nSubject: =?iso-8859-1?Q?caf=C3=A9?=\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
        + "Saldo saya belum masuk, café 中文".encode()
    )
    stray_byte = (
        b"From: a@example.com\r\nSubject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "Привет, ".encode()
        + b"caf\xe9 "
        + "мир".encode()
    )
    first = parse_email(utf8_as_latin1)
    second = parse_email(stray_byte)

    assert first.text == "Saldo saya belum masuk, café 中文"
    assert first.subject == "café"
    assert second.text == "Привет, café мир"


def test_raw_8bit_and_big5_headers_decode() -> None:
    raw = (
        b"From: =?big5?B?" + __import__("base64").b64encode("陳小姐".encode("big5")) + b"?= "
        b"<chen@example.tw>\r\nSubject: " + "帳單問題".encode() + b"\r\n"
        b"Content-Type: text/plain; charset=big5\r\n\r\n" + "請問我的帳單".encode("big5")
    )
    mail = parse_email(raw)

    assert mail.from_name == "陳小姐"
    assert mail.subject == "帳單問題"
    assert mail.text == "請問我的帳單"


def test_malformed_mail_is_parsed_as_far_as_it_goes() -> None:
    raw = b"Subject: broken\r\nContent-Type: multipart/mixed\r\n\r\nno boundary here, just text"
    mail = parse_email(raw)

    assert mail.subject == "broken"
    assert "just text" in mail.text


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n  "])
def test_mail_that_yields_nothing_raises(raw: bytes) -> None:
    with pytest.raises(EmailParseError):
        parse_email(raw)


def test_command_prints_one_line_per_file_in_order_and_errors_inline(tmp_path: Path) -> None:
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    files = [FIXTURES / "outlook_reply.eml", empty, FIXTURES / "auto_reply.eml"]

    records = run_command(*files)

    assert [r["file"] for r in records] == [str(f) for f in files]
    assert "error" in records[1]
    assert records[0]["subject"] == "RE: Refund for double charge"
    assert records[2]["is_auto"] is True
    for key in (
        "message_id",
        "from_addr",
        "from_name",
        "to",
        "subject",
        "date",
        "text",
        "lang",
        "in_reply_to",
        "references",
        "thread_token",
        "is_auto",
        "auto_reason",
        "attachments",
        "redactions",
        "defects",
    ):
        assert key in records[0]


def _plain(subject: str, body: str, extra: str = "") -> bytes:
    return (
        f"From: a@example.com\r\nSubject: {subject}\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


@pytest.mark.parametrize(
    "subject",
    [
        "Delivery failed for my pulsa",
        "退信用卡年费",
        "短信未送达",
        "Vacation promo question",
        "Re: kode OTP",
    ],
)
def test_customer_subjects_that_sound_like_bounces_are_not_loops(subject: str) -> None:
    assert parse_email(_plain(subject, "tolong dibantu")).is_auto is False


@pytest.mark.parametrize(
    ("subject", "extra"),
    [
        ("Undeliverable: Re: saldo", ""),
        ("自动回复：您好", ""),
        ("Balasan Otomatis: saldo", ""),
        ("Out of Office: saldo", ""),
        ("hello", "Precedence: bulk\r\n"),
        ("hello", "List-Unsubscribe: <mailto:u@example.com>\r\n"),
        ("hello", "X-Autoreply: yes\r\n"),
    ],
)
def test_auto_replies_and_bulk_mail_are_loops(subject: str, extra: str) -> None:
    assert parse_email(_plain(subject, "hi", extra)).is_auto is True


def test_bottom_posted_reply_keeps_the_answer_below_the_quote() -> None:
    body = (
        "On Mon, 3 Jun 2024 at 10:00, CS <cs@example.com> wrote:\r\n> old question\r\nmy answer\r\n"
    )
    assert parse_email(_plain("Re: x", body)).text == "my answer"


def test_transfer_details_in_the_customers_own_text_are_not_a_quote_header() -> None:
    body = (
        "Transfer saya:\r\nDari: BCA\r\nKepada: DANA\r\nJumlah: 50.000\r\n\r\nbelum masuk kak\r\n"
    )
    text = parse_email(_plain("saldo", body)).text
    assert "Dari: BCA" in text and "belum masuk kak" in text


def test_sign_off_is_removed_only_at_the_end() -> None:
    body = "Halo,\r\nTerima kasih\r\nsaldo saya belum masuk sejak kemarin, tolong dicek ya?\r\n\r\nSalam,\r\nBudi\r\n"
    assert parse_email(_plain("saldo", body)).text == (
        "Halo,\nTerima kasih\nsaldo saya belum masuk sejak kemarin, tolong dicek ya?"
    )


@pytest.mark.parametrize(
    "raw",
    [
        b'Subject: x\r\nContent-Type: text/plain; charset="utf\x00-8"\r\n\r\nhello',
        b"Subject: =?utf-8?B?5Lit5?=\r\n\r\nhello",
        b"From: raasdnil@gma\xb6l.com\r\nTo: a@b\xe4.com\r\nSubject: x\r\n\r\nhello",
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
        + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 500,
        b"Content-Disposition: attachment; filename*=utf-8''%E4%B8\r\n\r\n\xff\xfe",
    ],
)
def test_hostile_mail_parses_to_valid_utf8_json(raw: bytes) -> None:
    mail = parse_email(raw)
    json.dumps(mail.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(("header", "address", "name"), [
    # A ":" or "@" inside an encoded display name is part of the name, never the address.
    ("=?utf-8?q?Toko_Jaya:_cs@toko.id?= <real@example.com>", "real@example.com", "Toko Jaya: cs@toko.id"),
    ("=?utf-8?q?x:_a@b?= <c@d.example>", "c@d.example", "x: a@b"),
    ("=?utf-8?q?a?= =?utf-8?q?_b:c@d?= <e@f.example>", "e@f.example", "a b:c@d"),
    ("=?utf-8?B?546LLCDlsI/mmI4=?= <wang@example.cn>", "wang@example.cn", "王, 小明"),
    ("Budi <budi@x.example>", "budi@x.example", "Budi"),
    # Python's email package writes such a name decoded and unquoted; the address stays the same.
    ("Toko Jaya: cs@toko.id <real@example.com>", "real@example.com", "Toko Jaya: cs@toko.id"),
    ('"Wang, Xiao" <w@x.example>', "w@x.example", "Wang, Xiao"),
])
def test_the_sender_address_is_never_taken_out_of_an_encoded_name(header: str, address: str,
                                                                  name: str) -> None:
    mail = parse_email(f"From: {header}\r\nTo: info@support.localhost\r\nSubject: hi\r\n"
                       f"Message-ID: <n1@x>\r\n\r\npulsa belum masuk\r\n".encode())
    assert (mail.from_addr, mail.from_name) == (address, name)
