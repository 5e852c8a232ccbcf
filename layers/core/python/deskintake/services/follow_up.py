"""Follow-ups: plan them when a ticket changes, act when they come due, sweep up what was missed.

Schedules can fire late, early (60 s precision) or twice, and the ticket may have moved on
since they were made, so `run_due` never trusts its input: it re-reads the ticket, plans
again and acts only if the plan still has that follow-up due now. Each occurrence is
claimed atomically before acting, so it acts exactly once however often it fires.

A run reads the ticket and its bookkeeping together, and writes the claim, the ticket's change,
the timeline and the bookkeeping in one transaction; only a message to the customer comes
between a claim and the rest (claim, send, record), and an error while sending releases the
claim so that Scheduler's retry can act.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from deskintake.domain import acks
from deskintake.domain.brands import BrandsConfig, follow_up_config
from deskintake.domain.errors import ConflictError, DeskIntakeError, NotFoundError, TransientError
from deskintake.domain.follow_up_policy import (
    SLA_KINDS,
    Action,
    FollowUp,
    FollowUpConfig,
    FollowUpHistory,
    FollowUpKind,
    FollowUpState,
    ScheduledEntry,
    customer_text,
    escalated,
    plan,
)
from deskintake.domain.model import Channel, TicketStatus
from deskintake.domain.ticket import Direction, Message, Ticket, TimelineEvent
from deskintake.ports import (
    EventPublisher,
    FollowUpScheduler,
    FollowUpStore,
    Sender,
    TicketRepository,
)
from deskintake.services import outbox

__all__ = [
    "FollowUpDeps",
    "FollowUpService",
    "RunOutcome",
    "SweepResult",
    "replan",
    "run_due",
    "scheduled_for",
    "sweep",
]

log = logging.getLogger(__name__)

_ATTEMPTS = 3


@dataclass
class FollowUpDeps:
    """What follow-ups need, passed in (AWS adapters in Lambda, fakes in unit tests)."""

    tickets: TicketRepository
    store: FollowUpStore
    scheduler: FollowUpScheduler
    events: EventPublisher
    senders: Mapping[Channel, Sender] = field(default_factory=dict)
    config: FollowUpConfig = field(default_factory=FollowUpConfig)
    brands: Sequence[str] = ("default",)
    # Each brand's calendar and SLA targets over `config`; None: the active brands config.
    brand_config: BrandsConfig | None = None
    min_lead: timedelta = timedelta(seconds=60)  # Scheduler has 60 s precision
    early_tolerance: timedelta = timedelta(seconds=90)  # a fire this early still counts
    sweep_grace: timedelta = timedelta(minutes=5)  # leave just-due ones to their schedule


@dataclass(frozen=True)
class RunOutcome:
    """What a fire did: acted, or why not (duplicate, stale, not_due, missing)."""

    outcome: str
    follow_up: FollowUp | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepResult:
    tickets: int = 0
    acted: list[str] = field(default_factory=list)


class FollowUpService:
    """The FollowUps port: re-plans a ticket's follow-ups whenever the ticket changes."""

    def __init__(self, deps: FollowUpDeps) -> None:
        self.deps = deps

    def ticket_changed(self, ticket: Ticket, *, now: datetime, reason: str) -> None:
        try:
            # A ticket just created has no follow-up state yet: no need to read one.
            replan(ticket, self.deps, now=now, reason=reason, new=reason == "created")
        except Exception as exc:  # noqa: BLE001 - see below
            # The ticket itself is stored; the periodic sweep plans it again, so intake or
            # an agent's change must not fail (and be retried) for a scheduler hiccup.
            log.warning("follow-up planning failed; the sweep will retry",
                        extra={"ticket_id": ticket.id, "reason": reason,
                               "error": f"{type(exc).__name__}: {exc}"})


# ---------------------------------------------------------------------------- planning


def config_for(ticket: Ticket, deps: FollowUpDeps) -> FollowUpConfig:
    """The follow-up policy of the ticket's brand: its business hours, holidays, SLA targets."""
    brands = deps.brand_config
    if brands is None:
        from deskintake.runtime.brands import active

        brands = active()
    return follow_up_config(deps.config, brands.get(ticket.brand))


