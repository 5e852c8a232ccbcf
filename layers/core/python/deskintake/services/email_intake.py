"""Email intake: a raw mail stored by SES becomes a ticket, or a kept failure record."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from deskintake.domain.errors import NotFoundError
from deskintake.domain.model import Attachment
from deskintake.ports import FailureLog, RawStore
from deskintake.services import intake
from deskintake.services.intake import IntakeDeps, IntakeResult, brands_of

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
NO_BRAND = "no brand owns "


@dataclass
class EmailIntakeDeps:
    raw: RawStore
    failures: FailureLog
    intake: IntakeDeps


@dataclass(frozen=True)
class EmailOutcome:
    key: str
    result: IntakeResult | None = None
    failure_id: str | None = None
    reason: str | None = None


def process_stored_mail(
    key: str,
    deps: EmailIntakeDeps,
    *,
    now: datetime,
    received_at: datetime | None = None,
    spam_verdict: str | None = None,
    virus_verdict: str | None = None,
    recipients: Sequence[str] = (),
) -> EmailOutcome:
    """Read the raw mail at `key`, parse, mask, and file it.

    Mail that cannot be parsed (or whose object is gone) is not retried: a failure record
    names it, the raw object stays in S3, and `deskintake reprocess` runs it again later.
    Dependency failures (S3, DynamoDB throttling) raise, so Lambda retries and the DLQ keeps it.

    The mail belongs to the brand of the address it was delivered to: the SES receipt's
    `recipients` first, then Delivered-To / X-Original-To, then To. Mail to an address no
    brand owns is kept the same way ("no brand owns <address>"), to reprocess once configured.
    """
    from deskintake.inbound.email import parse_email  # mail-parser is heavy: load on first mail

    try:
        raw = deps.raw.get(key)
    except NotFoundError as exc:
        return _fail(deps, key, f"raw mail not found: {exc}", now)
    if virus_verdict == "FAIL":
        return _fail(deps, key, "SES virus verdict FAIL: not filed", now)
    try:
        parsed = parse_email(raw, received_at=received_at or now)
    except Exception as exc:  # noqa: BLE001 - hostile mail must be kept, not retried forever
        return _fail(deps, key, f"{type(exc).__name__}: {exc}", now)
    brand, tried = brands_of(deps.intake).route_email(recipients, parsed.delivered_to, parsed.to)
    if brand is None:
        return _fail(deps, key, NO_BRAND + (", ".join(tried) or "(no recipient address)"), now)
    attachments = _store_attachments(parsed, key, deps)
    inbound = parsed.to_inbound(raw_key=key)
    update: dict[str, object] = {"attachments": attachments,
                                 "meta": {**inbound.meta, "brand": brand.id}}
    if spam_verdict:  # the receipt's verdict wins over a header; none keeps the header's
        update["spam_verdict"] = spam_verdict
    inbound = inbound.model_copy(update=update)
    result = intake.submit(inbound, deps.intake, now=now)
    return EmailOutcome(key=key, result=result)


def recipients_from_reason(reason: str) -> list[str]:
    """The addresses a "no brand owns" failure names: reprocessing routes by them again."""
    if not reason.startswith(NO_BRAND):
        return []
    return [a.strip() for a in reason[len(NO_BRAND):].split(",") if "@" in a]


def _store_attachments(parsed: object, key: str, deps: EmailIntakeDeps) -> list[Attachment]:
    attachments: list[Attachment] = list(getattr(parsed, "attachments", []))
    payloads: list[bytes] = list(getattr(parsed, "attachment_payloads", []))
    stored = []
    folder = hashlib.sha256(key.encode()).hexdigest()[:16]
    for index, attachment in enumerate(attachments):
        if index >= len(payloads):
            stored.append(attachment)
            continue
        safe = _UNSAFE.sub("_", attachment.filename)[-100:] or "attachment"
        object_key = f"attachments/{folder}/{index:02d}-{safe}"
        deps.raw.put(object_key, payloads[index], content_type=attachment.content_type)
        stored.append(attachment.model_copy(update={"key": object_key}))
    return stored


def _fail(deps: EmailIntakeDeps, key: str, reason: str, now: datetime) -> EmailOutcome:
    failure_id = deps.failures.record(source="email", key=key, reason=reason, at=now)
    log.warning("inbound mail kept as failure", extra={"key": key, "failure_id": failure_id,
                                                        "reason": reason[:200]})
    return EmailOutcome(key=key, failure_id=failure_id, reason=reason)
