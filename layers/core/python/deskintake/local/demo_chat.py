"""Demo chats for the local stack: signed webhooks through the real gateway, as platforms send."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# (platform, customer, name, pre-chat category, text[, channel id]): Indonesian, Chinese and
# English customers. Without a channel id a chat reaches the default brand (pulsa in the demo);
# the ids of examples/brands.json send the last ones to the card issuer (kartu).
DEMO_CHATS: list[tuple[str | None, ...]] = [
    (
        "whatsapp",
        "6281311112222",
        "Siti Rahma",
        None,
        "Halo kak, saya beli pulsa 100rb jam 09.15 sudah bayar via DANA tapi statusnya "
        "masih pending. "
        "Order id INV-240915-7781. Tolong dicek ya",
    ),
    (
        "telegram",
        "700000042",
        "Wang Fang",
        None,
        "你好，我的信用卡昨天晚上被盗刷了两笔，金额分别是3,200元和1,850元，"
        "我没有做过这些交易，请马上帮我冻结卡片。",
    ),
    (
        "livechat",
        "james.tan@example.com",
        "James Tan",
        "billing_inquiry",
        "Hi, my statement shows an annual fee of SGD 196 but I was told the first year is free. "
        "Can you check and refund it?",
    ),
    (
        "livechat",
        "+6285722223333",
        "Dewi",
        "account_access",
        "Saya tidak bisa login, OTP tidak pernah masuk ke HP saya. Sudah coba 3 kali.",
    ),
    (
        "whatsapp",
        "6281399990000",
        "Lim Mei Ling",
        None,
        "您好，我想把信用卡额度从两千万提高到五千万印尼盾，请问需要提交什么材料？",
        "100000000000002",
    ),
    (
        "livechat",
        "rudi.h@example.com",
        "Rudi Hartono",
        None,
        "Kartu kredit saya tertelan di ATM jam 1 pagi tadi, tolong blokir kartunya sekarang.",
        "kartu-web",
    ),
]


def load_demo_chats(stack: Any) -> int:
    """Send the demo chats to `stack`'s gateway, signed with its secrets; how many were filed."""
    from deskintake.commands.chat_send import build_request, post

    base = f"http://{stack.config.host}:{stack.config.http_port}"
    env = stack.environment()
    filed = 0
    for platform, sender, name, category, text, *channel in DEMO_CHATS:
        path, headers, body = build_request(
            str(platform), str(text), sender=sender, name=str(name), category=category,
            secrets_env=env,
            channel_id=channel[0] if channel else None,
        )
        try:
            status, answer = post(base + path, headers, body)
        except OSError as exc:
            log.warning("demo chat %s not sent: %s", platform, exc)
            continue
        if status == 200 and answer.get("tickets"):
            filed += 1
        else:
            log.warning("demo chat %s answered %s: %s", platform, status, answer)
    return filed
