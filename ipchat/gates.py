"""Quality gates: every evaluation set with the levels it must hold, kept as data and run in one process.

    ipchat eval --gates eval/gates.toml --out artifacts/eval

The gates file (TOML) holds one ``[[gate]]`` table per set:

    [[gate]]
    set = "eval/safety/batches/*.tsv"   # a path, or a glob for a family of sets (relative to the file's repository)
    safety = true                        # safety cases or conversations (default: a question set)
    semantic = true                      # with safety: the semantic backstop reads each case too
    name = "safety-{stem}"               # the report folder under --out ({stem}: the set's file name without suffix)
    min = { crisis_recall = 1.0, risk_recall = 1.0 }
    max = { over_block = 0.0 }

Running them in one process loads the answerer and the safety model once, not once per set. Each set is
scored as `ipchat eval` scores it alone; every failure is named, and the run goes on to the next set so one
run shows all of them.
"""

from __future__ import annotations

import glob
import logging
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from .errors import InputError
from .metrics import check_maximums, check_minimums, parse_limit

log = logging.getLogger(__name__)

_KEYS = {"set", "safety", "semantic", "name", "min", "max"}


@dataclass(frozen=True)
class Gate:
    """One set and the levels it must hold."""

    name: str
    path: Path
    safety: bool = False
    semantic: bool = False
    minimums: tuple[str, ...] = ()
    maximums: tuple[str, ...] = ()


def _limits(value, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise InputError(f"{where}: {key} must be a table of METRIC = VALUE, e.g. {key} = {{ crisis_recall = 0.95 }}.")
    specs = tuple(f"{metric}={number}" for metric, number in value.items())
    for spec in specs:
        if isinstance(value[spec.rpartition("=")[0]], bool):
            raise InputError(f"{where}: {spec!r} is not a number.")
        try:
            parse_limit(spec)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
    return specs


def parse_gates(text: str, base: Path, source: str = "<gates>") -> list[Gate]:
    """The gates of a gates file's `text`, with set paths resolved against `base`. Raises InputError,
    naming the entry, for bad TOML, an unknown key, a malformed limit, a gate without limits, or a set
    (or glob) that names no file."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from None
    unknown = set(raw) - {"gate"}
    if unknown:
        raise InputError(f"{source}: unknown top-level key(s) {sorted(unknown)}; expected [[gate]] tables.")
    entries = raw.get("gate", [])
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{source}: no [[gate]] tables.")
    gates: list[Gate] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source}, gate {number}"
        extra = set(entry) - _KEYS
        if extra:
            raise InputError(f"{where}: unknown key(s) {sorted(extra)}; known: {sorted(_KEYS)}.")
        pattern = entry.get("set")
        if not isinstance(pattern, str) or not pattern.strip():
            raise InputError(f"{where}: 'set' must name a file or a glob.")
        where = f"{source}, gate {number} ({pattern})"
        for flag in ("safety", "semantic"):
            if not isinstance(entry.get(flag, False), bool):
                raise InputError(f"{where}: {flag} must be true or false.")
        safety, semantic = entry.get("safety", False), entry.get("semantic", False)
        if semantic and not safety:
            raise InputError(f"{where}: semantic applies to safety sets only.")
        minimums, maximums = _limits(entry.get("min"), where, "min"), _limits(entry.get("max"), where, "max")
        if not minimums and not maximums:
            raise InputError(f"{where}: a gate needs a min or a max table.")
        paths = sorted(Path(p) for p in glob.glob(str(base / pattern)))
        if not paths:
            raise InputError(f"{where}: no file matches.")
        template = entry.get("name", "{stem}")
        if not isinstance(template, str) or not template.strip():
            raise InputError(f"{where}: name must be a non-empty string.")
        if len(paths) > 1 and "{stem}" not in template:
            raise InputError(f"{where}: a glob's name must hold {{stem}} so each set gets its own report.")
        for path in paths:
            gates.append(Gate(template.replace("{stem}", path.stem), path, safety, semantic, minimums, maximums))
    names = [gate.name for gate in gates]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(f"{source}: report name(s) used twice: {repeated}.")
    return gates


def load_gates(path: str | Path) -> list[Gate]:
    """`parse_gates` of the file at `path`, its sets relative to the repository that holds it (the
    parent of its `eval/` folder), else to the file's own folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"No gates file at {path}.") from None
    folder = path.resolve().parent
    base = folder.parent if folder.name == "eval" else folder
    return parse_gates(text, base, str(path))


@dataclass
class GateOutcome:
    gate: Gate
    metrics: dict[str, float]
    failures: list[str]


def run_gates(gates: Iterable[Gate], settings, out_dir: str | Path | None = None,
              progress: Callable[[int, int], None] | None = None,
              report: Callable[[int, int, GateOutcome], None] | None = None) -> list[GateOutcome]:
    """Score every gate's set, loading the answerer and the safety model once each (only when a gate
    needs them), write each one's report under `out_dir/<name>` when given, and return what each held.
    `progress(done, total)` follows the rows of the set being scored; `report(n, total, outcome)` is called
    after each set."""
    from .evaluation import evaluate_questions, evaluate_safety, load_question_rows, load_safety_rows, write_report

    gates = list(gates)
    answerer = None
    outcomes: list[GateOutcome] = []
    for number, gate in enumerate(gates, start=1):
        if gate.safety:
            assess = None
            rows = load_safety_rows(gate.path)
            if gate.semantic:
                from . import safety

                # The set's vectors are made beforehand in batches: the gates' time is mostly the model's. The
                # embedder and its backstop are loaded once per process (load_safety_embedder, backstop_for).
                embedder = safety.load_safety_embedder(settings)
                assess = safety.semantic_assessor(
                    embedder, [(row["text"], tuple(row.get("history", ()))) for row in rows], progress,
                    screen=safety.load_screen(settings, embedder))
            result = evaluate_safety(rows, progress, assess=assess, source=gate.path.name)
            if gate.semantic:
                result = replace(result, latency_label="assess, vectors made beforehand")
        else:
            if answerer is None:
                from .answer import Answerer

                answerer = Answerer.from_settings(settings)
            # The safety model's vectors for the whole set are made beforehand in batches, as for the safety
            # sets: the same replies, several times sooner (the gates hold no latency).
            result = evaluate_questions(load_question_rows(gate.path), answerer, progress, source=gate.path.name,
                                        prepare=True)
        if out_dir is not None:
            write_report(result, Path(out_dir) / gate.name)
        failures = check_minimums(result.metrics, gate.minimums) + check_maximums(result.metrics, gate.maximums)
        outcome = GateOutcome(gate, result.metrics, failures)
        outcomes.append(outcome)
        log.info("gate %d/%d %s: %s", number, len(gates), gate.name, "failed" if failures else "held")
        if report is not None:
            report(number, len(gates), outcome)
    return outcomes

