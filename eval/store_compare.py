"""The Milvus store against the default (FAISS + bm25s) on question sets: same passages, same answers?

    python eval/store_compare.py eval/questions/seed.jsonl eval/questions/heldout.jsonl eval/questions/blind.jsonl
    python eval/store_compare.py QUESTIONS.jsonl --store milvus-lite:///tmp/ipchat.db/ipchat --json compare.json

The FAISS side is the index the settings name (index/ by default, or --index). The Milvus side is
--store when given (built there first when it holds no index), else a Milvus Lite file in a temporary
folder, built from the same corpus; with --reuse-vectors (the default for the temporary file) the
vectors are taken from the FAISS index rather than embedded again, so only the stores differ.

For each set it prints:

- overlap@5: the share of the top five passages (`retriever.search(question, 5)`) the two stores
  have in common, averaged over the questions; how many top-5 lists are identical in order, and
  how many have the same first passage;
- answer agreement: questions whose first citation (chunk and offsets) is the same, whose whole
  answer text is the same, and whose abstention is the same; and every Milvus citation checked
  verbatim against its document at its offsets;
- search latency p50 / p95 of each store (the query vectors embedded beforehand, so only the store's
  work and the fusion are timed; one thread).

Numbers only: nothing here passes or fails. The table goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np

from ipchat.answer import Answerer
from ipchat.embedding import load_embedder
from ipchat.errors import IndexMissingError
from ipchat.evaluation import load_question_rows
from ipchat.index import read_meta
from ipchat.retrieval import Retriever
from ipchat.settings import load_settings
from ipchat.stores import open_store, parse_store

K = 5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def first_citation(reply) -> tuple | None:
    c = reply.citations[0] if reply.citations else None
    return (c.chunk_id, c.start, c.end) if c else None


def compare_set(rows: list[dict], faiss: Answerer, milvus: Answerer, repeat: int) -> dict:
    """The figures above for one question set."""
    overlap, identical, same_top1 = [], 0, 0
    same_first, same_answer, same_abstain, verbatim_failures, citations = 0, 0, 0, 0, 0
    differences = []
    for row in rows:
        question, history = row["question"], row.get("history", [])
        a = [h.chunk.chunk_id for h in faiss.retriever.search(question, K)]
        b = [h.chunk.chunk_id for h in milvus.retriever.search(question, K)]
        overlap.append(len(set(a) & set(b)) / K)
        identical += a == b
        same_top1 += a[:1] == b[:1]
        ra, rb = faiss.ask(question, history), milvus.ask(question, history)
        same_first += first_citation(ra) == first_citation(rb)
        same_answer += ra.answer == rb.answer
        same_abstain += ra.abstained == rb.abstained
        for c in rb.citations:
            citations += 1
            verbatim_failures += milvus.index.documents[c.doc_id].text[c.start:c.end] != c.quote
        if a != b or first_citation(ra) != first_citation(rb):
            differences.append({"id": row["id"], "faiss_top5": a, "milvus_top5": b,
                                "faiss_first": first_citation(ra), "milvus_first": first_citation(rb)})
    latencies = {"faiss": [], "milvus": []}
    for answerer in (faiss, milvus):  # query vectors made once, so both stores time only their own work
        for row in rows:
            answerer.retriever.embed_query(answerer.retriever.expand_query(row["question"].strip()))
    for _ in range(repeat):
        for name, answerer in (("faiss", faiss), ("milvus", milvus)):
            for row in rows:
                started = time.perf_counter()
                answerer.retriever.search(row["question"], K)
                latencies[name].append((time.perf_counter() - started) * 1000)
    n = len(rows)
    return {
        "questions": n,
        "overlap@5": round(statistics.fmean(overlap), 4) if overlap else None,
        "identical_top5": identical, "same_top1": same_top1,
        "same_first_citation": same_first, "same_answer": same_answer, "same_abstention": same_abstain,
        "milvus_citations": citations, "milvus_citations_not_verbatim": verbatim_failures,
        "search_ms": {name: {"p50": round(percentile(v, 50), 2), "p95": round(percentile(v, 95), 2)}
                      for name, v in latencies.items()},
        "differences": differences,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", nargs="+", type=Path, help="question sets (eval/questions format)")
    parser.add_argument("--index", type=Path, help="the FAISS index to compare (default: the settings' index)")
    parser.add_argument("--store", help="the Milvus store to compare (default: a temporary Milvus Lite file)")
    parser.add_argument("--reuse-vectors", action=argparse.BooleanOptionalAction, default=None,
                        help="build the Milvus store from the FAISS index's vectors (default: yes for the "
                             "temporary file; with --store only when it must be built)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over each set (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures, with each difference, here")
    args = parser.parse_args(argv)

    base = load_settings(index=args.index, store="faiss")
    log(f"FAISS: {base.index}")
    embedder = load_embedder(read_meta(base.index)["model"], base.batch_size)
    embedder.embed(["warm-up"])
    faiss = Answerer(Retriever(open_store(base), embedder, base), base)
    with tempfile.TemporaryDirectory(prefix="ipchat-store-compare-") as tmp:
        address = args.store or f"milvus-lite://{tmp}/compare.db/ipchat"
        parse_store(address)
        milvus_settings = base.replace(store=address)
        try:
            store = open_store(milvus_settings)
        except IndexMissingError:
            reuse = args.reuse_vectors if args.reuse_vectors is not None else True
            log(f"building {address} ({'vectors from ' + str(base.index) if reuse else 'embedding'})")
            started = time.perf_counter()
            from ipchat.milvus import build_milvus

            build_milvus(parse_store(address), milvus_settings, embedder,
                         reuse_from=[base.index] if reuse else ())
            log(f"built in {time.perf_counter() - started:.1f} s")
            store = open_store(milvus_settings)
        milvus = Answerer(Retriever(store, embedder, milvus_settings), milvus_settings)
        log(f"Milvus: {store.location} ({store.meta['chunks']} chunks)")
        results = {}
        for path in args.questions:
            rows = load_question_rows(path)
            log(f"{path.name}: {len(rows)} questions")
            results[path.name] = compare_set(rows, faiss, milvus, args.repeat)

    print(f"{'set':<16} {'n':>4} {'overlap@5':>9} {'same top5':>9} {'same top1':>9} {'1st cite':>8} "
          f"{'answer':>7} {'abstain':>7} {'verbatim':>9} {'FAISS p50/p95 ms':>17} {'Milvus p50/p95 ms':>18}")
    for name, r in results.items():
        n = r["questions"]
        f, m = r["search_ms"]["faiss"], r["search_ms"]["milvus"]
        print(f"{name:<16} {n:>4} {r['overlap@5']:>9.3f} {r['identical_top5']:>5}/{n:<3} {r['same_top1']:>5}/{n:<3} "
              f"{r['same_first_citation']:>4}/{n:<3} {r['same_answer']:>3}/{n:<3} {r['same_abstention']:>3}/{n:<3} "
              f"{r['milvus_citations'] - r['milvus_citations_not_verbatim']:>4}/{r['milvus_citations']:<4} "
              f"{f['p50']:>8.2f} / {f['p95']:<6.2f} {m['p50']:>8.2f} / {m['p95']:<7.2f}")
        for d in r["differences"]:
            print(f"  {d['id']}: FAISS {d['faiss_top5']} first {d['faiss_first']}; "
                  f"Milvus {d['milvus_top5']} first {d['milvus_first']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
