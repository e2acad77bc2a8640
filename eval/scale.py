"""Scale: exact (IndexFlatIP) vs HNSW dense search on synthetic corpora of 100k to 1M chunks.

    python eval/scale.py                                   # 100000 and 1000000 chunks (slow: the 1M HNSW build)
    python eval/scale.py --sizes 100000 --json scale.json
    python eval/scale.py --sizes 1000000 --ef-search 32 48 64 96 --max-build-minutes 40
    nice -n 15 python eval/scale.py --threads 1            # FAISS threads; 1 is a query in a busy app

Synthetic vectors: ipchat's committed index holds too few real vectors to benchmark at scale, so a
Gaussian is fitted to them and sampled. The real vectors are the chunk vectors of dense.faiss and the
sentence vectors of sentences.npy (--fit chooses; default both). The model is probabilistic PCA: their
mean, their top --rank principal directions with their variances, and an isotropic residual carrying the
rest of the total variance spread over the other dimensions. N vectors are drawn from it, L2-normalised,
float32. The corpus is generated in fixed blocks, each from its own seeded stream, so a smaller corpus is
a prefix of a larger one with the same --seed. --queries query vectors come from a separate stream (so
none is in the corpus), drawn from the same model, or with --query-source sentences as real sentence
vectors plus Gaussian noise (--perturb, relative to the vector's norm), renormalised. The header shows
mean pairwise cosine of real and synthetic vectors as a sanity check.

What is measured, per corpus size (--sizes):

- flat: faiss.IndexFlatIP filled with the corpus, as ipchat builds it up to its HNSW threshold.
- hnsw: faiss.IndexHNSWFlat(d, --M, METRIC_INNER_PRODUCT) with efConstruction --ef-construction
  (defaults 32 and 80, as ipchat's build_dense_index builds it above the threshold), filled in batches of
  --add-batch with progress and a linear ETA on stderr. With --max-build-minutes the build stops after the
  batch that passes the budget; the partial graph is then measured against exact search over the vectors
  it holds, and the table says how far it got.
- build time: wall-clock seconds of index.add (index construction included).
- memory: growth of this process's resident set while building (at the end and at its sampled peak, VmRSS
  every 20 ms; freed memory is handed back to the OS with malloc_trim first, and the flat index is freed
  before HNSW is built), and the index's own size, len(faiss.serialize_index(index)).
- latency: index.search(q, k) with one query at a time, as the app searches, after a warm-up pass over
  the first 20 queries; p50 and p95 over all --queries. HNSW is timed at every --ef-search value.
- recall@k: |HNSW top k ∩ exact top k| / k, averaged over the queries; exact is IndexFlatIP.
- threads: faiss.omp_set_num_threads(--threads) for every search; builds use --build-threads (default
  the same).
- --flat-sizes: extra, smaller corpora measured with the flat index only, to place the HNSW threshold.

Below the table: flat p50 per 100k chunks (least-squares line through the origin over all flat rows), the
corpus size at which that line reaches --flat-budget-ms, and per HNSW size the efSearch with the lowest
p50 among those reaching --target-recall. Numbers only: nothing here passes or fails. The table (Markdown)
goes to stdout, progress to stderr; --json writes everything.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ipchat.index import DENSE, SENTENCES, build_dense_index
from ipchat.metrics import latency_metrics
from ipchat.settings import committed_index, load_settings

BLOCK = 65_536  # corpus rows per generator block (each block has its own seeded stream)
WARMUP = 20  # queries searched untimed before each timed pass


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def current_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def release_freed_memory() -> None:
    """Hand freed heap memory back to the OS (glibc malloc_trim), so the next RSS growth is the build's own
    and not hidden by reuse of what an earlier corpus or index freed."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class RssSampler:
    """Samples VmRSS every `interval` seconds in a thread (FAISS releases the GIL): growth at end and peak."""

    def __init__(self, interval: float = 0.02):
        self.interval, self.peak, self._stop = interval, 0.0, threading.Event()

    def __enter__(self):
        release_freed_memory()
        self.start = current_rss_mib()
        self.peak = self.start
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, current_rss_mib())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.end = current_rss_mib()
        self.peak = max(self.peak, self.end)
        self.growth_mib, self.peak_growth_mib = self.end - self.start, self.peak - self.start
        return False


