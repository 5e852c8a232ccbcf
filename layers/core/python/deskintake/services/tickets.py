"""Agents' use cases: list and search, read the whole thread, change, note, reply, count, correct.

Every change is optimistic: the caller says which version it saw, and a ticket that moved on
since then raises ConflictError (HTTP 409) instead of being overwritten. Category changes are
kept as corrections for retraining the classifier.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from deskintake.domain.errors import ConflictError, NotFoundError
from deskintake.domain.follow_up_policy import (
    FollowUpConfig,
    add_business_time,
    first_response_target,
    latest_start,
)
from deskintake.domain.model import Category, Channel, Priority, TicketStatus
from deskintake.domain.ticket import Direction, Message, Ticket, TimelineEvent
from deskintake.ports import EventPublisher, FollowUps, NoFollowUps, Sender, TicketRepository
from deskintake.services import outbox

# First-response targets (TAXONOMY.md) on the wall clock: used only when no follow-up policy is
# given (TicketsDeps.sla_config), which in the functions it always is: then badges and the SLA
# filter count staffed hours and holidays, as the follow-up planner does.
DEFAULT_SLA_TARGETS: Mapping[Priority, timedelta] = {
    Priority.URGENT: timedelta(minutes=15),
    Priority.HIGH: timedelta(hours=1),
    Priority.NORMAL: timedelta(hours=4),
    Priority.LOW: timedelta(days=1),
}
UNASSIGNED = "-"  # the assignee filter value for "nobody"

SlaState = Literal["breached", "due_soon", "ok", "met", "paused", "none"]


# -- what listings look like (the query adapter implements TicketQueries) -------------------


@dataclass(frozen=True)
class SlaWindow:
    """One priority's first-response target as times: created before these is breached / due soon.

    With `categories`, the window holds for those categories only (or, with `other_categories`,
    for every category but those): round-the-clock categories keep another clock.
    """

    priority: str
    breached_before: str
    due_soon_before: str
    categories: tuple[str, ...] = ()
    other_categories: bool = False


@dataclass(frozen=True)
class TicketQuery:
    """What an agent asked to see. Empty fields do not filter."""

    brand: str = "default"
    status: TicketStatus | None = None  # None: every status
    category: Category | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    lang: str | None = None
    assignee: str | None = None  # UNASSIGNED for tickets with nobody assigned
    needs_triage: bool | None = None
    sla: Literal["breached", "due_soon"] | None = None
    sla_windows: Sequence[SlaWindow] = ()
    text: str | None = None
    include_spam: bool = False  # spam stays out of the default view (TAXONOMY.md)
    oldest_first: bool = False
    limit: int = 25
    cursor: str | None = None


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    cursor: str | None  # None: nothing further
    read: int  # index items evaluated for this page (what it cost)
    calls: int  # queries made
    partial: bool = False  # stopped at the read budget before the page was full


class TicketQueries(Protocol):
    """Listings and counts from an index (never a scan of the whole table)."""

    def list(self, query: TicketQuery) -> TicketPage: ...

    def counts(self, brand: str = "default", *, since: str | None = None) -> dict[str, Any]: ...

    def forget_counts(self, brand: str = "default") -> None: ...


class CorrectionLog(Protocol):
    """Agents' category corrections, kept for retraining."""

    def record(self, correction: dict[str, Any]) -> None: ...

    def all(self, brand: str = "default") -> Iterator[dict[str, Any]]: ...


@dataclass
class TicketsDeps:
    tickets: TicketRepository
    queries: TicketQueries
    corrections: CorrectionLog
    events: EventPublisher
    senders: Mapping[Channel, Sender] = field(default_factory=dict)
    follow_ups: FollowUps = field(default_factory=NoFollowUps)
    scheduled: Callable[[Ticket], list[dict[str, Any]]] | None = None
    sla_targets: Mapping[Priority, timedelta] = field(default_factory=lambda: dict(DEFAULT_SLA_TARGETS))
    # Each brand's follow-up policy (business hours, holidays, targets) for SLA badges and
    # filters; None: the wall-clock `sla_targets`.
    sla_config: Callable[[str], FollowUpConfig] | None = None
    brand: str = "default"
    # The brands the calling agent may see; None: just `brand`. Another brand's ticket is
    # "not found" (404), never "forbidden": ticket numbers cannot be probed across brands.
    brands: tuple[str, ...] | None = None


