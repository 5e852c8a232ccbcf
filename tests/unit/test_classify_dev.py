"""The held-out dev split (data/corpus/dev) meets the project's quality bars."""

from pathlib import Path

import pytest
from deskintake.commands.eval import evaluate, read_labelled

DEV = Path(__file__).resolve().parents[2] / "data" / "corpus" / "dev"


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    files = sorted(DEV.glob("*.jsonl"))
    if not files:
        pytest.skip("no dev split under data/corpus/dev")
    return evaluate(read_labelled(files))


def test_dev_macro_f1_overall_and_per_language(report) -> None:  # type: ignore[no-untyped-def]
    assert report.macro_f1 >= 0.90
    for lang, f1 in report.per_lang.items():
        assert f1 >= 0.85, lang


def test_dev_must_not_miss_recall_and_spam_precision(report) -> None:  # type: ignore[no-untyped-def]
    assert report.recall("card_fraud") >= 0.95
    assert report.recall("account_security") >= 0.95
    assert report.precision("spam") >= 0.98
