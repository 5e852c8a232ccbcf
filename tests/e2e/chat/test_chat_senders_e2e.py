"""The platform senders over real HTTP against the fake platform server, and through the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from deskintake.adapters.chat_senders import (
    LivechatSender,
    SendError,
    TelegramSender,
    WhatsAppSender,
)
from deskintake.domain.errors import ConfigError
from deskintake.domain.model import Category, Channel, Priority
from deskintake.domain.ticket import Direction, Message, Ticket
from deskintake.services import outbox

from tests.e2e.chat.fake_platform import (
    LIVECHAT_SECRET,
    TG_TOKEN,
    WA_PHONE_ID,
    WA_TOKEN,
    FakePlatform,
)
from tests.fakes import InMemoryTicketRepository

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakePlatform]:
    server = FakePlatform().start()
    yield server
    server.stop()


def ticket(channel: Channel, customer: str) -> Ticket:
    return Ticket(
        id="TKT-ABCDEFG",
        channel=channel,
        customer=customer,
        category=Category.ORDER_PENDING,
        priority=Priority.HIGH,
        created_at=NOW,
        updated_at=NOW,
    )


def reply(t: Ticket, text: str = "Terima kasih, tiket TKT-ABCDEFG", **meta: object) -> Message:
    return Message(
        ticket_id=t.id,
        id=Message.make_id(NOW, text),
        direction=Direction.OUTBOUND,
        channel=t.channel,
        text=text,
        created_at=NOW,
        meta=dict(meta),
    )


def test_whatsapp_sender_posts_a_text_message_with_bearer_auth(fake: FakePlatform) -> None:
    sender = WhatsAppSender(
        base_url=fake.base_url,
        api_version="v21.0",
        phone_number_id=lambda: WA_PHONE_ID,
        access_token=lambda: WA_TOKEN,
    )
    t = ticket(Channel.WHATSAPP, "6281234567890")
    wamid = sender.send(t, reply(t, reply_to_platform_id="wamid.IN1"))
    (sent,) = fake.sent
    assert wamid == sent.answer_id and wamid.startswith("wamid.")
    assert sent.path == f"/v21.0/{WA_PHONE_ID}/messages"
    assert sent.payload["to"] == "6281234567890" and sent.payload["type"] == "text"
    assert sent.payload["text"]["body"].startswith("Terima kasih")
    assert sent.payload["context"] == {"message_id": "wamid.IN1"}


def test_whatsapp_sender_reports_platform_refusals(fake: FakePlatform) -> None:
    t = ticket(Channel.WHATSAPP, "6281234567890")
    wrong = WhatsAppSender(
        base_url=fake.base_url,
        api_version="v21.0",
        phone_number_id=lambda: WA_PHONE_ID,
        access_token=lambda: "expired",
    )
    with pytest.raises(SendError, match="401"):
        wrong.send(t, reply(t))
    unconfigured = WhatsAppSender(
        base_url=fake.base_url,
        api_version="v21.0",
        phone_number_id=lambda: None,
        access_token=lambda: WA_TOKEN,
    )
    with pytest.raises(ConfigError):
        unconfigured.send(t, reply(t))
    down = WhatsAppSender(
        base_url="http://127.0.0.1:9",
        api_version="v21.0",
        phone_number_id=lambda: WA_PHONE_ID,
        access_token=lambda: WA_TOKEN,
        timeout=2,
    )
    with pytest.raises(SendError, match="cannot reach"):
        down.send(t, reply(t))
    assert not fake.sent


def test_telegram_sender_replies_in_the_chat_and_quotes_the_customer(fake: FakePlatform) -> None:
    sender = TelegramSender(base_url=fake.base_url, bot_token=lambda: TG_TOKEN)
    t = ticket(Channel.TELEGRAM, "700000001")
    platform_id = sender.send(t, reply(t, reply_to_platform_id="700000001:42"))
    (sent,) = fake.sent
    assert platform_id == f"700000001:{sent.answer_id}"
    assert sent.payload["chat_id"] == 700000001
    assert sent.payload["reply_parameters"]["message_id"] == 42
    with pytest.raises(SendError, match="401"):
        TelegramSender(base_url=fake.base_url, bot_token=lambda: "123:wrong").send(t, reply(t))


def test_telegram_token_never_appears_in_errors(fake: FakePlatform) -> None:
    sender = TelegramSender(
        base_url="http://127.0.0.1:9", bot_token=lambda: "999:SECRET-TOKEN", timeout=2
    )
    t = ticket(Channel.TELEGRAM, "1")
    with pytest.raises(SendError) as caught:
        sender.send(t, reply(t))
    assert "SECRET-TOKEN" not in str(caught.value)


def test_livechat_sender_signs_its_callback_and_falls_back_to_the_outbox(
    fake: FakePlatform,
) -> None:
    t = ticket(Channel.LIVECHAT, "budi@example.com")
    signed = LivechatSender(
        callback_url=lambda: fake.base_url + "/livechat/callback", secret=lambda: LIVECHAT_SECRET
    )
    assert signed.send(t, reply(t)).startswith("lc-")  # the fake checked X-Signature / X-Timestamp
    (sent,) = fake.sent
    assert sent.payload["to"] == "budi@example.com" and sent.payload["ticket_id"] == t.id
    wrong = LivechatSender(
        callback_url=lambda: fake.base_url + "/livechat/callback", secret=lambda: "other"
    )
    with pytest.raises(SendError, match="401"):
        wrong.send(t, reply(t))
    polled = LivechatSender(callback_url=lambda: None, secret=lambda: LIVECHAT_SECRET)
    assert polled.send(t, reply(t)).startswith(f"livechat:{t.id}:")


def test_outbox_stores_first_then_marks_sent_or_failed(fake: FakePlatform) -> None:
    repo = InMemoryTicketRepository()
    t = ticket(Channel.TELEGRAM, "700000002")
    sender = TelegramSender(base_url=fake.base_url, bot_token=lambda: TG_TOKEN)
    sent = outbox.deliver(t, reply(t), tickets=repo, senders={Channel.TELEGRAM: sender}, now=NOW)
    assert sent.delivery_status == "sent"
    assert repo.find_message(Channel.TELEGRAM, str(sent.external_id)) == (t.id, sent.id)
    fake.fail_with = 502
    failed = outbox.deliver(
        t, reply(t, text="second"), tickets=repo, senders={Channel.TELEGRAM: sender}, now=NOW
    )
    assert failed.delivery_status == "failed"
    stored = {m.text: m.delivery_status for m in repo.messages(t.id)}
    assert stored == {
        "Terima kasih, tiket TKT-ABCDEFG": "sent",
        "second": "failed",
    }  # stored, not lost
