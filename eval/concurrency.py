"""Many users at once: ask latency with concurrent sessions, and with an index build running alongside.

    python eval/concurrency.py                               # 10 sessions, the held-out and follow-up questions
    python eval/concurrency.py --sessions 10 --query-threads 1 2
    python eval/concurrency.py --no-build                    # skip the build-alongside part

What is measured (the bundled index, the default model, and the safety model for the safety check):

- serial: every question asked once, one after another (query-vector caches emptied first), p50 / p95.
- concurrent: the same questions asked from --sessions threads through one shared Answerer (as the
  app's sessions share one), p50 / p95 per ask and the wall time; and whether every answer (text,
  citations, notes, safety level) is identical to the serial one.
- with a build: `ipchat build` of a corpus of 20 copies of the article into a temporary folder, run in a
  loop by a separate process, while the questions are asked serially; p50 / p95.

Each part runs once per --query-threads value (torch threads for embedding a query;
IPCHAT_QUERY_THREADS sets it for the app). Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent


def _questions(paths: list[Path]) -> list[tuple[str, list[str]]]:
    rows = [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["question"], row.get("history", [])) for row in rows]


def _shape(reply) -> tuple:
    return (reply.answer, reply.notes, tuple((c.chunk_id, c.start, c.end) for c in reply.citations), reply.safety.level)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", nargs="+", type=Path,
                        default=[ROOT / "eval/questions/heldout.jsonl", ROOT / "eval/questions/followups.jsonl"])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--query-threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args(argv)

    from ipchat.answer import Answerer
    from ipchat.embedding import load_embedder
    from ipchat.retrieval import Retriever
    from ipchat.settings import load_settings

    settings = load_settings()
    embedder = load_embedder(settings.model_name, settings.batch_size)
    retriever = Retriever.from_settings(settings, embedder)
    questions = _questions(args.questions)
    print(f"{len(questions)} questions, {args.sessions} sessions, {os.cpu_count()} CPUs", file=sys.stderr)
    rows = []
    for threads in args.query_threads:
        embedder.query_threads = threads
        answerer = Answerer(retriever, settings)
        if answerer.safety_embedder is not None:  # the safety model's question embedding too
            answerer.safety_embedder.query_threads = threads
        for q, h in questions[:10]:
            answerer.ask(q, h)  # warm-up
        answerer.forget_queries()
        serial, expected = [], []
        for q, h in questions:
            mark = time.perf_counter()
            expected.append(_shape(answerer.ask(q, h)))
            serial.append((time.perf_counter() - mark) * 1000)
        answerer.forget_queries()

        def timed(qh):
            mark = time.perf_counter()
            shape = _shape(answerer.ask(*qh))
            return shape, (time.perf_counter() - mark) * 1000

        mark = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.sessions) as pool:
            results = list(pool.map(timed, questions))
        wall = time.perf_counter() - mark
        concurrent = [ms for _shape_, ms in results]
        identical = sum(shape == want for (shape, _ms), want in zip(results, expected))
        rows.append((threads, "serial", _pct(serial, .5), _pct(serial, .95), sum(serial) / 1000, f"{len(questions)}"))
        rows.append((threads, f"{args.sessions} concurrent", _pct(concurrent, .5), _pct(concurrent, .95), wall,
                     f"{identical}/{len(questions)} identical"))
        if not args.no_build:
            with tempfile.TemporaryDirectory() as tmp:
                corpus = Path(tmp) / "corpus"  # the article 20 times over: a build that keeps embedding
                corpus.mkdir()
                article = next((ROOT / "corpus" / "documents").glob("*.md")).read_text(encoding="utf-8")
                for n in range(20):
                    (corpus / f"copy{n}.md").write_text(article.replace("# ", f"# Copy {n} ", 1), encoding="utf-8")
                script = (f"import sys\nfrom ipchat.cli import main\n"
                          f"while True: main(['build', '--corpus', {str(corpus)!r}, '--index', {str(Path(tmp) / 'index')!r}])")
                build = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, env=dict(os.environ))
                time.sleep(8)  # the build's model is loaded and it is embedding
                answerer.forget_queries()
                loaded = []
                try:
                    for q, h in questions:
                        mark = time.perf_counter()
                        answerer.ask(q, h)
                        loaded.append((time.perf_counter() - mark) * 1000)
                finally:
                    build.kill()
                    build.wait()
            rows.append((threads, "serial, build alongside", _pct(loaded, .5), _pct(loaded, .95), sum(loaded) / 1000, ""))
        print(f"query threads {threads} done", file=sys.stderr)
    print("| query threads | run | ask p50 ms | ask p95 ms | wall s | |")
    print("|---:|---|---:|---:|---:|---|")
    for threads, run, p50, p95, wall, note in rows:
        print(f"| {threads} | {run} | {p50:.1f} | {p95:.1f} | {wall:.1f} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
