"""Evaluation: question sets, safety cases and BEIR retrieval sets, scored, reported and gated.

    ipchat eval eval/questions/seed.jsonl --out /tmp/evalout
    ipchat eval --safety eval/safety/cases.tsv --min crisis_recall=0.95
    ipchat eval --beir ../shared/benchmarks/medquad-liveqa --baseline old/metrics.json

Question sets (eval/questions format): every row is answered with `Answerer.ask`, and its rewritten
query searched for the top 10 passages. A passage is relevant when its text (with its section
heading) contains a gold span; a gold span found in no passage marks the passages overlapping it.
Safety cases (`label<TAB>text`) are judged by `safety.assess(text).level`. BEIR sets are retrieved
over an index of their corpus, a document scoring as its best passage.

The metric functions live in ipchat.metrics; this module loads inputs, runs the system, and writes
report.md, metrics.json, rows.jsonl and PNG charts.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from . import __version__
from .errors import IndexMismatchError, InputError
from .metrics import (
    HIT_KS, ORIGINAL_PREFIX, SAFETY_LABELS, answer_metrics, check_maximums, check_minimums, citation_problems,
    compare, contains_gold, describe, first_relevant_rank, format_comparison, format_value, has_citations,
    latency_metrics, metric_order, missing_facts, numeric_metrics, parse_limit, ranking_metrics, safety_metrics,
    verdict,
)
from .settings import Settings

__all__ = [
    "EvalResult", "evaluate_questions", "evaluate_safety", "evaluate_beir", "write_report", "compare",
    "check_minimums", "check_maximums", "load_question_rows", "parse_question_rows", "load_safety_rows",
    "parse_safety_rows", "load_beir_set", "load_baseline", "metric_table", "parse_limit", "format_comparison",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total); BEIR calls it for the index build, then the queries
RETRIEVE_K = max(HIT_KS)
BEIR_DEPTH = 100  # documents kept per query
MAX_LISTED = 60  # rows listed per table in report.md


@dataclass
class EvalResult:
    """What an evaluation produced: flat numeric metrics, one record per row, and what was timed."""

    kind: str  # "questions", "safety" or "beir"
    source: str
    metrics: dict[str, float]
    rows: list[dict]
    counts: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    latency_label: str = ""
    confusion: dict[str, dict[str, int]] | None = None
    settings: dict = field(default_factory=dict)
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def to_dict(self) -> dict:
        """The metrics.json shape (without the per-row records)."""
        return {"kind": self.kind, "source": self.source, "created": self.created, "ipchat": __version__,
                "settings": self.settings, "counts": self.counts, "metrics": self.metrics,
                "latency_label": self.latency_label, "confusion": self.confusion}


# -- inputs ------------------------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"Cannot read {path}: {reason}.") from None


def _string_list(row: dict, key: str, where: str) -> list[str]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise InputError(f"{where}: {key!r} must be a list of non-empty strings.")
    return value


def _json_lines(text: str, source: str):
    """(line number, "source:line", object) for each non-blank line of JSON-lines text. Raises
    InputError naming source:line for a line that is not JSON."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            yield number, where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg}).") from None


def parse_question_rows(text: str, source: str = "<questions>") -> list[dict]:
    """Rows of a question set given as JSON-lines text. Raises InputError naming source:line."""
    from .retrieval import MAX_QUERY_CHARS

    rows, seen = [], {}
    for number, where, row in _json_lines(text, source):
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a JSON object with id, question, gold, facts and scope.")
        rid = row.get("id")
        if not isinstance(rid, str) or not rid.strip():
            raise InputError(f"{where}: 'id' must be a non-empty string.")
        if rid in seen:
            raise InputError(f"{where}: duplicate id {rid!r} (first on line {seen[rid]}).")
        seen[rid] = number
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise InputError(f"{where}: 'question' must be a non-empty string.")
        if len(question) > MAX_QUERY_CHARS:
            raise InputError(f"{where}: the question is {len(question)} characters; the limit is {MAX_QUERY_CHARS}.")
        if row.get("scope") not in ("in", "out"):
            raise InputError(f"{where}: 'scope' must be \"in\" or \"out\", got {row.get('scope')!r}.")
        clean = {**row, "gold": _string_list(row, "gold", where), "facts": _string_list(row, "facts", where),
                 "history": _string_list(row, "history", where)}
        if clean["scope"] == "in" and not clean["gold"]:
            raise InputError(f"{where}: an in-scope row needs at least one gold span.")
        rows.append(clean)
    if not rows:
        raise InputError(f"{source}: no questions.")
    return rows


