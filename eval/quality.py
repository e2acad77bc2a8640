"""Retrieval quality: hit@k / MRR / top-passage length on a question set, nDCG@10 / recall@100 on a BEIR set,
swept over retrieval configurations and chunk sizes (metrics from ipchat.evaluation / ipchat.metrics).

    python eval/quality.py --seed eval/questions/seed.jsonl
    python eval/quality.py --beir ../shared/benchmarks/medquad-liveqa --chunk-tokens 96
    python eval/quality.py --seed eval/questions/seed.jsonl --chunk-tokens 48 64 96 128 192

Each configuration (retrieval mode, fusion, dense weight) is run on one index per chunk size; indexes
are built in a temporary directory, never over index/.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ipchat.corpus import load_beir
from ipchat.embedding import load_embedder
from ipchat.errors import IpchatError
from ipchat.evaluation import beir_field_metrics, load_beir_set, load_question_rows, question_qrels
from ipchat.index import build_index, load_index
from ipchat.metrics import ranking_metrics
from ipchat.retrieval import Retriever
from ipchat.settings import load_settings

CONFIGS = [
    ("dense", {"mode": "dense"}),
    ("bm25", {"mode": "keyword"}),
    ("rrf", {"mode": "hybrid", "fusion": "rrf"}),
] + [(f"weighted-{w}", {"mode": "hybrid", "fusion": "weighted", "dense_weight": w}) for w in (0.4, 0.5, 0.6, 0.7, 0.8)] + [
    (f"weighted-{w}-floor{f}", {"mode": "hybrid", "fusion": "weighted", "dense_weight": w, "dense_min_spread": f})
    for w in (0.6, 0.7, 0.8) for f in (0.2, 0.3, 0.4)
]


SEED_PRINTED = ("hit@1", "hit@3", "hit@5", "mrr", "ndcg@10", "top_chars")


def seed_metrics(retriever: Retriever, rows: list[dict]) -> dict:
    """hit@k, MRR@10, nDCG@10 and recall@k (a passage is relevant when it contains a gold span; see
    ipchat.evaluation.question_qrels) and the mean length of the top passage."""
    qrels = question_qrels(retriever.index, rows)
    run, top_chars = {}, []
    for row in rows:
        hits = retriever.search(row["question"], 10)
        run[row["id"]] = [h.chunk.chunk_id for h in hits]
        top_chars.append(len(hits[0].chunk.text) if hits else 0)
    means, per_query = ranking_metrics(qrels, run)
    return {**means, "top_chars": statistics.mean(top_chars),
            "misses": [row["id"] for row in rows if per_query[row["id"]]["hit@1"] < 1]}


def beir_metrics(retriever: Retriever, queries: list[dict], qrels: dict, field: str) -> dict:
    """nDCG@10 and recall@100 over documents (a document scores as its best chunk)."""
    means, _, _ = beir_field_metrics(retriever, queries, qrels, field)
    return {k: means[k] for k in ("ndcg@10", "recall@100")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=Path, help="question set (eval/questions format)")
    parser.add_argument("--beir", type=Path, help="BEIR directory with corpus.jsonl, queries.jsonl, qrels/*.tsv")
    parser.add_argument("--chunk-tokens", type=int, nargs="+", default=[None])
    parser.add_argument("--configs", nargs="+", help="subset of: " + " ".join(n for n, _ in CONFIGS))
    parser.add_argument("--json", type=Path, help="also write results here")
    parser.add_argument("--workdir", type=Path, help="keep built indexes here and reuse them (default: a temporary directory)")
    args = parser.parse_args()
    if not args.seed and not args.beir:
        parser.error("give --seed and/or --beir")
    configs = [c for c in CONFIGS if not args.configs or c[0] in args.configs]
    base = load_settings()
    embedder = load_embedder(base.model_name)
    results = []
    # The questions and judgements are the same for every chunk size: read them once.
    rows = [r for r in load_question_rows(args.seed) if r["scope"] == "in"] if args.seed else []
    queries, qrels = load_beir_set(args.beir) if args.beir else ([], {})
    for tokens in args.chunk_tokens:
        for kind, source in (("seed", args.seed), ("beir", args.beir)):
            if not source:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                corpus = base.corpus if kind == "seed" else source / "corpus.jsonl"
                where = args.workdir or Path(tmp)
                settings = load_settings(chunk_tokens=tokens, corpus=corpus, index=where / f"{kind}-{tokens or 'default'}")
                started = time.perf_counter()
                try:
                    index = load_index(settings)
                    print(f"# {kind}: reusing {settings.index}", file=sys.stderr)
                except IpchatError:
                    documents = load_beir(corpus) if kind == "beir" else None
                    meta = build_index(settings, embedder, documents=documents)
                    print(f"# {kind}: chunk {settings.chunker.max_tokens} tokens, {meta['chunks']} chunks, "
                          f"built in {time.perf_counter() - started:.1f}s", file=sys.stderr)
                    index = load_index(settings, check_corpus=False)
                for name, change in configs:
                    retriever = Retriever(index, embedder, dataclasses.replace(settings, **change))
                    if kind == "seed":
                        metrics = seed_metrics(retriever, rows)
                        print(f"seed  chunk={settings.chunker.max_tokens:<4} {name:<13} " + " ".join(
                            f"{k}={metrics[k]:.3f}" for k in SEED_PRINTED) + f" misses={metrics['misses']}")
                    else:
                        metrics = {}
                        # The consumer's own wording is scored only where the set has it.
                        fields = ["text"] + (["original"] if any((q.get("metadata") or {}).get("original") for q in queries) else [])
                        for field in fields:
                            for k, v in beir_metrics(retriever, queries, qrels, field).items():
                                metrics[f"{field}:{k}"] = float(v)
                        print(f"beir  chunk={settings.chunker.max_tokens:<4} {name:<13} " + " ".join(
                            f"{k}={v:.3f}" for k, v in metrics.items()))
                    results.append({"set": kind, "chunk_tokens": settings.chunker.max_tokens, "config": name, **metrics})
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
