"""Acknowledgement texts in the customer's language, and who must never get one."""

from __future__ import annotations

from deskintake.domain.brands import AckTemplate
from deskintake.domain.model import Category, Lang
from deskintake.domain.ticket import Ticket

_NEXT: dict[Lang, dict[str, str]] = {
    Lang.ID: {
        Category.ORDER_PENDING: (
            "Pesanan yang masih pending biasanya selesai paling lama 15 menit setelah pembayaran. "
            "Kami akan memeriksa status pesanan Anda 15 menit setelah waktu pembayaran dan "
            "mengabari Anda."
        ),
        Category.PRODUCT_NOT_RECEIVED: (
            "Kami akan menindaklanjuti ke operator/penyedia atas nama Anda dan mengabari hasilnya."
        ),
        Category.CARD_FRAUD: (
            "Laporan ini kami tangani sebagai prioritas utama, 24 jam. Jangan pernah memberikan "
            "nomor kartu lengkap, kode OTP atau kata sandi kepada siapa pun, termasuk kami."
        ),
        Category.ACCOUNT_SECURITY: (
            "Laporan ini kami tangani sebagai prioritas utama, 24 jam. Kami tidak pernah meminta "
            "kode OTP atau kata sandi Anda: jangan berikan kepada siapa pun."
        ),
        "default": "Tim kami akan membalas secepatnya pada jam layanan 07.00–23.00 WIB.",
    },
    Lang.ZH: {
        Category.ORDER_PENDING: (
            "处理中的订单通常在付款后15分钟内完成。我们会在您付款15分钟后核查订单状态并通知您。"
        ),
        Category.PRODUCT_NOT_RECEIVED: "我们将代您向运营商/供应商跟进，并告知处理结果。",
        Category.CARD_FRAUD: (
            "我们将优先处理此报告（24小时）。请勿向任何人（包括我们）提供完整卡号、验证码或密码。"
        ),
        Category.ACCOUNT_SECURITY: (
            "我们将优先处理此报告（24小时）。我们绝不会索取您的验证码或密码，请勿告诉任何人。"
        ),
        "default": "我们的团队将在服务时间（雅加达时间07:00–23:00）内尽快回复您。",
    },
    Lang.EN: {
        Category.ORDER_PENDING: (
            "Pending orders usually complete within 15 minutes of payment. We will check your "
            "order's status 15 minutes after the payment time and let you know."
        ),
        Category.PRODUCT_NOT_RECEIVED: (
            "We will follow up with the operator / provider on your behalf and tell you the outcome."
        ),
        Category.CARD_FRAUD: (
            "We treat this report as urgent, around the clock. Never give your full card number, "
            "OTP or password to anyone, including us."
        ),
        Category.ACCOUNT_SECURITY: (
            "We treat this report as urgent, around the clock. We never ask for your OTP or "
            "password: do not share them with anyone."
        ),
        "default": "Our team will reply as soon as possible during service hours (07:00–23:00 WIB).",
    },
}

_INTRO = {
    Lang.ID: ("Terima kasih, pesan Anda sudah kami terima dengan nomor tiket {id}.", "Balas email "
              "ini untuk menambahkan informasi; nomor tiket di subjek membantu kami menemukannya."),
    Lang.ZH: ("感谢您的来信，我们已收到，工单号为 {id}。", "如需补充信息，请直接回复此邮件，"
              "主题中的工单号可帮助我们找到您的工单。"),
    Lang.EN: ("Thank you, we have received your message as ticket {id}.", "Reply to this email "
              "to add information; the ticket number in the subject helps us find it."),
}

_SUBJECT = {Lang.ID: "Tiket", Lang.ZH: "工单", Lang.EN: "Ticket"}
_CHAT_INTRO = {
    Lang.ID: "Terima kasih, pesan Anda kami terima dengan nomor tiket {id}.",
    Lang.ZH: "感谢您的留言，您的工单号为 {id}。",
    Lang.EN: "Thank you, we received your message as ticket {id}.",
}


def ack_text(ticket: Ticket, template: AckTemplate | None = None, brand_name: str = "") -> str:
    """The body of the acknowledgement for a new ticket, in its language (brand overrides win)."""
    lang = ticket.lang
    intro, reply_hint = _INTRO[lang]
    if template is not None:
        intro, reply_hint = template.intro or intro, template.reply_hint or reply_hint
    body = f"{_fill(intro, ticket, brand_name)}\n\n{_next(ticket, template)}\n\n{reply_hint}\n"
    if template is not None and template.signature:
        body += f"\n{_fill(template.signature, ticket, brand_name)}\n"
    return body


def chat_ack_text(ticket: Ticket, template: AckTemplate | None = None, brand_name: str = "") -> str:
    """A short acknowledgement for chat channels."""
    intro = (template.chat_intro if template is not None else None) or _CHAT_INTRO[ticket.lang]
    return f"{_fill(intro, ticket, brand_name)} {_next(ticket, template)}"


def _next(ticket: Ticket, template: AckTemplate | None) -> str:
    """What happens next: the brand's text for the category, the standard one, the defaults."""
    table = _NEXT[ticket.lang]
    if template is not None and (text := template.next.get(ticket.category)):
        return text
    if ticket.category in table:
        return table[ticket.category]
    return (template.next_default if template is not None else None) or table["default"]


def _fill(text: str, ticket: Ticket, brand_name: str) -> str:
    # str.replace, not format: an operator's template may contain other braces.
    return text.replace("{id}", ticket.id).replace("{brand}", brand_name or "")


def ack_subject(ticket: Ticket) -> str:
    """'[TKT-XXXXXXX] Re: <subject>': the token lets a reply find its ticket."""
    original = ticket.subject.strip()
    label = _SUBJECT[ticket.lang]
    if original:
        prefix = "" if original.lower().startswith("re:") else "Re: "
        return f"[{ticket.id}] {prefix}{original}"
    return f"[{ticket.id}] {label} {ticket.id}"
