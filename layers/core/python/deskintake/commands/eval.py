"""Evaluate the classifier on labelled JSONL: macro-F1, per-category and per-language scores."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskintake.domain.classify import LinearModel, classify, load_config
from deskintake.domain.model import Category

# Categories whose recall is a hard bar: missing one leaves a customer exposed.
MUST_NOT_MISS = ("card_fraud", "account_security")
RECALL_BAR = 0.95
SPAM_PRECISION_BAR = 0.98


@dataclass
class Report:
    """Scores of one evaluation run."""

    n: int
    macro_f1: float
    accuracy: float
    per_category: dict[str, tuple[float, float, float, int]]  # P, R, F1, support
    per_lang: dict[str, float] = field(default_factory=dict)
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    predictions: list[tuple[str, float, list[str]]] = field(default_factory=list)

    def recall(self, category: str) -> float:
        return self.per_category.get(category, (0.0, 1.0, 0.0, 0))[1]

    def precision(self, category: str) -> float:
        return self.per_category.get(category, (1.0, 0.0, 0.0, 0))[0]

    def bars_met(self) -> dict[str, bool]:
        """Which of the project's quality bars this run meets."""
        bars = {"macro_f1>=0.90": self.macro_f1 >= 0.90}
        bars |= {f"{lang}_macro_f1>=0.85": f1 >= 0.85 for lang, f1 in self.per_lang.items()}
        bars |= {f"{c}_recall>={RECALL_BAR}": self.recall(c) >= RECALL_BAR for c in MUST_NOT_MISS}
        bars["spam_precision>=0.98"] = self.precision("spam") >= SPAM_PRECISION_BAR
        return bars


def score(gold: Sequence[str], pred: Sequence[str], langs: Sequence[str] | None = None) -> Report:
    """Macro-F1 over the gold categories present, with per-category and per-language detail."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    for g, p in zip(gold, pred, strict=True):
        confusion[(g, p)] += 1
        if g == p:
            tp[g] += 1
        else:
            fn[g] += 1
            fp[p] += 1
    per: dict[str, tuple[float, float, float, int]] = {}
    for c in sorted(set(gold)):
        pr = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 0.0
        rc = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else 0.0
        f1 = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
        per[c] = (pr, rc, f1, tp[c] + fn[c])
    macro = sum(v[2] for v in per.values()) / len(per) if per else 0.0
    report = Report(
        len(gold),
        macro,
        sum(tp.values()) / len(gold) if gold else 0.0,
        per,
        confusion=dict(confusion),
    )
    if langs is not None:
        for lang in sorted(set(langs)):
            idx = [i for i, x in enumerate(langs) if x == lang]
            report.per_lang[lang] = score([gold[i] for i in idx], [pred[i] for i in idx]).macro_f1
    return report


def read_labelled(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Labelled JSONL rows from the given files."""
    rows = []
    for path in paths:
        for line in Path(path).read_text("utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def evaluate(
    rows: Sequence[dict[str, Any]],
    *,
    model: LinearModel | None = None,
    config_path: str | None = None,
) -> Report:
    """Classify labelled rows with the full pipeline (rules + model) and score them."""
    config = load_config(config_path) if config_path else None
    pred, langs, details = [], [], []
    for row in rows:
        c = classify(
            row.get("subject") or "",
            row.get("text") or "",
            channel=row.get("channel") or "email",
            hint=row.get("hint"),
            spam_verdict=row.get("spam_verdict"),
            config=config,
            model=model,
        )
        pred.append(c.category.value)
        langs.append(row.get("lang") or c.lang.value)
        details.append((c.category.value, c.confidence, c.explanation))
    report = score([r["category"] for r in rows], pred, langs)
    report.predictions = details
    return report


def format_report(report: Report, *, confusion: bool = True) -> str:
    """A human-readable summary of a report."""
    lines = [f"{report.n} messages  macro-F1={report.macro_f1:.3f}  accuracy={report.accuracy:.3f}"]
    lines.append(f"  {'category':22s}    P     R    F1     n")
    for c, (p, r, f1, n) in report.per_category.items():
        lines.append(f"  {c:22s} {p:5.2f} {r:5.2f} {f1:5.2f} {n:5d}")
    if report.per_lang:
        lines.append(
            "  per language macro-F1: "
            + "  ".join(f"{k}={v:.3f}" for k, v in report.per_lang.items())
        )
    if confusion:
        cats = [c.value for c in Category if any(c.value in k for k in report.confusion)]
        abbrev = [c[:6] for c in cats]
        lines.append("  confusion (rows gold, columns predicted):")
        lines.append("  " + " " * 22 + " ".join(f"{a:>6s}" for a in abbrev))
        for g in cats:
            if not any(k[0] == g for k in report.confusion):
                continue
            cells = " ".join(f"{report.confusion.get((g, p), 0) or '.':>6}" for p in cats)
            lines.append(f"  {g:22s}{cells}")
    bars = report.bars_met()
    lines.append("  bars: " + "  ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in bars.items()))
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument(
        "files", nargs="+", type=Path, help='labelled JSONL files (lines with "category")'
    )
    parser.add_argument("--config", help="taxonomy.json to use instead of the packaged one")
    parser.add_argument("--model", type=Path, help="model JSON to use instead of the packaged one")
    parser.add_argument(
        "--errors", action="store_true", help="also print the misclassified messages"
    )


def run(args: argparse.Namespace) -> int:
    """Print the evaluation report; exit 1 when a quality bar is missed."""
    from deskintake.domain.classify import load_model

    rows = read_labelled(args.files)
    if not rows:
        print("no labelled lines", file=sys.stderr)
        return 2
    model = load_model(args.model.read_text("utf-8")) if args.model else None
    report = evaluate(rows, model=model, config_path=args.config)
    print(format_report(report))
    if args.errors:
        for row, (cat, conf, why) in zip(rows, report.predictions, strict=True):
            if cat != row["category"]:
                text = f"{row.get('subject') or ''} | {row.get('text') or ''}"[:160]
                print(f"  [{row['category']} -> {cat} {conf:.2f}] {text!r} {why}")
    return 0 if all(report.bars_met().values()) else 1
