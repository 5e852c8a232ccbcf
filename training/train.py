"""Train the Desk Intake linear classifier offline and export it as JSON for pure-Python scoring.

Usage (from the repo root):  .venv/bin/python -m training.train [--out PATH] [--corrections F]

Data: data/corpus/train/*.jsonl, BANKING77 train.csv mapped through category_map.json, the
hand-written examples in training/extra/*.jsonl and optional corrections. data/corpus/dev is
never read here: it is the held-out measure.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from deskintake.domain._features import extract_features
from deskintake.domain.classify import load_model, pack_weights
from deskintake.domain.language import detect_language
from deskintake.domain.model import Category
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BANKING77 = SHARED / "corpus" / "intents" / "banking77"
CLASSES = [c.value for c in Category]


@dataclass(frozen=True)
class Example:
    subject: str
    text: str
    category: str
    lang: str
    source: str


def read_jsonl(path: Path, source: str) -> list[Example]:
    """Labelled JSONL lines {"subject","text","category","lang"} as examples."""
    out = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        cat = row["category"]
        if cat not in CLASSES:
            raise ValueError(f"{path}: unknown category {cat!r}")
        text, subject = row.get("text") or "", row.get("subject") or ""
        lang = row.get("lang") or detect_language(f"{subject}\n{text}")
        out.append(Example(subject, text, cat, lang, source))
    return out


def banking77(split: str = "train") -> list[Example]:
    """BANKING77 queries whose intent maps onto a product category (unmapped intents are left out)."""
    mapping = json.loads((BANKING77 / "category_map.json").read_text("utf-8"))
    intent_to_cat = {b: c for c, bs in mapping.items() for b in bs}
    with (BANKING77 / f"{split}.csv").open(encoding="utf-8") as fh:
        return [
            Example("", r["text"], intent_to_cat[r["category"]], "en", "banking77")
            for r in csv.DictReader(fh)
            if r["category"] in intent_to_cat
        ]


def seed_spam() -> list[Example]:
    """The online-gambling pages among the seeds, whole: what an info@ address really receives."""
    out = []
    for p in sorted((SHARED / "seeds").glob("*.txt")):
        text = p.read_text("utf-8")
        if any(w in text.lower() for w in ("situs slot", "pluto888", "visa228")):
            out.append(Example("", text, "spam", "id", "extra"))
    return out


def load_training_data(corrections: Iterable[Path] = ()) -> list[Example]:
    """Everything the model learns from; never data/corpus/dev."""
    data: list[Example] = []
    for p in sorted((ROOT / "data" / "corpus" / "train").glob("*.jsonl")):
        data += read_jsonl(p, "corpus")
    for p in sorted((ROOT / "training" / "extra").glob("*.jsonl")):
        data += read_jsonl(p, "extra")
    if BANKING77.exists():
        data += banking77("train")
    data += seed_spam()
    for p in corrections:
        data += read_jsonl(p, "correction")
    return data


def vectorise(
    examples: list[Example], vocab: dict[str, int] | None = None
) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """Binary features scaled by 1/sqrt(#features of the message), as the scorer does."""
    grow = vocab is None
    vocab = {} if vocab is None else vocab
    rows, cols, vals = [], [], []
    for i, ex in enumerate(examples):
        feats = extract_features(ex.subject, ex.text)
        v = 1.0 / math.sqrt(len(feats)) if feats else 0.0
        for f in feats:
            j = vocab.get(f)
            if j is None:
                if not grow:
                    continue
                j = vocab[f] = len(vocab)
            rows.append(i)
            cols.append(j)
            vals.append(v)
    X = sparse.csr_matrix((vals, (rows, cols)), shape=(len(examples), len(vocab)), dtype=np.float64)
    return X, vocab


def sample_weights(examples: list[Example], banking_weight: float) -> np.ndarray:
    """Corrections count most, BANKING77 (one domain, one language, many rows) least."""
    w = {"corpus": 1.0, "extra": 1.0, "correction": 3.0, "banking77": banking_weight}
    return np.array([w[e.source] for e in examples])


def fit(X: sparse.csr_matrix, y: np.ndarray, sw: np.ndarray, C: float) -> LogisticRegression:
    clf = LogisticRegression(C=C, max_iter=3000, class_weight=None, tol=1e-4)
    clf.fit(X, y, sample_weight=sw)
    return clf


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of out-of-fold predictions."""
    best_t, best_nll = 1.0, float("inf")
    for t in np.arange(0.3, 3.01, 0.05):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -logp[np.arange(len(y)), y].mean()
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def export(
    clf: LogisticRegression, vocab: dict[str, int], temperature: float, prune: float, version: str
) -> dict[str, Any]:
    """The JSON document the pure-Python scorer reads, pruned to the weights that matter."""
    classes = list(clf.classes_)
    coef = clf.coef_.copy()
    # Softmax ignores a constant added to every class, so centring each feature's weights on their
    # median leaves the probabilities unchanged and turns most entries into prunable zeros.
    coef -= np.median(coef, axis=0, keepdims=True)
    intercept = clf.intercept_ - clf.intercept_.mean()
    inv = {j: f for f, j in vocab.items()}
    weights: dict[str, str] = {}
    for j in range(coef.shape[1]):
        col = coef[:, j]
        keep = np.nonzero(np.abs(col) >= prune)[0]
        if len(keep):
            weights[inv[j]] = " ".join(
                f"{k}:{col[k]:.2f}".replace(":0.", ":.").replace(":-0.", ":-.") for k in keep
            )
    return document(
        version=version,
        classes=[CLASSES[c] for c in classes],
        intercept=[round(float(b), 3) for b in intercept],
        temperature=round(temperature, 3),
        weights=weights,
    )


def document(
    *, version: str, classes: list[str], intercept: list[float], temperature: float,
    weights: dict[str, str],
) -> dict[str, Any]:
    """The exported model (format 2: weights packed into CRC-32 buckets, see domain/classify.py).

    Format 1 held one JSON object of ~23k features, whose parsing alone cost a Lambda cold start
    10-14 ms; format 2 is parsed in a few ms and decoded lazily, bucket by bucket.
    """
    return {
        "format": 2,
        "version": version,
        "classes": classes,
        "intercept": intercept,
        "temperature": temperature,
        "n_features": len(weights),
        "weights": pack_weights(weights),
    }


def _packed_features(buckets: list[str]) -> list[str]:
    return [line.split("|", 1)[0] for b in buckets if b for line in b.split("~")]


def repack(path: Path) -> dict[str, Any]:
    """Rewrite an exported model in the current format, weights unchanged (lossless)."""
    doc = json.loads(path.read_text("utf-8"))
    if doc.get("format", 1) == 1:
        weights = doc["weights"]
    else:
        model = load_model(json.dumps(doc))
        weights = {f: model._encoded(f) or "" for f in _packed_features(doc["weights"])}
    return document(
        version=doc["version"], classes=doc["classes"], intercept=doc["intercept"],
        temperature=doc["temperature"], weights=weights,
    )


def train(
    examples: list[Example],
    *,
    C: float = 40.0,
    banking_weight: float = 0.25,
    prune: float = 0.15,
    min_df: int = 2,
    calibrate: bool = True,
    version: str | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Fit, calibrate and export a model from `examples`."""
    t0 = time.time()
    y = np.array([CLASSES.index(e.category) for e in examples])
    X, vocab = vectorise(examples)
    df = np.asarray((X > 0).sum(axis=0)).ravel()
    keep = np.nonzero(df >= min_df)[0]
    X = X[:, keep]
    inv = {j: f for f, j in vocab.items()}
    vocab = {inv[j]: n for n, j in enumerate(keep)}
    sw = sample_weights(examples, banking_weight)
    log(f"train: {len(examples)} examples, {len(vocab)} features (df>={min_df})")
    temperature = 1.0
    if calibrate:
        oof = np.zeros((len(y), len(CLASSES)))
        for tr, te in StratifiedKFold(n_splits=4, shuffle=True, random_state=7).split(X, y):
            m = fit(X[tr], y[tr], sw[tr], C)
            full = np.full((len(te), len(CLASSES)), -30.0)
            full[:, m.classes_] = m.decision_function(X[te])
            oof[te] = full
        temperature = fit_temperature(oof, y)
        log(
            f"calibration: temperature {temperature:.2f}, out-of-fold acc {(oof.argmax(1) == y).mean():.3f}"
        )
    clf = fit(X, y, sw, C)
    doc = export(clf, vocab, temperature, prune, version or time.strftime("lr-%Y%m%d-%H%M%S"))
    log(f"export: {doc['n_features']} features kept, {time.time() - t0:.1f}s")
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", type=Path, default=ROOT / "layers/core/python/deskintake/model/classifier.json"
    )
    ap.add_argument("--corrections", type=Path, action="append", default=[])
    ap.add_argument("--C", type=float, default=40.0)
    ap.add_argument("--banking-weight", type=float, default=0.25)
    ap.add_argument("--prune", type=float, default=0.15)
    ap.add_argument(
        "--repack", action="store_true",
        help="rewrite the model at --out in the current format without retraining",
    )
    args = ap.parse_args(argv)
    if args.repack:
        doc = repack(args.out)
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        args.out.write_text(text, "utf-8")
        print(f"repacked {args.out} ({len(text.encode()) / 1e6:.2f} MB, {doc['n_features']} features)")
        return 0
    doc = train(
        load_training_data(args.corrections),
        C=args.C,
        banking_weight=args.banking_weight,
        prune=args.prune,
    )
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text, "utf-8")
    print(f"wrote {args.out} ({len(text.encode()) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