def _all_brands(deps: FollowUpDeps) -> list[str]:
    configured: Sequence[str] = ()
    try:
        from deskintake.runtime.brands import active

        configured = (deps.brand_config or active()).ids
    except Exception as exc:  # noqa: BLE001 - the sweep still covers the listed brands
        log.warning("brands configuration unreadable", extra={"error": str(exc)})
    return list(dict.fromkeys([*deps.brands, *configured]))


def replan(ticket: Ticket, deps: FollowUpDeps, *, now: datetime, reason: str = "",
           verify: bool = False, state: FollowUpState | None = None,
           new: bool = False, thread: _Thread | None = None) -> list[FollowUp]:
    """Make the ticket's schedules match its plan: create or move what is due, cancel the rest.

    With `verify`, schedules the bookkeeping believes exist are checked and re-created when
    missing (e.g. the local stack restarted: moto forgets schedules, the table is restored).
    `state` is the bookkeeping as just read or written, so it need not be read again; `new`
    says the ticket was just created and has none (`create` checks that: when it is wrong,
    e.g. a duplicate delivery planned first, the state is read and the plan diffed again).
    """
    now = _utc(now)
    given = FollowUpState(ticket_id=ticket.id) if new else state
    thread = thread or _Thread(ticket.id, deps)
    # What this call scheduled: after a conflict, the state read back does not know of it.
    made: dict[FollowUpKind, ScheduledEntry] = {}
    for attempt in range(_ATTEMPTS):
        first = attempt == 0 and given is not None
        current = given if first and given is not None else deps.store.load(ticket.id)
        observed = current.observe(ticket, now)
        wanted = plan(ticket, now, config_for(ticket, deps), _history(ticket, observed, thread))
        scheduled = {**observed.scheduled, **made}
        for follow_up in wanted:
            entry = follow_up.as_entry()
            if scheduled.get(follow_up.kind) == entry and not (
                    verify and deps.scheduler.get(ticket.id, str(follow_up.kind)) is None):
                continue
            fire_at = max(follow_up.due_at, now + deps.min_lead)
            deps.scheduler.schedule(ticket.id, str(follow_up.kind), fire_at=fire_at,
                                    payload=_payload(follow_up))
            scheduled[follow_up.kind] = made[follow_up.kind] = entry
        keep = {f.kind for f in wanted}
        for kind in [k for k in scheduled if k not in keep]:
            deps.scheduler.cancel(ticket.id, str(kind))
            del scheduled[kind]
            made.pop(kind, None)
        updated = observed.model_copy(update={"scheduled": scheduled})
        if updated == current:
            return wanted
        try:
            if first and new:
                deps.store.create(updated)
            else:
                deps.store.save(updated, expected_version=current.version)
        except ConflictError:
            continue  # someone re-planned at the same time: read their state and diff again
        if reason:
            log.debug("follow-ups planned", extra={"ticket_id": ticket.id, "reason": reason,
                                                   "kinds": sorted(str(k) for k in keep)})
        return wanted
    raise ConflictError(f"follow-ups of {ticket.id} kept changing")


class _Thread:
    """The ticket's messages, read once per run and only if something needs them."""

    def __init__(self, ticket_id: str, deps: FollowUpDeps) -> None:
        self._ticket_id = ticket_id
        self._deps = deps
        self._messages: list[Message] | None = None

    def messages(self) -> list[Message]:
        if self._messages is None:
            self._messages = self._deps.tickets.messages(self._ticket_id)
        return self._messages


def _history(ticket: Ticket, state: FollowUpState, thread: _Thread) -> FollowUpHistory:
    return FollowUpHistory.of(state, last_agent_reply_at=_last_agent_reply(ticket, thread))


def _last_agent_reply(ticket: Ticket, thread: _Thread) -> datetime | None:
    if ticket.first_response_at is None:
        return None  # nobody answered yet: no need to read the thread
    last_in = ticket.last_customer_message_at
    if (ticket.status == TicketStatus.WAITING or last_in is None
            or _utc(last_in) <= _utc(ticket.first_response_at)):
        # The plan looks at agent replies only to see whether one followed a customer message
        # newer than the first answer, and not while waiting: no need to read the thread.
        return ticket.first_response_at
    replies = [m.created_at for m in thread.messages()
               if m.direction == Direction.OUTBOUND and not m.is_auto]
    return max([ticket.first_response_at, *replies], key=_utc)