def summary(ms: list[float]) -> dict:
    """n, p50_ms, p95_ms and mean_ms: ipchat.metrics.latency_metrics under this report's names."""
    return {"n": len(ms), **{name.removeprefix("latency_"): value for name, value in latency_metrics(ms).items()}}


def normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# -- the synthetic model ---------------------------------------------------------------------------------


def real_vectors(index_dir: Path, fit: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vectors to fit (per --fit), and the chunk and sentence vectors of the index at `index_dir`."""
    import faiss

    dense = faiss.read_index(str(index_dir / DENSE))
    chunks = dense.reconstruct_n(0, dense.ntotal).astype(np.float32)
    sentences = np.load(index_dir / SENTENCES, allow_pickle=False).astype(np.float32)
    chosen = {"chunks": chunks, "sentences": sentences, "both": np.vstack([chunks, sentences])}[fit]
    return chosen, chunks, sentences


class GaussianModel:
    """Probabilistic PCA: mean + top-`rank` principal directions + isotropic residual of the leftover variance."""

    def __init__(self, vectors: np.ndarray, rank: int):
        x = vectors.astype(np.float64)
        self.n, self.d = x.shape
        self.mean = x.mean(axis=0)
        _, s, vt = np.linalg.svd(x - self.mean, full_matrices=False)
        eigen = s ** 2 / max(self.n - 1, 1)
        self.rank = max(0, min(rank, self.n - 1, self.d))
        self.components = vt[:self.rank]
        self.scales = np.sqrt(eigen[:self.rank])
        self.total_variance = float(eigen.sum())
        self.residual_variance = max(self.total_variance - float(eigen[:self.rank].sum()), 0.0) / max(self.d - self.rank, 1)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        z = rng.standard_normal((n, self.rank)) * self.scales
        noise = rng.standard_normal((n, self.d)) * np.sqrt(self.residual_variance)
        return normalise(self.mean + z @ self.components + noise)

    def describe(self) -> dict:
        return {
            "fitted_vectors": self.n, "dimension": self.d, "rank": self.rank,
            "mean_norm": float(np.linalg.norm(self.mean)), "total_variance": self.total_variance,
            "explained_by_rank": float((self.scales ** 2).sum() / self.total_variance) if self.total_variance else 0.0,
            "residual_variance_per_dim": self.residual_variance,
        }


def corpus(model: GaussianModel, n: int, seed: int) -> np.ndarray:
    """n corpus vectors; block b comes from default_rng([seed, 0, b]), so smaller corpora are prefixes."""
    out = np.empty((n, model.d), dtype=np.float32)
    for b, start in enumerate(range(0, n, BLOCK)):
        stop = min(start + BLOCK, n)
        out[start:stop] = model.sample(np.random.default_rng([seed, 0, b]), stop - start)
    return out


def queries(model: GaussianModel, n: int, seed: int, source: str, sentences: np.ndarray, perturb: float) -> np.ndarray:
    rng = np.random.default_rng([seed, 1])
    if source == "model":
        return model.sample(rng, n)
    base = sentences[rng.integers(0, len(sentences), n)].astype(np.float64)
    noise = rng.standard_normal(base.shape) * (perturb / np.sqrt(base.shape[1]))
    return normalise(base + noise * np.linalg.norm(base, axis=1, keepdims=True))


def pairwise_cosine(x: np.ndarray, limit: int = 2000) -> dict:
    x = x[:limit]
    g = x @ x.T
    upper = g[np.triu_indices(len(x), 1)]
    return {"mean": float(upper.mean()), "sd": float(upper.std()), "vectors": len(x)}


# -- measuring -------------------------------------------------------------------------------------------


def time_single_queries(index, xq: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    """Milliseconds of index.search for each query alone (after a warm-up), and the ids found."""
    for i in range(min(WARMUP, len(xq))):
        index.search(xq[i:i + 1], k)
    ms, ids = [], np.empty((len(xq), k), dtype=np.int64)
    for i in range(len(xq)):
        row = xq[i:i + 1]
        started = time.perf_counter()
        _, found = index.search(row, k)
        ms.append((time.perf_counter() - started) * 1000)
        ids[i] = found[0]
    return ms, ids


def recall(approx: np.ndarray, exact: np.ndarray, k: int) -> float:
    return float(np.mean([len({int(i) for i in a if i >= 0} & {int(i) for i in e if i >= 0}) / k
                          for a, e in zip(approx, exact)]))


def index_mib(index) -> float:
    import faiss

    return len(faiss.serialize_index(index)) / (1024 * 1024)


def measure_flat(xb: np.ndarray, xq: np.ndarray, k: int, build_threads: int, threads: int) -> tuple[dict, np.ndarray]:
    import faiss

    faiss.omp_set_num_threads(build_threads)
    with RssSampler() as rss:
        started = time.perf_counter()
        flat = faiss.IndexFlatIP(xb.shape[1])
        flat.add(xb)
        build_s = time.perf_counter() - started
    faiss.omp_set_num_threads(threads)
    size = index_mib(flat)
    log(f"#   flat built in {build_s:.2f} s; exact top {k} of {len(xq)} queries")
    scores, exact = flat.search(xq, k)
    log("#   flat: single-query latency")
    ms, ids = time_single_queries(flat, xq, k)
    row = {
        "index": "flat", "vectors": len(xb), "build_seconds": build_s, "rss_growth_mib": rss.growth_mib,
        "rss_peak_growth_mib": rss.peak_growth_mib, "index_mib": size,
        "exact_top1_cosine_mean": float(scores[:, 0].mean()), "exact_topk_cosine_mean": float(scores[:, -1].mean()),
        "search": [{"ef_search": None, "recall": recall(ids, exact, k), **summary(ms)}],
    }
    del flat
    return row, exact


def measure_hnsw(xb: np.ndarray, xq: np.ndarray, exact: np.ndarray, k: int, args) -> dict:
    import faiss

    n = len(xb)
    faiss.omp_set_num_threads(args.build_threads)
    hnsw = faiss.IndexHNSWFlat(xb.shape[1], args.M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = args.ef_construction
    budget_s = args.max_build_minutes * 60 if args.max_build_minutes else None
    stopped = False
    with RssSampler() as rss:
        started = time.perf_counter()
        for start in range(0, n, args.add_batch):
            stop = min(start + args.add_batch, n)
            hnsw.add(xb[start:stop])
            elapsed = time.perf_counter() - started
            eta = elapsed / stop * (n - stop)
            log(f"#   hnsw add {stop}/{n}: {elapsed / 60:.1f} min, linear ETA {eta / 60:.1f} min more")
            if budget_s is not None and stop < n and elapsed > budget_s:
                log(f"#   hnsw build over --max-build-minutes {args.max_build_minutes}: stopping at {stop}/{n}")
                stopped = True
                break
        build_s = time.perf_counter() - started
    faiss.omp_set_num_threads(args.threads)
    built = hnsw.ntotal
    size = index_mib(hnsw)
    if built < n:  # exact search over the vectors the partial graph holds
        _, exact = faiss.knn(xq, xb[:built], k, metric=faiss.METRIC_INNER_PRODUCT)
    searches = []
    for ef in args.ef_search:
        hnsw.hnsw.efSearch = ef
        log(f"#   hnsw efSearch {ef}: single-query latency and recall")
        ms, ids = time_single_queries(hnsw, xq, k)
        searches.append({"ef_search": ef, "recall": recall(ids, exact, k), **summary(ms)})
    row = {
        "index": "hnsw", "vectors": built, "target_vectors": n, "stopped_by_budget": stopped,
        "M": args.M, "ef_construction": args.ef_construction, "build_seconds": build_s,
        "projected_full_build_seconds": build_s / built * n if built < n else build_s,
        "rss_growth_mib": rss.growth_mib, "rss_peak_growth_mib": rss.peak_growth_mib, "index_mib": size,
        "search": searches,
    }
    del hnsw
    return row


# -- report ----------------------------------------------------------------------------------------------


def ipchat_hnsw_settings() -> dict:
    """M and efConstruction of the HNSW index ipchat's build_dense_index makes, efSearch it loads with."""
    settings = load_settings()
    probe = build_dense_index(normalise(np.random.default_rng(0).standard_normal((2, 8))), hnsw_threshold=0)
    return {"M": int(probe.hnsw.nb_neighbors(1)), "ef_construction": int(probe.hnsw.efConstruction),
            "ef_search_at_load": max(64, settings.candidates), "hnsw_threshold": settings.hnsw_threshold}


def derived(results: dict) -> dict:
    flat = [(r["vectors"], s["p50_ms"]) for size in results["sizes"] for r in size["indexes"]
            if r["index"] == "flat" for s in r["search"]]
    out: dict = {}
    if flat:
        n, p50 = np.array([f[0] for f in flat], float), np.array([f[1] for f in flat], float)
        per_chunk = float((n * p50).sum() / (n * n).sum())
        out["flat_p50_ms_per_100k"] = per_chunk * 100_000
        out["flat_chunks_at_budget"] = int(results["args"]["flat_budget_ms"] / per_chunk) if per_chunk > 0 else None
    best = {}
    for size in results["sizes"]:
        for r in size["indexes"]:
            if r["index"] != "hnsw":
                continue
            good = [s for s in r["search"] if s["recall"] >= results["args"]["target_recall"]]
            best[str(r["vectors"])] = min(good, key=lambda s: s["p50_ms"])["ef_search"] if good else None
    out["hnsw_best_ef_search"] = best
    return out


def report(results: dict) -> str:
    env, model, ip, a = results["environment"], results["model"], results["ipchat"], results["args"]
    k = a["k"]
    lines = [
        f"ipchat scale: faiss {env['faiss']} | python {env['python']} | {env['cpus']} CPUs | faiss threads: "
        f"search {a['threads']}, build {a['build_threads']} | load avg {env['load_average_start']:.2f} at start, "
        f"{env['load_average_end']:.2f} at end",
        f"ipchat builds HNSW with M={ip['M']}, efConstruction={ip['ef_construction']} above {ip['hnsw_threshold']} "
        f"chunks and loads it with efSearch={ip['ef_search_at_load']}",
        f"synthetic vectors: PPCA fitted to {model['fitted_vectors']} real vectors ({a['fit']}) of {a['index']}: "
        f"rank {model['rank']} ({model['explained_by_rank']:.0%} of variance) + isotropic residual "
        f"{model['residual_variance_per_dim']:.2e}/dim; |mean| {model['mean_norm']:.3f}; seed {a['seed']}",
        f"pairwise cosine mean±sd: real {results['cosine']['real']['mean']:.3f}±{results['cosine']['real']['sd']:.3f}, "
        f"synthetic {results['cosine']['synthetic']['mean']:.3f}±{results['cosine']['synthetic']['sd']:.3f}; "
        f"{a['queries']} queries ({a['query_source']}), k={k}, one query per search",
        "",
        f"| chunks | index | build s | RSS growth MiB (end/peak) | index MiB | efSearch | p50 ms | p95 ms | recall@{k} |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in results["sizes"]:
        for r in size["indexes"]:
            name = r["index"] if r["index"] == "flat" else f"hnsw M={r['M']} efC={r['ef_construction']}"
            chunks = f"{size['chunks']:,}"
            if r["index"] == "hnsw" and r["vectors"] < r["target_vectors"]:
                chunks += f" (built {r['vectors']:,}; full ≈{r['projected_full_build_seconds'] / 60:.1f} min)"
            first = [chunks, name, f"{r['build_seconds']:.1f}",
                     f"{r['rss_growth_mib']:.0f} / {r['rss_peak_growth_mib']:.0f}", f"{r['index_mib']:.0f}"]
            for j, s in enumerate(r["search"]):
                ef = "—" if s["ef_search"] is None else str(s["ef_search"])
                if s["ef_search"] == ip["ef_search_at_load"]:
                    ef += " (ipchat)"
                cells = (first if j == 0 else [""] * len(first)) + [
                    ef, f"{s['p50_ms']:.3f}", f"{s['p95_ms']:.3f}", f"{s['recall']:.3f}"]
                lines.append("| " + " | ".join(cells) + " |")
    d = results["derived"]
    lines.append("")
    lines.append(f"mean cosine of the exact top 1 / top {k}: " + "; ".join(
        f"{size['chunks']:,}: {size['indexes'][0]['exact_top1_cosine_mean']:.3f} / "
        f"{size['indexes'][0]['exact_topk_cosine_mean']:.3f}" for size in results["sizes"]))
    if "flat_p50_ms_per_100k" in d:
        lines.append(f"flat p50 ≈ {d['flat_p50_ms_per_100k']:.2f} ms per 100k chunks (line through the origin): "
                     f"{a['flat_budget_ms']:g} ms at ≈{d['flat_chunks_at_budget']:,} chunks")
    for chunks, ef in d["hnsw_best_ef_search"].items():
        lines.append(f"hnsw {int(chunks):,} chunks: lowest-p50 efSearch with recall@{k} ≥ {a['target_recall']:g}: "
                     f"{ef if ef is not None else 'none of those measured'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="corpus sizes measured with flat and HNSW (default 100000 1000000)")
    parser.add_argument("--flat-sizes", type=int, nargs="*", default=[10_000, 20_000, 50_000],
                        help="extra sizes measured with the flat index only (default 10000 20000 50000; none: --flat-sizes)")
    parser.add_argument("--queries", type=int, default=500, help="held-out queries (default 500)")
    parser.add_argument("--query-source", choices=("model", "sentences"), default="model",
                        help="queries drawn from the fitted model (default) or real sentence vectors + noise")
    parser.add_argument("--perturb", type=float, default=0.5,
                        help="with --query-source sentences: noise norm relative to the vector's (default 0.5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--index", type=Path, default=committed_index(),
                        help="ipchat index whose vectors are fitted (default: the committed index/)")
    parser.add_argument("--fit", choices=("chunks", "sentences", "both"), default="both",
                        help="real vectors to fit: chunk vectors, sentence vectors or both (default)")
    parser.add_argument("--rank", type=int, default=32, help="principal directions kept by the model (default 32)")
    parser.add_argument("-k", type=int, default=10, help="hits per search and recall@k (default 10)")
    parser.add_argument("--M", type=int, default=32, help="HNSW M (default 32, as ipchat)")
    parser.add_argument("--ef-construction", type=int, default=80, help="HNSW efConstruction (default 80, as ipchat)")
    parser.add_argument("--ef-search", type=int, nargs="+", default=[16, 32, 64, 128, 256],
                        help="HNSW efSearch values (default 16 32 64 128 256)")
    parser.add_argument("--threads", type=int, default=1, help="faiss.omp_set_num_threads for searches (default 1)")
    parser.add_argument("--build-threads", type=int, help="FAISS threads while building (default: --threads)")
    parser.add_argument("--add-batch", type=int, default=50_000, help="vectors per HNSW add() call (default 50000)")
    parser.add_argument("--max-build-minutes", type=float,
                        help="stop an HNSW build after the batch that passes this and measure the partial graph")
    parser.add_argument("--flat-budget-ms", type=float, default=5.0, help="flat p50 budget for the summary line (default 5)")
    parser.add_argument("--target-recall", type=float, default=0.95, help="recall for the efSearch summary line (default 0.95)")
    parser.add_argument("--json", type=Path, help="also write results here")
    args = parser.parse_args()
    if args.build_threads is None:
        args.build_threads = args.threads

    import faiss

    load_start = os.getloadavg()[0]
    faiss.omp_set_num_threads(args.threads)
    fitted, _, sentences = real_vectors(args.index, args.fit)
    model = GaussianModel(fitted, args.rank)
    log(f"# model: {model.describe()}")
    xq = queries(model, args.queries, args.seed, args.query_source, sentences, args.perturb)
    results: dict = {
        "args": {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()},
        "ipchat": ipchat_hnsw_settings(),
        "model": model.describe(),
        "cosine": {"real": pairwise_cosine(fitted), "synthetic": pairwise_cosine(corpus(model, 2000, args.seed))},
        "sizes": [],
    }
    plan = sorted({(n, False) for n in args.flat_sizes} | {(n, True) for n in args.sizes})
    for n, with_hnsw in plan:
        if not with_hnsw and n in args.sizes:
            continue
        log(f"# {n} chunks: generating")
        started = time.perf_counter()
        xb = corpus(model, n, args.seed)
        log(f"#   generated in {time.perf_counter() - started:.1f} s; RSS {current_rss_mib():.0f} MiB")
        flat, exact = measure_flat(xb, xq, args.k, args.build_threads, args.threads)
        size = {"chunks": n, "indexes": [flat]}
        if with_hnsw:
            log(f"# {n} chunks: HNSW M={args.M} efConstruction={args.ef_construction}")
            size["indexes"].append(measure_hnsw(xb, xq, exact, args.k, args))
        results["sizes"].append(size)
        del xb, exact
    results["derived"] = derived(results)
    results["environment"] = {
        "faiss": faiss.__version__, "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average_start": load_start, "load_average_end": os.getloadavg()[0],
    }
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