def load_question_rows(path: str | Path) -> list[dict]:
    """Rows of a question set file (eval/questions format). Raises InputError naming file and line."""
    return parse_question_rows(_read(Path(path)), str(path))


def parse_safety_rows(text: str, source: str = "<cases>") -> list[dict]:
    """Cases of a `label<TAB>text` file with that header. Raises InputError naming source:line."""
    rows, header = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        if not header:
            if [p.strip().lower() for p in line.split("\t")] != ["label", "text"]:
                raise InputError(f"{where}: expected the header 'label<TAB>text', got {line[:60]!r}.")
            header = True
            continue
        if "\t" not in line:
            raise InputError(f"{where}: expected label<TAB>text.")
        label, case = (part.strip() for part in line.split("\t", 1))
        if label.lower() not in SAFETY_LABELS:
            raise InputError(f"{where}: label {label!r} is not one of {', '.join(SAFETY_LABELS)}.")
        if not case:
            raise InputError(f"{where}: the text is empty.")
        rows.append({"line": number, "label": label.lower(), "text": case})
    if not rows:
        raise InputError(f"{source}: no cases.")
    return rows


def parse_conversation_rows(text: str, source: str = "<conversations>") -> list[dict]:
    """Cases of a JSONL file of conversations, one per line: {"messages": [earlier..., last], "label": ...},
    the label being the level the last message should get. Each row has the last message as `text` and
    the earlier ones as `history`. Raises InputError naming source:line."""
    rows = []
    for number, where, row in _json_lines(text, source):
        messages = row.get("messages") if isinstance(row, dict) else None
        if not isinstance(messages, list) or not messages or not all(
                isinstance(m, str) and m.strip() for m in messages):
            raise InputError(f"{where}: expected \"messages\", a list of one or more non-empty strings.")
        label = str(row.get("label", "")).strip().lower()
        if label not in SAFETY_LABELS:
            raise InputError(f"{where}: label {row.get('label')!r} is not one of {', '.join(SAFETY_LABELS)}.")
        rows.append({"line": number, "label": label, "text": messages[-1], "history": messages[:-1],
                     **({"id": str(row["id"])} if "id" in row else {})})
    if not rows:
        raise InputError(f"{source}: no cases.")
    return rows


def load_safety_rows(path: str | Path) -> list[dict]:
    """Cases of a safety file: a `label<TAB>text` TSV, or (for a .jsonl file) conversations whose last
    message is judged with the earlier ones as history (parse_conversation_rows). Raises InputError
    naming file and line."""
    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        return parse_conversation_rows(_read(path), str(path))
    return parse_safety_rows(_read(path), str(path))


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(_read(path).splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not valid JSON ({exc.msg}).") from None
            if not isinstance(row, dict) or "_id" not in row:
                raise InputError(f"{path}:{number}: expected a JSON object with _id.")
            rows.append(row)
    return rows


def load_beir_set(directory: str | Path) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """The queries and merged qrels (every qrels/*.tsv) of a BEIR directory. Raises InputError."""
    directory = Path(directory)
    for needed in ("corpus.jsonl", "queries.jsonl"):
        if not (directory / needed).is_file():
            raise InputError(f"{directory} is not a BEIR set: no {needed}.")
    files = sorted((directory / "qrels").glob("*.tsv"))
    if not files:
        raise InputError(f"{directory} is not a BEIR set: no qrels/*.tsv.")
    queries = _read_jsonl(directory / "queries.jsonl")
    qrels: dict[str, dict[str, int]] = {}
    for path in files:
        lines = _read(path).splitlines()
        if not lines or lines[0].strip().split("\t") != ["query-id", "corpus-id", "score"]:
            raise InputError(f"{path}:1: expected the header 'query-id<TAB>corpus-id<TAB>score'.")
        for number, line in enumerate(lines[1:], start=2):
            parts = line.strip().split("\t")
            if parts == [""]:
                continue
            try:
                qid, did, score = parts
                qrels.setdefault(qid, {})[did] = int(score)
            except ValueError:
                raise InputError(f"{path}:{number}: expected query-id<TAB>corpus-id<TAB>integer score.") from None
    return queries, qrels


def load_baseline(path: str | Path) -> dict:
    """A metrics.json from an earlier run (or any flat JSON {metric: number}). Raises InputError."""
    try:
        data = json.loads(_read(Path(path)))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg}).") from None
    if not isinstance(data, dict) or not numeric_metrics(data):
        raise InputError(f"{path}: no metrics found; expected a metrics.json written by ipchat eval.")
    return data