def _payload(follow_up: FollowUp) -> dict[str, Any]:
    return {"kind": str(follow_up.kind), "ticket_id": follow_up.ticket_id, "key": follow_up.key,
            "due_at": follow_up.due_at.isoformat()}


def scheduled_for(ticket_id: str, store: FollowUpStore) -> list[dict[str, Any]]:
    """The ticket's pending follow-ups (kind, due_at, key), soonest first: for the detail view."""
    state = store.load(ticket_id)
    pending = [{"kind": str(kind), "due_at": entry.due_at.isoformat(), "key": entry.key}
               for kind, entry in state.scheduled.items() if entry.key not in state.done]
    return sorted(pending, key=lambda p: p["due_at"])


# ---------------------------------------------------------------------------- firing


def run_due(
    kind: str,
    ticket_id: str,
    due_at: datetime | None,
    now: datetime,
    deps: FollowUpDeps,
    *,
    key: str | None = None,
    from_schedule: bool = True,
) -> RunOutcome:
    """Act on a follow-up that came due, if the ticket as it is now still calls for it.

    `from_schedule`: the follow-up's own schedule fired, and deletes itself having done so
    (ActionAfterCompletion DELETE), so it is not cancelled; the sweep passes False.
    """
    now = _utc(now)
    for _ in range(_ATTEMPTS):
        try:
            ticket, state = deps.store.load_with_ticket(ticket_id)
        except NotFoundError:
            return RunOutcome("missing")
        if key is not None and key in state.done:
            return RunOutcome("duplicate", detail={"key": key})
        thread = _Thread(ticket_id, deps)
        observed = state.observe(ticket, now)
        # Planned with nothing done, so an occurrence that already ran reads as a duplicate.
        history = replace(_history(ticket, observed, thread), done=frozenset())
        wanted = {f.kind: f for f in plan(ticket, now, config_for(ticket, deps), history)}
        follow_up = wanted.get(FollowUpKind(kind))
        if follow_up is None:
            return RunOutcome("stale", detail={"kind": kind, "status": str(ticket.status),
                                               "category": str(ticket.category)})
        if follow_up.key in state.done:
            return RunOutcome("duplicate", follow_up, {"key": follow_up.key})
        if follow_up.due_at > now + deps.early_tolerance:
            # Moved later since this schedule was made (e.g. the customer replied):
            # make sure the replacement exists, and do nothing now.
            replan(ticket, deps, now=now, reason="early fire", state=state, thread=thread)
            return RunOutcome("not_due", follow_up, {"due_at": follow_up.due_at.isoformat()})
        # The schedule that fired is the one the bookkeeping names: it is gone by now.
        fired = from_schedule and due_at is not None and state.scheduled.get(
            follow_up.kind) == ScheduledEntry(key=key or follow_up.key, due_at=_utc(due_at))
        outcome = _act_once(follow_up, ticket, state, thread, deps, now, fired=fired,
                            fired_due=due_at)
        if outcome is not None:
            return outcome
    raise TransientError(f"{ticket_id} kept changing while follow-up {kind} ran")


_SENDS = frozenset({Action.MESSAGE_CUSTOMER, Action.CLOSE})


