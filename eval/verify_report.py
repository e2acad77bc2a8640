"""Claim-checker accuracy on a labelled claim set: overall, per verdict, a confusion matrix and the misses.

    python eval/verify_report.py eval/claims/claims.jsonl
    python eval/verify_report.py eval/claims/claims.jsonl --json /tmp/verify.json
    python eval/verify_report.py eval/claims/claims.jsonl --sweep     # threshold table used for calibration

Each line of the claim file is {"id", "claim", "verdict", "note"}. Runs ipchat.verify on the committed
index (or --index) with the model the index was built with.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
from pathlib import Path

from ipchat.retrieval import Retriever
from ipchat.settings import load_settings
from ipchat.verify import DEFAULT_K, DEFAULT_THRESHOLDS, VERDICTS, Thresholds, judge_claims


def load_claims(path: Path) -> list[dict]:
    """The labelled claims of a JSON-lines file; exits with a message on a malformed row."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not {"id", "claim", "verdict"} <= set(row) or row["verdict"] not in VERDICTS:
            sys.exit(f"{path}:{n}: each row needs id, claim and a verdict in {VERDICTS}")
        rows.append(row)
    return rows


def run(rows: list[dict], retriever: Retriever, k: int = DEFAULT_K, thresholds: Thresholds = DEFAULT_THRESHOLDS,
        vectors=None) -> list[dict]:
    """One result per row: expected and predicted verdict, reason, the evidence quote and the scores.

    `vectors` (one embedding per row) saves embedding the claims again on every setting of a sweep.
    """
    results = []
    judgements = judge_claims([row["claim"] for row in rows], retriever, k, thresholds, vectors)
    for row, j in zip(rows, judgements):
        results.append({
            "id": row["id"], "claim": row["claim"], "expected": row["verdict"], "got": j.verdict, "reason": j.reason,
            "evidence": [e.text for e in j.evidence], "best_score": round(j.best_score, 4),
            "support_score": round(j.support_score, 4), "unknown_share": round(j.unknown, 4),
        })
    return results


def summarise(results: list[dict]) -> dict:
    """Accuracy overall and per expected verdict, and the confusion matrix {expected: {got: count}}."""
    confusion = {e: {g: 0 for g in VERDICTS} for e in VERDICTS}
    for r in results:
        confusion[r["expected"]][r["got"]] += 1
    per_verdict = {}
    for v in VERDICTS:
        total = sum(confusion[v].values())
        predicted = sum(confusion[e][v] for e in VERDICTS)
        per_verdict[v] = {
            "n": total,
            "accuracy": confusion[v][v] / total if total else 0.0,  # recall of this verdict
            "precision": confusion[v][v] / predicted if predicted else 0.0,
        }
    correct = sum(confusion[v][v] for v in VERDICTS)
    return {"n": len(results), "accuracy": correct / len(results) if results else 0.0,
            "per_verdict": per_verdict, "confusion": confusion}


def print_report(summary: dict, results: list[dict]) -> None:
    print(f"claims: {summary['n']}   accuracy: {summary['accuracy']:.3f}")
    print()
    print(f"{'verdict':<14}{'n':>4}{'accuracy':>10}{'precision':>11}")
    for v, s in summary["per_verdict"].items():
        print(f"{v:<14}{s['n']:>4}{s['accuracy']:>10.3f}{s['precision']:>11.3f}")
    print()
    print("confusion (rows: expected, columns: got)")
    print(f"{'':<14}" + "".join(f"{g:>14}" for g in VERDICTS))
    for e in VERDICTS:
        print(f"{e:<14}" + "".join(f"{summary['confusion'][e][g]:>14}" for g in VERDICTS))
    misses = [r for r in results if r["got"] != r["expected"]]
    print()
    print(f"misses: {len(misses)}")
    for r in misses:
        print(f"- [{r['id']}] {r['claim']}")
        print(f"    expected {r['expected']}, got {r['got']}: {r['reason']}")


def sweep(rows: list[dict], retriever: Retriever, k: int) -> None:
    """Accuracy (overall and the worst verdict) over a grid of the main thresholds, best first."""
    grid = {
        "related": (0.40, 0.45, 0.50),
        "support": (0.45, 0.50, 0.55, 0.60, 0.65),
        "unknown_penalty": (0.0, 0.25, 0.5, 0.75),
        "cosine_weight": (0.5, 0.6, 0.7),
    }
    table = []
    vectors = retriever.embedder.embed([row["claim"] for row in rows])
    for values in itertools.product(*grid.values()):
        thresholds = dataclasses.replace(DEFAULT_THRESHOLDS, **dict(zip(grid, values)))
        summary = summarise(run(rows, retriever, k, thresholds, vectors))
        worst = min(s["accuracy"] for s in summary["per_verdict"].values())
        table.append((summary["accuracy"], worst, dict(zip(grid, values)),
                      {v: round(s["accuracy"], 2) for v, s in summary["per_verdict"].items()}))
    table.sort(key=lambda row: (-row[0], -row[1]))
    print(f"{'accuracy':>9}{'worst':>7}  settings / per verdict")
    for accuracy, worst, settings, per in table[:40]:
        print(f"{accuracy:>9.3f}{worst:>7.2f}  {settings}  {per}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("claims", type=Path, help="JSON-lines file of labelled claims")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the summary and every result here")
    parser.add_argument("--index", type=Path, help="index directory (default: the committed index)")
    parser.add_argument("--k", type=int, default=DEFAULT_K, help=f"passages retrieved per claim (default {DEFAULT_K})")
    parser.add_argument("--sweep", action="store_true", help="print accuracy over a grid of thresholds instead")
    args = parser.parse_args()

    rows = load_claims(args.claims)
    retriever = Retriever.from_settings(load_settings(index=args.index))
    if args.sweep:
        sweep(rows, retriever, args.k)
        return 0
    results = run(rows, retriever, args.k)
    summary = summarise(results)
    print_report(summary, results)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "results": results}, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
