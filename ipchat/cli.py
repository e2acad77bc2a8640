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
from .settings import ENCODERS, RETRIEVAL_MODES, Settings, load_settings

log = logging.getLogger("ipchat")


def _quiet_libraries() -> None:
    # Library progress bars and hub lookups are noise on a CLI that runs offline.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


ENCODER_HELP = ("how the model runs: fp32 (torch, the default) or int8 (onnxruntime, int8 weights: faster, "
                "answers close to but not always the same as fp32; needs ipchat[int8]; its index is data/index-int8/); "
                "default IPCHAT_ENCODER")
STORE_HELP = ("where the index lives: faiss (default: the --index folder), milvus://HOST[:PORT]/COLLECTION "
              "(a Milvus server), or milvus-lite:///PATH.db/COLLECTION (a local Milvus Lite file); default IPCHAT_STORE")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        corpus=getattr(args, "corpus", None), index=getattr(args, "index", None), model=getattr(args, "model", None),
        k=getattr(args, "k", None), mode=getattr(args, "mode", None), chunk_tokens=getattr(args, "chunk_tokens", None),
        store=getattr(args, "store", None), encoder=getattr(args, "encoder", None),
    )


def _stdin_lines() -> Iterator[str]:
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield line


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _duration(seconds: float) -> str:
    """'42 s', '3 min 05 s', '1 h 02 min' for a time left."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _progress_bar(label: str, unit: str = "it", *, leave: bool = True,
                  logger: logging.Logger = log) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A tqdm bar on stderr; when stderr is not a terminal, a log line (INFO, to `logger`) every tenth instead.
    A new bar starts when the total changes or the count goes back (BEIR: the index build, then the queries)."""
    from tqdm import tqdm

    state = {"bar": None, "logged": -1, "started": None, "total": None}

    def update(done: int, total: int) -> None:
        now = time.perf_counter()
        if state["started"] is None or state["total"] != total:
            state["started"], state["total"] = now, total
        tenth = done * 10 // max(total, 1)
        if not sys.stderr.isatty() and tenth != state["logged"]:
            state["logged"] = tenth
            elapsed = now - state["started"]
            if done and elapsed > 0:
                rate = done / elapsed
                logger.info("%s: %d/%d (%.1f %s/s, %s left)", label, done, total, rate, unit,
                            _duration((total - done) / rate))
            else:
                logger.info("%s: %d/%d", label, done, total)
        bar = state["bar"]
        if bar is None or bar.total != total or done < bar.n:
            if bar is not None:
                bar.close()
            bar = state["bar"] = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, disable=None, leave=leave)
        bar.update(done - bar.n)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()

    return update, close


def cmd_build(args: argparse.Namespace) -> int:
    from .embedding import load_embedder
    from .stores import build_store, store_location

    settings = _settings(args)
    started = time.perf_counter()
    embedder = load_embedder(settings.model_name, settings.batch_size, settings.encoder, settings.query_runtime)
    update, close = _progress_bar("Embedding", unit="chunk")
    try:
        meta = build_store(settings, embedder, progress=update)
    finally:
        close()
    print(f"Indexed {meta['documents']} document(s), {meta['chunks']} chunks with {meta['model']} ({meta.get('encoder', 'fp32')}) "
          f"({meta['dimension']}-d, {meta['dense_index']}) into {store_location(settings)} in {time.perf_counter() - started:.1f}s.")
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
    level = reply.safety.level
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
    for note in reply.notes:
        print(f"Note: {note}")
    if reply.notes:
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


def _safety_backstop(args: argparse.Namespace):
    """(embedder, backstop, screen) for `ipchat safety` (screen None when there is none), or (None, reason, None)
    when only the rules can run."""
    if args.rules_only:
        return None, "--rules-only", None
    settings = _settings(args)
    if not settings.safety_backstop:
        return None, "IPCHAT_SAFETY_BACKSTOP is off", None
    from .safety import backstop_for, load_safety_embedder, load_screen

    if getattr(args, "model", None):
        settings = settings.replace(safety_model=args.model)
    try:
        embedder = load_safety_embedder(settings)
        return embedder, backstop_for(embedder), load_screen(settings, embedder)
    except IpchatError as exc:
        return None, f"no model could be loaded: {exc}", None


