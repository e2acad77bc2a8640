"""Pure metric functions: ranking (through ranx), answers, safety, latency, and the comparisons and
quality gates built on a flat ``{metric: value}`` mapping. No model, no index, no I/O.
"""

from __future__ import annotations

import math
import re
import statistics
import warnings
from typing import Iterable, Mapping, Sequence

from .errors import InputError

HIT_KS = (1, 3, 5, 10)
SAFETY_LABELS = ("crisis", "concern", "clinical", "none")  # most severe first
RISK_LABELS = frozenset({"crisis", "concern"})
#: Prefix of BEIR metrics measured with the queries' `metadata.original` text.
ORIGINAL_PREFIX = "original:"

# name -> (meaning, direction): +1 higher is better, -1 lower is better, 0 neither.
METRICS: dict[str, tuple[str, int]] = {
    **{f"hit@{k}": (f"share of queries with a relevant result in the top {k}", 1) for k in HIT_KS},
    "mrr": ("mean reciprocal rank of the first relevant result (top 10)", 1),
    "ndcg@10": ("normalised discounted cumulative gain over the top 10", 1),
    **{f"recall@{k}": (f"share of the relevant results found in the top {k}", 1) for k in HIT_KS + (100,)},
    "gold_in_first_citation": ("in-scope questions whose first citation contains a gold span", 1),
    "gold_in_any_citation": ("in-scope questions with a gold span in any citation", 1),
    "facts_covered": ("in-scope questions whose answer contains every key fact", 1),
    "answered_in_scope": ("in-scope questions answered rather than abstained", 1),
    "abstention_precision": ("abstentions that were on out-of-scope questions", 1),
    "abstention_recall": ("out-of-scope questions abstained on", 1),
    "citation_validity": ("cited answers whose markers all resolve and quotes are verbatim at their offsets", 1),
    "answer_chars_median": ("median length of an in-scope answer, characters", 0),
    "crisis_recall": ("crisis cases judged crisis", 1),
    "risk_recall": ("crisis and concern cases judged crisis or concern", 1),
    "over_block": ("clinical and none cases judged crisis (answer withheld)", -1),
    "accuracy": ("cases given exactly their label", 1),
    "latency_p50_ms": ("median time per call, ms", -1),
    "latency_p95_ms": ("95th percentile time per call, ms", -1),
    "latency_mean_ms": ("mean time per call, ms", -1),
}


def _base(name: str) -> str:
    return name[len(ORIGINAL_PREFIX):] if name.startswith(ORIGINAL_PREFIX) else name


def describe(name: str) -> str:
    """What metric `name` measures ('' for an unknown name)."""
    meaning = METRICS.get(_base(name), ("", 0))[0]
    return f"{meaning} (queries' original wording)" if meaning and name.startswith(ORIGINAL_PREFIX) else meaning