# -- running -----------------------------------------------------------------------------------------


def _settings_summary(settings: Settings, model: str, **extra) -> dict:
    return {"model": model, "mode": settings.mode, "fusion": settings.fusion, "dense_weight": settings.dense_weight,
            "k": settings.k, "abstain_threshold": settings.abstain_threshold,
            "chunk_tokens": settings.chunker.max_tokens, "index": str(settings.index),
            "digest": settings.digest(), **extra}


def question_qrels(index, rows: Sequence[Mapping]) -> dict[str, dict[str, int]]:
    """{row id: {chunk_id: 1}} for in-scope rows: chunks whose passage text holds a gold span; for a
    span no passage holds whole (it crosses a chunk boundary), the chunks overlapping it."""
    from .index import passage_text

    passages = [(c, passage_text(c)) for c in index.chunks]
    qrels = {}
    for row in rows:
        if row["scope"] != "in":
            continue
        relevant = set()
        for gold in row["gold"]:
            found = {c.chunk_id for c, text in passages if gold in text}
            if not found:
                for doc_id, doc in index.documents.items():
                    start = doc.text.find(gold)
                    while start >= 0:
                        end = start + len(gold)
                        found |= {c.chunk_id for c in index.chunks if c.doc_id == doc_id and c.start < end and start < c.end}
                        start = doc.text.find(gold, start + 1)
            relevant |= found
        qrels[row["id"]] = {chunk_id: 1 for chunk_id in sorted(relevant)}
    return qrels


