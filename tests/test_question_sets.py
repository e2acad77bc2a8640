"""Validate the evaluation question sets in eval/questions/ against the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS_DIR = ROOT / "eval" / "questions"
SEED = QUESTIONS_DIR / "seed.jsonl"
FOLLOWUPS = QUESTIONS_DIR / "followups.jsonl"
HELDOUT = QUESTIONS_DIR / "heldout.jsonl"  # written apart from the seed set
BLIND = QUESTIONS_DIR / "blind.jsonl"  # written apart from both, scored once the answer rules were set
CLINICIAN = QUESTIONS_DIR / "clinician.jsonl"  # clinicians' own words, written apart from all the others
CLINICIAN2 = QUESTIONS_DIR / "clinician2.jsonl"  # the same brief, a second writer, after the first was learnt from
CLINICIAN3 = QUESTIONS_DIR / "clinician3.jsonl"  # a third writer, scored once, then learnt from
CLINICIAN4 = QUESTIONS_DIR / "clinician4.jsonl"  # a fourth writer, scored once, then learnt from
CLINICIAN5 = QUESTIONS_DIR / "clinician5.jsonl"  # a fifth writer, scored once, then learnt from
CLINICIAN6 = QUESTIONS_DIR / "clinician6.jsonl"  # a sixth writer, scored once, then learnt from
CLINICIAN7 = QUESTIONS_DIR / "clinician7.jsonl"  # a seventh writer, scored once, then learnt from
CLINICIAN8 = QUESTIONS_DIR / "clinician8.jsonl"  # an eighth writer (ward shorthand), scored twice unread, then learnt from
CLINICIAN9 = QUESTIONS_DIR / "clinician9.jsonl"  # a ninth writer (patients, relatives, students, GPs), kept aside, scored once, then learnt from
CLINICIAN10 = QUESTIONS_DIR / "clinician10.jsonl"  # a tenth writer (night-shift nurses, pharmacists, junior doctors), kept aside, scored three times unread, then learnt from
CLINICIAN11 = QUESTIONS_DIR / "clinician11.jsonl"  # an eleventh writer (students cramming, relatives in a waiting room), kept aside, scored twice unread, then learnt from
CLINICIAN12 = QUESTIONS_DIR / "clinician12.jsonl"  # a twelfth writer (GPs between appointments, partners reading leaflets aloud), kept aside, scored twice unread, then learnt from
CLINICIAN13 = QUESTIONS_DIR / "clinician13.jsonl"  # a thirteenth writer (ward staff in shorthand, writers checking their copy), kept aside, scored unread, then learnt from
CLINICIAN14 = QUESTIONS_DIR / "clinician14.jsonl"  # a fourteenth writer (patient-forum posters and carers, medical librarians), kept aside, scored twice unread, then learnt from
CLINICIAN15 = QUESTIONS_DIR / "clinician15.jsonl"  # a fifteenth writer (students revising, questions dictated by voice), kept aside, scored twice unread, then learnt from
CLINICIANS = (CLINICIAN, CLINICIAN2, CLINICIAN3, CLINICIAN4, CLINICIAN5, CLINICIAN6, CLINICIAN7, CLINICIAN8, CLINICIAN9, CLINICIAN10,
              CLINICIAN11, CLINICIAN12, CLINICIAN13, CLINICIAN14, CLINICIAN15)
ARTICLE = ROOT / "corpus" / "documents" / "interventional-psychiatry-guide.md"

MIN_IN_SCOPE = 50
MIN_OUT_OF_SCOPE = 12
MIN_FOLLOWUPS = 12


def _load(path: Path) -> list[dict]:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:  # pragma: no cover - reported as failure
            pytest.fail(f"{path.name}:{lineno} is not valid JSON: {exc}")
        assert isinstance(obj, dict), f"{path.name}:{lineno} is not a JSON object"
        rows.append(obj)
    return rows


@pytest.fixture(scope="module")
def article() -> str:
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_rows() -> list[dict]:
    return _load(SEED)


@pytest.fixture(scope="module")
def followup_rows() -> list[dict]:
    return _load(FOLLOWUPS)


def _both(seed_rows, followup_rows):
    """Every question set with its name."""
    return [("seed.jsonl", seed_rows), ("followups.jsonl", followup_rows), ("heldout.jsonl", _load(HELDOUT)),
            ("blind.jsonl", _load(BLIND)), *((path.name, _load(path)) for path in CLINICIANS)]


def _check_common_fields(name: str, row: dict) -> None:
    rid = row.get("id")
    assert isinstance(rid, str) and rid, f"{name}: bad id {rid!r}"
    assert isinstance(row.get("question"), str) and row["question"].strip(), f"{name}:{rid} question"
    for key in ("gold", "facts"):
        value = row.get(key)
        assert isinstance(value, list), f"{name}:{rid} {key} must be a list"
        assert all(isinstance(s, str) and s for s in value), f"{name}:{rid} {key} must hold non-empty strings"
    assert row.get("scope") in ("in", "out"), f"{name}:{rid} scope must be 'in' or 'out'"


def test_files_exist():
    for path in (SEED, FOLLOWUPS, HELDOUT, BLIND, *CLINICIANS, ARTICLE):
        assert path.is_file(), f"missing {path.relative_to(ROOT)}"


def test_every_line_parses():
    for path in (SEED, FOLLOWUPS, HELDOUT, BLIND, *CLINICIANS):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert line.strip(), f"{path.name}:{lineno} is blank"
            assert isinstance(json.loads(line), dict), f"{path.name}:{lineno} is not an object"


def test_seed_fields(seed_rows):
    for row in seed_rows:
        _check_common_fields("seed.jsonl", row)


@pytest.mark.parametrize(("path", "min_in", "min_out"), [(HELDOUT, 30, 20), (BLIND, 30, 20), (CLINICIAN, 40, 15),
                                                         (CLINICIAN2, 40, 15)], ids=lambda p: getattr(p, "name", p))
def test_written_apart_sets_fields(path, min_in, min_out):
    rows = _load(path)
    for row in rows:
        _check_common_fields(path.name, row)
    assert sum(r["scope"] == "in" for r in rows) >= min_in and sum(r["scope"] == "out" for r in rows) >= min_out


def test_followup_fields(followup_rows):
    for row in followup_rows:
        _check_common_fields("followups.jsonl", row)
        rid = row["id"]
        history = row.get("history")
        assert isinstance(history, list) and history, f"followups.jsonl:{rid} history must be a non-empty list"
        assert all(isinstance(m, str) and m.strip() for m in history), f"followups.jsonl:{rid} history entries"
        assert row["scope"] == "in", f"followups.jsonl:{rid} scope must be 'in'"
        topic = row.get("expect_topic")
        assert isinstance(topic, str) and topic.strip(), f"followups.jsonl:{rid} expect_topic"


def test_facts_lowercase(seed_rows, followup_rows):
    bad = [
        (name, row["id"], fact)
        for name, rows in _both(seed_rows, followup_rows)
        for row in rows
        for fact in row["facts"]
        if fact != fact.lower()
    ]
    assert not bad, f"facts must be lowercase: {bad}"


def test_ids_unique(seed_rows, followup_rows):
    ids = [r["id"] for _name, rows in _both(seed_rows, followup_rows) for r in rows]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate ids: {dupes}"


def test_gold_spans_are_verbatim(article, seed_rows, followup_rows):
    missing = [
        (name, row["id"], span)
        for name, rows in _both(seed_rows, followup_rows)
        for row in rows
        for span in row["gold"]
        if span not in article
    ]
    assert not missing, f"gold spans not found verbatim in the article: {missing}"


def test_facts_appear_in_gold(seed_rows, followup_rows):
    bad = []
    for name, rows in _both(seed_rows, followup_rows):
        for row in rows:
            golds = [g.lower() for g in row["gold"]]
            for fact in row["facts"]:
                if not any(fact.lower() in g for g in golds):
                    bad.append((name, row["id"], fact))
    assert not bad, f"facts not found in any gold span of their row: {bad}"


def test_scope_gold_consistency(seed_rows, followup_rows):
    for name, rows in _both(seed_rows, followup_rows):
        for row in rows:
            if row["scope"] == "in":
                assert len(row["gold"]) >= 1, f"{name}:{row['id']} in-scope row needs a gold span"
            else:
                assert row["gold"] == [], f"{name}:{row['id']} out-of-scope row must have no gold"
                assert row["facts"] == [], f"{name}:{row['id']} out-of-scope row must have no facts"


def test_counts(seed_rows, followup_rows):
    n_in = sum(1 for r in seed_rows if r["scope"] == "in")
    n_out = sum(1 for r in seed_rows if r["scope"] == "out")
    assert n_in >= MIN_IN_SCOPE, f"only {n_in} in-scope questions"
    assert n_out >= MIN_OUT_OF_SCOPE, f"only {n_out} out-of-scope questions"
    assert len(followup_rows) >= MIN_FOLLOWUPS, f"only {len(followup_rows)} follow-ups"