def cmd_safety(args: argparse.Namespace) -> int:
    from . import safety

    embedder, backstop, screen = _safety_backstop(args)
    checks = f"rules and semantic backstop ({embedder.name})" if embedder is not None else f"rules only ({backstop})"

    def assess(message: str):
        if embedder is None:
            return safety.assess(message, history=args.history or (), region=args.region)
        history = args.history or ()
        return safety.assess(message, history=history, region=args.region, backstop=backstop,
                             **safety.read_turn(embedder.embed, message, history, screen))

    if args.message == "-":
        # One message per line; the output never repeats what was typed.
        if embedder is None:
            sys.stderr.write(f"checks: {checks}\n")
        for line in sys.stdin:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            assessment = assess(line)
            _emit({"level": assessment.level, "rule_ids": list(assessment.rule_ids),
                   "semantic": assessment.semantic, "screened": assessment.screened})
        return 0
    assessment = assess(args.message)
    if args.json:
        _emit(assessment.to_dict())
    else:
        print(f"level: {assessment.level}")
        print(f"rules: {', '.join(assessment.rule_ids) or '-'}")
        print(f"checks: {checks}")
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


def add_fetch_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `ipchat fetch` options to `parser`; returns it."""
    from .fetch import EUROPEPMC_BASE, TIMEOUT

    parser.add_argument("--only", nargs="+", action="extend", metavar="ID", help="fetch only these source ids")
    parser.add_argument("--force", action="store_true", help="download again even when the stored copy is current")
    parser.add_argument("--corpus", type=Path, help="corpus directory with sources.toml (default: corpus/, or IPCHAT_CORPUS)")
    parser.add_argument("--fetched-dir", type=Path,
                        help="where fetched text goes (default: data/fetched/, or IPCHAT_FETCHED_DIR; never commit it)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help=f"seconds per connect or read (default {TIMEOUT:g})")
    parser.add_argument("--europepmc-base", default=EUROPEPMC_BASE, help="Europe PMC REST base URL (for a mirror)")
    return parser


def cmd_fetch(args: argparse.Namespace) -> int:
    """Run `ipchat fetch`: one line per source, then a summary; returns the exit status, 1 when
    offline or when every source that needed the network failed.

    Raises IpchatError for a bad manifest or an unknown --only id (the CLI prints it).
    """
    from .corpus import STATUSES, resolve_fetched_dir
    from .fetch import (
        CITATION_ONLY, EUROPEPMC_BASE, NOTHING_TO_FETCH, TIMEOUT,
        FetchResult, OfflineError, fetch_sources,
    )

    corpus = load_settings(corpus=getattr(args, "corpus", None)).corpus
    fetched_dir = getattr(args, "fetched_dir", None)
    def show(result: FetchResult) -> None:
        where = f"  [{result.title}]" if result.title and result.title != result.id else ""
        print(f"{result.status:<13} {result.id}: {result.reason}{where}", flush=True)

    try:
        results = fetch_sources(
            corpus, only=getattr(args, "only", None), fetched_dir=fetched_dir,
            europepmc_base=getattr(args, "europepmc_base", EUROPEPMC_BASE),
            timeout=getattr(args, "timeout", TIMEOUT), force=getattr(args, "force", False), progress=show,
        )
    except OfflineError as exc:
        print(f"ipchat: {exc}", file=sys.stderr)
        return 1
    counts = {status: sum(r.status == status for r in results) for status in STATUSES}
    where = resolve_fetched_dir(corpus, fetched_dir)
    print(f"{len(results)} source(s): " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + f". Text in {where}.")
    needed = [r for r in results if r.status != "bundled" and r.reason not in (CITATION_ONLY, NOTHING_TO_FETCH)]
    if needed and all(r.status == "failed" for r in needed):
        return 1
    if any(r.status == "fetched" and not r.reason.startswith("unchanged") for r in results):
        print("Rebuild the index to search the fetched text: ipchat build")
    return 0


def add_ingest_arguments(parser: argparse.ArgumentParser, command: str = "add") -> argparse.ArgumentParser:
    """Add the options of `ipchat add` (command "add") or `ipchat remove` ("remove") to `parser`; returns it."""
    if command == "add":
        from .ingest import SUPPORTED

        parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help=f"files to add: {SUPPORTED}")
    elif command == "remove":
        parser.add_argument("doc_id", metavar="ID", help="id of a document added with ipchat add (as add printed it)")
    else:
        raise ValueError(f"unknown command {command!r}")
    parser.add_argument("--corpus", type=Path, help="corpus the documents join (default: corpus/, or IPCHAT_CORPUS)")
    parser.add_argument("--index", type=Path,
                        help="index to update (default: data/index/, data/index-int8/ with --encoder int8 — "
                             "the committed index/ never holds added documents)")
    parser.add_argument("--model", help="embedding model (default: the index's, or IPCHAT_MODEL)")
    parser.add_argument("--encoder", choices=ENCODERS, help=ENCODER_HELP)
    parser.add_argument("--store", metavar="URI", help=STORE_HELP)
    parser.add_argument("--added-dir", type=Path,
                        help="where copies of added files are kept (default: data/added/, or IPCHAT_ADDED_DIR; never commit it)")
    return parser


def cmd_add(args: argparse.Namespace) -> int:
    """Run `ipchat add FILE…`: one line per file (added / updated / unchanged / error), then a summary.
    Returns 1 when any file failed (the others are still added), else 0.

    Raises IpchatError for a broken corpus or added folder, or a model that can't be loaded (the CLI prints it).
    """
    from .ingest import add_documents, check_target_encoder, index_embedder, reuse_sources, target_index

    started = time.perf_counter()
    settings = _settings(args)
    target = target_index(settings)
    check_target_encoder(settings, target)  # before loading a model for nothing
    embedder = index_embedder(settings, reuse_sources(settings, target))
    update, close = _progress_bar("Embedding", unit="text")
    try:
        results = add_documents(args.files, settings, embedder, progress=update,
                                added_dir=getattr(args, "added_dir", None))
    finally:
        close()
    for result in results:
        print(result.line())
    counts = {status: sum(r.status == status for r in results) for status in ("added", "updated", "unchanged", "failed")}
    summary = f"{len(results)} file(s): " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if counts["added"] or counts["updated"]:
        summary += f"; index {target} updated in {time.perf_counter() - started:.1f} s"
    print(summary + ".")
    return 1 if counts["failed"] else 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Run `ipchat remove ID`: prints what was removed; returns 0.

    Raises UnknownDocumentError for an id that is not an added document, IpchatError for a broken
    corpus or folder (the CLI prints it and exits 1).
    """
    from .ingest import remove_document

    settings = _settings(args)
    result = remove_document(args.doc_id, settings, added_dir=getattr(args, "added_dir", None))
    print(result.line())
    return 0


