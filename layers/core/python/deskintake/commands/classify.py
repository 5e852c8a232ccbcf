"""Classify messages: JSONL lines {"id","subject","text","channel"} in, categories out."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from deskintake.domain.classify import classify, load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("file", nargs="?", default="-", help="JSONL file to read, or - for stdin")
    parser.add_argument("--config", help="taxonomy.json to use instead of the packaged one")
    parser.add_argument("--entities", action="store_true", help="also print the extracted entities")


def _lines(path: str) -> Iterator[str]:
    stream: IO[str] = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    with stream:
        yield from stream


def run(args: argparse.Namespace) -> int:
    """Read the input lines and write one classification per line."""
    config = load_config(args.config) if args.config else None
    out = sys.stdout
    bad = 0
    for n, line in enumerate(_lines(args.file), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"line {n}: not JSON ({exc})", file=sys.stderr)
            bad += 1
            continue
        c = classify(
            row.get("subject") or "",
            row.get("text") or "",
            channel=row.get("channel") or "email",
            lang=row.get("lang"),
            hint=row.get("hint") or row.get("category_hint"),
            spam_verdict=row.get("spam_verdict"),
            config=config,
        )
        result: dict[str, Any] = {
            "id": row.get("id"),
            "category": c.category.value,
            "priority": c.priority.value,
            "confidence": c.confidence,
            "lang": c.lang.value,
            "needs_triage": c.needs_triage,
            "explanation": c.explanation,
        }
        if args.entities:
            result["entities"] = c.entities
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 1 if bad else 0
