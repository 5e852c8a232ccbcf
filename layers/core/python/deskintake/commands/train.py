"""Retrain the classifier (dev only) and replace the model only if it is not worse on the dev split."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

from deskintake.commands.eval import MUST_NOT_MISS, Report, evaluate, read_labelled
from deskintake.domain.classify import LinearModel, load_model

MACRO_F1_TOLERANCE = 0.01
PACKAGED_MODEL = Path(__file__).resolve().parent.parent / "model" / "classifier.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument(
        "--corrections",
        type=Path,
        action="append",
        default=[],
        help='JSONL lines {"subject","text","category","lang"} (agents\' corrections)',
    )
    parser.add_argument("--out", type=Path, default=PACKAGED_MODEL, help="model file to replace")
    parser.add_argument(
        "--repo", type=Path, default=Path.cwd(), help="repository root (holds training/ and data/)"
    )
    parser.add_argument(
        "--force", action="store_true", help="write the candidate even if it is worse"
    )


def _training_module(repo: Path) -> ModuleType:
    # training/ lives beside the package, not inside it: it needs scikit-learn, which Lambda never ships.
    if not (repo / "training" / "train.py").exists():
        raise SystemExit(
            f"no training/train.py under {repo}; run from the repository root or pass --repo"
        )
    sys.path.insert(0, str(repo))
    return importlib.import_module("training.train")


def accept(candidate: Report, current: Report | None) -> tuple[bool, list[str]]:
    """Whether the candidate may replace the current model, and why not when it may not."""
    if current is None:
        return True, []
    reasons = []
    if candidate.macro_f1 < current.macro_f1 - MACRO_F1_TOLERANCE:
        reasons.append(
            f"macro-F1 {candidate.macro_f1:.3f} < {current.macro_f1:.3f} - {MACRO_F1_TOLERANCE}"
        )
    for cat in MUST_NOT_MISS:
        # Hold the recall the current model reaches, or the bar itself when the current one misses it.
        floor = min(current.recall(cat), 0.95)
        if candidate.recall(cat) < floor:
            reasons.append(f"{cat} recall {candidate.recall(cat):.3f} < {floor:.3f}")
    return not reasons, reasons


def _line(name: str, r: Report) -> str:
    langs = " ".join(f"{k}={v:.3f}" for k, v in r.per_lang.items())
    recalls = " ".join(f"{c}_R={r.recall(c):.3f}" for c in MUST_NOT_MISS)
    return f"  {name:9s} macro-F1={r.macro_f1:.3f} acc={r.accuracy:.3f} {langs} {recalls} spam_P={r.precision('spam'):.3f}"


def run(args: argparse.Namespace) -> int:
    """Train a candidate, compare it with the current model on data/corpus/dev, keep the better."""
    training = _training_module(args.repo.resolve())
    examples = training.load_training_data(args.corrections)
    doc = training.train(examples)
    candidate: LinearModel = load_model(json.dumps(doc))
    dev = read_labelled(sorted((args.repo / "data" / "corpus" / "dev").glob("*.jsonl")))
    if not dev and not args.force:
        print(
            "no dev split (data/corpus/dev/*.jsonl): refusing to replace the model without a measure (--force)"
        )
        return 1
    new = evaluate(dev, model=candidate) if dev else None
    old = (
        evaluate(dev, model=load_model(args.out.read_text("utf-8")))
        if dev and args.out.exists()
        else None
    )
    print(f"dev split: {len(dev)} messages")
    if old:
        print(_line("current", old))
    if new:
        print(_line("candidate", new))
    ok, reasons = accept(new, old) if new else (True, [])
    if not ok and not args.force:
        print("kept the current model: " + "; ".join(reasons))
        return 1
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text, "utf-8")
    print(f"wrote {args.out} ({len(text.encode()) / 1e6:.2f} MB, version {doc['version']})")
    return 0
