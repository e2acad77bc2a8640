"""Answer quality on a question set: gold in the first citation, key-fact coverage, abstention,
answer length, and the follow-up rewrites.

    python eval/answers.py eval/questions/seed.jsonl
    python eval/answers.py eval/questions/seed.jsonl --sweep        # abstention threshold table
    python eval/answers.py eval/questions/followups.jsonl

Runs the library's Answerer on the committed index (or --index), extractive path, through
ipchat.evaluation (`ipchat eval QUESTIONS.jsonl` gives the full report).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ipchat import answer as answer_module
from ipchat.answer import Answerer
from ipchat.errors import IpchatError
from ipchat.evaluation import evaluate_questions, load_question_rows
from ipchat.metrics import answer_metrics
from ipchat.settings import load_settings


def summary_line(results: list[dict], threshold: float | None = None) -> dict:
    """The answer metrics plus counts, as this script has always printed them."""
    inside = [r for r in results if r["scope"] == "in"]
    outside = [r for r in results if r["scope"] == "out"]
    metrics = answer_metrics(results, threshold)
    caught = round(metrics.get("abstention_recall", 0.0) * len(outside))
    return {"in_scope": len(inside), "out_of_scope": len(outside),
            **{k: metrics.get(k, 0.0) for k in ("answered_in_scope", "gold_in_first_citation", "gold_in_any_citation", "facts_covered")},
            "abstained_out_of_scope": f"{caught}/{len(outside)}",
            "abstention_precision": metrics.get("abstention_precision", 1.0),
            "abstention_recall": metrics.get("abstention_recall", 1.0),
            "median_answer_chars": metrics.get("answer_chars_median", 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path)
    parser.add_argument("--sweep", action="store_true", help="print abstention figures for a range of thresholds")
    parser.add_argument("--weights", help="sentence,keyword,passage weights to try, e.g. 0.6,0.25,0.15")
    parser.add_argument("--misses", action="store_true", help="list in-scope rows whose first citation misses the gold")
    args = parser.parse_args()
    if args.weights:
        answer_module.SENTENCE_WEIGHT, answer_module.KEYWORD_WEIGHT, answer_module.PASSAGE_WEIGHT = map(float, args.weights.split(","))
    try:
        settings = load_settings(index=args.index)
        answerer = Answerer.from_settings(settings)
        results = evaluate_questions(load_question_rows(args.questions), answerer).rows
    except IpchatError as exc:
        print(f"answers.py: {exc}", file=sys.stderr)
        return 1
    summary = summary_line(results)
    print(f"threshold={settings.abstain_threshold} " + " ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
    if args.sweep:
        for threshold in np.arange(0.20, 0.60, 0.02):
            s = summary_line(results, float(threshold))
            print(f"  threshold={threshold:.2f} answered_in={s['answered_in_scope']:.3f} "
                  f"abstained_out={s['abstained_out_of_scope']} precision={s['abstention_precision']:.3f} "
                  f"gold_first={s['gold_in_first_citation']:.3f} facts={s['facts_covered']:.3f}")
    if args.misses:
        for r in results:
            if r["scope"] == "in" and not r["gold_first"]:
                print(f"  miss {r['id']}: {r['question']!r} rewritten={r['rewritten_query']!r} "
                      f"abstained={r['abstained']} best={r['answerability']:.3f}")
        for r in results:
            if r["scope"] == "out":
                print(f"  out {r['id']}: best={r['answerability']:.3f} abstained={r['abstained']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