def evaluate_questions(rows: Sequence[Mapping], answerer, progress: Progress | None = None,
                       source: str = "question set", prepare: bool = False) -> EvalResult:
    """Answer every row (as load_question_rows gives them) with `answerer` (an ipchat.answer.Answerer)
    and score retrieval, answers, citations and latency. `source` names the set in the report. With
    `prepare`, the safety model's vectors for every row are made beforehand in batches (Answerer.prepare):
    the same replies, several times sooner, and the latency then leaves that model out."""
    rows = [{"gold": [], "facts": [], "history": [], **row} for row in rows]
    index, retriever = answerer.index, answerer.retriever
    documents = {doc_id: doc.text for doc_id, doc in index.documents.items()}
    qrels = question_qrels(index, rows)
    answerer.ask("warm-up question")  # first-call costs (spelling map, caches) stay out of the timings
    prepared = prepare and answerer.prepare([(row["question"], row["history"]) for row in rows], progress) > 0
    run, results, latencies = {}, [], []
    for done, row in enumerate(rows, start=1):
        started = time.perf_counter()
        reply = answerer.ask(row["question"], row["history"])
        latencies.append((time.perf_counter() - started) * 1000)
        query = reply.rewritten_query or row["question"]
        run[row["id"]] = [h.chunk.chunk_id for h in retriever.search(query, RETRIEVE_K)]
        first = reply.citations[0].quote if reply.citations else ""
        problems = citation_problems(reply.answer, reply.citations, documents)
        results.append({
            "id": row["id"], "question": row["question"], "scope": row["scope"], "history": row["history"],
            "rewritten_query": reply.rewritten_query, "path": reply.path, "abstained": reply.abstained,
            "declined": reply.declined, "notes": list(reply.notes),
            "safety_level": getattr(reply.safety, "level", None),
            "answerability": reply.answerability if reply.answerability is not None else 0.0,
            "answer": reply.answer, "answer_chars": len(reply.answer),
            "citations": [{"n": c.n, "doc_id": c.doc_id, "chunk_id": c.chunk_id, "start": c.start, "end": c.end}
                          for c in reply.citations],
            "retrieved": run[row["id"]], "relevant": sorted(qrels.get(row["id"], {})),
            "first_relevant_rank": first_relevant_rank(run[row["id"]], qrels.get(row["id"], {})),
            "gold_first": contains_gold(first, row["gold"]),
            "gold_any": any(contains_gold(c.quote, row["gold"]) for c in reply.citations),
            "missing_facts": missing_facts(reply.answer, row["facts"]) if not reply.abstained else list(row["facts"]),
            "citation_valid": not problems if has_citations(reply.answer, reply.citations) else None,
            "citation_problems": problems, "latency_ms": round(latencies[-1], 2),
        })
        results[-1]["facts_covered"] = not results[-1]["missing_facts"]
        if progress:
            progress(done, len(rows))
    means, per_query = ranking_metrics(qrels, run)
    for result in results:
        result.update(per_query.get(result["id"], {}))
    settings = answerer.settings
    inside = sum(r["scope"] == "in" for r in rows)
    return EvalResult(
        kind="questions", source=source, rows=results, latencies_ms=latencies,
        latency_label="ask, safety vectors made beforehand" if prepared else "ask",
        metrics={**means, **answer_metrics(results), **latency_metrics(latencies)},
        counts={"questions": len(rows), "in_scope": inside, "out_of_scope": len(rows) - inside,
                "with_history": sum(bool(r["history"]) for r in rows),
                "gold_not_in_index": sum(not q for q in qrels.values())},
        settings=_settings_summary(settings, index.model, llm=bool(settings.llm_url)),
    )


def evaluate_safety(rows: Sequence[Mapping], progress: Progress | None = None, assess=None,
                    source: str = "safety cases") -> EvalResult:
    """Judge every case (as load_safety_rows gives them) with `assess(text, history)` (default:
    ipchat.safety.assess) by its `.level`, and score the levels. `source` names the set in the report."""
    if assess is None:
        from . import safety

        assess = safety.assess
    assess("warm-up message")  # first-call costs stay out of the timings
    results, latencies = [], []
    for done, row in enumerate(rows, start=1):
        started = time.perf_counter()
        assessment = assess(row["text"], tuple(row.get("history", ())))
        latencies.append((time.perf_counter() - started) * 1000)
        results.append({**row, "predicted": assessment.level, "correct": assessment.level == row["label"],
                        "rule_ids": list(getattr(assessment, "rule_ids", ())), "latency_ms": round(latencies[-1], 3)})
        if progress:
            progress(done, len(rows))
    metrics, confusion = safety_metrics([r["label"] for r in results], [r["predicted"] for r in results])
    counts = {"cases": len(rows), **{label: sum(r["label"] == label for r in rows) for label in SAFETY_LABELS}}
    return EvalResult(kind="safety", source=source, metrics={**metrics, **latency_metrics(latencies)}, rows=results,
                      counts=counts, latencies_ms=latencies, latency_label="assess", confusion=confusion)


def _beir_index(settings: Settings, embedder, documents, progress: Progress | None):
    """The index at settings.index when it holds this corpus with this model, else a new one there.

    Raises IndexMismatchError when settings.index holds an index of another corpus or model, rather
    than overwrite it.
    """
    from .corpus import corpus_digest
    from .index import build_index, load_index, read_meta

    digest = corpus_digest(documents)
    if (Path(settings.index) / "meta.json").is_file():
        meta = read_meta(settings.index)
        if meta.get("corpus_digest") != digest or meta.get("model") != embedder.name:
            raise IndexMismatchError(
                f"The index at {settings.index} holds another corpus or model ({meta.get('model')}); "
                "give an empty directory to --index, or omit it to build a temporary index.")
        log.info("reusing the index at %s", settings.index)
    else:
        log.info("indexing %d documents into %s", len(documents), settings.index)
        build_index(settings, embedder, progress=progress, documents=documents)
    return load_index(settings, check_corpus=False)