def visible_brands(deps: TicketsDeps) -> tuple[str, ...]:
    return deps.brands if deps.brands is not None else (deps.brand,)


def for_agent(deps: TicketsDeps, brands: Sequence[str]) -> TicketsDeps:
    """The same dependencies, limited to the brands one agent works for."""
    return dataclasses.replace(deps, brands=tuple(dict.fromkeys(brands)))


def get_visible(ticket_id: str, deps: TicketsDeps) -> Ticket:
    """The ticket, if the agent may see its brand; otherwise exactly like a missing ticket."""
    ticket = deps.tickets.get(ticket_id)
    if ticket.brand not in visible_brands(deps):
        raise NotFoundError(ticket_id)
    return ticket


# -- SLA ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sla:
    state: SlaState
    due_at: datetime | None = None


def due_soon_margin(target: timedelta) -> timedelta:
    """How long before its target a ticket counts as due soon."""
    return min(timedelta(minutes=30), target / 3)


def ticket_sla(ticket: Ticket, deps: TicketsDeps, now: datetime) -> Sla:
    """The first-response clock of one ticket, by its brand's policy."""
    config = deps.sla_config(ticket.brand) if deps.sla_config is not None else None
    return sla_of(ticket, now, deps.sla_targets, config)


def sla_of(ticket: Ticket, now: datetime, targets: Mapping[Priority, timedelta],
           config: FollowUpConfig | None = None) -> Sla:
    """The first-response clock of one ticket: staffed time by `config`, else wall-clock."""
    if ticket.category == Category.SPAM or ticket.status in {TicketStatus.RESOLVED, TicketStatus.CLOSED}:
        return Sla("none")
    if config is not None:
        found = first_response_target(ticket.priority, str(ticket.category), config)
        if found is None:
            return Sla("none")
        target, calendar = found
        due = add_business_time(ticket.created_at, target, calendar)
    else:
        if (wall := targets.get(ticket.priority)) is None:
            return Sla("none")
        target, due = wall, ticket.created_at + wall
    if ticket.first_response_at is not None:
        return Sla("met", due)  # the first-response clock stopped; later replies are not timed
    if ticket.status == TicketStatus.WAITING:
        return Sla("paused", due)
    if now >= due:
        return Sla("breached", due)
    return Sla("due_soon" if due - now <= due_soon_margin(target) else "ok", due)


def sla_windows(now: datetime, targets: Mapping[Priority, timedelta],
                config: FollowUpConfig | None = None) -> list[SlaWindow]:
    """Each priority's first-response target as creation times, for the index filter."""
    if config is None:
        return [SlaWindow(priority=str(p), breached_before=iso(now - t),
                          due_soon_before=iso(now - t + due_soon_margin(t)))
                for p, t in targets.items()]
    always = tuple(sorted(str(c) for c in config.round_the_clock_categories))
    windows = []
    for priority in config.first_response:
        kinds = [((), False)] if config.first_response[priority].round_the_clock or not always \
            else [(always, False), (always, True)]
        for categories, other in kinds:
            # Any category of the group gives the same clock; the first one stands for it.
            stand_in = always[0] if categories and not other else "-"
            found = first_response_target(priority, stand_in, config)
            if found is None:
                continue
            duration, calendar = found
            windows.append(SlaWindow(
                priority=str(priority), categories=categories, other_categories=other,
                breached_before=iso(latest_start(now, duration, calendar)),
                due_soon_before=iso(latest_start(now + due_soon_margin(duration), duration, calendar))))
    return windows


