"""Which follow-ups a ticket should have, and when: the service policy of TAXONOMY.md. Pure.

`plan(ticket, now, config, history)` answers from the ticket's current state alone, so every
change (a reply, a new status, a new category or priority) is handled the same way: plan
again, schedule what is new or moved, cancel what is no longer in the plan.

Times: staffed hours are 07:00-23:00 Asia/Jakarta every day except public holidays (the
`holidays` package's Indonesian calendar plus a configurable list). Urgent tickets and the
round-the-clock categories (fraud, security) run on the wall clock. SLA clocks stop while
the ticket waits on the customer: the waiting periods are skipped like closed hours.
"""

import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deskintake.domain.model import Category, Lang, Priority, TicketStatus
from deskintake.domain.ticket import Ticket

__all__ = [
    "Action",
    "BusinessCalendar",
    "BusinessHours",
    "FollowUp",
    "FollowUpConfig",
    "FollowUpHistory",
    "FollowUpKind",
    "FollowUpState",
    "ScheduledEntry",
    "SlaTarget",
    "add_business_time",
    "customer_text",
    "load_config",
    "payment_moment",
    "plan",
]


class FollowUpKind(StrEnum):
    ORDER_CHECK = "order_check"  # pending order: status check 15 min after payment
    ORDER_OPERATOR_CHECK = "order_operator_check"  # still pending: second check at 24 h
    OPERATOR_FOLLOW_UP = "operator_follow_up"  # product not received: chase the operator
    FIRST_RESPONSE = "first_response"  # SLA: no agent reply yet
    NEXT_RESPONSE = "next_response"  # SLA: the customer wrote again, no agent reply since
    WAITING_REMINDER = "waiting_reminder"  # waiting on the customer: nudge at 48 h
    AUTO_CLOSE = "auto_close"  # waiting on the customer: close at 72 h


class Action(StrEnum):
    REMIND_ASSIGNEE = "remind_assignee"
    ESCALATE = "escalate"
    MESSAGE_CUSTOMER = "message_customer"
    CLOSE = "close"


SLA_KINDS = frozenset({FollowUpKind.FIRST_RESPONSE, FollowUpKind.NEXT_RESPONSE})

_ACTIONS = {
    FollowUpKind.ORDER_CHECK: Action.REMIND_ASSIGNEE,
    FollowUpKind.ORDER_OPERATOR_CHECK: Action.REMIND_ASSIGNEE,
    FollowUpKind.OPERATOR_FOLLOW_UP: Action.REMIND_ASSIGNEE,
    FollowUpKind.FIRST_RESPONSE: Action.ESCALATE,
    FollowUpKind.NEXT_RESPONSE: Action.ESCALATE,
    FollowUpKind.WAITING_REMINDER: Action.MESSAGE_CUSTOMER,
    FollowUpKind.AUTO_CLOSE: Action.CLOSE,
}

_ESCALATION = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH,
               Priority.HIGH: Priority.URGENT}


def escalated(priority: Priority) -> Priority:
    """One step up; urgent (and none) stay where they are."""
    return _ESCALATION.get(priority, priority)


# ---------------------------------------------------------------------------- configuration


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Config(_Frozen):
    # Schema built on first validation (an operator's file), not at import: about 8 ms of every
    # intake cold start. The packaged defaults are constructed without it (see load_config).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class SlaTarget(_Config):
    """A response target: minutes and/or staffed days, in staffed hours unless round the clock."""

    minutes: int = Field(default=0, ge=0)
    business_days: int = Field(default=0, ge=0)
    round_the_clock: bool = False

    @model_validator(mode="after")
    def _positive(self) -> "SlaTarget":
        return self._checked()

    def _checked(self) -> "SlaTarget":
        if self.minutes == 0 and self.business_days == 0:
            raise ValueError("an SLA target needs minutes or business_days")
        return self

    def duration(self, hours: "BusinessHours") -> timedelta:
        return timedelta(minutes=self.minutes) + self.business_days * hours.day_length


