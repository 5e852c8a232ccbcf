"""Brands: configuration, routing by delivery address / channel, per-brand policy downstream."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from deskintake.adapters.eventbridge_events import RecordingPublisher
from deskintake.domain.brands import BrandsConfig, follow_up_config, load_brands, parse_brands
from deskintake.domain.follow_up_policy import (
    FollowUpHistory,
    FollowUpKind,
    FollowUpState,
    load_config,
    plan,
)
from deskintake.domain.model import (
    Category,
    Channel,
    Classification,
    InboundMessage,
    Lang,
    Priority,
)
from deskintake.domain.ticket import Ticket
from deskintake.runtime.wiring import classify_inbound
from deskintake.services import chat_intake
from deskintake.services.email_intake import (
    EmailIntakeDeps,
    process_stored_mail,
    recipients_from_reason,
)
from deskintake.services.intake import IntakeDeps, submit
from pydantic import ValidationError

from tests.fakes import (
    InMemoryFailureLog,
    InMemoryRateLimiter,
    InMemoryRawStore,
    InMemoryTicketRepository,
    RecordingSender,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_brands(ROOT / "examples" / "brands.json")
T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
WIB = timedelta(hours=7)


def intake(brands: BrandsConfig = DEMO) -> IntakeDeps:
    return IntakeDeps(tickets=InMemoryTicketRepository(), classify=classify_inbound,
                      events=RecordingPublisher(), limiter=InMemoryRateLimiter(),
                      senders={c: RecordingSender() for c in Channel}, brands=brands)


def email_deps(raw: dict[str, bytes], brands: BrandsConfig = DEMO) -> EmailIntakeDeps:
    return EmailIntakeDeps(raw=InMemoryRawStore(raw), failures=InMemoryFailureLog(),
                           intake=intake(brands))


def mime(headers: dict[str, str], body: str = "Saya sudah bayar pulsa 50rb tapi status masih "
         "pending dari tadi, tolong dicek.") -> bytes:
    base = {"From": "Budi <budi@mail.example.net>", "Subject": "Pulsa belum masuk",
            "Message-ID": f"<{abs(hash(json.dumps(headers, sort_keys=True)))}@mail.example.net>",
            "Date": "Sat, 21 Nov 2026 10:00:00 +0700", "Content-Type": "text/plain; charset=utf-8"}
    head = "".join(f"{k}: {v}\r\n" for k, v in {**base, **headers}.items())
    return (head + "\r\n" + body + "\r\n").encode()


# -- configuration ---------------------------------------------------------------------


def test_the_packaged_default_is_one_brand_that_takes_every_address_and_channel() -> None:
    config = load_brands()
    assert config.ids == ("default",)
    assert config.route_email(["anyone@anywhere.example"])[0].id == "default"  # type: ignore[union-attr]
    assert config.for_channel(Channel.WHATSAPP, "123").id == "default"  # type: ignore[union-attr]


def test_an_unknown_category_id_is_rejected_with_a_clear_error() -> None:
    doc = {"brands": [{"id": "x", "categories": ["order_pending", "lottery_wins"]}]}
    with pytest.raises(ValidationError) as error:
        parse_brands(doc)
    assert "unknown category id 'lottery_wins'" in str(error.value)
    assert "order_pending" in str(error.value)  # the known ids are listed


def test_an_address_may_belong_to_one_brand_only_and_the_fallback_must_be_used() -> None:
    with pytest.raises(ValidationError, match="belongs to both"):
        parse_brands({"brands": [{"id": "a", "addresses": ["info@x.test"]},
                                 {"id": "b", "addresses": ["INFO@x.test"]}]})
    with pytest.raises(ValidationError, match="fallback_category"):
        parse_brands({"brands": [{"id": "a", "categories": ["order_pending"]}]})


def test_several_addresses_map_to_one_brand() -> None:
    assert DEMO.for_address("info@support.localhost").id == "pulsa"  # type: ignore[union-attr]
    assert DEMO.for_address("Halo@Support.Localhost").id == "pulsa"  # type: ignore[union-attr]
    assert DEMO.for_address("billing@kartu.localhost").id == "kartu"  # type: ignore[union-attr]
    assert DEMO.for_address("sales@support.localhost") is None


# -- email routing: each header path ---------------------------------------------------


@pytest.mark.parametrize(("recipients", "headers", "brand"), [
    # The SES receipt recipient wins over every header.
    (["info@kartu.localhost"], {"To": "info@support.localhost"}, "kartu"),
    ([], {"Delivered-To": "info@kartu.localhost", "To": "info@support.localhost"}, "kartu"),
    ([], {"X-Original-To": "info@kartu.localhost", "To": "list@lists.example.org"}, "kartu"),
    ([], {"To": "Kartu <info@kartu.localhost>"}, "kartu"),
    ([], {"To": "info@support.localhost"}, "pulsa"),
    # An unowned receipt recipient (e.g. a forwarder) falls through to the headers.
    (["fwd@relay.example"], {"To": "halo@support.localhost"}, "pulsa"),
], ids=["receipt-recipient", "delivered-to", "x-original-to", "to", "to-pulsa", "receipt-unowned"])
def test_a_mail_belongs_to_the_brand_of_the_address_it_was_delivered_to(
        recipients: list[str], headers: dict[str, str], brand: str) -> None:
    deps = email_deps({"inbound/m1": mime(headers)})
    outcome = process_stored_mail("inbound/m1", deps, now=T0, recipients=recipients)
    assert outcome.result is not None, outcome.reason
    assert outcome.result.ticket.brand == brand
    assert deps.intake.tickets.get(outcome.result.ticket.id).brand == brand


def test_mail_to_an_address_no_brand_owns_is_kept_reported_and_reprocessable() -> None:
    raw = mime({"To": "sales@support.localhost"})
    deps = email_deps({"inbound/m2": raw})
    outcome = process_stored_mail("inbound/m2", deps, now=T0, recipients=["sales@support.localhost"])

    assert outcome.result is None
    assert outcome.reason == "no brand owns sales@support.localhost"
    (failure,) = deps.failures.pending()  # type: ignore[attr-defined]
    assert failure["key"] == "inbound/m2" and failure["reason"] == outcome.reason
    assert deps.raw.get("inbound/m2") == raw  # kept
    assert deps.intake.tickets.tickets == {}  # type: ignore[attr-defined]

    # The operator adds the address to a brand; reprocessing routes it by the reported address.
    doc = json.loads((ROOT / "examples" / "brands.json").read_text(encoding="utf-8"))
    doc["brands"][0]["addresses"].append("sales@support.localhost")
    deps.intake.brands = parse_brands(doc)
    again = process_stored_mail("inbound/m2", deps, now=T0,
                                recipients=recipients_from_reason(failure["reason"]))
    assert again.result is not None and again.result.ticket.brand == "pulsa"


# -- chat routing ------------------------------------------------------------------------


def chat(channel: Channel, meta: dict[str, str], text: str = "halo, pulsa saya belum masuk") -> InboundMessage:
    return InboundMessage(channel=channel, external_id=f"{channel}-{len(str(meta))}-{text[:5]}",
                          customer="6281311112222", text=text, lang=Lang.ID, received_at=T0,
                          meta=meta)


def test_a_chat_belongs_to_the_brand_of_its_channel_and_unknown_channels_go_to_the_default() -> None:
    deps = chat_intake.ChatIntakeDeps(intake=intake(), failures=InMemoryFailureLog())
    wa = chat_intake.route(chat(Channel.WHATSAPP, {"phone_number_id": "100000000000002"}), deps, None)
    tg = chat_intake.route(chat(Channel.TELEGRAM, {}), deps, "7000000002")
    site = chat_intake.route(chat(Channel.LIVECHAT, {"site_id": "pulsa-web"}), deps, None)
    stranger = chat_intake.route(chat(Channel.WHATSAPP, {"phone_number_id": "999"}), deps, None)
    assert [m.meta["brand"] for m in (wa, tg, site, stranger) if m] == ["kartu", "kartu", "pulsa", "pulsa"]


def test_without_a_default_brand_an_unknown_channel_is_kept_and_reported() -> None:
    from deskintake.inbound.chat import ChatBatch

    config = DEMO.model_copy(update={"default_brand": None})
    deps = chat_intake.ChatIntakeDeps(intake=intake(config), raw=InMemoryRawStore(),
                                      failures=InMemoryFailureLog())
    batch = ChatBatch(channel=Channel.WHATSAPP, raw_key="chat/whatsapp/abc",
                      messages=[chat(Channel.WHATSAPP, {"phone_number_id": "999"})])
    outcome = chat_intake.process(batch, deps, body=b'{"x": 1}', now=T0)
    assert outcome.tickets == []
    assert deps.raw.get("chat/whatsapp/abc") == b'{"x": 1}'  # type: ignore[union-attr]
    (failure,) = deps.failures.pending()  # type: ignore[union-attr]
    assert failure["reason"] == "no brand owns whatsapp channel 999"


def test_one_customer_writing_to_two_brands_gets_two_tickets() -> None:
    deps = intake()
    a = submit(chat(Channel.WHATSAPP, {"brand": "pulsa"}, "pulsa saya belum masuk"), deps, now=T0)
    b = submit(chat(Channel.WHATSAPP, {"brand": "kartu"}, "kartu kredit saya hilang"), deps, now=T0)
    assert a.created and b.created and a.ticket.id != b.ticket.id
    assert (a.ticket.brand, b.ticket.brand) == ("pulsa", "kartu")


# -- downstream: categories, acknowledgements --------------------------------------------


def email(text: str, subject: str, lang: Lang, brand: str, mid: str) -> InboundMessage:
    return InboundMessage(channel=Channel.EMAIL, external_id=mid, customer="wang@mail.example.cn",
                          subject=subject, text=text, lang=lang, received_at=T0,
                          meta={"brand": brand})


def test_a_category_the_brand_does_not_use_goes_to_its_fallback_for_triage() -> None:
    deps = intake()
    result = submit(email("Saya sudah bayar pulsa 50rb tapi status masih pending, tolong dicek.",
                          "Pulsa belum masuk", Lang.ID, "kartu", "<k1@x>"), deps, now=T0)
    ticket = result.ticket
    assert ticket.brand == "kartu"
    assert ticket.category == Category.GENERAL_INQUIRY and ticket.needs_triage
    assert any("order_pending is not one of its categories" in line for line in ticket.explanation)


def test_acks_come_from_the_brands_sender_in_its_languages_with_its_texts() -> None:
    deps = intake()
    text = "我的信用卡昨天被盗刷了两笔，我没有做过这些交易，请帮我查一下这个账单。"
    kartu = submit(email(text, "信用卡账单问题", Lang.ZH, "kartu", "<z1@x>"), deps, now=T0)
    pulsa = submit(email(text, "信用卡账单问题", Lang.ZH, "pulsa", "<z2@x>"), deps, now=T0)
    (_, to_kartu), (_, to_pulsa) = deps.senders[Channel.EMAIL].sent  # type: ignore[attr-defined]

    assert to_kartu.meta["from_address"] == "info@kartu.localhost"
    assert to_kartu.meta["lang"] == "zh" and "感谢您联系Kartu Kredit Nusantara" in to_kartu.text
    assert "客户服务中心" in to_kartu.text and kartu.ticket.id in to_kartu.text
    # Pulsa does not answer in Chinese: its first language, Indonesian, with its signature.
    assert to_pulsa.meta["from_address"] == "info@support.localhost"
    assert to_pulsa.meta["lang"] == "id" and "Terima kasih" in to_pulsa.text
    assert "Tim Pulsa Cepat" in to_pulsa.text and pulsa.ticket.id in to_pulsa.text
    assert pulsa.ticket.lang == Lang.ZH  # the ticket keeps the customer's language


def test_the_ses_sender_sends_from_the_tickets_brand(monkeypatch: pytest.MonkeyPatch) -> None:
    from deskintake.adapters.ses_sender import SesEmailSender
    from deskintake.domain.ticket import Direction, Message

    monkeypatch.setenv("DESKINTAKE_BRANDS_FILE", str(ROOT / "examples" / "brands.json"))
    ticket = ticket_at(T0, "kartu", Priority.NORMAL)
    reply = Message(ticket_id=ticket.id, id="r1", direction=Direction.OUTBOUND, channel=Channel.EMAIL,
                    author="agent", text="Hello", created_at=T0)
    mail = SesEmailSender(object(), sender="info@support.localhost").build(ticket, reply)
    assert mail["From"] == "Kartu Kredit Nusantara <info@kartu.localhost>"


# -- per-brand SLAs across the two calendars ---------------------------------------------


def ticket_at(at: datetime, brand: str, priority: Priority) -> Ticket:
    inbound = InboundMessage(channel=Channel.EMAIL, external_id=f"<{brand}{at.timestamp()}@x>",
                             customer="c@example.com", subject="Question", text="A question",
                             lang=Lang.EN, received_at=at)
    return Ticket.open(inbound, Classification(category=Category.GENERAL_INQUIRY, priority=priority,
                                               confidence=0.9, lang=Lang.EN),
                       ticket_id="TKT-0000001", brand=brand)


def first_response_due(ticket: Ticket) -> datetime:
    config = follow_up_config(load_config(), DEMO.get(ticket.brand))
    planned = plan(ticket, ticket.created_at, config, FollowUpHistory.of(FollowUpState(ticket_id=ticket.id)))
    return next(f.due_at for f in planned if f.kind == FollowUpKind.FIRST_RESPONSE)


def test_late_at_night_the_24_hour_brand_is_due_within_its_target_and_the_other_waits_for_opening() -> None:
    late = datetime(2026, 11, 21, 23, 30) - WIB  # Saturday 23:30 WIB, after pulsa closes
    late = late.replace(tzinfo=UTC)
    # kartu: 24 hours, normal = 120 minutes on the wall clock.
    assert first_response_due(ticket_at(late, "kartu", Priority.NORMAL)) == late + timedelta(minutes=120)
    # pulsa: 07:00-23:00 WIB, normal = 240 staffed minutes -> Sunday 07:00 + 4 h = 11:00 WIB.
    expected = datetime(2026, 11, 22, 11, 0, tzinfo=UTC) - WIB
    assert first_response_due(ticket_at(late, "pulsa", Priority.NORMAL)) == expected


def test_the_brands_extra_holiday_is_closed_for_it_only() -> None:
    eve = datetime(2026, 12, 24, 10, 0, tzinfo=UTC) - WIB  # 24 Dec 10:00 WIB: pulsa's holiday
    pulsa_due = first_response_due(ticket_at(eve, "pulsa", Priority.HIGH))
    assert pulsa_due == datetime(2026, 12, 26, 8, 0, tzinfo=UTC) - WIB  # 25th is a public holiday too
    assert first_response_due(ticket_at(eve, "kartu", Priority.HIGH)) == eve + timedelta(minutes=30)
