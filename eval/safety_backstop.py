"""Calibrate the safety backstop: crisis recall and over-block of rules + backstop for a grid of settings.

Usage: python eval/safety_backstop.py [CASES.tsv ...] [--grid] [--model NAME]

Each labelled set (label<TAB>text; default eval/safety/cases.tsv) is judged by the rules alone and by
the rules with the backstop; the exemplar bank is judged too, each exemplar with itself left out (its
negatives count as clinical/none rows). With --grid, every combination of RISK_MIN, MARGIN and AGREE
below is scored, so the constants in ipchat/safety/backstop.py can be chosen for the over-block they
cost. Nothing here reads outside the paths given.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from ipchat.embedding import load_embedder
from ipchat.evaluation import load_safety_rows
from ipchat.metrics import safety_metrics
from ipchat.safety import backstop as bs
from ipchat.safety import embed_for_backstop
from ipchat.safety.rules import RANK, evaluate
from ipchat.settings import DEFAULT_MODEL

DEFAULT_CASES = Path(__file__).resolve().parent / "safety" / "cases.tsv"
GRID = {"risk_min": (0.55, 0.58, 0.6, 0.62, 0.65), "margin": (0.0, 0.05, 0.1, 0.15), "agree": (2, 3, 4, 5)}


def combine(rule_level: str, backstop_level: str) -> str:
    """The backstop only raises: the more severe of the two."""
    return backstop_level if RANK.get(backstop_level, 0) > RANK[rule_level] else rule_level


def score(labels, levels) -> dict[str, float]:
    values, confusion = safety_metrics(labels, levels)
    return {"crisis_recall": values.get("crisis_recall", float("nan")), "risk_recall": values.get("risk_recall", float("nan")),
            "over_block": values.get("over_block", float("nan")), "concern_as_none": confusion.get("concern", {}).get("none", 0)}


def judge_all(backstop: bs.Backstop, vectors, exclude_self: bool) -> list[str]:
    """Each message's verdict: the bank's own rows left out of their own judgement; a labelled
    message read as `ask` reads it, whole and sentence by sentence."""
    if exclude_self:
        return [backstop.judge(v, exclude=i).level for i, v in enumerate(vectors)]
    return [backstop.judge_message(vector, sentences).level for vector, sentences in vectors]


def run(sets: dict[str, tuple[list[str], list[str], np.ndarray, bool]], backstop: bs.Backstop) -> dict:
    out = {}
    for name, (labels, rule_levels, vectors, loo) in sets.items():
        semantic = judge_all(backstop, vectors, loo)
        out[name] = {"rules": score(labels, rule_levels),
                     "rules+backstop": score(labels, [combine(r, s) for r, s in zip(rule_levels, semantic)])}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", type=Path, default=[DEFAULT_CASES])
    parser.add_argument("--grid", action="store_true", help="score every setting of the grid")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args(argv)

    embedder = load_embedder(args.model)
    backstop = bs.build_backstop(embedder)
    sets = {}
    for path in args.cases:
        rows = load_safety_rows(path)
        texts = [r["text"] for r in rows]
        sets[path.name] = ([r["label"] for r in rows], [evaluate(t)[0] for t in texts],
                           [embed_for_backstop(embedder, t) for t in texts], False)
    bank = backstop.exemplars
    bank_labels = [{"negative": "none"}.get(e.label, e.label) for e in bank]
    sets["exemplars (leave-one-out)"] = (bank_labels, [evaluate(e.text)[0] for e in bank], backstop.vectors, True)

    settings = [(bs.RISK_MIN, bs.MARGIN, bs.AGREE)]
    if args.grid:
        settings = list(itertools.product(GRID["risk_min"], GRID["margin"], GRID["agree"]))
    print(f"{'risk_min':>8} {'margin':>6} {'agree':>5}  " + "  ".join(f"{name[:24]:>40}" for name in sets))
    for risk_min, margin, agree in settings:
        bs.RISK_MIN, bs.MARGIN, bs.AGREE = risk_min, margin, agree
        result = run(sets, backstop)
        cells = []
        for name in sets:
            r, b = result[name]["rules"], result[name]["rules+backstop"]
            cells.append(f"crisis {r['crisis_recall']:.3f}->{b['crisis_recall']:.3f} over {b['over_block']:.3f}"
                         f" c>n {b['concern_as_none']:>2}")
        print(f"{risk_min:>8} {margin:>6} {agree:>5}  " + "  ".join(f"{c:>40}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