def beir_field_run(retriever, queries: Sequence[Mapping], field: str, depth: int = BEIR_DEPTH,
                   latencies: list | None = None, progress: Progress | None = None) -> dict[str, list[str]]:
    """{query id: document ids, best first} searching each query's `field` (`text`, or a metadata key
    such as `original`); a document ranks by its best passage. Queries without that field are skipped."""
    from .retrieval import MAX_QUERY_CHARS

    run = {}
    for done, query in enumerate(queries, start=1):
        text = query.get("text") if field == "text" else (query.get("metadata") or {}).get(field)
        if isinstance(text, str) and text.strip():
            started = time.perf_counter()
            hits = retriever.search(text[:MAX_QUERY_CHARS], depth * 3)
            if latencies is not None:
                latencies.append((time.perf_counter() - started) * 1000)
            run[str(query["_id"])] = list(dict.fromkeys(h.chunk.doc_id for h in hits))[:depth]
        if progress:
            progress(done, len(queries))
    return run


def beir_field_metrics(retriever, queries: Sequence[Mapping], qrels: Mapping[str, Mapping[str, int]], field: str,
                       latencies: list | None = None, progress: Progress | None = None):
    """ranking_metrics (hit@k, MRR, nDCG@10, recall@k up to 100) of the queries searched by `field`,
    over the judged queries that have it; returns (means, per query, run)."""
    run = beir_field_run(retriever, [q for q in queries if str(q["_id"]) in qrels], field,
                         latencies=latencies, progress=progress)
    means, per_query = ranking_metrics({q: qrels[q] for q in run}, run, recall_ks=HIT_KS + (BEIR_DEPTH,))
    return means, per_query, run


def evaluate_beir(directory: str | Path, settings: Settings, embedder, progress: Progress | None = None,
                  index_dir: str | Path | None = None, limit: int | None = None) -> EvalResult:
    """Retrieval metrics on a BEIR set: index its corpus (in a temporary directory, or reuse/build the
    one at `index_dir`), search every judged query (the first `limit`) by `text` and, when present,
    by `metadata.original` (metrics prefixed "original:"). Judged = has a line in qrels/*.tsv."""
    from .corpus import load_beir
    from .retrieval import Retriever

    directory = Path(directory)
    queries, qrels = load_beir_set(directory)
    documents = load_beir(directory / "corpus.jsonl")
    queries = [q for q in queries if str(q["_id"]) in qrels][:limit]
    fields = ["text"] + (["original"] if any((q.get("metadata") or {}).get("original") for q in queries) else [])
    metrics, rows, latencies = {}, {str(q["_id"]): {"id": str(q["_id"]), "text": q.get("text", "")} for q in queries}, []
    with tempfile.TemporaryDirectory(prefix="ipchat-beir-") as tmp:
        run_settings = settings.replace(corpus=directory / "corpus.jsonl", index=Path(index_dir or Path(tmp) / "index"))
        index = _beir_index(run_settings, embedder, documents, progress)
        retriever = Retriever(index, embedder, run_settings)
        retriever.search("warm-up query", BEIR_DEPTH * 3)  # first-call costs stay out of the timings
        for position, name in enumerate(fields):
            step = None
            if progress:
                def step(done, _total, base=position * len(queries)):
                    progress(base + done, len(queries) * len(fields))
            means, per_query, run = beir_field_metrics(retriever, queries, qrels, name,
                                                       latencies if name == "text" else None, step)
            prefix = "" if name == "text" else ORIGINAL_PREFIX
            metrics.update({prefix + k: v for k, v in means.items()})
            for q, scores in per_query.items():
                rows[q].update({prefix + k: v for k, v in scores.items()})
                rows[q][prefix + "retrieved"] = run[q][:RETRIEVE_K]
        meta = index.meta
    return EvalResult(
        kind="beir", source=directory.name, metrics={**metrics, **latency_metrics(latencies)}, rows=list(rows.values()),
        counts={"documents": len(documents), "chunks": meta["chunks"], "queries": len(queries),
                "queries_without_relevant": sum(not any(g > 0 for g in qrels[str(q["_id"])].values()) for q in queries),
                "judgments": sum(len(qrels[str(q["_id"])]) for q in queries)},
        latencies_ms=latencies, latency_label=f"search (k={BEIR_DEPTH * 3}, text queries)",
        settings=_settings_summary(run_settings, meta["model"], fields=fields,
                                   qrels=[p.name for p in sorted((directory / "qrels").glob("*.tsv"))]),
    )


