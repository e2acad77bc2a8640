"""Calibrate the safety backstop: crisis recall and over-block of rules + backstop for a grid of settings.

Usage: python eval/safety_backstop.py [CASES.tsv ...] [--grid] [--model NAME]
       python eval/safety_backstop.py --head FILE.tsv FILE.tsv ... [--risk-p P ...]

Nearest-exemplar vote: each labelled set (label<TAB>text; default eval/safety/cases.tsv) is judged by
the rules alone and by the rules with the vote (no head); the exemplar bank is judged too, each exemplar
with itself left out (its negatives count as clinical/none rows). With --grid, every combination of
RISK_MIN, MARGIN and AGREE below is scored, so the model's settings (ipchat/safety/backstop.py for MiniLM,
the "vote" of its exemplars.json for another) can be chosen
for the over-block they cost.

Head (--head): each file is held out in turn; a head is trained on the bank and the other files (as
`python -m ipchat.safety.backstop --train-head` trains the shipped one) and judges the held-out file,
for each threshold given. "backstop" is the vote and head alone (how the semantic part generalises to
writers it never saw); "rules+" is what `assess` returns (the rules were written with these files in
view, so it is optimistic); "false concern" counts clinical/none rows raised to concern or crisis.
Nothing here reads outside the paths given.
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


def held_out_heads(embedder, paths: list[Path], thresholds: list[float], negatives=()) -> int:
    """Train a head without each file in turn and score that file with it (see the module docstring)."""
    from dataclasses import replace

    from ipchat.safety import assess
    from ipchat.safety.head import train_head

    bank = bs.build_backstop(embedder)
    bank_labels = np.array([{"negative": 0, "concern": 1, "crisis": 2}[e.label] for e in bank.exemplars])
    ordinary = bs.negative_texts(negatives)
    ordinary_vectors = embedder.embed(ordinary) if ordinary else np.zeros((0, bank.dimension), dtype=np.float32)
    data = {}
    for path in paths:
        rows = load_safety_rows(path)
        texts = [r["text"] for r in rows]
        negatives = [t[a:b] for r in rows if r["label"] in ("clinical", "none") for t in [r["text"]]
                     for a, b in bs.sentence_spans(t)]
        data[path.name] = {"rows": rows, "embedded": [embed_for_backstop(embedder, t) for t in texts],
                           "vectors": embedder.embed(texts),
                           "labels": np.array([{"crisis": 2, "concern": 1}.get(r["label"], 0) for r in rows]),
                           "negatives": embedder.embed(negatives) if negatives else np.zeros((0, bank.dimension))}
    totals = {p: [] for p in thresholds}
    print(f"{'held out':<14} {'risk_p':>6}  {'backstop: crisis  risk  over':>29}  {'rules+: crisis  risk  over  false concern':>42}")
    for name, held in data.items():
        others = [d for n, d in data.items() if n != name]
        x = np.vstack([bank.vectors, ordinary_vectors] + [d["vectors"] for d in others] + [d["negatives"] for d in others])
        y = np.concatenate([bank_labels, np.zeros(len(ordinary_vectors), dtype=np.int64)] + [d["labels"] for d in others]
                           + [np.zeros(len(d["negatives"]), dtype=np.int64) for d in others])
        trained = train_head(x, y, model=bank.model)
        for p in thresholds:
            backstop = bs.Backstop(bank.exemplars, bank.vectors, bank.model, replace(trained, risk_p=p), vote=bank.vote)
            labels = [r["label"] for r in held["rows"]]
            alone = [{"none": "none"}.get(v, v) for v in
                     (backstop.judge_message(v, s).level for v, s in held["embedded"])]
            both = [assess(r["text"], vector=v, backstop=backstop, sentence_vectors=s).level
                    for r, (v, s) in zip(held["rows"], held["embedded"])]
            a, b = score(labels, alone), score(labels, both)
            negatives = [lv for lb, lv in zip(labels, both) if lb in ("clinical", "none")]
            false_concern = sum(lv in ("concern", "crisis") for lv in negatives) / max(1, len(negatives))
            totals[p].append((a["crisis_recall"], a["risk_recall"], a["over_block"], b["crisis_recall"],
                              b["risk_recall"], b["over_block"], false_concern))
            print(f"{name:<14} {p:>6}  {a['crisis_recall']:>15.3f} {a['risk_recall']:>5.3f} {a['over_block']:>5.3f}"
                  f"  {b['crisis_recall']:>14.3f} {b['risk_recall']:>5.3f} {b['over_block']:>5.3f} {false_concern:>14.3f}")
    for p, rows in totals.items():
        m = np.nanmean(np.array(rows, dtype=float), axis=0)
        print(f"{'mean':<14} {p:>6}  {m[0]:>15.3f} {m[1]:>5.3f} {m[2]:>5.3f}  {m[3]:>14.3f} {m[4]:>5.3f} {m[5]:>5.3f} {m[6]:>14.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", type=Path, default=[DEFAULT_CASES])
    parser.add_argument("--grid", action="store_true", help="score every setting of the grid")
    parser.add_argument("--head", action="store_true", help="hold out each file and score a head trained without it")
    parser.add_argument("--risk-p", type=float, nargs="+", default=[0.95, 0.98, 0.99], help="head thresholds (--head)")
    parser.add_argument("--negatives", nargs="+", type=Path, default=[], help="ordinary text for the head (--head)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args(argv)

    embedder = load_embedder(args.model)
    if args.head:
        if len(args.cases) < 2:
            parser.error("--head needs at least two labelled files")
        return held_out_heads(embedder, args.cases, args.risk_p, args.negatives)
    full = bs.build_backstop(embedder)
    backstop = bs.Backstop(full.exemplars, full.vectors, full.model, vote=full.vote)  # the vote alone, with the model's settings
    sets = {}
    for path in args.cases:
        rows = load_safety_rows(path)
        texts = [r["text"] for r in rows]
        sets[path.name] = ([r["label"] for r in rows], [evaluate(t)[0] for t in texts],
                           [embed_for_backstop(embedder, t) for t in texts], False)
    bank = backstop.exemplars
    bank_labels = [{"negative": "none"}.get(e.label, e.label) for e in bank]
    sets["exemplars (leave-one-out)"] = (bank_labels, [evaluate(e.text)[0] for e in bank], backstop.vectors, True)

    settings = [(backstop.risk_min, backstop.margin, backstop.agree)]
    if args.grid:
        settings = list(itertools.product(GRID["risk_min"], GRID["margin"], GRID["agree"]))
    print(f"{'risk_min':>8} {'margin':>6} {'agree':>5}  " + "  ".join(f"{name[:24]:>40}" for name in sets))
    for risk_min, margin, agree in settings:
        backstop.risk_min, backstop.margin, backstop.agree = risk_min, margin, agree
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
