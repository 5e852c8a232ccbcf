"""Parse raw .eml files and print one masked JSON object per file (JSON Lines, argument order)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the command's arguments."""
    parser.add_argument("files", nargs="+", metavar="FILE.eml", help="raw MIME messages")
    parser.add_argument(
        "--full",
        action="store_true",
        help="also print full_text, html and the masked quote history",
    )


def _record(path: str, full: bool) -> dict[str, Any]:
    from deskintake.domain.errors import EmailParseError
    from deskintake.inbound.email import parse_email

    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return {"file": path, "error": f"cannot read: {exc.strerror or exc}"}
    try:
        parsed = parse_email(raw)
    except EmailParseError as exc:
        return {"file": path, "error": str(exc) or "nothing to parse"}
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return {"file": path, "error": f"{type(exc).__name__}: {exc}"}
    exclude = None if full else {"full_text", "html", "attachment_payloads"}
    data: dict[str, Any] = parsed.model_dump(mode="json", exclude=exclude)
    data["external_id"] = parsed.external_id
    return {"file": path, **data}


def run(args: argparse.Namespace) -> int:
    """Print one JSON line per file; unparseable mail carries `error`, and the exit code stays 0."""
    out = sys.stdout
    for path in args.files:
        record = _record(path, bool(getattr(args, "full", False)))
        try:
            line = json.dumps(record, ensure_ascii=False)
            line.encode("utf-8")
        except UnicodeEncodeError:
            line = json.dumps(record)  # escapes anything that is not valid UTF-8
        out.write(line)
        out.write("\n")
    out.flush()
    return 0
