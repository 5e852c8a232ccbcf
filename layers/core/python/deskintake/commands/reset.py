"""Delete the local stack's saved data (tickets, mail, schedules); stop the stack first."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", type=Path, default=None)
    parser.add_argument("--yes", action="store_true", help="do not ask")


def run(args: argparse.Namespace) -> int:
    from deskintake.local.stack import project_root

    folder = args.state_dir or project_root() / ".state"
    if not folder.exists():
        print(f"nothing to reset: {folder} does not exist")
        return 0
    if not args.yes and input(f"delete {folder}? [y/N] ").strip().lower() not in {"y", "yes"}:
        return 1
    shutil.rmtree(folder)
    print(f"deleted {folder}; the next `make run` starts empty with the demo data")
    return 0