def iso(at: datetime) -> str:
    """A time as ticket items store it (pydantic's JSON form of a UTC time)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- reads -------------------------------------------------------------------------------


def list_tickets(query: TicketQuery, deps: TicketsDeps, *, now: datetime,
                 brand: str | None = None) -> TicketPage:
    """One page of tickets, newest first, filtered as asked, over the brands the agent sees.

    One brand: one index Query (its cursor as is). Several: a Query per brand, merged by
    update time, with a cursor that remembers where each brand's listing stands.
    """
    brands = visible_brands(deps)
    if brand is not None:
        brands = tuple(b for b in brands if b == brand)
    if not brands:
        return TicketPage([], None, 0, 0)

    def for_brand(one: str, **changes: Any) -> TicketQuery:
        config = deps.sla_config(one) if deps.sla_config is not None and query.sla else None
        windows = sla_windows(now, deps.sla_targets, config) if query.sla else ()
        return dataclasses.replace(query, brand=one, sla_windows=windows, **changes)

    if len(brands) == 1:
        return deps.queries.list(for_brand(brands[0]))
    return _merged(query, brands, deps, for_brand)


def _merged(query: TicketQuery, brands: tuple[str, ...], deps: TicketsDeps,
            for_brand: Callable[..., TicketQuery]) -> TicketPage:
    # Each brand's position is (cursor the page started from, tickets of it already handed
    # out); a brand whose page was used up moves on to its next cursor, a finished one drops.
    if query.cursor:
        positions = _decode_positions(query.cursor, brands)
    else:
        positions = {b: (None, 0) for b in brands}
    pages: dict[str, tuple[TicketPage, int]] = {}
    read = calls = 0
    for brand, (cursor, skip) in positions.items():
        page = deps.queries.list(for_brand(brand, cursor=cursor, limit=min(100, query.limit + skip)))
        read, calls = read + page.read, calls + page.calls
        pages[brand] = (page, skip)
    candidates = [(t, b) for b, (page, skip) in pages.items() for t in page.tickets[skip:]]
    candidates.sort(key=lambda tb: (tb[0].updated_at, tb[0].id), reverse=not query.oldest_first)
    chosen = candidates[:query.limit]
    taken = {b: sum(1 for _, cb in chosen if cb == b) for b in pages}
    following: dict[str, tuple[str | None, int]] = {}
    partial = False
    for brand, (page, skip) in pages.items():
        used = skip + taken[brand]
        partial = partial or page.partial
        if used < len(page.tickets):
            following[brand] = (positions[brand][0], used)
        elif page.cursor is not None:
            following[brand] = (page.cursor, 0)
    cursor = _encode_positions(following) if following else None
    return TicketPage([t for t, _ in chosen], cursor, read, calls, partial=partial)


def _encode_positions(positions: Mapping[str, tuple[str | None, int]]) -> str:
    raw = json.dumps({"m": {b: [c, n] for b, (c, n) in positions.items()}}, separators=(",", ":"))
    return "m" + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_positions(cursor: str, brands: tuple[str, ...]) -> dict[str, tuple[str | None, int]]:
    try:
        if not cursor.startswith("m"):
            raise ValueError
        body = cursor[1:]
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        positions = {str(b): (c if isinstance(c, str) else None, int(n))
                     for b, (c, n) in data["m"].items()}
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise ValueError("cursor is not valid") from exc
    if any(b not in brands or not 0 <= n < 100 for b, (_, n) in positions.items()):
        raise ValueError("cursor belongs to another listing")
    return positions


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    messages: list[Message]  # customer messages and our replies, oldest first
    notes: list[Message]  # internal notes, oldest first
    events: list[TimelineEvent]
    follow_ups: list[dict[str, Any]]
    sla: Sla


def ticket_detail(ticket_id: str, deps: TicketsDeps, *, now: datetime) -> TicketDetail:
    """The ticket with its whole thread, timeline and planned follow-ups."""
    ticket = get_visible(ticket_id, deps)
    thread = deps.tickets.messages(ticket_id)
    scheduled = deps.scheduled(ticket) if deps.scheduled is not None else []
    return TicketDetail(
        ticket=ticket,
        messages=[m for m in thread if m.direction != Direction.NOTE],
        notes=[m for m in thread if m.direction == Direction.NOTE],
        events=sorted(deps.tickets.events(ticket_id), key=lambda e: e.at),
        follow_ups=scheduled,
        sla=_planned_sla(ticket, scheduled, now, deps.sla_targets) or ticket_sla(ticket, deps, now),
    )


def _planned_sla(ticket: Ticket, scheduled: list[dict[str, Any]], now: datetime,
                 targets: Mapping[Priority, timedelta]) -> Sla | None:
    """The follow-up planner's SLA check, when it scheduled one: it counts business hours."""
    due_times = [datetime.fromisoformat(str(f["due_at"])) for f in scheduled
                 if f.get("kind") in {"first_response", "next_response"} and f.get("due_at")]
    if not due_times or ticket.status != TicketStatus.OPEN:
        return None
    due = min(due_times)
    margin = due_soon_margin(targets.get(ticket.priority, timedelta(hours=4)))
    state: SlaState = "breached" if now >= due else "due_soon" if due - now <= margin else "ok"
    return Sla(state, due)


