"""Agents' tickets API (HTTP API /api/...): list, read, change, note, reply, count.

Errors become HTTP here and only here: NotFoundError 404, ConflictError 409, bad input 422,
no agent identity 401, a dependency down 503.
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit
from deskintake.domain.errors import ConflictError, NotFoundError, TransientError
from deskintake.domain.model import Category, Channel, Lang, Priority, TicketStatus
from deskintake.domain.ticket import Message, Ticket, TimelineEvent
from deskintake.runtime.api_wiring import auth_settings, tickets_deps
from deskintake.runtime.auth import Agent, AuthError, authenticate
from deskintake.runtime.brands import active as active_brands
from deskintake.services import tickets as svc
from pydantic import BaseModel, Field

logger = Logger(service="deskintake-tickets-api")
metrics = Metrics(namespace="DeskIntake", service="tickets-api")
app = APIGatewayHttpResolver(enable_validation=True)

TicketId = Annotated[str, Path(pattern=r"^TKT-[0-9A-Z]{5,12}$")]


# -- response and request models --------------------------------------------------------


class SlaView(BaseModel):
    state: str
    due_at: datetime | None = None


class TicketSummary(BaseModel):
    id: str
    brand: str
    subject: str
    customer: str
    customer_name: str
    channel: Channel
    status: TicketStatus
    category: Category
    priority: Priority
    lang: Lang
    needs_triage: bool
    confidence: float
    assignee: str | None
    preview: str
    message_count: int
    created_at: datetime
    updated_at: datetime
    version: int
    sla: SlaView


class TicketView(TicketSummary):
    explanation: list[str]
    entities: dict[str, Any]
    model_version: str
    linked_ticket: str | None
    first_response_at: datetime | None
    closed_at: datetime | None


class MessageView(BaseModel):
    id: str
    direction: str
    channel: Channel
    author: str
    subject: str
    text: str
    html_safe: str | None = Field(description="Email HTML sanitised by nh3 on the server; no images")
    created_at: datetime
    delivery_status: str | None
    repeat_count: int
    is_auto: bool
    kind: str | None
    attachments: list[dict[str, Any]]
    redactions: list[dict[str, Any]]


class EventView(BaseModel):
    at: datetime
    kind: str
    actor: str
    detail: dict[str, Any]


class TicketListResponse(BaseModel):
    tickets: list[TicketSummary]
    cursor: str | None = Field(description="Pass back as ?cursor= for the next page; null at the end")
    partial: bool = Field(description="The read budget ran out before the page filled: ask again")
    read: int


class TicketDetailResponse(BaseModel):
    ticket: TicketView
    messages: list[MessageView]
    notes: list[MessageView]
    events: list[EventView]
    follow_ups: list[dict[str, Any]]


class UpdateTicketRequest(BaseModel):
    expected_version: int = Field(ge=1, description="The version the agent saw; stale -> 409")
    status: TicketStatus | None = None
    priority: Priority | None = None
    category: Category | None = None
    assignee: str | None = Field(default=None, max_length=200, description="null or '' unassigns")
    needs_triage: bool | None = None


class NoteRequest(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class ReplyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    expected_version: int | None = Field(default=None, ge=1)
    status_after: TicketStatus | None = Field(default=None, description="e.g. waiting")


class ReplyResponse(BaseModel):
    ticket: TicketSummary
    message: MessageView


class CountsResponse(BaseModel):
    by_status: dict[str, int] = Field(description="open/waiting: all; resolved/closed: since closed_since")
    by_category: dict[str, int] = Field(description="Open and waiting tickets per category")
    needs_triage: int
    closed_since: datetime | None


class BrandView(BaseModel):
    id: str
    name: str


class MeResponse(BaseModel):
    id: str
    name: str
    brands: list[BrandView] = Field(description="The brands whose tickets this agent may see")


class MetaResponse(BaseModel):
    categories: list[str]
    priorities: list[str]
    statuses: list[str]
    channels: list[str]
    langs: list[str]


# -- routes ------------------------------------------------------------------------------


@app.get("/api/tickets", summary="List and search tickets, newest first")
def list_tickets(
    status: Annotated[TicketStatus | None, Query(description="omit for every status")] = None,
    category: Annotated[Category | None, Query()] = None,
    priority: Annotated[Priority | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    lang: Annotated[Lang | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=200, description="'-' for unassigned")] = None,
    needs_triage: Annotated[bool | None, Query()] = None,
    sla: Annotated[str | None, Query(pattern="^(breached|due_soon)$")] = None,
    q: Annotated[str | None, Query(max_length=200, description="free text: subject, masked text")] = None,
    include_spam: Annotated[bool, Query()] = False,
    sort: Annotated[str, Query(pattern="^(newest|oldest)$")] = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
    brand: Annotated[str | None, Query(max_length=40, description="one of the agent's brands")] = None,
) -> TicketListResponse:
    deps, now = _deps(), _now()
    if assignee == "me":
        assignee = _agent().id
    query = svc.TicketQuery(status=status, category=category, priority=priority, channel=channel,
                            lang=lang, assignee=assignee or None, needs_triage=needs_triage,
                            sla=sla, text=q, include_spam=include_spam,
                            oldest_first=sort == "oldest", limit=limit, cursor=cursor)
    page = svc.list_tickets(query, deps, now=now, brand=brand or None)
    return TicketListResponse(tickets=[_summary(t, deps, now) for t in page.tickets],
                              cursor=page.cursor, partial=page.partial, read=page.read)


@app.get("/api/tickets/counts", summary="Tickets per status and per open category")
def get_counts(
    brand: Annotated[str | None, Query(max_length=40, description="one of the agent's brands")] = None,
) -> CountsResponse:
    return CountsResponse.model_validate(svc.counts(_deps(), now=_now(), brand=brand or None))


@app.get("/api/tickets/<ticket_id>", summary="A ticket with its whole thread")
def get_ticket(ticket_id: TicketId) -> TicketDetailResponse:
    deps, now = _deps(), _now()
    detail = svc.ticket_detail(ticket_id, deps, now=now)
    return TicketDetailResponse(
        ticket=_view(detail.ticket, detail.sla),
        messages=[_message(m) for m in detail.messages],
        notes=[_message(m) for m in detail.notes],
        events=[_event(e) for e in detail.events],
        follow_ups=detail.follow_ups,
    )


@app.patch("/api/tickets/<ticket_id>", summary="Change status, priority, category or assignee")
def update_ticket(ticket_id: TicketId, body: UpdateTicketRequest) -> TicketSummary:
    deps, now = _deps(), _now()
    changes = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    changes = {k: v for k, v in changes.items() if v is not None or k == "assignee"}
    if "assignee" in changes:
        changes["assignee"] = changes["assignee"] or None
    ticket = svc.update_ticket(ticket_id, changes, expected_version=body.expected_version,
                               agent=_agent().id, deps=deps, now=now)
    metrics.add_metric(name="TicketChanged", unit=MetricUnit.Count, value=1)
    return _summary(ticket, deps, now)


@app.post("/api/tickets/<ticket_id>/notes", summary="Add an internal note")
def add_note(ticket_id: TicketId, body: NoteRequest) -> Response[MessageView]:
    note = svc.add_note(ticket_id, body.text, agent=_agent().id, deps=_deps(), now=_now())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON,
                    body=_message(note))


@app.post("/api/tickets/<ticket_id>/replies", summary="Reply to the customer on the ticket's channel")
def add_reply(ticket_id: TicketId, body: ReplyRequest) -> Response[ReplyResponse]:
    deps, now = _deps(), _now()
    ticket, message = svc.reply(ticket_id, body.text, agent=_agent().id, deps=deps, now=now,
                                expected_version=body.expected_version, status_after=body.status_after)
    metrics.add_metric(name="AgentReplied" if message.delivery_status == "sent" else "ReplyFailed",
                       unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON,
                    body=ReplyResponse(ticket=_summary(ticket, deps, now), message=_message(message)))


@app.get("/api/me", summary="The calling agent")
def me() -> MeResponse:
    agent = _agent()
    config = active_brands()
    return MeResponse(id=agent.id, name=agent.name,
                      brands=[BrandView(id=b, name=config.get(b).display_name)
                              for b in config.visible_to(agent.groups)])


@app.get("/api/meta", summary="The vocabulary the dashboard shows")
def meta() -> MetaResponse:
    return MetaResponse(categories=[str(c) for c in Category], priorities=[str(p) for p in Priority],
                        statuses=[str(s) for s in TicketStatus], channels=[str(c) for c in Channel],
                        langs=[str(lang) for lang in Lang])


@app.get("/api/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    schema = app.get_openapi_json_schema(title="Desk Intake agents' API", version="1.0.0")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=schema)


# -- errors: the one place they become HTTP ---------------------------------------------


def _error(status: int, message: str, **extra: Any) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps({"message": message, **extra}))


@app.exception_handler(NotFoundError)
def _not_found(exc: NotFoundError) -> Response[str]:
    return _error(404, "ticket not found")


@app.exception_handler(ConflictError)
def _conflict(exc: ConflictError) -> Response[str]:
    return _error(409, "the ticket changed since you loaded it; reload and try again",
                  detail=str(exc))


@app.exception_handler(RequestValidationError)
def _invalid(exc: RequestValidationError) -> Response[str]:
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in exc.errors()]
    return _error(422, "invalid request", detail=errors)


@app.exception_handler(ValueError)
def _bad_value(exc: ValueError) -> Response[str]:
    return _error(422, str(exc) or "invalid request")


@app.exception_handler(TransientError)
def _unavailable(exc: TransientError) -> Response[str]:
    logger.warning("dependency unavailable", extra={"error": str(exc)})
    return _error(503, "temporarily unavailable, try again")


# -- entry -------------------------------------------------------------------------------


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        agent = authenticate(event, auth_settings())
    except AuthError:
        return {"statusCode": 401, "headers": {"content-type": "application/json",
                                               "www-authenticate": "Bearer"},
                "body": json.dumps({"message": "unauthorized"})}
    app.append_context(agent=agent)
    logger.append_keys(agent=agent.id)
    return app.resolve(event, context)


# -- mapping -----------------------------------------------------------------------------


def _agent() -> Agent:
    agent: Agent = app.context["agent"]
    return agent


def _deps() -> svc.TicketsDeps:
    """The API's dependencies limited to the calling agent's brands (their Cognito groups)."""
    deps: svc.TicketsDeps = tickets_deps()
    return svc.for_agent(deps, active_brands().visible_to(_agent().groups))


def _now() -> datetime:
    return datetime.now(UTC)


def _summary(ticket: Ticket, deps: Any, now: datetime) -> TicketSummary:
    sla = svc.ticket_sla(ticket, deps, now)
    return TicketSummary.model_validate({**ticket.model_dump(), "sla": SlaView(state=sla.state,
                                                                               due_at=sla.due_at)})


def _view(ticket: Ticket, sla: svc.Sla) -> TicketView:
    return TicketView.model_validate({**ticket.model_dump(),
                                      "sla": SlaView(state=sla.state, due_at=sla.due_at)})


def _message(message: Message) -> MessageView:
    return MessageView(
        id=message.id, direction=str(message.direction), channel=message.channel,
        author=message.author, subject=message.subject, text=message.text,
        html_safe=svc.safe_html(message.html), created_at=message.created_at,
        delivery_status=message.delivery_status, repeat_count=message.repeat_count,
        is_auto=message.is_auto, kind=message.meta.get("kind"),
        attachments=[a.model_dump() for a in message.attachments],
        redactions=[r.model_dump() for r in message.redactions],
    )


def _event(event: TimelineEvent) -> EventView:
    return EventView(at=event.at, kind=event.kind, actor=event.actor, detail=event.detail)
