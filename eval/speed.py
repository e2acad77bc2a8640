"""Speed: index build time, warm query latency, peak memory, embedding throughput and HNSW recall.

    python eval/speed.py
    python eval/speed.py --beir ../shared/benchmarks/medquad-liveqa --passages 1000
    python eval/speed.py --beir ../shared/benchmarks/medquad-liveqa --hnsw-all --json speed.json
    python eval/speed.py --threads 1      # torch intra-op threads; matters on a small, busy machine

What is measured:

- build: the corpus (default corpus/) is built into a temporary directory, never over index/; the
  torch / sentence-transformers imports, the model load and the build are timed separately.
- latency: Retriever.search(q, k) per retrieval mode over the questions of --seed, after one warm-up
  pass, repeated --repeat times. The retriever's query-embedding cache is cleared before every timed
  call, so each one includes the model; embedder.embed([q]) alone is timed too, and so is hybrid search
  with the embedding cached, to show where the time goes.
- memory: peak RSS of this process (ru_maxrss) after the imports, the model, the index and the queries,
  and at the end.
- throughput: chunks/s through ipchat's embedder vs the model's own encode() on the same texts: the
  first --passages chunks of a BEIR corpus (--beir) or, without it, the corpus chunks repeated to 500;
  --rounds runs per side in alternating order, best kept. encode() sorts its input by length before
  batching and ipchat's embedder batches in order, so the padded token counts of both are shown.
- build / encode: the whole build (chunk, embed, FAISS, BM25, write) against the model's own fp32
  encode() of the same passage texts (passage_text of every chunk), --rounds times each in alternating
  order, in one process: the corpus, and with --beir the first BEIR documents that make --passages
  chunks. Each round's ratio is shown, and the ratio of the medians, in wall-clock seconds and in this
  process's CPU seconds (all threads), which other work on a busy machine disturbs less.
- recall (--beir only): recall@10 of the HNSW index ipchat builds above its threshold against exact
  inner-product search, over the BEIR queries (`text` field), with single-query search latencies.

Numbers only: nothing here passes or fails. The table goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np

from ipchat.chunking import Chunker, chunk_documents
from ipchat.corpus import load_beir
from ipchat.embedding import load_embedder
from ipchat.index import build_dense_index, build_index, load_index, passage_text
from ipchat.metrics import latency_metrics
from ipchat.retrieval import Retriever
from ipchat.settings import PROJECT_ROOT, RETRIEVAL_MODES, load_settings

DEFAULT_SEED = PROJECT_ROOT / "eval" / "questions" / "seed.jsonl"
BUNDLED_TEXTS = 500  # throughput texts without --beir: the corpus chunks repeated to this many
RECALL_K = 10


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def progress_printer(label: str, every: int = 10):
    """An embed() progress callback that logs every `every` calls and at the end."""
    calls = 0

    def update(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if done == total or calls % every == 0:
            log(f"#   {label}: {done}/{total}")

    return update


def summary(ms: list[float]) -> dict:
    """n, p50_ms, p95_ms and mean_ms: ipchat.metrics.latency_metrics under this report's names."""
    return {"n": len(ms), **{name.removeprefix("latency_"): value for name, value in latency_metrics(ms).items()}}


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def time_calls(fn, items, repeat: int, before=None) -> list[float]:
    """Milliseconds of fn(item) for every item, `repeat` times over; `before()` runs untimed before each call."""
    out = []
    for _ in range(repeat):
        for item in items:
            if before is not None:
                before()
            started = time.perf_counter()
            fn(item)
            out.append((time.perf_counter() - started) * 1000)
    return out


def measure_latency(index, embedder, settings, questions: list[str], k: int, repeat: int) -> dict:
    results: dict = {}
    for position, mode in enumerate(RETRIEVAL_MODES):
        retriever = Retriever(index, embedder, settings.replace(mode=mode))
        if position == 0:
            # The first query after loading also builds the index's spelling map.
            retriever.forget_queries()
            started = time.perf_counter()
            retriever.search(questions[0], k)
            results["first_query_ms"] = (time.perf_counter() - started) * 1000
        log(f"# latency: {mode}")
        for question in questions:  # warm-up
            retriever.search(question, k)
        results[mode] = summary(time_calls(lambda q: retriever.search(q, k), questions, repeat,
                                           before=retriever.forget_queries))
        if mode == "hybrid":
            # The same searches with every query embedding already cached: the non-model part.
            for question in questions:  # the timed loop above left only the last embedding in the cache
                retriever.search(question, k)
            results["hybrid_cached_embedding"] = summary(time_calls(lambda q: retriever.search(q, k), questions, repeat))
    log("# latency: embedder.embed([q])")
    results["embed_query"] = summary(time_calls(lambda q: embedder.embed([q]), questions, repeat))
    return results