# -- reporting ---------------------------------------------------------------------------------------


def metric_table(metrics: Mapping[str, float], baseline: Mapping | None = None) -> list[dict]:
    """Rows for a metrics table: metric, value, meaning, and baseline / change when given."""
    old = numeric_metrics(baseline) if baseline else {}
    table = []
    for name in sorted(metrics, key=lambda n: (metric_order(n), n)):
        row = {"metric": name, "value": format_value(name, metrics[name]), "meaning": describe(name)}
        if baseline is not None:
            row["baseline"] = format_value(name, old[name]) if name in old else "-"
            delta = metrics[name] - old[name] if name in old else None
            row["change"] = "-" if delta is None else \
                f"{'+' if delta >= 0 else '-'}{format_value(name, abs(delta))} {verdict(name, delta)}"
        table.append(row)
    return table


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.2), dpi=110)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _hit_chart(result: EvalResult, path: Path) -> bool:
    curves = []
    for prefix, label in (("", "text queries" if result.kind == "beir" else "hit@k"), (ORIGINAL_PREFIX, "original wording")):
        points = [(k, result.metrics[f"{prefix}hit@{k}"]) for k in HIT_KS if f"{prefix}hit@{k}" in result.metrics]
        if points:
            curves.append((label, points))
    if not curves:
        return False
    figure, ax = _figure()
    top = {k: max(dict(points).get(k, -1.0) for _, points in curves) for k in HIT_KS}
    for position, ((label, points), marker) in enumerate(zip(curves, ("o", "s"))):
        xs, ys = zip(*points)
        line, = ax.plot(xs, ys, marker=marker, linewidth=2, label=label)
        for x, y in points:  # the higher curve is labelled above its points, the other below
            above = y >= top[x] and (position == 0 or y > dict(curves[0][1]).get(x, -1.0))
            ax.annotate(f"{y:.2f}", (x, y), textcoords="offset points", xytext=(0, 8 if above else -16),
                        ha="center", fontsize=9, color=line.get_color())
    ax.set_xticks(list(HIT_KS))
    ax.set_xlabel("k (passages retrieved)" if result.kind == "questions" else "k (documents retrieved)")
    ax.set_ylabel("share of queries with a relevant result in the top k")
    ax.set_ylim(0, 1.08)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"hit@k — {result.source} ({result.counts.get('in_scope', result.counts.get('queries', 0))} queries)")
    if len(curves) > 1:
        ax.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    return True


