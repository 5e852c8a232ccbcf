"""Export agents' category corrections as JSONL training rows (subject, text, category, lang)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")
    parser.add_argument("--brand", default="default", help="brand whose corrections to export")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="local stack state folder (when not running against AWS)")


def run(args: argparse.Namespace) -> int:
    import os

    if "DESKINTAKE_TABLE" not in os.environ:
        from deskintake.local.attach import attach

        attach(args.state_dir)
    from deskintake.adapters.dynamodb_queries import DynamoCorrections
    from deskintake.runtime.env import CoreEnv, load
    from deskintake.runtime.wiring import client
    from deskintake.services.tickets import training_rows

    env = load(CoreEnv)
    rows = training_rows(DynamoCorrections(client("dynamodb"), env.table).all(args.brand))
    out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
    count = 0
    try:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if args.out:
            out.close()
    print(f"exported {count} corrections", file=sys.stderr)
    return 0
