"""Email Sender over SES: our replies carry threading headers and Auto-Submitted."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

from deskintake.domain.ticket import Message, Ticket


class SesEmailSender:
    """Sends a ticket's outbound message as a reply to the customer's mail."""

    def __init__(self, client: Any, *, sender: str, sender_name: str = "Customer Support") -> None:
        self._ses = client
        self._sender = sender
        self._sender_name = sender_name

    def identity(self, ticket: Ticket, message: Message) -> tuple[str, str]:
        """(address, name) to send from: the message's, else the ticket's brand's, else ours."""
        if address := message.meta.get("from_address"):
            return str(address), str(message.meta.get("from_name") or self._sender_name)
        try:
            from deskintake.runtime.brands import active

            brand = active().get(ticket.brand)
        except Exception:  # noqa: BLE001 - a broken brands file must not stop replies
            brand = None
        if brand is not None and brand.sender is not None:
            return brand.sender.address, brand.sender.name
        return self._sender, self._sender_name

    def build(self, ticket: Ticket, message: Message) -> EmailMessage:
        mail = EmailMessage()
        sender, sender_name = self.identity(ticket, message)
        mail["From"] = formataddr((sender_name, sender))
        mail["To"] = formataddr((_one_line(ticket.customer_name), _one_line(ticket.customer)))
        mail["Subject"] = _one_line(message.subject or f"[{ticket.id}] {ticket.subject}")
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "deskintake.local")
        mail["Content-Language"] = str(ticket.lang)
        mail["X-Deskintake-Ticket"] = ticket.id
        if message.is_auto:
            # RFC 3834: robots must not answer robots.
            mail["Auto-Submitted"] = "auto-replied"
            mail["X-Auto-Response-Suppress"] = "All"
            mail["Precedence"] = "auto_reply"
        in_reply_to = message.meta.get("in_reply_to")
        references = [r for r in message.meta.get("references") or [] if r]
        if in_reply_to:
            mail["In-Reply-To"] = _bracket(_one_line(in_reply_to))
        if references:
            mail["References"] = " ".join(_bracket(_one_line(r)) for r in references[-20:])
        mail.set_content(message.text, charset="utf-8")
        return mail

    def send(self, ticket: Ticket, message: Message) -> str:
        mail = self.build(ticket, message)
        response = self._ses.send_raw_email(
            Source=self.identity(ticket, message)[0], Destinations=[ticket.customer],
            RawMessage={"Data": mail.as_bytes()},
        )
        # SES replaces our Message-ID with <MessageId@region.amazonses.com>: keep what it returns.
        return str(response["MessageId"])


_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


def _one_line(value: str) -> str:
    """Customer-supplied text in a header: line breaks would end the header (injection), and
    the email package refuses them outright, which would lose the acknowledgement."""
    return " ".join(_BREAKS.sub(" ", value).split())


def _bracket(message_id: str) -> str:
    mid = message_id.strip()
    return mid if mid.startswith("<") else f"<{mid}>"