CLOSED_COUNT_WINDOW = timedelta(days=7)


def counts(deps: TicketsDeps, *, now: datetime, brand: str | None = None) -> dict[str, Any]:
    """Open and waiting tickets in full; resolved and closed over the last seven days."""
    total: dict[str, Any] = {"by_status": {}, "by_category": {}, "needs_triage": 0,
                             "closed_since": iso(now - CLOSED_COUNT_WINDOW)}
    wanted = [b for b in visible_brands(deps) if brand is None or b == brand]
    for one_brand in wanted:
        one = deps.queries.counts(one_brand, since=iso(now - CLOSED_COUNT_WINDOW))
        for name in ("by_status", "by_category"):
            for key, n in one.get(name, {}).items():
                total[name][key] = total[name].get(key, 0) + n
        total["needs_triage"] += one.get("needs_triage", 0)
        total["closed_since"] = one.get("closed_since", total["closed_since"])
    return total


# -- changes -----------------------------------------------------------------------------

UPDATABLE = frozenset({"status", "priority", "category", "assignee", "needs_triage"})


def update_ticket(ticket_id: str, changes: Mapping[str, Any], *, expected_version: int, agent: str,
                  deps: TicketsDeps, now: datetime) -> Ticket:
    """Change status / priority / category / assignee / triage flag, if nobody changed it first."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    ticket = get_visible(ticket_id, deps)
    _check_version(ticket, expected_version)
    changed = {k: v for k, v in changes.items() if getattr(ticket, k) != v}
    if not changed:
        return ticket
    if "status" in changed:
        changed["closed_at"] = now if changed["status"] == TicketStatus.CLOSED else None
    if "category" in changed:
        changed.setdefault("needs_triage", False)  # an agent filed it: triage is done
    updated = ticket.updated(now, **changed)
    deps.tickets.save(updated, expected_version=ticket.version)
    for kind, name in (("status_changed", "status"), ("priority_changed", "priority"),
                       ("category_changed", "category"), ("assigned", "assignee"),
                       ("triage_changed", "needs_triage")):
        if name in changed:
            deps.tickets.add_event(TimelineEvent(
                ticket_id=ticket.id, at=now, kind=kind, actor=agent,
                detail={"from": _plain(getattr(ticket, name)), "to": _plain(changed[name])}))
    if "category" in changed:
        _record_correction(ticket, changed["category"], agent=agent, deps=deps, now=now)
    deps.queries.forget_counts(ticket.brand)
    deps.events.publish("TicketUpdated", {**_event_detail(updated), "change": sorted(changed),
                                          "actor": agent})
    deps.follow_ups.ticket_changed(updated, now=now, reason=_reason(changed))
    return updated


def add_note(ticket_id: str, text: str, *, agent: str, deps: TicketsDeps, now: datetime) -> Message:
    """An internal note on the thread: agents see it, the customer never does."""
    ticket = get_visible(ticket_id, deps)
    note = Message(ticket_id=ticket.id, id=Message.make_id(now, f"note:{agent}:{text}"),
                   direction=Direction.NOTE, channel=ticket.channel, author=agent,
                   text=text.strip(), created_at=now)
    deps.tickets.add_message(note)
    return note


def reply(ticket_id: str, text: str, *, agent: str, deps: TicketsDeps, now: datetime,
          expected_version: int | None = None,
          status_after: TicketStatus | None = None) -> tuple[Ticket, Message]:
    """Answer the customer on the ticket's channel through the outbox, then record it."""
    ticket = get_visible(ticket_id, deps)
    if expected_version is not None:
        _check_version(ticket, expected_version)
    thread = deps.tickets.messages(ticket_id)
    inbound = [m for m in thread if m.direction == Direction.INBOUND and m.external_id]
    last = inbound[-1] if inbound else None
    is_email = ticket.channel == Channel.EMAIL
    message = Message(
        ticket_id=ticket.id, id=Message.make_id(now, f"reply:{agent}:{text}"),
        direction=Direction.OUTBOUND, channel=ticket.channel, author=agent,
        subject=reply_subject(ticket) if is_email else "", text=text.strip(), created_at=now,
        meta={"kind": "reply",
              "in_reply_to": last.external_id if is_email and last else None,
              "references": [m.external_id for m in inbound][-20:] if is_email else [],
              "reply_to_platform_id": last.meta.get("platform_message_id") if last else None},
    )
    sent = outbox.deliver(ticket, message, tickets=deps.tickets, senders=deps.senders, now=now)
    if sent.delivery_status == "failed":
        return ticket, sent  # kept as failed on the thread; the ticket is not marked answered
    for _ in range(3):
        updated = ticket.agent_replied(now)
        if status_after is not None and status_after != updated.status:
            updated = updated.with_status(status_after, now)
        try:
            deps.tickets.save(updated, expected_version=ticket.version)
            break
        except ConflictError:
            ticket = deps.tickets.get(ticket_id)  # the reply is out: record it on the fresh state
    else:
        raise ConflictError(f"{ticket_id}: reply sent but the ticket kept changing")
    deps.tickets.add_event(TimelineEvent(ticket_id=ticket.id, at=now, kind="agent_replied",
                                         actor=agent, detail={"message_id": sent.id}))
    deps.queries.forget_counts(ticket.brand)
    deps.events.publish("TicketUpdated", {**_event_detail(updated), "change": "agent_replied",
                                          "actor": agent})
    deps.follow_ups.ticket_changed(updated, now=now, reason="agent_replied")
    return updated, sent