class BusinessHours(_Config):
    """When the general queue is staffed."""

    timezone: str = "Asia/Jakarta"
    opens: time = time(7, 0)
    closes: time = time(23, 0)
    weekdays: frozenset[int] = frozenset(range(7))  # Monday = 0; the desk works every day
    holiday_country: str | None = "ID"
    extra_holidays: frozenset[date] = frozenset()  # e.g. cuti bersama, company days
    working_holidays: frozenset[date] = frozenset()  # listed holidays the desk works anyway

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _order(self) -> "BusinessHours":
        return self._checked()

    def _checked(self) -> "BusinessHours":
        if self.closes <= self.opens:
            raise ValueError("business hours must close after they open (same day)")
        return self

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)


def _default_first_response() -> dict[Priority, SlaTarget]:
    return {
        Priority.URGENT: SlaTarget.model_construct(minutes=15, round_the_clock=True),
        Priority.HIGH: SlaTarget.model_construct(minutes=60),
        Priority.NORMAL: SlaTarget.model_construct(minutes=240),
        Priority.LOW: SlaTarget.model_construct(business_days=1),
    }


class FollowUpConfig(_Config):
    """Operator settings for follow-ups and SLAs (config/follow_ups.json holds the defaults)."""

    business_hours: BusinessHours = BusinessHours.model_construct()  # the defaults: valid
    round_the_clock_categories: frozenset[Category] = frozenset(
        {Category.CARD_FRAUD, Category.ACCOUNT_SECURITY})
    first_response: dict[Priority, SlaTarget] = Field(default_factory=_default_first_response)
    next_response: dict[Priority, SlaTarget] = Field(default_factory=_default_first_response)
    order_check_after_minutes: int = Field(default=15, ge=0)
    order_operator_check_after_hours: float = Field(default=24, gt=0)
    payment_time_grace_minutes: int = Field(default=10, ge=0)
    operator_follow_up_after_minutes: int = Field(default=30, ge=0)
    waiting_reminder_after_hours: float = Field(default=48, gt=0)
    waiting_close_after_hours: float = Field(default=72, gt=0)
    escalate_on_breach: bool = True
    skip_automatic: bool = True  # auto-replies and bounces get no SLA and no nudges
    messages: dict[str, dict[Lang, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _order(self) -> "FollowUpConfig":
        return self._checked()

    def _checked(self) -> "FollowUpConfig":
        if self.waiting_close_after_hours <= self.waiting_reminder_after_hours:
            raise ValueError("waiting_close_after_hours must come after the reminder")
        return self


@functools.cache
def load_config(path: str | None = None) -> FollowUpConfig:
    """The operator's follow-up configuration: a JSON file, else the packaged defaults."""
    if path:
        return FollowUpConfig.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    text = resources.files("deskintake.config").joinpath("follow_ups.json").read_text("utf-8")
    data = json.loads(text)
    return _construct_packaged(data) or FollowUpConfig.model_validate(data)


# The plain settings of the packaged file: (type, lowest allowed, whether the lowest is excluded).
_NUMBERS: dict[str, tuple[type, float, bool]] = {
    "order_check_after_minutes": (int, 0, False),
    "order_operator_check_after_hours": (float, 0, True),
    "payment_time_grace_minutes": (int, 0, False),
    "operator_follow_up_after_minutes": (int, 0, False),
    "waiting_reminder_after_hours": (float, 0, True),
    "waiting_close_after_hours": (float, 0, True),
}


def _construct_packaged(data: Any) -> FollowUpConfig | None:
    """The packaged defaults built without pydantic's schema, by the models' own checks.

    Only the shapes the packaged file uses are understood here; anything else returns None and
    the caller validates fully (and reports errors as usual). The tests check that both paths
    give the same configuration.
    """
    try:
        if not isinstance(data, dict) or not set(data) <= set(FollowUpConfig.model_fields):
            return None
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in _NUMBERS:
                kind, low, strict = _NUMBERS[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    return None
                if (kind is int and not isinstance(value, int)) or value < low or (
                        strict and value == low):
                    return None
                values[key] = kind(value)
            elif key in ("escalate_on_breach", "skip_automatic"):
                if not isinstance(value, bool):
                    return None
                values[key] = value
            elif key == "business_hours":
                values[key] = _packaged_hours(value)
            elif key == "round_the_clock_categories":
                values[key] = frozenset(Category(c) for c in _str_list(value))
            elif key in ("first_response", "next_response"):
                values[key] = {Priority(p): _packaged_target(t) for p, t in _str_dict(value).items()}
            elif key == "messages":
                values[key] = {str(k): {Lang(lang): _text(t) for lang, t in _str_dict(v).items()}
                               for k, v in _str_dict(value).items()}
        config = FollowUpConfig.model_construct(**values)
        return config._checked()
    except (TypeError, ValueError):
        return None


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of strings")
    return value


def _str_dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _packaged_hours(value: Any) -> BusinessHours:
    raw = _str_dict(value)
    if not set(raw) <= set(BusinessHours.model_fields):
        raise TypeError("unknown business-hours field")
    values: dict[str, Any] = {}
    for key, item in raw.items():
        if key == "timezone":
            values[key] = BusinessHours._zone(_text(item))
        elif key in ("opens", "closes"):
            values[key] = time.fromisoformat(_text(item))
        elif key == "weekdays":
            if not isinstance(item, list) or not all(type(d) is int for d in item):
                raise TypeError("weekdays: expected a list of integers")
            values[key] = frozenset(item)
        elif key == "holiday_country":
            values[key] = None if item is None else _text(item)
        else:  # extra_holidays, working_holidays
            values[key] = frozenset(date.fromisoformat(d) for d in _str_list(item))
    return BusinessHours.model_construct(**values)._checked()


def _packaged_target(value: Any) -> SlaTarget:
    raw = _str_dict(value)
    if not set(raw) <= set(SlaTarget.model_fields):
        raise TypeError("unknown SLA target field")
    for key, item in raw.items():
        if key == "round_the_clock":
            if not isinstance(item, bool):
                raise TypeError("round_the_clock: expected true or false")
        elif type(item) is not int or item < 0:
            raise ValueError(f"{key}: expected a whole number >= 0")
    return SlaTarget.model_construct(**raw)._checked()


_DEFAULT_TEXTS: dict[str, dict[Lang, str]] = {
    "waiting_reminder": {
        Lang.ID: "Halo, kami masih menunggu balasan Anda untuk tiket {id}. Balas pesan ini agar "
                 "kami dapat melanjutkan; tanpa balasan, tiket akan kami tutup dalam {hours} jam.",
        Lang.ZH: "您好，工单 {id} 仍在等待您的回复。请直接回复以便我们继续处理；如 {hours} 小时内"
                 "未收到回复，工单将被关闭。",
        Lang.EN: "Hello, we are still waiting for your reply on ticket {id}. Reply to this message "
                 "so we can continue; without a reply the ticket will be closed in {hours} hours.",
    },
    "auto_close": {
        Lang.ID: "Tiket {id} kami tutup karena belum ada balasan. Jika masih perlu bantuan, cukup "
                 "balas pesan ini dan kami akan membukanya kembali.",
        Lang.ZH: "由于未收到您的回复，工单 {id} 已关闭。如仍需帮助，请直接回复此消息。",
        Lang.EN: "We have closed ticket {id} as we did not hear back. If you still need help, "
                 "just reply to this message.",
    },
}


def customer_text(kind: str, ticket: Ticket, config: FollowUpConfig) -> str:
    """The message a customer gets for a follow-up, in the ticket's language."""
    texts = config.messages.get(kind) or _DEFAULT_TEXTS[kind]
    template = texts.get(ticket.lang) or texts.get(Lang.EN) or next(iter(texts.values()))
    remaining = config.waiting_close_after_hours - config.waiting_reminder_after_hours
    return template.format(id=ticket.id, hours=f"{remaining:g}")


# ---------------------------------------------------------------------------- business time


class BusinessCalendar:
    """Staffed windows in one time zone; `round_the_clock` makes every instant staffed."""

    def __init__(self, hours: BusinessHours, *, round_the_clock: bool = False) -> None:
        self.hours = hours
        self.zone = ZoneInfo(hours.timezone)
        self.round_the_clock = round_the_clock

    def is_closed_day(self, day: date) -> bool:
        if day in self.hours.working_holidays:
            return day.weekday() not in self.hours.weekdays
        return (day.weekday() not in self.hours.weekdays or day in self.hours.extra_holidays
                or day in _country_holidays(self.hours.holiday_country, day.year))

    def windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Staffed intervals [open, close) from `start` on, in order (aware datetimes, UTC)."""
        start = _aware(start)
        if self.round_the_clock:
            yield start, datetime.max.replace(tzinfo=UTC) - timedelta(days=2)
            return
        day = start.astimezone(self.zone).date()
        for _ in range(3700):  # ten years of closed days would be a configuration error
            if not self.is_closed_day(day):
                opens = datetime.combine(day, self.hours.opens, self.zone).astimezone(UTC)
                closes = datetime.combine(day, self.hours.closes, self.zone).astimezone(UTC)
                if closes > start:
                    yield max(opens, start), closes
            day += timedelta(days=1)
        raise ValueError("no staffed hours within ten years: check the business-hours settings")

    def is_open(self, at: datetime) -> bool:
        first = next(self.windows(at))
        return first[0] <= _aware(at) < first[1]


@functools.cache
def _country_holidays(country: str | None, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    import holidays  # imported on first use: ~0.1 s, and only non-urgent tickets need it

    return frozenset(holidays.country_holidays(country, years=year).keys())


def add_business_time(
    start: datetime,
    duration: timedelta,
    calendar: BusinessCalendar,
    *,
    pauses: Sequence[tuple[datetime, datetime]] = (),
) -> datetime:
    """`start` plus `duration` of staffed time, skipping closed hours, holidays and `pauses`."""
    remaining = duration
    if remaining <= timedelta(0):
        return _aware(start)
    cuts = sorted((_aware(a), _aware(b)) for a, b in pauses if _aware(b) > _aware(a))
    for opens, closes in calendar.windows(start):
        for piece_start, piece_end in _minus(opens, closes, cuts):
            piece = piece_end - piece_start
            if remaining <= piece:
                return piece_start + remaining
            remaining -= piece
    raise AssertionError("unreachable: windows() raises first")  # pragma: no cover


def latest_start(due: datetime, duration: timedelta, calendar: BusinessCalendar) -> datetime:
    """The latest start whose `duration` of staffed time is over by `due` (add_business_time's
    inverse): a ticket opened at or before it has used up its target by then."""
    due = _aware(due)
    latest = due - duration  # staffed every instant: the most it can be
    if calendar.round_the_clock or add_business_time(latest, duration, calendar) <= due:
        return latest
    back = 86_400  # seconds before `latest` where the target is surely used up by `due`
    while add_business_time(latest - timedelta(seconds=back), duration, calendar) > due:
        back *= 2  # over closed days and holidays
    # add_business_time never decreases as the start moves later: bisect, in whole seconds.
    done, not_done = -back, 0
    while not_done - done > 1:
        middle = (done + not_done) // 2
        if add_business_time(latest + timedelta(seconds=middle), duration, calendar) <= due:
            done = middle
        else:
            not_done = middle
    return latest + timedelta(seconds=done)


def first_response_target(priority: Priority, category: str,
                          config: FollowUpConfig) -> tuple[timedelta, BusinessCalendar] | None:
    """The first-response target for a priority and category: its staffed length and calendar."""
    target = config.first_response.get(priority)
    if target is None:
        return None
    always = target.round_the_clock or category in config.round_the_clock_categories
    return (target.duration(config.business_hours),
            BusinessCalendar(config.business_hours, round_the_clock=always))


def first_response_due(ticket: Ticket, config: FollowUpConfig) -> datetime | None:
    """When the ticket's first answer is due, counting staffed time only (pauses aside)."""
    found = first_response_target(ticket.priority, str(ticket.category), config)
    if found is None:
        return None
    duration, calendar = found
    return add_business_time(ticket.created_at, duration, calendar)


def _minus(start: datetime, end: datetime,
           cuts: Sequence[tuple[datetime, datetime]]) -> Iterator[tuple[datetime, datetime]]:
    cursor = start
    for cut_start, cut_end in cuts:
        if cut_end <= cursor or cut_start >= end:
            continue
        if cut_start > cursor:
            yield cursor, cut_start
        cursor = max(cursor, cut_end)
        if cursor >= end:
            return
    if cursor < end:
        yield cursor, end


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# ---------------------------------------------------------------------------- state


class ScheduledEntry(_Frozen):
    """What is scheduled for one follow-up kind: its occurrence key and due time."""

    key: str
    due_at: datetime


class FollowUpState(BaseModel):
    """A ticket's follow-up bookkeeping: what is scheduled, what already ran, waiting periods."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    scheduled: dict[FollowUpKind, ScheduledEntry] = Field(default_factory=dict)
    done: frozenset[str] = frozenset()
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    waiting_since: datetime | None = None
    version: int = 0

    def observe(self, ticket: Ticket, now: datetime) -> "FollowUpState":
        """Start or end a waiting period when the ticket's status says so."""
        waiting = ticket.status == TicketStatus.WAITING
        if waiting and self.waiting_since is None:
            # The status change happened at the ticket's last update (or now, if later seen).
            since = min(_aware(ticket.updated_at), _aware(now))
            return self.model_copy(update={"waiting_since": since})
        if not waiting and self.waiting_since is not None:
            since = self.waiting_since
            until = max(since, min(_aware(ticket.updated_at), _aware(now)))
            return self.model_copy(update={"waiting_since": None,
                                           "pauses": (*self.pauses, (since, until))})
        return self


@dataclass(frozen=True)
class FollowUpHistory:
    """What plan() needs beyond the ticket: follow-ups already done and SLA pauses."""

    done: frozenset[str] = frozenset()
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    waiting_since: datetime | None = None
    last_agent_reply_at: datetime | None = None

    @classmethod
    def of(cls, state: FollowUpState, *,
           last_agent_reply_at: datetime | None = None) -> "FollowUpHistory":
        return cls(done=state.done, pauses=state.pauses, waiting_since=state.waiting_since,
                   last_agent_reply_at=last_agent_reply_at)


@dataclass(frozen=True)
class FollowUp:
    """One follow-up that should exist: what, for which ticket, when, and its occurrence key."""

    ticket_id: str
    kind: FollowUpKind
    due_at: datetime
    key: str  # kind@anchor: the same occurrence keeps its key when only the due time moves
    action: Action
    detail: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_entry(self) -> ScheduledEntry:
        return ScheduledEntry(key=self.key, due_at=self.due_at)


# ---------------------------------------------------------------------------- the plan


def payment_moment(ticket: Ticket, config: FollowUpConfig) -> datetime | None:
    """The payment time the customer gave ("HH:MM", Jakarta) on the day of the message.

    A time later than the message itself (beyond a small grace for clock skew) means the
    customer paid the day before: "I paid at 23:50" written at 00:10.
    """
    raw = ticket.entities.get("payment_time")
    if not isinstance(raw, str):
        return None
    try:
        hour, minute = (int(part) for part in raw.strip().split(":", 1))
        paid_time = time(hour, minute)
    except ValueError:
        return None
    zone = ZoneInfo(config.business_hours.timezone)
    arrival = _aware(ticket.created_at)
    local = arrival.astimezone(zone)
    paid = datetime.combine(local.date(), paid_time, zone).astimezone(UTC)
    if paid > arrival + timedelta(minutes=config.payment_time_grace_minutes):
        paid = datetime.combine(local.date() - timedelta(days=1), paid_time, zone).astimezone(UTC)
    return paid


def plan(
    ticket: Ticket,
    now: datetime,
    config: FollowUpConfig,
    history: FollowUpHistory | None = None,
) -> list[FollowUp]:
    """The follow-ups that should be pending for `ticket` as it is now (done ones left out)."""
    history = history or FollowUpHistory()
    if not ticket.is_open or ticket.category == Category.SPAM or ticket.priority == Priority.NONE:
        return []
    if config.skip_automatic and ticket.is_auto:
        return []
    wanted: list[FollowUp] = []
    wanted += _category_follow_ups(ticket, config)
    if ticket.status == TicketStatus.WAITING:
        wanted += _waiting_follow_ups(ticket, now, config, history)
    else:
        wanted += _sla_follow_ups(ticket, config, history)
    return [f for f in wanted if f.key not in history.done]


def _make(ticket: Ticket, kind: FollowUpKind, anchor: datetime, due: datetime,
          **detail: Any) -> FollowUp:
    stamp = _aware(anchor).strftime("%Y%m%dT%H%M%SZ")
    return FollowUp(ticket_id=ticket.id, kind=kind, due_at=_aware(due), key=f"{kind}@{stamp}",
                    action=_ACTIONS[kind], detail=detail)


def _category_follow_ups(ticket: Ticket, config: FollowUpConfig) -> list[FollowUp]:
    created = _aware(ticket.created_at)
    if ticket.category == Category.ORDER_PENDING:
        paid = payment_moment(ticket, config)
        anchor = paid or created
        source = "payment_time" if paid else "message"
        check = max(anchor + timedelta(minutes=config.order_check_after_minutes), created)
        second = max(anchor + timedelta(hours=config.order_operator_check_after_hours), check)
        orders = ticket.entities.get("order_ids") or []
        return [
            _make(ticket, FollowUpKind.ORDER_CHECK, anchor, check, paid_at=anchor.isoformat(),
                  counted_from=source, order_ids=orders,
                  task="Check the order status; tell the customer the outcome."),
            _make(ticket, FollowUpKind.ORDER_OPERATOR_CHECK, anchor, second,
                  paid_at=anchor.isoformat(), counted_from=source, order_ids=orders,
                  task="Still pending after 24 h? Check with the operator; a failed order is "
                       "refunded as store credit."),
        ]
    if ticket.category == Category.PRODUCT_NOT_RECEIVED:
        due = created + timedelta(minutes=config.operator_follow_up_after_minutes)
        return [_make(ticket, FollowUpKind.OPERATOR_FOLLOW_UP, created, due,
                      products=ticket.entities.get("products") or [],
                      task="Follow up with the operator / provider on the customer's behalf.")]
    return []


def _calendar(ticket: Ticket, target: SlaTarget, config: FollowUpConfig) -> BusinessCalendar:
    always = target.round_the_clock or ticket.category in config.round_the_clock_categories
    return BusinessCalendar(config.business_hours, round_the_clock=always)


def _sla_follow_ups(ticket: Ticket, config: FollowUpConfig,
                    history: FollowUpHistory) -> list[FollowUp]:
    if ticket.first_response_at is None:
        kind, anchor, table = FollowUpKind.FIRST_RESPONSE, ticket.created_at, config.first_response
    else:
        last_in = ticket.last_customer_message_at
        last_out = history.last_agent_reply_at or ticket.first_response_at
        if last_in is None or _aware(last_in) <= _aware(last_out):
            return []
        kind, anchor, table = FollowUpKind.NEXT_RESPONSE, last_in, config.next_response
    target = table.get(ticket.priority)
    if target is None:
        return []
    calendar = _calendar(ticket, target, config)
    duration = target.duration(config.business_hours)
    due = add_business_time(anchor, duration, calendar, pauses=history.pauses)
    return [_make(ticket, kind, anchor, due, sla=str(kind), priority=str(ticket.priority),
                  target_minutes=int(duration.total_seconds() // 60),
                  clock="round_the_clock" if calendar.round_the_clock else "business_hours")]


def _waiting_follow_ups(ticket: Ticket, now: datetime, config: FollowUpConfig,
                        history: FollowUpHistory) -> list[FollowUp]:
    since = _aware(history.waiting_since or ticket.updated_at)
    return [
        _make(ticket, FollowUpKind.WAITING_REMINDER, since,
              since + timedelta(hours=config.waiting_reminder_after_hours), waiting_since=since.isoformat()),
        _make(ticket, FollowUpKind.AUTO_CLOSE, since,
              since + timedelta(hours=config.waiting_close_after_hours), waiting_since=since.isoformat()),
    ]