def padded_tokens(lengths: list[int], batch_size: int) -> int:
    """Tokens a model runs over when `lengths` are batched in this order, each batch padded to its longest."""
    return sum(max(lengths[b:b + batch_size]) * len(lengths[b:b + batch_size]) for b in range(0, len(lengths), batch_size))


def measure_throughput(embedder, texts: list[str], rounds: int) -> tuple[dict, np.ndarray]:
    """chunks/s through embedder.embed and through the raw model.encode on the same texts; ipchat's vectors.

    Rounds alternate which goes first (ipchat, raw, raw, ipchat, ...) and each side keeps its best time, so
    a burst of load from other processes doesn't land on one side only.
    """
    ours_times, raw_times, ours = [], [], None
    for round_ in range(rounds):
        for side in (("ipchat", "raw") if round_ % 2 == 0 else ("raw", "ipchat")):
            log(f"# throughput round {round_ + 1}/{rounds}: {side} on {len(texts)} texts")
            started = time.perf_counter()
            if side == "ipchat":
                vectors = embedder.embed(texts, progress=progress_printer("ipchat embed"))
                ours_times.append(time.perf_counter() - started)
                ours = vectors if ours is None else ours
            else:
                raw = embedder.model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                                            show_progress_bar=False)
                raw_times.append(time.perf_counter() - started)
    ours_s, raw_s = min(ours_times), min(raw_times)
    limit = embedder.max_tokens or 10**9
    tokens = [min(embedder.count_tokens(t), limit) for t in texts]
    result = {
        "texts": len(texts),
        "rounds": rounds,
        "mean_model_tokens": float(np.mean(tokens)),
        "max_model_tokens": int(max(tokens)),
        "padded_tokens_in_order": padded_tokens(tokens, getattr(embedder, "batch_size", 32)),
        "padded_tokens_length_sorted": padded_tokens(sorted(tokens, reverse=True), 32),
        "ipchat_seconds": ours_s,
        "ipchat_seconds_all": ours_times,
        "ipchat_per_second": len(texts) / ours_s,
        "raw_seconds": raw_s,
        "raw_seconds_all": raw_times,
        "raw_per_second": len(texts) / raw_s,
        "ratio_ipchat_to_raw": raw_s / ours_s,
        "max_abs_vector_difference": float(np.abs(ours - raw).max()),
    }
    return result, ours