def _act_once(follow_up: FollowUp, ticket: Ticket, state: FollowUpState, thread: _Thread,
              deps: FollowUpDeps, now: datetime, *, fired: bool,
              fired_due: datetime | None) -> RunOutcome | None:
    """Claim the occurrence, act and record it; None when the ticket or its bookkeeping
    changed meanwhile (nothing done: read again and decide again)."""
    after, detail = _change(follow_up, ticket, deps, now)
    write = (after, ticket.version) if after is not ticket else None
    settled = _settled(follow_up, after, state.observe(ticket, now), thread, deps, now,
                       fired=fired)
    saved: FollowUpState | None = settled.model_copy(update={
        "version": state.version + 1, "done": state.done | {follow_up.key}})
    duplicate = RunOutcome("duplicate", follow_up, {"key": follow_up.key})
    try:
        if follow_up.action not in _SENDS:
            # Nothing leaves the system: the claim, the ticket's change, the timeline and the
            # bookkeeping are one transaction, so there is nothing to undo on a failure.
            if not deps.store.commit(ticket.id, claim=follow_up.key, state=settled,
                                     expected_version=state.version, ticket=write,
                                     events=_timeline(follow_up, ticket, now, detail, fired_due)):
                return duplicate
        elif not deps.store.commit(ticket.id, claim=follow_up.key, ticket=write):
            # A message goes out once: claimed (with the closing, if any) before sending.
            return duplicate
    except ConflictError:
        return None
    if follow_up.action in _SENDS:
        try:
            sent = _message_customer(after, str(follow_up.kind), follow_up.key, thread, deps, now)
        except Exception:
            deps.store.release(ticket.id, follow_up.key)  # let Scheduler's retry act
            raise
        detail.update(message_id=sent.id, delivery_status=sent.delivery_status)
        events = _timeline(follow_up, ticket, now, detail, fired_due)
        try:
            deps.store.commit(ticket.id, state=settled, expected_version=state.version,
                              events=events)
        except ConflictError:  # re-planned meanwhile: keep the record, re-plan from a new read
            deps.store.commit(ticket.id, events=events)
            saved = None
    deps.events.publish_many(_bus_events(follow_up, ticket, now, detail, fired_due))
    try:
        replan(after, deps, now=now, reason=f"follow-up {follow_up.kind}", state=saved,
               thread=thread)
    except (TransientError, ConflictError) as exc:
        log.warning("re-plan after follow-up failed; the sweep will retry",
                    extra={"ticket_id": ticket.id, "error": str(exc)})
    return RunOutcome("acted", follow_up, detail)


def _change(follow_up: FollowUp, ticket: Ticket, deps: FollowUpDeps,
            now: datetime) -> tuple[Ticket, dict[str, Any]]:
    """The ticket as the follow-up's action leaves it (the same object if unchanged), and
    what the action does."""
    detail: dict[str, Any] = {"action": str(follow_up.action)}
    if follow_up.action == Action.REMIND_ASSIGNEE:
        detail.update(assignee=ticket.assignee, task=follow_up.detail.get("task", ""))
        return ticket, detail
    if follow_up.action == Action.ESCALATE:
        before = ticket.priority
        after = escalated(before) if config_for(ticket, deps).escalate_on_breach else before
        detail.update(priority_before=str(before), priority_after=str(after),
                      assignee=ticket.assignee)
        return (ticket.updated(now, priority=after) if after != before else ticket), detail
    if follow_up.action == Action.MESSAGE_CUSTOMER:
        return ticket, detail
    if follow_up.action == Action.CLOSE:
        closed = ticket.with_status(TicketStatus.CLOSED, now)
        detail.update(status_before=str(ticket.status), status_after=str(closed.status))
        return closed, detail
    raise ValueError(f"unknown follow-up action {follow_up.action!r}")  # pragma: no cover


def _settled(follow_up: FollowUp, after: Ticket, observed: FollowUpState, thread: _Thread,
             deps: FollowUpDeps, now: datetime, *, fired: bool) -> FollowUpState:
    """The bookkeeping once the occurrence is done: a schedule that fired and is no longer
    wanted is forgotten here; what else changes is left to the re-plan that follows."""
    state = observed.observe(after, now)
    if not fired:
        return state  # its schedule may still exist: the re-plan cancels it
    done = state.model_copy(update={"done": state.done | {follow_up.key}})
    wanted = plan(after, now, config_for(after, deps), _history(after, done, thread))
    if any(f.kind == follow_up.kind for f in wanted):
        return state  # a new occurrence of the kind: the re-plan schedules it
    return state.model_copy(update={"scheduled": {
        k: v for k, v in state.scheduled.items() if k != follow_up.kind}})


def _message_customer(ticket: Ticket, kind: str, key: str, thread: _Thread, deps: FollowUpDeps,
                      now: datetime) -> Message:
    is_email = ticket.channel == Channel.EMAIL
    inbound = [m for m in thread.messages() if m.direction == Direction.INBOUND]
    last = inbound[-1] if inbound else None
    references = [r for m in inbound if (r := m.external_id)] if is_email else []
    message = Message(
        ticket_id=ticket.id,
        id=Message.make_id(now, f"{key}:{ticket.id}"),
        direction=Direction.OUTBOUND,
        channel=ticket.channel,
        author="system",
        subject=acks.ack_subject(ticket) if is_email else "",
        text=customer_text(kind, ticket, config_for(ticket, deps)),
        created_at=now,
        is_auto=True,
        meta={"kind": kind, "in_reply_to": last.external_id if (is_email and last) else None,
              "references": references[-20:],
              "reply_to_platform_id": (last.meta.get("platform_message_id") if last else None)},
    )
    return outbox.deliver(ticket, message, tickets=deps.tickets, senders=deps.senders, now=now)


