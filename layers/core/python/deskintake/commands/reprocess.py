"""Run inbound mail that failed again (from its raw copy in S3) and mark it reprocessed."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskintake.services.email_intake import EmailIntakeDeps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("failure_ids", nargs="*", help="failure ids (default: every pending one)")
    parser.add_argument("--list", action="store_true", help="only list pending failures")


def run(args: argparse.Namespace) -> int:
    import os

    if os.environ.get("DESKINTAKE_TABLE") is None:
        from deskintake.local.attach import attach

        attach()
    from deskintake.runtime.wiring import email_intake_deps
    from deskintake.services.email_intake import process_stored_mail, recipients_from_reason

    _, deps = email_intake_deps()
    pending = deps.failures.pending()
    if args.failure_ids:
        pending = [f for f in pending if f["id"] in set(args.failure_ids)]
    if args.list:
        for failure in pending:
            print(json.dumps({k: failure.get(k) for k in ("id", "source", "key", "reason", "at")}))
        return 0
    still_failing = 0
    for failure in pending:
        now = datetime.now(UTC)
        # Routed again with the current brands: a mail no brand owned may have an owner now.
        outcome = process_stored_mail(failure["key"], _without_failure_log(deps), now=now,
                                      recipients=recipients_from_reason(str(failure.get("reason", ""))))
        if outcome.result is None:
            still_failing += 1
            print(json.dumps({"id": failure["id"], "status": "failed", "reason": outcome.reason}))
            continue
        deps.failures.resolve(failure["id"], at=now, ticket_id=outcome.result.ticket.id)
        print(json.dumps({"id": failure["id"], "status": "reprocessed",
                          "ticket_id": outcome.result.ticket.id, "created": outcome.result.created}))
    return 1 if still_failing else 0


def _without_failure_log(deps: EmailIntakeDeps) -> EmailIntakeDeps:
    """Reprocessing a failure must not file a second failure record for the same mail."""
    from dataclasses import replace

    class _Quiet:
        def record(self, **_: object) -> str:
            return "unchanged"

    return replace(deps, failures=_Quiet())  # type: ignore[arg-type]  # records nothing
