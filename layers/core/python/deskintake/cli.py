"""`deskintake`: Desk Intake's command line (each command is a module in deskintake.commands)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

COMMANDS = [
    "serve", "ingest", "reprocess", "reset", "parse-email", "classify", "eval", "train",
    "export-corrections", "chat-send", "followups", "redrive",
]


def _module_name(command: str) -> str:
    return f"deskintake.commands.{command.replace('-', '_')}"


def available() -> list[str]:
    return [c for c in COMMANDS if importlib.util.find_spec(_module_name(c)) is not None]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    commands = available()
    parser = argparse.ArgumentParser(prog="deskintake", description="Desk Intake: email and chat intake for support teams."
)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = args[0] if args and args[0] in commands else None
    for name in commands:
        if name == chosen:
            module = importlib.import_module(_module_name(name))
            doc = (module.__doc__ or name).strip().splitlines()[0]
            command_parser = sub.add_parser(name, help=doc, description=doc)
            module.add_arguments(command_parser)
            command_parser.set_defaults(run=module.run)
        else:
            sub.add_parser(name, help=_help_line(name), add_help=False)
    parsed = parser.parse_args(args)
    if not getattr(parsed, "run", None):
        parser.print_help()
        return 0 if not args or args[0] in {"-h", "--help"} else 2
    result: int = parsed.run(parsed)
    return result


def _help_line(name: str) -> str:
    """The first docstring line of a command module, read without importing it."""
    spec = importlib.util.find_spec(_module_name(name))
    if spec is None or spec.origin is None:
        return ""
    import ast

    try:
        with open(spec.origin, encoding="utf-8") as source:
            doc = ast.get_docstring(ast.parse(source.read()))
    except (OSError, SyntaxError):
        return ""
    return (doc or "").strip().splitlines()[0] if doc else ""


if __name__ == "__main__":
    raise SystemExit(main())