def reply_subject(ticket: Ticket) -> str:
    subject = re.sub(r"^\s*((re|fwd?|aw|balas|回复|答复)\s*[:：]\s*)+", "", ticket.subject or "",
                     flags=re.IGNORECASE)
    subject = subject.replace(f"[{ticket.id}]", "").strip()
    return f"Re: [{ticket.id}] {subject}".strip()


# -- corrections for retraining -----------------------------------------------------------


def _record_correction(ticket: Ticket, new_category: Category, *, agent: str, deps: TicketsDeps,
                       now: datetime) -> None:
    first = next((m for m in deps.tickets.messages(ticket.id) if m.direction == Direction.INBOUND), None)
    deps.corrections.record({
        "ticket_id": ticket.id, "brand": ticket.brand,
        "old_category": str(ticket.category), "new_category": str(new_category),
        "subject": first.subject if first else ticket.subject,
        "text": first.text if first else ticket.preview,  # masked at intake
        "lang": str(ticket.lang), "agent": agent, "at": iso(now),
    })


def training_rows(corrections: Iterator[dict[str, Any]]) -> Iterator[dict[str, str]]:
    """Corrections as training examples; a ticket corrected twice counts once, as last filed."""
    latest: dict[str, dict[str, Any]] = {}
    for c in corrections:
        latest[c["ticket_id"]] = c
    for c in latest.values():
        yield {"subject": c.get("subject", ""), "text": c.get("text", ""),
               "category": c["new_category"], "lang": c.get("lang", "")}


# -- display -----------------------------------------------------------------------------

# Sanitised HTML for the dashboard: an allow-list, no images (remote images track readers),
# only web and mail links; scripts, styles and their contents removed outright.
_DROP_TAGS = {"img", "map", "area"}


def safe_html(html: str | None) -> str | None:
    """Email HTML reduced by nh3 to an allow-list of tags and attributes that cannot run."""
    if not html:
        return None
    import nh3

    tags = set(nh3.ALLOWED_TAGS) - _DROP_TAGS
    attributes = {t: set(a) for t, a in nh3.ALLOWED_ATTRIBUTES.items() if t not in _DROP_TAGS}
    return nh3.clean(
        html, tags=tags, attributes=attributes,
        clean_content_tags={"script", "style", "noscript", "template", "iframe", "object"},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


# -- helpers -----------------------------------------------------------------------------


def _check_version(ticket: Ticket, expected_version: int) -> None:
    if ticket.version != expected_version:
        raise ConflictError(
            f"{ticket.id} is at version {ticket.version}, the change was based on {expected_version}")


def _plain(value: Any) -> Any:
    return str(value) if value is not None and not isinstance(value, bool) else value


def _reason(changed: Mapping[str, Any]) -> str:
    return "status_changed" if "status" in changed else "updated"


def _event_detail(ticket: Ticket) -> dict[str, Any]:
    return {"ticket_id": ticket.id, "brand": ticket.brand, "channel": str(ticket.channel),
            "status": str(ticket.status), "category": str(ticket.category),
            "priority": str(ticket.priority), "lang": str(ticket.lang), "version": ticket.version}
