"""HTTP API -> chat webhooks (WhatsApp, Telegram, live-chat widget) -> deskintake chat intake.

Order per request: size limit (413), authentication on the raw bytes (401, nothing stored),
JSON shape (400), then intake. Unknown event kinds get 200 so platforms stop retrying; a failure
of ours gets 500 so they retry, which is safe because every delivery is idempotent.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from deskintake.domain.errors import DeskIntakeError, PayloadError, SignatureError
from deskintake.domain.model import Channel
from deskintake.inbound import signatures
from deskintake.inbound.chat import livechat_customer, parse
from deskintake.runtime.chat_wiring import chat_deps, chat_env, secret
from deskintake.runtime.wiring import defer_event_handler_init, prewarm
from deskintake.services.chat_intake import process, widget_replies

defer_event_handler_init()  # only the HTTP resolver: not AppSync, Bedrock, asyncio (~25 ms)
from aws_lambda_powertools.event_handler import content_types  # noqa: E402
from aws_lambda_powertools.event_handler.api_gateway import (  # noqa: E402
    APIGatewayHttpResolver,
    Response,
)

logger = Logger(service="deskintake-chat")
metrics = Metrics(namespace="DeskIntake", service="chat")


def _json(status: int, payload: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(payload, ensure_ascii=False),
    )


def _raw_body(app: APIGatewayHttpResolver) -> bytes:
    event = app.current_event
    body = event.body or ""
    # Signatures cover the bytes as sent: undo the gateway's base64, never re-serialise JSON.
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def _header(app: APIGatewayHttpResolver, name: str) -> str | None:
    headers = app.current_event.headers
    return headers.get(name.lower()) or headers.get(name)


def _intake(app: APIGatewayHttpResolver, channel: Channel, authenticate: Any) -> Response[str]:
    now = datetime.now(UTC)
    body = _raw_body(app)
    if len(body) > chat_env().max_body_bytes:
        metrics.add_metric(name="WebhookTooLarge", unit=MetricUnit.Count, value=1)
        return _json(413, {"message": f"body larger than {chat_env().max_body_bytes} bytes"})
    try:
        authenticate(body, now)
    except SignatureError as exc:
        metrics.add_metric(name="WebhookUnauthenticated", unit=MetricUnit.Count, value=1)
        logger.warning("webhook refused", extra={"channel": str(channel), "reason": str(exc)})
        return _json(401, {"message": "unauthorized"})
    try:
        batch = parse(channel, body, received_at=now)
    except PayloadError as exc:
        metrics.add_metric(name="WebhookMalformed", unit=MetricUnit.Count, value=1)
        logger.warning("webhook malformed", extra={"channel": str(channel), "reason": str(exc)})
        return _json(400, {"message": f"malformed {channel} webhook: {exc}"})
    _, deps = chat_deps()
    # Which brand's bot / widget: the webhook URL registered with the platform names it
    # (?bot=<telegram bot id>, ?site=<widget site id>); WhatsApp bodies carry phone_number_id.
    event = app.current_event
    channel_id = event.get_query_string_value("bot") or event.get_query_string_value("site")
    outcome = process(batch, deps, body=body, now=now, channel_id=channel_id)
    for filed in outcome.tickets:
        metrics.add_metric(
            name="TicketOpened" if filed["created"] else "MessageThreaded",
            unit=MetricUnit.Count,
            value=0 if filed["duplicate"] else 1,
        )
    logger.info(
        "webhook filed",
        extra={
            "channel": str(channel),
            "tickets": outcome.tickets,
            "statuses": outcome.statuses_applied,
            "unmatched_statuses": outcome.statuses_unmatched,
            "edits": outcome.edits_applied,
            "ignored": outcome.ignored,
        },
    )
    return _json(200, outcome.as_json())


def build_app() -> APIGatewayHttpResolver:
    """The routes, on a resolver of their own: the local gateway runs requests in threads."""
    app = APIGatewayHttpResolver()

    @app.post("/webhooks/whatsapp")
    def whatsapp() -> Response[str]:
        def authenticate(body: bytes, now: datetime) -> None:
            signatures.verify_whatsapp(
                body, _header(app, "X-Hub-Signature-256"), secret("WHATSAPP_APP_SECRET")
            )

        return _intake(app, Channel.WHATSAPP, authenticate)

    @app.get("/webhooks/whatsapp")
    def whatsapp_handshake() -> Response[str]:
        event = app.current_event
        mode = event.get_query_string_value("hub.mode")
        token = event.get_query_string_value("hub.verify_token")
        challenge = event.get_query_string_value("hub.challenge") or ""
        if signatures.verify_whatsapp_handshake(mode, token, secret("WHATSAPP_VERIFY_TOKEN")):
            return Response(
                status_code=200, content_type=content_types.TEXT_PLAIN, body=challenge[:200]
            )
        return _json(403, {"message": "verification failed"})

    @app.post("/webhooks/telegram")
    def telegram() -> Response[str]:
        def authenticate(body: bytes, now: datetime) -> None:
            signatures.verify_telegram(
                _header(app, "X-Telegram-Bot-Api-Secret-Token"), secret("TELEGRAM_SECRET_TOKEN")
            )

        return _intake(app, Channel.TELEGRAM, authenticate)

    @app.post("/webhooks/livechat")
    def livechat() -> Response[str]:
        def authenticate(body: bytes, now: datetime) -> None:
            signatures.verify_livechat(
                body,
                _header(app, "X-Signature"),
                _header(app, "X-Timestamp"),
                secret("LIVECHAT_SECRET"),
                now=now,
            )

        return _intake(app, Channel.LIVECHAT, authenticate)

    @app.get("/webhooks/livechat/replies")
    def livechat_replies() -> Response[str]:
        return _widget_replies(app)

    app.exception_handler(DeskIntakeError)(_failed)
    return app


def _widget_replies(app: APIGatewayHttpResolver) -> Response[str]:
    """The widget polls our replies: signed like its webhooks, over the raw query string."""
    event = app.current_event
    query = event.raw_query_string or ""
    try:
        signatures.verify_livechat(
            query.encode("utf-8"),
            _header(app, "X-Signature"),
            _header(app, "X-Timestamp"),
            secret("LIVECHAT_SECRET"),
            now=datetime.now(UTC),
        )
    except SignatureError:
        return _json(401, {"message": "unauthorized"})
    try:
        customer = livechat_customer(
            event.get_query_string_value("email"), event.get_query_string_value("phone")
        )
        since = _since(event.get_query_string_value("since"))
    except PayloadError as exc:
        return _json(400, {"message": f"malformed livechat poll: {exc}"})
    _, deps = chat_deps()
    from deskintake.services.intake import brands_of

    brand = brands_of(deps.intake).for_channel(Channel.LIVECHAT,
                                               event.get_query_string_value("site"))
    ticket_id, replies = widget_replies(deps.intake.tickets, customer, since=since,
                                        brand=brand.id if brand is not None else "default")
    return _json(
        200,
        {
            "ticket_id": ticket_id,
            "replies": [
                {"message_id": m.id, "text": m.text, "sent_at": m.created_at.isoformat()}
                for m in replies
            ],
        },
    )


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PayloadError("since must be an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise PayloadError("since needs a time zone")
    return parsed


def _failed(exc: DeskIntakeError) -> Response[str]:
    # Transient or configuration trouble on our side: 500 makes the platform deliver again.
    logger.exception("webhook failed", extra={"error": type(exc).__name__})
    return _json(500, {"message": "temporarily unable to process; please retry"})


_apps = threading.local()


def resolver() -> APIGatewayHttpResolver:
    """The routes, built once per thread: Lambda has one, the local gateway serves several and a
    resolver keeps the current request on itself."""
    built: APIGatewayHttpResolver | None = getattr(_apps, "app", None)
    if built is None:
        built = _apps.app = build_app()
    return built


# Provisioned concurrency only (runtime.wiring.provisioned): every client of a new ticket.
prewarm(lambda: (chat_deps(), resolver()), "s3", "dynamodb", "events", "scheduler")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolver().resolve(event, context)
