"""Retrieval quality: hit@k / MRR / top-passage length on a question set, nDCG@10 / recall@100 on a BEIR set.

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
from ipchat.index import build_index, load_index
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


def seed_metrics(retriever: Retriever, rows: list[dict]) -> dict:
    """hit@1/3/5 and MRR@10 (a hit = the chunk contains a gold span) and mean length of the top passage."""
    ranks, top_chars = [], []
    for row in rows:
        hits = retriever.search(row["question"], 10)
        rank = next((h.rank for h in hits if any(g in h.chunk.text for g in row["gold"])), None)
        ranks.append(rank)
        top_chars.append(len(hits[0].chunk.text) if hits else 0)
    n = len(rows)
    return {
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@3": sum(r is not None and r <= 3 for r in ranks) / n,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
        "top_chars": statistics.mean(top_chars),
        "misses": [row["id"] for row, r in zip(rows, ranks) if r != 1],
    }


def beir_metrics(retriever: Retriever, queries: list[dict], qrels: dict, field: str) -> dict:
    """nDCG@10 and recall@100 over documents (a document scores as its best chunk)."""
    from ranx import Qrels, Run, evaluate

    run = {}
    for query in queries:
        text = query["text"] if field == "text" else query["metadata"][field]
        docs: dict[str, float] = {}
        for hit in retriever.search(text, 300):
            docs.setdefault(hit.chunk.doc_id, hit.score)
            if len(docs) == 100:
                break
        # ranx wants distinct scores to keep our order; rank-based scores do that
        run[query["_id"]] = {d: 1000.0 - i for i, d in enumerate(docs)}
    judged = {q: rel for q, rel in qrels.items() if q in run}
    run = {q: docs for q, docs in run.items() if q in judged}
    return evaluate(Qrels(judged), Run(run), ["ndcg@10", "recall@100"], make_comparable=True)


def read_qrels(path: Path) -> dict:
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text().splitlines()[1:]:
        qid, did, score = line.split("\t")[:3]
        qrels.setdefault(qid, {})[did] = int(score)
    return qrels


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
                if kind == "seed":
                    rows = [json.loads(l) for l in source.read_text().splitlines() if l.strip()]
                    rows = [r for r in rows if r["scope"] == "in"]
                else:
                    queries = [json.loads(l) for l in (source / "queries.jsonl").read_text().splitlines() if l.strip()]
                    qrels = {}
                    for path in sorted((source / "qrels").glob("*.tsv")):
                        qrels.update(read_qrels(path))
                for name, change in configs:
                    retriever = Retriever(index, embedder, dataclasses.replace(settings, **change))
                    if kind == "seed":
                        metrics = seed_metrics(retriever, rows)
                        print(f"seed  chunk={settings.chunker.max_tokens:<4} {name:<13} " + " ".join(
                            f"{k}={v:.3f}" for k, v in metrics.items() if k != "misses") + f" misses={metrics['misses']}")
                    else:
                        metrics = {}
                        for field in ("text", "original"):
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
