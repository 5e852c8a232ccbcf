"""Local data survives a restart of the stack; `deskintake reset` clears it."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import start_stack, stop_stack


def test_tickets_survive_a_restart_and_reset_clears_them(tmp_path: Path) -> None:
    stack = start_stack(tmp_path, demo=True)
    try:
        demo = {t["id"]: t["category"] for t in stack.tickets()}
    finally:
        stop_stack(stack)
    assert len(demo) >= 8
    assert {"order_pending", "card_fraud", "spam"} <= set(demo.values())

    again = start_stack(tmp_path, demo=True)  # demo data is loaded only into an empty state
    try:
        assert {t["id"]: t["category"] for t in again.tickets()} == demo
    finally:
        stop_stack(again)

    reset = again.cli("reset", "--yes", "--state-dir", str(again.state_dir))
    assert reset.returncode == 0, reset.stderr
    assert not again.state_dir.exists()
