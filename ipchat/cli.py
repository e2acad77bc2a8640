"""The `ipchat` command: a thin shell over the library. Expected failures print one line and exit 1."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

from .errors import IpchatError
from .settings import RETRIEVAL_MODES, Settings, load_settings

log = logging.getLogger("ipchat")


def _quiet_libraries() -> None:
    # Library progress bars and hub lookups are noise on a CLI that runs offline.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        corpus=getattr(args, "corpus", None), index=getattr(args, "index", None), model=getattr(args, "model", None),
        k=getattr(args, "k", None), mode=getattr(args, "mode", None), chunk_tokens=getattr(args, "chunk_tokens", None),
    )


def _stdin_lines() -> Iterator[str]:
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield line


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _progress_bar(label: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, unit="chunk", file=sys.stderr, disable=None)
        bar.update(done - bar.n)

    def close() -> None:
        if bar is not None:
            bar.close()

    return update, close


def cmd_build(args: argparse.Namespace) -> int:
    from .embedding import load_embedder
    from .index import build_index

    settings = _settings(args)
    started = time.perf_counter()
    embedder = load_embedder(settings.model_name, settings.batch_size)
    update, close = _progress_bar("Embedding")
    try:
        meta = build_index(settings, embedder, progress=update)
    finally:
        close()
    print(f"Indexed {meta['documents']} document(s), {meta['chunks']} chunks with {meta['model']} "
          f"({meta['dimension']}-d, {meta['dense_index']}) into {settings.index} in {time.perf_counter() - started:.1f}s.")
    return 0


def _print_hits(hits, index) -> None:
    for hit in hits:
        doc = index.documents[hit.chunk.doc_id]
        print(f"[{hit.rank}] {doc.title} — {hit.chunk.section}  (score {hit.score:.3f}; "
              f"dense {hit.dense_score if hit.dense_score is not None else '-'}; bm25 {hit.bm25_score})")
        print("    " + hit.chunk.text.replace("\n", "\n    "))
        print()


def cmd_search(args: argparse.Namespace) -> int:
    from .retrieval import Retriever, hit_to_dict

    retriever = Retriever.from_settings(_settings(args))
    if args.query == "-":
        for query in _stdin_lines():
            try:
                hits = retriever.search(query, args.k)
                _emit({"query": query, "hits": [hit_to_dict(h, retriever.index) for h in hits]})
            except IpchatError as exc:
                _emit({"query": query, "error": str(exc), "hits": []})
        return 0
    if args.query is None:
        return _interactive_search(retriever, args.k)
    hits = retriever.search(args.query, args.k)
    if args.json:
        _emit({"query": args.query, "hits": [hit_to_dict(h, retriever.index) for h in hits]})
    else:
        _print_hits(hits, retriever.index)
    return 0


def _interactive_search(retriever, k: int | None) -> int:
    print(f"ipchat search — {retriever.index.meta['chunks']} passages indexed. Type a question; empty line or Ctrl-D quits.")
    while True:
        try:
            query = input("? ").strip()
        except EOFError:
            print()
            return 0
        if not query:
            return 0
        try:
            _print_hits(retriever.search(query, k), retriever.index)
        except IpchatError as exc:
            print(f"error: {exc}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipchat", description="Cited answers about interventional psychiatry from a fixed corpus.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def index_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", type=Path, help="index directory (default: index/, or IPCHAT_INDEX)")
        p.add_argument("--model", help="sentence-transformers model name or path (default: the index's, or IPCHAT_MODEL)")

    p = sub.add_parser("build", help="build the index of a corpus")
    p.add_argument("--corpus", type=Path, help="corpus directory (sources.toml, or .md/.txt files) or BEIR corpus.jsonl")
    p.add_argument("--chunk-tokens", type=int, help="chunk size in cl100k tokens (default 96, or IPCHAT_CHUNK_TOKENS)")
    index_options(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("search", help="find the passages for a question")
    p.add_argument("query", nargs="?", help="the question; '-' reads one per line from stdin (JSON lines out); none: interactive")
    p.add_argument("-k", type=int, help="number of passages (default 5)")
    p.add_argument("--mode", choices=RETRIEVAL_MODES, help="hybrid (default), dense or keyword")
    p.add_argument("--json", action="store_true", help="print JSON")
    index_options(p)
    p.set_defaults(func=cmd_search)
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_libraries()
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except IpchatError as exc:
        print(f"ipchat: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ipchat: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