def add_eval_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `ipchat eval` options, added to `parser` (a subparser or a standalone parser)."""
    parser.description = parser.description or "Score a question set, safety cases or a BEIR retrieval set."
    parser.epilog = ("Exit status: 0 when every --min/--max holds, 3 when one fails (each named on stderr), "
                     "1 on an input or index error.")
    parser.add_argument("questions", nargs="?", type=Path, help="question set, JSON lines (eval/questions format)")
    parser.add_argument("--safety", type=Path, metavar="CASES",
                        help="score safety cases instead: label<TAB>text (.tsv), or conversations (.jsonl: messages, "
                             "label) whose last message is judged with the earlier ones as history")
    parser.add_argument("--semantic", action="store_true",
                        help="with --safety: the semantic backstop reads each case too (loads the model; timings include embedding)")
    parser.add_argument("--beir", type=Path, metavar="DIR", help="score retrieval on a BEIR set (corpus.jsonl, queries.jsonl, qrels/*.tsv) instead")
    parser.add_argument("--gates", type=Path, metavar="GATES.toml",
                        help="score every set a gates file lists (eval/gates.toml) against its limits, in one process; "
                             "with --out, each set's report goes to OUT/<name>")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write report.md, metrics.json, rows.jsonl and PNG charts here")
    parser.add_argument("--baseline", type=Path, metavar="METRICS.json", help="print what got better or worse since this metrics.json")
    parser.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE", help="fail when METRIC is below VALUE (repeatable), e.g. hit@1=0.9")
    parser.add_argument("--max", action="append", default=[], metavar="METRIC=VALUE", help="fail when METRIC is above VALUE (repeatable), e.g. over_block=0.02")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N rows or cases")
    parser.add_argument("--index", type=Path, help="index to answer from; with --beir, an index of that corpus to reuse (built there when absent)")
    parser.add_argument("--model", help="embedding model (default: the index's; with --beir, all-MiniLM-L6-v2)")
    parser.add_argument("--encoder", choices=ENCODERS, help=ENCODER_HELP)
    parser.add_argument("--mode", choices=RETRIEVAL_MODES, help="retrieval mode (default hybrid)")
    parser.add_argument("--chunk-tokens", type=int, help="with --beir: chunk size of a newly built index")
    parser.add_argument("--store", metavar="URI", help=STORE_HELP + " (question sets only)")
    return parser


def cmd_eval(args: argparse.Namespace) -> int:
    """Run `ipchat eval` from parsed arguments (see add_eval_arguments); returns the exit status.
    Raises IpchatError for bad input, which the caller prints."""
    from .evaluation import (
        check_maximums, check_minimums, compare, evaluate_beir, evaluate_questions, evaluate_safety,
        format_comparison, load_baseline, load_question_rows, load_safety_rows, metric_table, parse_limit, verdict,
        write_report,
    )

    chosen = [name for name in ("questions", "safety", "beir", "gates") if getattr(args, name, None)]
    if len(chosen) != 1:
        raise InputError("Give exactly one of: a question set (QUESTIONS.jsonl), --safety CASES.tsv, --beir DIR "
                         "or --gates GATES.toml.")
    if chosen[0] == "gates":
        return _run_gates(args)
    for spec in list(args.min) + list(args.max):
        parse_limit(spec)  # fail before minutes of work, not after
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be at least 1, got {args.limit}.")
    baseline = load_baseline(args.baseline) if args.baseline else None
    source = getattr(args, chosen[0])
    settings = _settings(args)
    name = Path(source).name
    update, close = _progress_bar(f"eval {name}", leave=False, logger=logging.getLogger("ipchat.evaluation"))
    try:
        if chosen[0] == "safety":
            assess = None
            if getattr(args, "semantic", False):
                from . import safety

                embedder = safety.load_safety_embedder(settings)
                assess = safety.semantic_assessor(embedder, screen=safety.load_screen(settings, embedder))
            result = evaluate_safety(load_safety_rows(source)[:args.limit], update, assess=assess, source=name)
        elif chosen[0] == "beir":
            from .embedding import load_embedder
            from .stores import store_address

            if store_address(settings).is_milvus:
                raise InputError("--beir builds an index of its own corpus in a folder; --store applies to question sets.")

            embedder = load_embedder(settings.model_name, settings.batch_size, settings.encoder, settings.query_runtime)
            result = evaluate_beir(source, settings, embedder, update, index_dir=args.index, limit=args.limit)
        else:
            from .answer import Answerer

            rows = load_question_rows(source)[:args.limit]
            result = evaluate_questions(rows, Answerer.from_settings(settings), update, source=name)
    finally:
        close()
    print(f"{result.kind}: {result.source} — " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.counts.items()))
    for row in metric_table(result.metrics):
        print(f"  {row['metric']:<28} {row['value']:>9}")
    if baseline is not None:
        changes = compare(result.metrics, baseline)
        moved = [c for c in changes if verdict(c[0], c[3]) != "unchanged"]
        print(f"since the baseline {args.baseline}: {len(moved)} changed, {len(changes) - len(moved)} unchanged"
              if changes else f"no metric in common with the baseline {args.baseline}")
        for line in format_comparison(moved):
            print("  " + line)
    if args.out:
        paths = write_report(result, args.out, baseline)
        print(f"wrote {', '.join(p.name for p in paths.values())} to {args.out}")
    failures = check_minimums(result.metrics, args.min) + check_maximums(result.metrics, args.max)
    sys.stdout.flush()
    for failure in failures:
        print(f"ipchat eval: FAIL {failure}", file=sys.stderr)
    return 3 if failures else 0


def _print_gate(number: int, total: int, outcome) -> None:
    """One line per gate: its name, the gated metrics and their values; each failure on stderr."""
    gated = [spec.rpartition("=")[0] for spec in (*outcome.gate.minimums, *outcome.gate.maximums)]
    values = ", ".join(f"{name} {outcome.metrics[name]:.3f}" if isinstance(outcome.metrics.get(name), (int, float))
                       else f"{name} not measured" for name in dict.fromkeys(gated))
    print(f"[{number}/{total}] {outcome.gate.name}: {'FAIL' if outcome.failures else 'ok'} ({values})", flush=True)
    for failure in outcome.failures:
        print(f"ipchat eval: FAIL {outcome.gate.name}: {failure}", file=sys.stderr, flush=True)


def _run_gates(args: argparse.Namespace) -> int:
    """`ipchat eval --gates FILE`: every set of the gates file, scored against its own limits."""
    from .gates import load_gates, run_gates

    given = [flag for flag, value in (("--min", args.min), ("--max", args.max), ("--baseline", args.baseline),
                                      ("--limit", args.limit), ("--semantic", getattr(args, "semantic", False)))
             if value]
    if given:
        raise InputError(f"--gates takes its sets' limits from the file; drop {', '.join(given)}.")
    gates = load_gates(args.gates)
    print(f"gates: {args.gates} — {len(gates)} sets", flush=True)
    update, close = _progress_bar("gates", leave=False, logger=logging.getLogger("ipchat.evaluation"))
    try:
        outcomes = run_gates(gates, _settings(args), args.out, update, report=_print_gate)
    finally:
        close()
    failed = [outcome.gate.name for outcome in outcomes if outcome.failures]
    print(f"gates: {len(outcomes) - len(failed)} of {len(outcomes)} held" +
          (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 3 if failed else 0


def cmd_info(args: argparse.Namespace) -> int:
    """The workspace, the corpus and the index in use: where ipchat reads and writes."""
    from .corpus import read_added_manifest
    from .index import index_digest
    from .settings import committed_index, default_added_dir, default_fetched_dir
    from .stores import read_store_meta, store_address
    from .workspace import workspace

    space = workspace()
    settings = _settings(args)
    address = store_address(settings)
    added = default_added_dir()
    fetched = default_fetched_dir()
    info: dict = {
        "workspace": str(space.home), "workspace_reason": space.reason, "project": space.project,
        "corpus": str(Path(settings.corpus).resolve()),
        "index": str(address) if address.is_milvus else str(Path(settings.index).resolve()),
        "index_kind": address.kind if address.is_milvus else
        "bundled" if Path(settings.index).resolve() == committed_index().resolve() else "local",
        "added_dir": str(added), "added_documents": len(read_added_manifest(added)) if added.is_dir() else 0,
        "fetched_dir": str(fetched),
        "fetched_documents": sum(p.suffix == ".md" for p in fetched.iterdir()) if fetched.is_dir() else 0,
    }
    from .chat import feedback_path

    info["feedback_file"] = str(feedback_path())
    from .chat import index_status

    try:
        meta = read_store_meta(settings)
    except IpchatError as exc:
        info["index_status"] = str(exc)
    else:
        digest = meta.get("generation", "") if address.is_milvus else index_digest(settings.index)
        info.update({"index_status": index_status(settings) or "ready", "index_digest": digest,
                     "documents": meta["documents"], "passages": meta["chunks"], "model": meta["model"],
                     "encoder": meta.get("encoder", "fp32"),
                     "built_at": meta["built_at"], "corpus_digest": meta["corpus_digest"][:12]})
    if args.json:
        _emit(info)
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f"{key.replace('_', ' '):<{width}}  {value}")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Start the Streamlit app (file watching off: nobody edits the app while using it). On POSIX the process
    becomes the server (exec), so a signal that stops `ipchat app` stops the server, with no orphan left."""
    import subprocess

    from .workspace import PACKAGE_DIR

    command = [sys.executable, "-m", "streamlit", "run", str(PACKAGE_DIR / "webapp.py"),
               "--server.fileWatcherType", "none", "--server.runOnSave", "false",
               "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal", "--server.port", str(args.port), "--server.address", args.address]
    if args.headless:
        command += ["--server.headless", "true"]
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, command)
    return subprocess.call(command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipchat", description="Cited answers about interventional psychiatry from a fixed corpus.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("--home", type=Path,
                        help="workspace for everything ipchat writes: added and fetched documents, the local index, "
                             "feedback (default: IPCHAT_HOME; else the current folder when it is an ipchat project; "
                             "else the user data folder)")
    sub = parser.add_subparsers(dest="command", required=True)

    def index_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", type=Path, help="index directory (default: index/, or IPCHAT_INDEX)")
        p.add_argument("--store", metavar="URI", help=STORE_HELP)
        p.add_argument("--model", help="sentence-transformers model name or path (default: the index's, or IPCHAT_MODEL)")
        p.add_argument("--encoder", choices=ENCODERS, help=ENCODER_HELP)

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

    p = sub.add_parser("safety", help="assess a message with the safety rules and the semantic backstop")
    p.add_argument("message", help="the message; '-' reads one per line from stdin (JSON lines out, text not echoed)")
    p.add_argument("--region", help="resources for this region (default: IPCHAT_REGION or US)")
    p.add_argument("--history", action="append", metavar="MESSAGE",
                   help="an earlier user message (repeat, oldest first): the conversation rule reads them")
    p.add_argument("--rules-only", action="store_true", help="skip the semantic backstop (no model is loaded)")
    p.add_argument("--model", help="model for the backstop (default: IPCHAT_SAFETY_MODEL, else all-mpnet-base-v2 "
                                   "when installed, else the answer model)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_safety)

    p = sub.add_parser("fetch", help="download the cited sources into data/fetched/ (needs the internet; never committed)")
    add_fetch_arguments(p)
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("add", help="add your own PDF, HTML, DOCX, Markdown or text files (copied into data/added/, never committed)")
    add_ingest_arguments(p, "add")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="remove a document added with ipchat add")
    add_ingest_arguments(p, "remove")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("eval", help="score a question set, safety cases or a BEIR set; report; gate with --min")
    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("info", help="show the workspace, the corpus and the index in use")
    p.add_argument("--json", action="store_true", help="print JSON")
    index_options(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("app", help="start the chat app in the browser (Streamlit)")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--headless", action="store_true", help="do not open a browser")
    p.set_defaults(func=cmd_app)
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_libraries()
    args = build_parser().parse_args(argv)
    if args.home is not None:
        os.environ["IPCHAT_HOME"] = str(args.home.expanduser().resolve())
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