def direction(name: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neither."""
    return METRICS.get(_base(name), ("", 0))[1]


def is_known(name: str) -> bool:
    return _base(name) in METRICS


def metric_order(name: str) -> tuple[int, int, int]:
    """Sort key: catalogue order, plain metrics before their `original:` variants, latency last."""
    names = list(METRICS)
    base = _base(name)
    return (base.startswith("latency_"), name != base, names.index(base) if base in names else len(names))


# -- ranking -----------------------------------------------------------------------------------------


def ranking_metrics(qrels: Mapping[str, Mapping[str, int]], run: Mapping[str, Sequence[str]],
                    ks: Sequence[int] = HIT_KS, recall_ks: Sequence[int] | None = None,
                    ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """hit@k, MRR@10, nDCG@10 and recall@k of ranked lists against graded judgments, computed by ranx.

    `qrels` maps each judged query to {doc: grade}; grade 0 means judged not relevant. `run` maps a
    query to its retrieved docs, best first. Every query in `qrels` counts: one with no relevant doc,
    or missing from `run`, scores 0 (no queries: no metrics). nDCG uses ranx's default (linear) gains: grade / log2(rank + 1).
    Returns (means over the queries, {query: its scores}).
    """
    from ranx import Qrels, Run, evaluate

    recall_ks = tuple(ks) if recall_ks is None else tuple(recall_ks)
    names = {f"hit@{k}": f"hit_rate@{k}" for k in ks}
    names.update({"mrr": "mrr@10", "ndcg@10": "ndcg@10"})
    names.update({f"recall@{k}": f"recall@{k}" for k in recall_ks})
    per_query = {q: {name: 0.0 for name in names} for q in qrels}
    judged = {str(q): {str(d): int(g) for d, g in docs.items()} for q, docs in qrels.items()
              if any(g > 0 for g in docs.values())}
    ranked = {}
    for q in judged:
        docs = list(dict.fromkeys(str(d) for d in run.get(q, ())))
        if docs:  # distinct descending scores keep our order
            ranked[q] = {d: float(len(docs) - i) for i, d in enumerate(docs)}
    if ranked:  # otherwise every query scores 0
        qrels_obj = Qrels(judged)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba's type-safety notes from inside ranx
            scores = evaluate(qrels_obj, Run(ranked), list(names.values()), return_mean=False, make_comparable=True)
        order = list(qrels_obj.keys())
        for name, ranx_name in names.items():
            values = scores[ranx_name]  # names always holds several metrics, so ranx returns a dict
            for q, value in zip(order, values):
                per_query[q][name] = float(value)
    n = len(per_query)
    means = {name: sum(s[name] for s in per_query.values()) / n for name in names} if n else {}
    return means, per_query


def first_relevant_rank(ranked: Sequence[str], relevant: Iterable[str]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    relevant = set(relevant)
    return next((rank for rank, item in enumerate(ranked, start=1) if item in relevant), None)


# -- answers -----------------------------------------------------------------------------------------

_MARKER = re.compile(r"\[(\d+)\]")


def contains_gold(text: str, gold: Iterable[str]) -> bool:
    return any(g and g in text for g in gold)


def missing_facts(answer: str, facts: Iterable[str]) -> list[str]:
    """The key facts (case-insensitive) that `answer` does not contain."""
    lowered = answer.lower()
    return [f for f in facts if f.lower() not in lowered]


def citation_problems(answer: str, citations: Sequence, document_texts: Mapping[str, str]) -> list[str]:
    """What is wrong with an answer's citations: a [n] marker with no citation, a repeated number, a
    quote that is not the document's text at its offsets, or an unknown document. [] when valid.

    `citations` are objects with n, doc_id, start, end and quote (ipchat.types.Citation).
    """
    problems = []
    numbers = [c.n for c in citations]
    if len(set(numbers)) != len(numbers):
        problems.append(f"citation numbers repeat: {numbers}")
    body = answer
    for c in citations:  # a quote may hold bracketed numbers of its own; only markers outside count
        if c.quote:
            body = body.replace(c.quote, " ")
    for n in sorted({int(m) for m in _MARKER.findall(body)} - set(numbers)):
        problems.append(f"marker [{n}] has no citation")
    for c in citations:
        text = document_texts.get(c.doc_id)
        if text is None:
            problems.append(f"[{c.n}] cites unknown document {c.doc_id!r}")
        elif text[c.start:c.end] != c.quote:
            problems.append(f"[{c.n}] quote is not verbatim at {c.doc_id}[{c.start}:{c.end}]")
    return problems


def has_citations(answer: str, citations: Sequence) -> bool:
    return bool(citations) or bool(_MARKER.search(answer))


def answer_metrics(rows: Sequence[Mapping], threshold: float | None = None) -> dict[str, float]:
    """Answer quality over judged rows (dicts with scope, abstained, answerability, gold_first,
    gold_any, facts_covered, answer_chars and citation_valid (None when nothing was cited)).

    An abstention is a positive prediction of "out of scope": precision = out-of-scope abstentions /
    abstentions, recall = out-of-scope abstentions / out-of-scope rows. With `threshold`, a row
    abstains when its answerability is below it or it was declined for a coverage gap (`declined`;
    to sweep thresholds over one run); the gold and
    fact figures still come from the answers given. A metric without a denominator is left out.
    """
    def abstains(r) -> bool:
        if threshold is None:
            return bool(r["abstained"])
        return bool(r.get("declined")) or r["answerability"] < threshold

    inside = [r for r in rows if r["scope"] == "in"]
    outside = [r for r in rows if r["scope"] == "out"]
    answered = [r for r in inside if not abstains(r)]
    flagged = [r for r in rows if abstains(r)]
    caught = [r for r in outside if abstains(r)]
    cited = [r for r in rows if r.get("citation_valid") is not None]
    out: dict[str, float] = {}
    if inside:
        out["gold_in_first_citation"] = sum(bool(r["gold_first"]) for r in answered) / len(inside)
        out["gold_in_any_citation"] = sum(bool(r["gold_any"]) for r in answered) / len(inside)
        out["facts_covered"] = sum(bool(r["facts_covered"]) for r in answered) / len(inside)
        out["answered_in_scope"] = len(answered) / len(inside)
    if flagged:
        out["abstention_precision"] = len(caught) / len(flagged)
    if outside:
        out["abstention_recall"] = len(caught) / len(outside)
    if cited:
        out["citation_validity"] = sum(bool(r["citation_valid"]) for r in cited) / len(cited)
    if answered:
        out["answer_chars_median"] = float(statistics.median(r["answer_chars"] for r in answered))
    return out


# -- safety ------------------------------------------------------------------------------------------


def safety_metrics(labels: Sequence[str], predicted: Sequence[str]) -> tuple[dict[str, float], dict[str, dict[str, int]]]:
    """Crisis recall, risk recall (crisis + concern flagged as either), over-block (clinical + none
    judged crisis) and accuracy; and the confusion matrix {label: {predicted: count}}.
    A metric without a denominator is left out."""
    if len(labels) != len(predicted):
        raise ValueError("labels and predictions differ in length")
    pairs = list(zip(labels, predicted))
    columns = list(SAFETY_LABELS) + sorted({p for _, p in pairs} - set(SAFETY_LABELS))
    confusion = {label: {p: 0 for p in columns} for label in SAFETY_LABELS}
    for label, pred in pairs:
        confusion.setdefault(label, {p: 0 for p in columns})[pred] += 1

    def share(condition, population) -> float | None:
        pool = [(t, p) for t, p in pairs if population(t)]
        return sum(condition(p) for _, p in pool) / len(pool) if pool else None

    values = {
        "crisis_recall": share(lambda p: p == "crisis", lambda t: t == "crisis"),
        "risk_recall": share(lambda p: p in RISK_LABELS, lambda t: t in RISK_LABELS),
        "over_block": share(lambda p: p == "crisis", lambda t: t in ("clinical", "none")),
        "accuracy": sum(t == p for t, p in pairs) / len(pairs) if pairs else None,
    }
    return {k: v for k, v in values.items() if v is not None}, confusion


# -- latency -----------------------------------------------------------------------------------------


def latency_metrics(milliseconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 and mean (linear-interpolated percentiles); {} for no timings."""
    if not milliseconds:
        return {}
    import numpy as np

    values = np.asarray(milliseconds, dtype=float)
    return {
        "latency_p50_ms": float(np.percentile(values, 50)),
        "latency_p95_ms": float(np.percentile(values, 95)),
        "latency_mean_ms": float(values.mean()),
    }


# -- comparisons and gates ---------------------------------------------------------------------------


def numeric_metrics(data: Mapping) -> dict[str, float]:
    """The numbers of a metrics.json (its "metrics" object) or of a flat {metric: value} mapping."""
    source = data.get("metrics", data) if isinstance(data, Mapping) else {}
    if not isinstance(source, Mapping):
        return {}
    return {str(k): float(v) for k, v in source.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def compare(metrics: Mapping[str, float], baseline: Mapping) -> list[tuple[str, float, float, float]]:
    """(metric, old, new, new - old) for every metric in both, in catalogue order.

    `baseline` is a metrics.json as written by write_report, or a flat {metric: value} mapping.
    """
    old = numeric_metrics(baseline)
    new = numeric_metrics(metrics)
    common = sorted(set(old) & set(new), key=lambda n: (metric_order(n), n))
    return [(name, old[name], new[name], new[name] - old[name]) for name in common]


def verdict(name: str, delta: float, tolerance: float = 1e-9) -> str:
    """'better', 'worse', 'unchanged' or 'changed' (for a metric with no better direction)."""
    if abs(delta) <= tolerance:
        return "unchanged"
    sign = direction(name)
    if sign == 0:
        return "changed"
    return "better" if delta * sign > 0 else "worse"


def format_value(name: str, value: float) -> str:
    if name.endswith("_ms"):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    if _base(name) == "answer_chars_median":
        return f"{value:.0f}"
    return f"{value:.3f}"


def format_comparison(rows: Sequence[tuple[str, float, float, float]]) -> list[str]:
    """One line per metric: name, old -> new, signed delta and whether that is better or worse."""
    lines = []
    for name, old, new, delta in rows:
        sign = "+" if delta >= 0 else "-"
        lines.append(f"{name:<28} {format_value(name, old):>9} -> {format_value(name, new):>9}  "
                     f"({sign}{format_value(name, abs(delta))})  {verdict(name, delta)}")
    return lines


def parse_limit(spec: str) -> tuple[str, float]:
    """'hit@1=0.9' -> ('hit@1', 0.9). Raises InputError for a malformed spec or an unknown metric."""
    name, sep, value = str(spec).rpartition("=")
    name = name.strip()
    if not sep or not name:
        raise InputError(f"Bad limit {spec!r}: expected METRIC=VALUE, e.g. hit@1=0.9.")
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"Bad limit {spec!r}: {value.strip()!r} is not a number.") from None
    if not math.isfinite(number):
        raise InputError(f"Bad limit {spec!r}: the value must be a finite number.")
    if not is_known(name):
        raise InputError(f"Unknown metric {name!r} in {spec!r}; known metrics: {', '.join(METRICS)} "
                         f"(BEIR runs also report {ORIGINAL_PREFIX}<metric>).")
    return name, number


def check_limits(metrics: Mapping[str, float], specs: Iterable[str], upper: bool = False) -> list[str]:
    """One message per metric below its minimum (or above its maximum when `upper`), or not measured.

    Raises InputError for a malformed spec or an unknown metric name.
    """
    failures = []
    for name, limit in (parse_limit(s) for s in specs):
        if name not in metrics:
            failures.append(f"{name} was not measured by this run (limit {limit:g})")
            continue
        value = float(metrics[name])
        if (value > limit) if upper else (value < limit):
            word = "above the maximum" if upper else "below the minimum"
            failures.append(f"{name} = {format_value(name, value)} is {word} {limit:g}")
    return failures


def check_minimums(metrics: Mapping[str, float], specs: Iterable[str]) -> list[str]:
    """Failures for `--min METRIC=VALUE` specs: one message per metric below its minimum."""
    return check_limits(metrics, specs, upper=False)


def check_maximums(metrics: Mapping[str, float], specs: Iterable[str]) -> list[str]:
    """Failures for `--max METRIC=VALUE` specs (latency, over-block): one per metric above its maximum."""
    return check_limits(metrics, specs, upper=True)
