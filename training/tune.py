"""Small hyper-parameter sweep: dev split (full pipeline) and a BANKING77 train hold-out.

Usage: .venv/bin/python -m training.tune  — prints one line per setting; test.csv is never read.
"""

from __future__ import annotations

import json
import random
import sys

from deskintake.commands.eval import evaluate, read_labelled
from deskintake.domain.classify import load_model

from training.train import ROOT, load_training_data, train


def main() -> int:
    examples = load_training_data()
    b77 = [e for e in examples if e.source == "banking77"]
    rest = [e for e in examples if e.source != "banking77"]
    rng = random.Random(11)
    rng.shuffle(b77)
    cut = len(b77) // 5
    hold, b77_train = b77[:cut], b77[cut:]
    dev = read_labelled(sorted((ROOT / "data" / "corpus" / "dev").glob("*.jsonl")))
    hold_rows = [{"text": e.text, "category": e.category, "lang": "en"} for e in hold]
    grid = [tuple(map(float, a.split(","))) for a in sys.argv[1:]] or [
        (C, bw, 0.15) for C in (5.0, 10.0, 20.0, 40.0) for bw in (0.25, 0.5)
    ]
    for C, bw, prune in grid:
        doc = train(
            rest + b77_train,
            C=C,
            banking_weight=bw,
            prune=prune,
            calibrate=False,
            log=lambda *_: None,
        )
        model = load_model(json.dumps(doc))
        d = evaluate(dev, model=model)
        h = evaluate(hold_rows, model=model)
        langs = " ".join(f"{k}={v:.3f}" for k, v in d.per_lang.items())
        print(
            f"C={C:<5g} bw={bw:<4g} prune={prune:<5g} feats={doc['n_features']:6d} "
            f"dev={d.macro_f1:.3f} [{langs}] fraud_R={d.recall('card_fraud'):.2f} sec_R={d.recall('account_security'):.2f} "
            f"spam_P={d.precision('spam'):.2f} b77hold={h.macro_f1:.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