def _base(follow_up: FollowUp, now: datetime, detail: dict[str, Any],
          fired_due: datetime | None) -> dict[str, Any]:
    base = {**detail, "follow_up": str(follow_up.kind), "key": follow_up.key,
            "due_at": follow_up.due_at.isoformat(), "fired_at": now.isoformat()}
    if fired_due is not None and _utc(fired_due) != follow_up.due_at:
        base["scheduled_due_at"] = _utc(fired_due).isoformat()
    return base


def _timeline(follow_up: FollowUp, ticket: Ticket, now: datetime, detail: dict[str, Any],
              fired_due: datetime | None) -> list[TimelineEvent]:
    """The timeline entries of a follow-up that acted."""
    base = _base(follow_up, now, detail, fired_due)
    events = [TimelineEvent(ticket_id=ticket.id, at=now, kind="follow_up",
                            detail={**follow_up.detail, **base})]
    if follow_up.kind in SLA_KINDS:
        events.append(TimelineEvent(ticket_id=ticket.id, at=now, kind="sla_breached",
                                    detail={"sla": str(follow_up.kind),
                                            "due_at": follow_up.due_at.isoformat(),
                                            **follow_up.detail, **detail}))
    return events


def _bus_events(follow_up: FollowUp, ticket: Ticket, now: datetime, detail: dict[str, Any],
                fired_due: datetime | None) -> list[tuple[str, dict[str, Any]]]:
    """The bus events of a follow-up that acted, published together (one PutEvents)."""
    event = {**_ticket_detail(ticket), **_base(follow_up, now, detail, fired_due)}
    out: list[tuple[str, dict[str, Any]]] = [("FollowUpDue", event)]
    if follow_up.kind in SLA_KINDS:
        out.append(("SlaBreached", {**event, "sla": str(follow_up.kind),
                                    "target_minutes": follow_up.detail.get("target_minutes"),
                                    "clock": follow_up.detail.get("clock")}))
        if detail.get("priority_after") != detail.get("priority_before"):
            out.append(("TicketUpdated", {**_ticket_detail(ticket),
                                          "priority": detail["priority_after"],
                                          "version": ticket.version + 1,
                                          "change": "priority_escalated"}))
    if follow_up.action == Action.CLOSE:
        out.append(("TicketClosed", {**_ticket_detail(ticket), "status": "closed",
                                     "version": ticket.version + 1,
                                     "reason": "no_customer_reply",
                                     "closed_at": now.isoformat()}))
    return out


def _ticket_detail(ticket: Ticket) -> dict[str, Any]:
    return {"ticket_id": ticket.id, "brand": ticket.brand, "channel": str(ticket.channel),
            "status": str(ticket.status), "category": str(ticket.category),
            "priority": str(ticket.priority), "lang": str(ticket.lang), "version": ticket.version,
            "assignee": ticket.assignee}


# ---------------------------------------------------------------------------- sweep


def sweep(now: datetime, deps: FollowUpDeps, *, verify: bool = False) -> SweepResult:
    """Re-plan every open ticket and run what is overdue: catches lost or failed schedules.

    `verify` also checks that each pending schedule still exists (one read per schedule).
    """
    now = _utc(now)
    seen, acted = 0, []
    for brand in _all_brands(deps):
        for ticket in deps.store.open_tickets(brand):
            seen += 1
            try:
                wanted = replan(ticket, deps, now=now, reason="sweep", verify=verify)
                for follow_up in wanted:
                    if follow_up.due_at <= now - deps.sweep_grace:
                        result = run_due(str(follow_up.kind), ticket.id, follow_up.due_at, now,
                                         deps, key=follow_up.key, from_schedule=False)
                        if result.outcome == "acted":
                            acted.append(follow_up.key)
            except DeskIntakeError as exc:  # one bad ticket must not stop the sweep
                log.warning("sweep skipped a ticket", extra={"ticket_id": ticket.id,
                                                             "error": str(exc)})
    return SweepResult(tickets=seen, acted=acted)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