def measure_build_ratio(settings, embedder, documents, rounds: int, label: str) -> dict:
    """Seconds of a whole build_index of `documents` (None: the corpus of `settings`) and of a plain fp32
    model.encode of the passage texts of the chunks it indexes, `rounds` times each, alternating which
    goes first; the builds go to a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="ipchat-ratio-") as tmp:
        settings = settings.replace(index=Path(tmp) / "index")
        meta = build_index(settings, embedder, documents=documents)  # warm-up, and the chunks to encode
        index = load_index(settings, check_corpus=False)
        texts = [passage_text(c) for c in index.chunks]
        seconds: dict[str, list[float]] = {"build": [], "encode": []}
        cpu: dict[str, list[float]] = {"build": [], "encode": []}
        for round_ in range(rounds):
            for side in (("build", "encode") if round_ % 2 == 0 else ("encode", "build")):
                log(f"# build / encode round {round_ + 1}/{rounds}: {side}, {label}")
                started, started_cpu = time.perf_counter(), time.process_time()
                if side == "build":
                    build_index(settings, embedder, documents=documents)
                else:
                    embedder.model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                                          show_progress_bar=False)
                seconds[side].append(time.perf_counter() - started)
                cpu[side].append(time.process_time() - started_cpu)
    return {
        "source": label, "documents": meta["documents"], "chunks": meta["chunks"],
        "sentences": int(len(index.sentence_vectors)), "rounds": rounds,
        "build_seconds_all": seconds["build"], "encode_seconds_all": seconds["encode"],
        "build_cpu_seconds_all": cpu["build"], "encode_cpu_seconds_all": cpu["encode"],
        "ratio_per_round": [b / e for b, e in zip(seconds["build"], seconds["encode"])],
        "ratio_of_medians": float(np.median(seconds["build"]) / np.median(seconds["encode"])),
        "cpu_ratio_per_round": [b / e for b, e in zip(cpu["build"], cpu["encode"])],
        "cpu_ratio_of_medians": float(np.median(cpu["build"]) / np.median(cpu["encode"])),
    }


def beir_documents_for(beir: Path, settings, embedder, passages: int):
    """The first documents of a BEIR corpus whose chunks number at least `passages` (all if fewer)."""
    chunker = Chunker(settings.chunker, embedder.count_tokens, embedder.max_tokens)
    chosen, chunks = [], 0
    for document in load_beir(beir / "corpus.jsonl"):
        if chunks >= passages:
            break
        chosen.append(document)
        chunks += len(chunker.chunk(document))
    return chosen


def measure_recall(vectors: np.ndarray, queries: np.ndarray, ef_search: int, repeat: int) -> dict:
    import faiss

    log(f"# recall: flat and HNSW over {len(vectors)} vectors")
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    flat_build_s = time.perf_counter() - started
    started = time.perf_counter()
    hnsw = build_dense_index(vectors, hnsw_threshold=0)
    hnsw_build_s = time.perf_counter() - started
    graph = getattr(hnsw, "hnsw", None)
    if graph is not None:
        graph.efSearch = ef_search  # build_dense_index leaves the default; load_index sets max(64, candidates)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    k = min(RECALL_K, len(vectors))
    _, exact = flat.search(queries, k)
    _, approx = hnsw.search(queries, k)
    per_query = [len({int(i) for i in e if i >= 0} & {int(i) for i in a if i >= 0}) / k for e, a in zip(exact, approx)]
    rows = [queries[i:i + 1] for i in range(len(queries))]
    for row in rows:  # warm-up
        flat.search(row, k)
        hnsw.search(row, k)
    return {
        "vectors": len(vectors),
        "queries": len(queries),
        "k": k,
        "hnsw_type": type(hnsw).__name__,
        "hnsw_M": int(graph.nb_neighbors(1)) if graph is not None else None,
        "hnsw_efConstruction": int(graph.efConstruction) if graph is not None else None,
        "hnsw_efSearch": int(graph.efSearch) if graph is not None else None,
        "recall_at_k": float(np.mean(per_query)),
        "queries_below_full_recall": int(sum(r < 1 for r in per_query)),
        "flat_build_seconds": flat_build_s,
        "hnsw_build_seconds": hnsw_build_s,
        "flat_search": summary(time_calls(lambda r: flat.search(r, k), rows, repeat)),
        "hnsw_search": summary(time_calls(lambda r: hnsw.search(r, k), rows, repeat)),
    }


def beir_chunk_texts(beir: Path, settings, embedder) -> tuple[list[str], int]:
    """passage_text of every chunk of the BEIR corpus, chunked as ipchat indexes it; and its document count."""
    documents = load_beir(beir / "corpus.jsonl")
    chunker = Chunker(settings.chunker, embedder.count_tokens, embedder.max_tokens)
    return [passage_text(c) for c in chunk_documents(documents, chunker)], len(documents)


def report(results: dict) -> str:
    env, build, lat, mem = results["environment"], results["build"], results["latency"], results["memory"]
    lines = [
        f"ipchat speed: {env['model']} | python {env['python']} | {env['cpus']} CPUs, torch {env['torch_threads']} threads, "
        f"faiss {env['faiss_threads']} threads | load avg {env['load_average_start']:.2f} at start, "
        f"{env['load_average_end']:.2f} at end",
        "",
        f"build: {build['corpus']} ({build['documents']} documents, {build['chunks']} chunks, "
        f"{build['embedded_texts']} texts embedded, {build['dense_index']} index)",
        f"  {'import torch + sentence-transformers':<40}{build['import_seconds']:>9.2f} s",
        f"  {'model load':<40}{build['model_load_seconds']:>9.2f} s",
        f"  {'build index (chunk, embed, FAISS, BM25)':<40}{build['build_seconds']:>9.2f} s",
        f"  {'load index':<40}{build['load_seconds']:>9.2f} s",
        "",
        f"latency: search(q, {lat['k']}), {lat['questions']} questions x {lat['repeat']}, warm, "
        f"query-embedding cache cleared before each call",
        f"  {'ms':<40}{'p50':>9}{'p95':>9}{'mean':>9}",
    ]
    rows = [(mode, lat[mode]) for mode in RETRIEVAL_MODES] + [
        ("hybrid, embedding cached", lat["hybrid_cached_embedding"]),
        ("embedder.embed([q]) alone", lat["embed_query"]),
    ]
    for name, s in rows:
        lines.append(f"  {name:<40}{s['p50_ms']:>9.2f}{s['p95_ms']:>9.2f}{s['mean_ms']:>9.2f}")
    lines.append(f"  {'first query after load (hybrid)':<40}{lat['first_query_ms']:>9.2f}")
    share = lat["embed_query"]["mean_ms"] / lat["hybrid"]["mean_ms"] if lat["hybrid"]["mean_ms"] else float("nan")
    lines.append(f"  {'embedding share of hybrid mean':<40}{share:>9.0%}")
    lines += [
        "",
        "memory: peak RSS (ru_maxrss)",
        f"  {'after imports':<40}{mem['peak_rss_after_imports_mib']:>9.1f} MiB",
        f"  {'after model load':<40}{mem['peak_rss_after_model_mib']:>9.1f} MiB",
        f"  {'after model + index + queries':<40}{mem['peak_rss_after_queries_mib']:>9.1f} MiB",
        f"  {'at end':<40}{mem['peak_rss_end_mib']:>9.1f} MiB",
    ]
    tp = results["throughput"]
    lines += [
        "",
        f"embedding throughput: {tp['texts']} texts from {tp['source']} "
        f"(mean {tp['mean_model_tokens']:.0f}, max {tp['max_model_tokens']} model tokens)",
        f"  {'ipchat embedder.embed':<40}{tp['ipchat_per_second']:>9.1f} chunks/s (best {tp['ipchat_seconds']:.1f} s; "
        f"runs {' '.join(f'{t:.1f}' for t in tp['ipchat_seconds_all'])})",
        f"  {'model.encode(batch_size=32)':<40}{tp['raw_per_second']:>9.1f} chunks/s (best {tp['raw_seconds']:.1f} s; "
        f"runs {' '.join(f'{t:.1f}' for t in tp['raw_seconds_all'])})",
        f"  {'ratio ipchat / raw':<40}{tp['ratio_ipchat_to_raw']:>9.2f}",
        f"  {'padded tokens, batches in order':<40}{tp['padded_tokens_in_order']:>9}",
        f"  {'padded tokens, length-sorted (encode)':<40}{tp['padded_tokens_length_sorted']:>9}",
        f"  {'max |vector difference|':<40}{tp['max_abs_vector_difference']:>9.1e}",
    ]
    for ratio in results.get("build_ratio", []):
        lines += [
            "",
            f"build / plain encode: {ratio['source']} ({ratio['documents']} documents, {ratio['chunks']} chunks, "
            f"{ratio['sentences']} sentences), {ratio['rounds']} rounds alternating",
            f"  {'build_index, whole':<40}{float(np.median(ratio['build_seconds_all'])):>9.2f} s median "
            f"(runs {' '.join(f'{t:.2f}' for t in ratio['build_seconds_all'])})",
            f"  {'model.encode(passage texts), fp32':<40}{float(np.median(ratio['encode_seconds_all'])):>9.2f} s median "
            f"(runs {' '.join(f'{t:.2f}' for t in ratio['encode_seconds_all'])})",
            f"  {'ratio build / encode':<40}{ratio['ratio_of_medians']:>9.2f} "
            f"(per round {' '.join(f'{r:.2f}' for r in ratio['ratio_per_round'])})",
            f"  {'ratio build / encode, CPU seconds':<40}{ratio['cpu_ratio_of_medians']:>9.2f} "
            f"(per round {' '.join(f'{r:.2f}' for r in ratio['cpu_ratio_per_round'])})",
        ]
    rec = results.get("recall")
    if rec:
        lines += [
            "",
            f"index recall: {rec['hnsw_type']} (M={rec['hnsw_M']}, efConstruction={rec['hnsw_efConstruction']}, "
            f"efSearch={rec['hnsw_efSearch']}) vs IndexFlatIP, {rec['vectors']} vectors, {rec['queries']} queries",
            f"  {'recall@' + str(rec['k']):<40}{rec['recall_at_k']:>9.3f} ({rec['queries_below_full_recall']} queries below 1.0)",
            f"  {'build seconds (flat / hnsw)':<40}{rec['flat_build_seconds']:>9.3f} / {rec['hnsw_build_seconds']:.3f}",
            f"  {'ms per single query':<40}{'p50':>9}{'p95':>9}{'mean':>9}",
        ]
        for name in ("flat", "hnsw"):
            s = rec[f"{name}_search"]
            lines.append(f"  {name:<40}{s['p50_ms']:>9.3f}{s['p95_ms']:>9.3f}{s['mean_ms']:>9.3f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="corpus to build (default: the configured corpus, corpus/)")
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="question set for latency (field `question`)")
    parser.add_argument("--beir", type=Path, help="BEIR directory with corpus.jsonl and queries.jsonl")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the questions (default 5)")
    parser.add_argument("-k", type=int, default=5, help="hits per search (default 5)")
    parser.add_argument("--passages", type=int, default=1000, help="BEIR chunks for throughput, build / encode and recall (default 1000)")
    parser.add_argument("--hnsw-all", action="store_true", help="recall over all BEIR chunks, not just --passages")
    parser.add_argument("--ef-search", type=int, default=64, help="HNSW efSearch for the recall test (default 64)")
    parser.add_argument("--rounds", type=int, default=2, help="throughput and build / encode runs per side, alternating order (default 2)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's own choice)")
    parser.add_argument("--json", type=Path, help="also write results here")
    args = parser.parse_args()

    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    base = load_settings(corpus=args.corpus)
    questions = [row["question"] for row in read_jsonl(args.seed)]

    log("# importing torch and sentence-transformers")
    started = time.perf_counter()
    import faiss
    import sentence_transformers  # noqa: F401  (timed here so model load is the load alone)
    import torch
    import_s = time.perf_counter() - started
    rss_after_imports = peak_rss_mib()
    if args.threads:
        torch.set_num_threads(args.threads)

    log(f"# loading {base.model_name}")
    started = time.perf_counter()
    embedder = load_embedder(base.model_name, base.batch_size)
    model_load_s = time.perf_counter() - started
    rss_after_model = peak_rss_mib()

    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="ipchat-speed-") as tmp:
        settings = base.replace(index=Path(tmp) / "index")
        log(f"# building {settings.corpus} into {settings.index}")
        started = time.perf_counter()
        meta = build_index(settings, embedder, progress=progress_printer("build embed"))
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        index = load_index(settings)
        load_s = time.perf_counter() - started
        sentences = getattr(index, "sentence_vectors", None)  # per-sentence vectors, when the index keeps them
        results["build"] = {
            "corpus": str(settings.corpus), "documents": meta["documents"], "chunks": meta["chunks"],
            "embedded_texts": meta["chunks"] + (len(sentences) if sentences is not None else 0),
            "dense_index": meta["dense_index"], "import_seconds": import_s, "model_load_seconds": model_load_s,
            "build_seconds": build_s, "load_seconds": load_s,
        }

        latency = measure_latency(index, embedder, settings, questions, args.k, args.repeat)
        results["latency"] = {"k": args.k, "questions": len(questions), "repeat": args.repeat, **latency}
        results["memory"] = {
            "peak_rss_after_imports_mib": rss_after_imports, "peak_rss_after_model_mib": rss_after_model,
            "peak_rss_after_queries_mib": peak_rss_mib(), "rss_after_queries_mib": current_rss_mib(),
        }

        all_texts: list[str] = []
        if args.beir:
            all_texts, n_docs = beir_chunk_texts(args.beir, settings, embedder)
            texts = all_texts[:args.passages]
            source = f"{args.beir} ({n_docs} documents, {len(all_texts)} chunks)"
        else:
            bundled = [passage_text(c) for c in index.chunks]
            texts = (bundled * math.ceil(BUNDLED_TEXTS / len(bundled)))[:BUNDLED_TEXTS]
            source = f"{settings.corpus} ({len(bundled)} chunks repeated)"
        throughput, vectors = measure_throughput(embedder, texts, args.rounds)
        results["throughput"] = {"source": source, **throughput}

    results["build_ratio"] = [measure_build_ratio(base, embedder, None, args.rounds, str(base.corpus))]
    if args.beir:
        documents = beir_documents_for(args.beir, base, embedder, args.passages)
        results["build_ratio"].append(measure_build_ratio(base.replace(corpus=args.beir / "corpus.jsonl"), embedder,
                                                          documents, args.rounds, f"{args.beir} (first {args.passages} chunks)"))
        if args.hnsw_all and len(all_texts) > len(texts):
            log(f"# recall: embedding the remaining {len(all_texts) - len(texts)} chunks")
            rest = embedder.embed(all_texts[len(texts):], progress=progress_printer("embed rest"))
            vectors = np.vstack([vectors, rest])
        queries = [row["text"] for row in read_jsonl(args.beir / "queries.jsonl")]
        query_vectors = embedder.embed(queries)
        results["recall"] = measure_recall(vectors, query_vectors, args.ef_search, args.repeat)

    results["memory"]["peak_rss_end_mib"] = peak_rss_mib()
    results["environment"] = {
        "model": embedder.name, "python": platform.python_version(), "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(), "faiss_threads": faiss.omp_get_max_threads(),
        "load_average_start": load_start,
        "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
    }
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
