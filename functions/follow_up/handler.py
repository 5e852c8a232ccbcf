"""EventBridge Scheduler (one follow-up) or the sweep rule (all of them) -> services.follow_up."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from deskintake.runtime.follow_up_wiring import follow_up_deps
from deskintake.services.follow_up import run_due, sweep
from pydantic import BaseModel, ValidationError

logger = Logger(service="deskintake-follow-up")
metrics = Metrics(namespace="DeskIntake", service="follow-up")


class FollowUpInput(BaseModel):
    """The schedule's Target.Input, as the scheduling code wrote it."""

    kind: str
    ticket_id: str
    key: str | None = None
    due_at: datetime | None = None
    now: datetime | None = None  # honoured on the local stack only: lets a demo jump ahead


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env, deps = follow_up_deps()
    if event.get("detail-type") == "Scheduled Event" or event.get("action") == "sweep":
        now = _local_now(event.get("now")) if env.local else None
        result = sweep(now or datetime.now(UTC), deps, verify=bool(event.get("verify")))
        metrics.add_metric(name="FollowUpsSwept", unit=MetricUnit.Count, value=len(result.acted))
        logger.info("sweep done", extra={"tickets": result.tickets, "acted": result.acted})
        return {"swept": result.tickets, "acted": result.acted}
    try:
        request = FollowUpInput.model_validate(event)
    except ValidationError as exc:
        # Permanent: a retry would fail the same way. Logged and counted, not raised.
        metrics.add_metric(name="FollowUpRejected", unit=MetricUnit.Count, value=1)
        logger.error("follow-up input rejected", extra={"errors": exc.errors(include_url=False)})
        return {"outcome": "rejected"}
    now = request.now if env.local and request.now else datetime.now(UTC)
    outcome = run_due(request.kind, request.ticket_id, request.due_at, now, deps, key=request.key)
    metrics.add_metric(name="FollowUpActed" if outcome.outcome == "acted" else "FollowUpSkipped",
                       unit=MetricUnit.Count, value=1)
    logger.info("follow-up fired", extra={"ticket_id": request.ticket_id, "kind": request.kind,
                                          "outcome": outcome.outcome})
    return {"outcome": outcome.outcome, "ticket_id": request.ticket_id, "kind": request.kind}


def _local_now(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
