"""List or fire the local stack's scheduled follow-ups, jumping ahead in time (due / run / show).

    deskintake followups due --at +16m          what would fire within 16 minutes
    deskintake followups run --at +16m          fire it now, as if it were 16 minutes later
    deskintake followups show TKT-XXXXXXX       a ticket's scheduled follow-ups and timeline

TIME is `now`, an offset (+90s, +16m, +2h, +3d) or an ISO date-time; one without a zone is
read in the business-hours zone (Asia/Jakarta).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

_OFFSET = re.compile(r"^\+(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
ZONE = "Asia/Jakarta"


def parse_time(text: str, *, now: datetime, zone: str = ZONE) -> datetime:
    """`now`, `+16m`-style offsets, or an ISO date-time (naive = `zone`), as an aware UTC time."""
    value = text.strip()
    if value.lower() == "now":
        return now
    if match := _OFFSET.match(value.lower()):
        return now + timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (use now, +16m, +2h, +3d or 2026-11-21T14:46)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, helptext in (("due", "list what would fire by TIME"),
                           ("run", "fire what is due by TIME, each as if at its own time")):
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("--at", default="now", metavar="TIME", help="now, +16m, +2h, ISO (default now)")
        p.add_argument("--ticket", default=None, help="only this ticket's follow-ups")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "run":
            p.add_argument("--sweep", action="store_true",
                           help="also run the periodic sweep at TIME (catches missed follow-ups)")
    show = sub.add_parser("show", help="a ticket's scheduled follow-ups and timeline")
    show.add_argument("ticket")
    show.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from deskintake.local.attach import attach

    attach()
    if args.action == "show":
        return _show(args)
    now = datetime.now(UTC)
    try:
        at = parse_time(args.at, now=now)
    except argparse.ArgumentTypeError as exc:
        print(f"deskintake followups: {exc}", file=sys.stderr)
        return 2
    firer, invoke = _firer()
    if args.action == "due":
        due = [s for s in firer.due(at) if args.ticket in (None, s.payload.get("ticket_id"))]
        rows = [_row(s) for s in due]
        _print(rows, args.json, empty=f"nothing due by {_local(at)}")
        return 0
    fired: list[dict[str, Any]] = []
    for _ in range(5):  # a follow-up can plan another one that is due by TIME too
        batch = [(s, r) for s, r in firer.fire(at, jump_from=now)
                 if args.ticket in (None, s.payload.get("ticket_id"))]
        if not batch:
            break
        fired.extend({**_row(s), "result": r} for s, r in batch)
    if args.sweep:
        result = invoke({"action": "sweep", "now": at.isoformat()})
        fired.append({"sweep": result})
    _print(fired, args.json, empty=f"nothing due by {_local(at)}")
    return 1 if any((f.get("result") or {}).get("outcome") == "failed" for f in fired) else 0


def _firer() -> tuple[Any, Any]:
    from deskintake.local.clock import ScheduleFirer, follow_up_function
    from deskintake.local.functions import LocalFunctions
    from deskintake.local.stack import project_root
    from deskintake.local.template import LocalTemplate
    from deskintake.runtime.wiring import client

    template = LocalTemplate.load(project_root() / "template.yaml")
    functions = LocalFunctions(template)
    logical_id = follow_up_function(template)

    def invoke(event: dict[str, Any]) -> Any:
        return functions.invoke(logical_id, event)

    firer = ScheduleFirer(client("scheduler"), os.environ["DESKINTAKE_SCHEDULE_GROUP"], invoke)
    return firer, invoke


def _show(args: argparse.Namespace) -> int:
    from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
    from deskintake.domain.errors import NotFoundError
    from deskintake.runtime.follow_up_wiring import follow_up_store
    from deskintake.runtime.wiring import client
    from deskintake.services.follow_up import scheduled_for

    repo = DynamoTicketRepository(client("dynamodb"), os.environ["DESKINTAKE_TABLE"])
    try:
        ticket = repo.get(args.ticket)
    except NotFoundError:
        print(f"no ticket {args.ticket}", file=sys.stderr)
        return 1
    scheduled = scheduled_for(ticket.id, follow_up_store())
    timeline = [{"at": e.at.isoformat(), "kind": e.kind, **({"follow_up": e.detail.get("follow_up")}
                                                            if e.kind == "follow_up" else {})}
                for e in repo.events(ticket.id)]
    if args.json:
        print(json.dumps({"ticket": ticket.id, "status": str(ticket.status),
                          "category": str(ticket.category), "priority": str(ticket.priority),
                          "scheduled": scheduled, "timeline": timeline}, indent=1))
        return 0
    print(f"{ticket.id}  {ticket.status}  {ticket.category}  {ticket.priority}")
    print("scheduled follow-ups:")
    for item in scheduled or [{"kind": "(none)", "due_at": ""}]:
        when = _local(datetime.fromisoformat(item["due_at"])) if item["due_at"] else ""
        print(f"  {when:<22} {item['kind']}")
    print("timeline:")
    for event in timeline:
        extra = f" ({event['follow_up']})" if event.get("follow_up") else ""
        print(f"  {_local(datetime.fromisoformat(str(event['at']))):<22} {event['kind']}{extra}")
    return 0


def _row(schedule: Any) -> dict[str, Any]:
    payload = schedule.payload
    return {"schedule": schedule.name, "fire_at": schedule.fire_at.isoformat(),
            "ticket_id": payload.get("ticket_id"), "kind": payload.get("kind"),
            "due_at": payload.get("due_at")}


def _local(at: datetime) -> str:
    return at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M:%S WIB")


def _print(rows: list[dict[str, Any]], as_json: bool, *, empty: str) -> None:
    if as_json:
        print(json.dumps(rows, indent=1, default=str))
        return
    if not rows:
        print(empty)
        return
    for row in rows:
        if "sweep" in row:
            print(f"sweep: {row['sweep']}")
            continue
        result = row.get("result")
        outcome = f"  -> {result.get('outcome')}" if isinstance(result, dict) else ""
        print(f"{_local(datetime.fromisoformat(row['fire_at']))}  {row['ticket_id']}  "
              f"{row['kind']}{outcome}")
