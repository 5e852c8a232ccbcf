"""The local SMTP port: accepts mail as SES receiving would, stores it, invokes the intake.

Like SES with a receipt rule (S3 action, then Lambda action): the raw message is written to
the raw-mail bucket under the rule's prefix + a generated messageId, then the email function
gets the event SES sends. A handler failure leaves the event in the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from deskintake.inbound.ses import ses_event

log = logging.getLogger(__name__)

_ALPHABET = string.ascii_lowercase + string.digits
MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # SES's receiving limit


def ses_message_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(40))


class SesReceiving:
    """What SES does with one accepted message, minus the network."""

    def __init__(self, *, s3: Any, sqs: Any, bucket: str, prefix: str, dlq_url: str | None,
                 invoke: Callable[[dict[str, Any]], Any]) -> None:
        self._s3, self._sqs = s3, sqs
        self.bucket, self.prefix, self.dlq_url = bucket, prefix, dlq_url
        self._invoke = invoke

    def receive(self, raw: bytes, *, mail_from: str, recipients: list[str]) -> dict[str, Any]:
        message_id = ses_message_id()
        now = datetime.now(UTC)
        self._s3.put_object(Bucket=self.bucket, Key=f"{self.prefix}{message_id}", Body=raw)
        event = ses_event(message_id, timestamp=now, source=mail_from, recipients=recipients)
        try:
            result = self._invoke(event)
        except Exception as exc:
            log.exception("email intake failed; event kept in the dead-letter queue")
            if self.dlq_url:
                self._sqs.send_message(QueueUrl=self.dlq_url, MessageBody=json.dumps(
                    {"requestPayload": event, "responseContext": {"functionError": type(exc).__name__},
                     "error": str(exc)[:500]}))
            return {"messageId": message_id, "error": type(exc).__name__}
        return {"messageId": message_id, "result": result}


class SmtpHandler:
    """aiosmtpd handler: only the rule's recipients are accepted, as SES would."""

    def __init__(self, receiving: SesReceiving, recipients: list[str]) -> None:
        self.receiving = receiving
        self.recipients = {r.lower() for r in recipients}
        self.received: list[dict[str, Any]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        _, addr = parseaddr(address)
        domain = addr.rpartition("@")[2].lower()
        if addr.lower() not in self.recipients and domain not in self.recipients:
            return "550 5.1.1 Mailbox does not exist"
        envelope.rcpt_tos.append(addr)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        import asyncio

        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if len(raw) > MAX_MESSAGE_BYTES:
            return "552 5.3.4 Message too big"
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(None, lambda: self.receiving.receive(
            raw, mail_from=envelope.mail_from or "", recipients=list(envelope.rcpt_tos)))
        self.received.append(outcome)
        return f"250 Ok: queued as {outcome['messageId']}"


def start_smtp(handler: SmtpHandler, *, host: str, port: int) -> Any:
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname=host, port=port, decode_data=False,
                            data_size_limit=MAX_MESSAGE_BYTES + 1024)
    controller.start()
    return controller
