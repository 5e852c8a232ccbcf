"""The domain vocabulary: enums, inbound messages, classifications, tickets. Pure: no I/O."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Category(StrEnum):
    """Ticket categories: a stable interface (see TAXONOMY.md)."""

    ORDER_PENDING = "order_pending"
    PRODUCT_NOT_RECEIVED = "product_not_received"
    PAYMENT_REFUND = "payment_refund"
    CARD_FRAUD = "card_fraud"
    ACCOUNT_SECURITY = "account_security"
    ACCOUNT_ACCESS = "account_access"
    BILLING_INQUIRY = "billing_inquiry"
    CREDIT_LIMIT = "credit_limit"
    REWARDS_POINTS = "rewards_points"
    PROFILE_UPDATE = "profile_update"
    COMPLAINT = "complaint"
    SALES_INQUIRY = "sales_inquiry"
    FEEDBACK = "feedback"
    GENERAL_INQUIRY = "general_inquiry"
    SPAM = "spam"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"
    NONE = "none"


class Channel(StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    LIVECHAT = "livechat"


class Lang(StrEnum):
    ID = "id"
    ZH = "zh"
    EN = "en"


class TicketStatus(StrEnum):
    OPEN = "open"
    WAITING = "waiting"  # waiting on the customer: SLA clocks pause
    RESOLVED = "resolved"
    CLOSED = "closed"


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    filename: str
    content_type: str
    size: int
    key: str | None = None  # where the bytes live (S3 key); never inlined


class Redaction(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # "card" | "otp" | "password"
    count: int


class Classification(BaseModel):
    """What the classifier decided, and why."""

    model_config = ConfigDict(frozen=True)

    category: Category
    priority: Priority
    confidence: float = Field(ge=0.0, le=1.0)
    lang: Lang
    needs_triage: bool = False
    explanation: list[str] = Field(default_factory=list)
    entities: dict[str, Any] = Field(default_factory=dict)
    model_version: str = ""


class InboundMessage(BaseModel):
    """One customer message from any channel, already masked. What the core ingests."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    external_id: str  # Message-ID / platform message id: the idempotency key
    customer: str  # email address, phone number, chat id: who the ticket belongs to
    customer_name: str = ""
    subject: str = ""
    text: str = ""  # the customer's new text, masked
    html: str | None = None  # masked HTML body for display (sanitised again at display time)
    lang: Lang = Lang.EN
    received_at: datetime
    to: list[str] = Field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    thread_token: str | None = None  # "TKT-XXXXX" found in the subject
    is_auto: bool = False
    auto_reason: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    redactions: list[Redaction] = Field(default_factory=list)
    raw_key: str | None = None  # raw MIME / payload object in S3
    category_hint: str | None = None  # e.g. the live-chat pre-chat form's choice
    spam_verdict: str | None = None  # SES spamVerdict status when present
    meta: dict[str, Any] = Field(default_factory=dict)
