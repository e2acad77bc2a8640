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

from .errors import InputError, IpchatError
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


def _print_reply(reply, index) -> None:
    level = reply.safety.level if reply.safety is not None else "none"
    if level == "crisis":
        print(reply.answer)
        return
    if level == "concern":
        print(reply.safety.message)
        print()
    if reply.rewritten_query and reply.rewritten_query != reply.question:
        print(f"(searched for: {reply.rewritten_query})")
    print(reply.answer)
    print()
    if reply.abstained:
        print("Closest material (not an answer):")
        for hit in reply.hits[:3]:
            doc = index.documents[hit.chunk.doc_id]
            print(f"  - {doc.title} — {hit.chunk.section}")
            print("    " + hit.chunk.text.replace("\n", "\n    "))
    else:
        print("Sources:")
        for c in reply.citations:
            print(f"  [{c.n}] {c.title} — {c.locator}")
            if c.url:
                print(f"      {c.url}")
            print("      \"" + c.quote.replace("\n", "\n      ") + "\"")
    footer = reply.safety.message if level == "clinical" else reply.safety.session_footer if level == "none" else ""
    if footer:
        print()
        print(footer)


def _parse_ask_line(line: str) -> tuple[str, list[str]]:
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise InputError("The line starts with '{' but is not valid JSON.") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
            raise InputError('Expected {"question": "...", "history": ["...", ...]}.')
        history = obj.get("history") or []
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise InputError('"history" must be a list of earlier user messages (strings).')
        return obj["question"], history
    return line, []


def cmd_ask(args: argparse.Namespace) -> int:
    from .answer import Answerer, reply_to_dict

    answerer = Answerer.from_settings(_settings(args), region=args.region)
    if args.question == "-":
        for line in _stdin_lines():
            try:
                question, history = _parse_ask_line(line)
                _emit(reply_to_dict(answerer.ask(question, history), answerer.index))
            except IpchatError as exc:
                _emit({"question": line, "error": str(exc)})
        return 0
    reply = answerer.ask(args.question, args.history or ())
    if args.json:
        _emit(reply_to_dict(reply, answerer.index))
    else:
        _print_reply(reply, answerer.index)
    return 0


def cmd_safety(args: argparse.Namespace) -> int:
    from . import safety

    if args.message == "-":
        # One message per line; the output never repeats what was typed.
        for line in sys.stdin:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            assessment = safety.assess(line, region=args.region)
            _emit({"level": assessment.level, "rule_ids": list(assessment.rule_ids)})
        return 0
    assessment = safety.assess(args.message, region=args.region)
    if args.json:
        _emit(assessment.to_dict())
    else:
        print(f"level: {assessment.level}")
        print(f"rules: {', '.join(assessment.rule_ids) or '-'}")
        if assessment.message:
            print()
            print(assessment.message)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .retrieval import Retriever
    from .verify import DEFAULT_K, render_text, verify_text

    text = sys.stdin.read() if args.text == "-" else args.text  # '-': the whole of stdin is one text
    retriever = Retriever.from_settings(_settings(args))
    result = verify_text(text, retriever, k=args.k or DEFAULT_K)
    if args.json:
        _emit(result.to_dict())
    else:
        print(render_text(result))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from .fetch import run_fetch

    return run_fetch(args)


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

    p = sub.add_parser("ask", help="answer a question with quotes and citations")
    p.add_argument("question", help="the question; '-' reads stdin lines (text or {\"question\", \"history\"} JSON), JSON lines out")
    p.add_argument("--history", nargs="*", help="earlier user messages, oldest first, for a follow-up question")
    p.add_argument("-k", type=int, help="passages to retrieve (default 5)")
    p.add_argument("--mode", choices=RETRIEVAL_MODES, help="hybrid (default), dense or keyword")
    p.add_argument("--region", help="crisis resources for this region (default: IPCHAT_REGION or US)")
    p.add_argument("--json", action="store_true", help="print JSON")
    index_options(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("verify", help="check the claims of an answer against the sources")
    p.add_argument("text", help="the text to check; '-' reads the whole of stdin as one text")
    p.add_argument("-k", type=int, help="passages retrieved per claim (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    index_options(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("safety", help="assess a message with the safety rules")
    p.add_argument("message", help="the message; '-' reads one per line from stdin (JSON lines out, text not echoed)")
    p.add_argument("--region", help="resources for this region (default: IPCHAT_REGION or US)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_safety)

    from .fetch import add_fetch_arguments

    p = sub.add_parser("fetch", help="download the cited sources into data/fetched/ (needs the internet; never committed)")
    add_fetch_arguments(p)
    p.set_defaults(func=cmd_fetch)

    from .ingest import add_ingest_arguments, run_add, run_remove

    p = sub.add_parser("add", help="add your own PDF, HTML, DOCX, Markdown or text files (copied into data/added/, never committed)")
    add_ingest_arguments(p, "add")
    p.set_defaults(func=run_add)

    p = sub.add_parser("remove", help="remove a document added with ipchat add")
    add_ingest_arguments(p, "remove")
    p.set_defaults(func=run_remove)

    from .evaluation import add_eval_arguments, run_cli as run_eval

    p = sub.add_parser("eval", help="score a question set, safety cases or a BEIR set; report; gate with --min")
    add_eval_arguments(p)
    p.set_defaults(func=run_eval)
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