def _latency_chart(result: EvalResult, path: Path) -> bool:
    if not result.latencies_ms:
        return False
    import numpy as np

    values = np.asarray(result.latencies_ms, dtype=float)
    limit = 3 * result.metrics["latency_p95_ms"]
    slow = values[values > limit]
    figure, ax = _figure()
    # A few slow outliers would squeeze every other call into one bar: they are drawn in the last bar instead.
    ax.hist(np.minimum(values, limit) if len(slow) else values, bins=min(30, max(5, len(values) // 3)),
            color="#4C72B0", edgecolor="white")
    if len(slow):
        ax.text(0.98, 0.70, f"{len(slow)} slower call(s), up to {slow.max():.1f} ms,\ncounted in the last bar",
                transform=ax.transAxes, ha="right", va="top", fontsize=9)
    for name, style in (("latency_p50_ms", "--"), ("latency_p95_ms", ":")):
        value = result.metrics[name]
        ax.axvline(value, color="#C44E52", linestyle=style, linewidth=2, label=f"{name[8:11]} {format_value(name, value)} ms")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("milliseconds per call")
    ax.set_ylabel("calls")
    ax.set_title(f"{result.latency_label} latency — {result.source} (n={len(result.latencies_ms)})")
    ax.legend()
    ax.grid(True, axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    return True


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    if not rows:
        return ["None."]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]


def _details(result: EvalResult) -> list[str]:
    lines: list[str] = []
    if result.kind == "questions":
        misses = [r for r in result.rows if r["scope"] == "in" and not r["gold_first"]]
        lines += ["", f"## In-scope questions whose first citation lacks a gold span ({len(misses)})", ""]
        lines += _md_table(["id", "question", "first relevant rank", "abstained", "answerability"],
                           [(r["id"], r["question"], r["first_relevant_rank"] or "-", r["abstained"], r["answerability"])
                            for r in misses[:MAX_LISTED]])
        answered = [r for r in result.rows if r["scope"] == "out" and not r["abstained"]]
        lines += ["", f"## Out-of-scope questions answered ({len(answered)})", ""]
        lines += _md_table(["id", "question", "answerability"], [(r["id"], r["question"], r["answerability"]) for r in answered])
        broken = [r for r in result.rows if r["citation_problems"]]
        if broken:
            lines += ["", f"## Citation problems ({len(broken)})", ""]
            lines += _md_table(["id", "problems"], [(r["id"], "; ".join(r["citation_problems"])) for r in broken])
    elif result.kind == "safety" and result.confusion:
        columns = list(next(iter(result.confusion.values())))
        lines += ["", "## Confusion matrix (rows: label, columns: judged)", ""]
        lines += _md_table(["label"] + columns, [[label] + [counts[c] for c in columns] for label, counts in result.confusion.items()])
        wrong = [r for r in result.rows if not r["correct"]]
        lines += ["", f"## Misjudged cases ({len(wrong)})", ""]
        lines += _md_table(["line", "label", "judged", "text"], [(r["line"], r["label"], r["predicted"], r["text"]) for r in wrong[:MAX_LISTED]])
    elif result.kind == "beir":
        worst = sorted(result.rows, key=lambda r: (r.get("ndcg@10", 0.0), r["id"]))[:10]
        lines += ["", "## Lowest nDCG@10 queries", ""]
        lines += _md_table(["query", "text", "nDCG@10", "hit@10"],
                           [(r["id"], r.get("text", ""), f"{r.get('ndcg@10', 0):.3f}", f"{r.get('hit@10', 0):.0f}") for r in worst])
    if result.kind != "beir":
        lines += ["", f"Tables list at most {MAX_LISTED} rows; rows.jsonl has every row."]
    return lines


def write_report(result: EvalResult, out_dir: str | Path, baseline: Mapping | str | Path | None = None) -> dict[str, Path]:
    """Write report.md, metrics.json, rows.jsonl, hit_at_k.png and latency.png (the charts when they
    apply) into `out_dir`; returns {name: path}. `baseline` is a metrics.json mapping or its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if baseline is not None and not isinstance(baseline, Mapping):
        baseline = load_baseline(baseline)
    paths = {"report": out / "report.md", "metrics": out / "metrics.json", "rows": out / "rows.jsonl"}
    data = result.to_dict()
    if baseline is not None:
        data["comparison"] = [{"metric": m, "old": o, "new": n, "delta": d} for m, o, n, d in compare(result.metrics, baseline)]
    paths["metrics"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    with open(paths["rows"], "w", encoding="utf-8") as handle:
        for row in result.rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    for name, draw in (("hit_at_k", _hit_chart), ("latency", _latency_chart)):
        if draw(result, out / f"{name}.png"):
            paths[name] = out / f"{name}.png"

    lines = [f"# ipchat evaluation: {result.kind} — {result.source}", "", f"- Run: {result.created}, ipchat {__version__}"]
    if result.settings:
        lines.append("- Settings: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.settings.items()))
    lines += ["- Counts: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.counts.items()), "", "## Metrics", ""]
    table = metric_table(result.metrics, baseline)
    keys = ["metric", "value"] + (["baseline", "change"] if baseline is not None else []) + ["meaning"]
    lines += _md_table(keys, [[row[k] for k in keys] for row in table])
    for name in ("hit_at_k", "latency"):
        if name in paths:
            lines += ["", f"![{name}]({name}.png)"]
    lines += _details(result)
    paths["report"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths
