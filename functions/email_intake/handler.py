"""SES receipt rule (S3 action, then this Lambda) -> deskintake email intake."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from deskintake.inbound.ses import SesEvent
from deskintake.runtime.wiring import email_intake_deps, prewarm
from deskintake.services.email_intake import process_stored_mail

logger = Logger(service="deskintake-email")
metrics = Metrics(namespace="DeskIntake", service="email")
# Provisioned concurrency only (runtime.wiring.provisioned): every client of a new ticket.
prewarm(email_intake_deps, "s3", "dynamodb", "events", "scheduler", "ses")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env, deps = email_intake_deps()
    parsed = SesEvent.model_validate(event)
    outcomes = []
    for record in parsed.Records:
        mail, receipt = record.ses.mail, record.ses.receipt
        key = f"{env.raw_prefix}{mail.messageId}"
        outcome = process_stored_mail(
            key, deps, now=datetime.now(UTC), received_at=mail.timestamp,
            spam_verdict=receipt.spamVerdict.status, virus_verdict=receipt.virusVerdict.status,
            recipients=receipt.recipients,
        )
        if outcome.result is None:
            metrics.add_metric(name="InboundRejected", unit=MetricUnit.Count, value=1)
            outcomes.append({"key": key, "failure_id": outcome.failure_id})
            continue
        result = outcome.result
        metrics.add_metric(name="TicketOpened" if result.created else "MessageThreaded",
                           unit=MetricUnit.Count, value=1)
        logger.info("mail filed", extra={"ticket_id": result.ticket.id, "new_ticket": result.created,
                                          "duplicate": result.duplicate,
                                          "category": str(result.ticket.category)})
        outcomes.append({"key": key, "ticket_id": result.ticket.id, "created": result.created,
                         "duplicate": result.duplicate})
    # SES's Lambda action is asynchronous; the return value is for logs and local callers.
    return {"outcomes": outcomes}
