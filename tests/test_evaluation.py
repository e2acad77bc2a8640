"""The evaluation harness: metrics on hand-computed cases, gates and comparisons, input errors,
reports, and runs over question sets, safety cases and a tiny BEIR set."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT
from ipchat.cli import add_eval_arguments, cmd_eval, main
from ipchat.errors import IndexMismatchError, InputError
from ipchat.evaluation import (
    EvalResult, evaluate_beir, evaluate_questions, evaluate_safety, load_baseline, load_beir_set, load_question_rows,
    load_safety_rows, parse_safety_rows, question_qrels, write_report,
)
from ipchat.metrics import (
    answer_metrics, check_maximums, check_minimums, citation_problems, compare, first_relevant_rank,
    format_comparison, latency_metrics, missing_facts, ranking_metrics, safety_metrics,
)
from ipchat.types import Citation

PNG = b"\x89PNG\r\n\x1a\n"


# -- ranking metrics (ranx) on a toy run, checked by hand ---------------------------------------------

QRELS = {"q1": {"a": 3, "b": 1}, "q2": {"c": 2}, "q3": {"d": 1, "e": 2}}
RUN = {"q1": ["b", "x", "a"], "q2": ["y", "z", "w"], "q3": ["x", "e", "d"]}


def test_ranking_metrics_match_hand_computed_values():
    means, per_query = ranking_metrics(QRELS, RUN)
    # nDCG with linear gains, DCG = sum(grade / log2(rank + 1)):
    # q1: DCG = 1/1 + 3/2 = 2.5, ideal = 3/1 + 1/log2(3); q2: nothing relevant retrieved -> 0;
    # q3: DCG = 2/log2(3) + 1/2, ideal = 2/1 + 1/log2(3).
    q1 = 2.5 / (3 + 1 / math.log2(3))
    q3 = (2 / math.log2(3) + 0.5) / (2 + 1 / math.log2(3))
    assert per_query["q1"]["ndcg@10"] == pytest.approx(q1)
    assert per_query["q3"]["ndcg@10"] == pytest.approx(q3)
    assert means["ndcg@10"] == pytest.approx((q1 + 0 + q3) / 3)
    assert means["ndcg@10"] == pytest.approx(0.452734, abs=1e-6)
    assert means["mrr"] == pytest.approx((1 + 0 + 1 / 2) / 3)
    assert means["hit@1"] == pytest.approx(1 / 3)
    assert means["hit@3"] == pytest.approx(2 / 3)
    assert means["recall@1"] == pytest.approx((1 / 2 + 0 + 0) / 3)
    assert means["recall@3"] == pytest.approx(2 / 3)


def test_ranking_metrics_count_queries_with_nothing_retrieved_or_relevant_as_zero():
    means, per_query = ranking_metrics({"q1": {"a": 1}, "q2": {"b": 0}, "q3": {"c": 1}}, {"q1": ["a"], "q2": ["b"]})
    assert per_query["q1"]["hit@1"] == 1.0
    assert per_query["q2"]["hit@1"] == per_query["q3"]["mrr"] == 0.0
    assert means["hit@1"] == pytest.approx(1 / 3)
    assert ranking_metrics({}, {}) == ({}, {})


def test_first_relevant_rank_and_facts():
    assert first_relevant_rank(["x", "a", "b"], {"b", "a"}) == 2
    assert first_relevant_rank(["x"], {"a"}) is None
    assert missing_facts("Scalp PAIN and headache", ["scalp pain", "headache", "nausea"]) == ["nausea"]


# -- answers, citations, safety, latency -------------------------------------------------------------


def _row(scope, abstained, score, first=False, any_=False, facts=False, chars=0):
    return {"scope": scope, "abstained": abstained, "answerability": score, "gold_first": first, "gold_any": any_,
            "facts_covered": facts, "answer_chars": chars, "citation_valid": None if abstained else True}


ANSWER_ROWS = [
    _row("in", False, 0.8, True, True, True, 100),
    _row("in", False, 0.5, False, True, False, 300),
    _row("in", True, 0.3),
    _row("out", True, 0.2),
    _row("out", False, 0.6, chars=50),
]


def test_answer_metrics_by_hand():
    m = answer_metrics(ANSWER_ROWS)
    assert m["gold_in_first_citation"] == pytest.approx(1 / 3)
    assert m["gold_in_any_citation"] == pytest.approx(2 / 3)
    assert m["facts_covered"] == pytest.approx(1 / 3)
    assert m["answered_in_scope"] == pytest.approx(2 / 3)
    assert m["abstention_precision"] == pytest.approx(1 / 2)  # 2 abstentions, 1 out of scope
    assert m["abstention_recall"] == pytest.approx(1 / 2)  # 2 out-of-scope rows, 1 abstained
    assert m["citation_validity"] == 1.0
    assert m["answer_chars_median"] == 200


def test_answer_metrics_with_a_threshold_and_without_denominators():
    m = answer_metrics(ANSWER_ROWS, threshold=0.55)  # the 0.5 row now abstains too
    assert m["answered_in_scope"] == pytest.approx(1 / 3)
    assert m["abstention_precision"] == pytest.approx(1 / 3)
    assert m["abstention_recall"] == pytest.approx(1 / 2)
    only_answered_in_scope = answer_metrics([ANSWER_ROWS[0]])
    assert "abstention_precision" not in only_answered_in_scope and "abstention_recall" not in only_answered_in_scope


def test_a_declined_row_abstains_at_every_threshold():
    # Declined for a coverage gap (the sources never mention the treatment) despite a high score.
    declined = {**_row("out", True, 0.9), "declined": True}
    assert answer_metrics([declined], threshold=0.1)["abstention_recall"] == 1.0
    assert answer_metrics([{**declined, "declined": False}], threshold=0.1)["abstention_recall"] == 0.0


def test_citation_problems():
    text = "Alpha beta. Gamma [3] delta."
    docs = {"d": text}
    good = Citation(1, "c", "d", "T", "", "S", "Gamma [3] delta.", 12, 28)
    assert citation_problems("Gamma [3] delta. [1]", [good], docs) == []  # [3] belongs to the quote
    assert citation_problems("Gamma [3] delta. [1] [2]", [good], docs) == ["marker [2] has no citation"]
    shifted = Citation(1, "c", "d", "T", "", "S", "Gamma [3] delta.", 11, 27)
    assert "not verbatim" in citation_problems("Gamma [3] delta. [1]", [shifted], docs)[0]
    assert "unknown document" in citation_problems("x [1]", [Citation(1, "c", "e", "", "", "", "x", 0, 1)], docs)[0]
    assert "repeat" in citation_problems("Alpha [1]", [good, good], docs)[0]


def test_safety_metrics_and_confusion_by_hand():
    labels = ["crisis", "crisis", "crisis", "concern", "concern", "clinical", "clinical", "none", "none", "none"]
    judged = ["crisis", "concern", "none", "crisis", "none", "crisis", "clinical", "none", "none", "clinical"]
    m, confusion = safety_metrics(labels, judged)
    assert m["crisis_recall"] == pytest.approx(1 / 3)
    assert m["risk_recall"] == pytest.approx(3 / 5)  # crisis, concern, crisis flagged of 5 at risk
    assert m["over_block"] == pytest.approx(1 / 5)  # one clinical case judged crisis
    assert m["accuracy"] == pytest.approx(4 / 10)
    assert confusion["crisis"] == {"crisis": 1, "concern": 1, "clinical": 0, "none": 1}
    assert confusion["none"]["clinical"] == 1
    assert sum(sum(row.values()) for row in confusion.values()) == 10


def test_latency_percentiles():
    m = latency_metrics([float(i) for i in range(1, 101)])
    assert m["latency_p50_ms"] == pytest.approx(50.5)
    assert m["latency_p95_ms"] == pytest.approx(95.05)
    assert latency_metrics([]) == {}


# -- gates and comparisons ---------------------------------------------------------------------------


def test_check_minimums_names_each_failing_metric():
    metrics = {"hit@1": 0.85, "mrr": 0.9, "original:ndcg@10": 0.5}
    assert check_minimums(metrics, ["hit@1=0.8", "mrr=0.9"]) == []
    failures = check_minimums(metrics, ["hit@1=0.9", "mrr=0.5", "original:ndcg@10=0.6", "ndcg@10=0.1"])
    assert len(failures) == 3
    assert failures[0].startswith("hit@1 = 0.850") and "0.9" in failures[0]
    assert failures[1].startswith("original:ndcg@10")
    assert failures[2].startswith("ndcg@10") and "not measured" in failures[2]
    assert check_maximums({"latency_p95_ms": 150.0}, ["latency_p95_ms=100"])[0].startswith("latency_p95_ms = 150.0")


@pytest.mark.parametrize("spec, message", [
    ("hit@1", "METRIC=VALUE"), ("=0.5", "METRIC=VALUE"), ("hit@1=", "not a number"), ("hit@1=abc", "not a number"),
    ("hit@1=nan", "finite"), ("hit@2=0.5", "Unknown metric 'hit@2'"), ("accuracy_of_vibes=1", "Unknown metric"),
])
def test_check_minimums_rejects_malformed_specs_and_unknown_names(spec, message):
    with pytest.raises(InputError, match=message):
        check_minimums({"hit@1": 1.0}, [spec])


def test_compare_gives_deltas_for_common_metrics_and_says_better_or_worse():
    baseline = {"metrics": {"latency_p50_ms": 80.0, "hit@1": 0.75, "over_block": 0.02, "gone": 1.0}}
    rows = compare({"hit@1": 0.8, "over_block": 0.01, "latency_p50_ms": 90.0, "new": 1.0}, baseline)
    assert [r[0] for r in rows] == ["hit@1", "over_block", "latency_p50_ms"]
    assert rows[0][1:3] == (0.75, 0.8) and rows[0][3] == pytest.approx(0.05)
    assert rows[2][3] == pytest.approx(10.0)
    lines = format_comparison(rows)
    assert "+0.050" in lines[0] and lines[0].endswith("better")
    assert lines[1].endswith("better")  # less over-blocking is better
    assert lines[2].endswith("worse")  # slower is worse
    assert compare({"hit@1": 0.8}, {"hit@1": 0.8}) == [("hit@1", 0.8, 0.8, 0.0)]


# -- malformed input ---------------------------------------------------------------------------------

GOOD = '{"id": "a", "question": "q?", "gold": ["g"], "facts": [], "scope": "in"}'


@pytest.mark.parametrize("lines, message", [
    ([GOOD, "not json"], ":2: not valid JSON"),
    (["[1, 2]"], ":1: expected a JSON object"),
    (['{"question": "q?", "gold": ["g"], "scope": "in"}'], ":1: 'id'"),
    ([GOOD, "", GOOD], ":3: duplicate id 'a' (first on line 1)"),
    (['{"id": "a", "question": "", "gold": ["g"], "scope": "in"}'], ":1: 'question'"),
    (['{"id": "a", "question": "q?", "gold": ["g"], "scope": "maybe"}'], ":1: 'scope'"),
    (['{"id": "a", "question": "q?", "gold": "g", "scope": "in"}'], ":1: 'gold' must be a list"),
    (['{"id": "a", "question": "q?", "gold": ["g"], "history": [3], "scope": "in"}'], ":1: 'history'"),
    (['{"id": "a", "question": "q?", "gold": [], "scope": "in"}'], ":1: an in-scope row needs"),
    ([""], "no questions"),
])
def test_malformed_question_sets_name_file_and_line(tmp_path, lines, message):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_question_rows(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_question_rows_load_the_committed_sets():
    rows = load_question_rows(ROOT / "eval" / "questions" / "followups.jsonl")
    assert all(row["history"] for row in rows) and all(row["scope"] == "in" for row in rows)
    with pytest.raises(InputError, match="Cannot read"):
        load_question_rows(ROOT / "eval" / "questions" / "missing.jsonl")


@pytest.mark.parametrize("text, message", [
    ("label,text\ncrisis,x\n", ":1: expected the header"),
    ("label\ttext\ncrisis i want to die\n", ":2: expected label<TAB>text"),
    ("label\ttext\nnone\tfine\nurgent\tx\n", ":3: label 'urgent'"),
    ("label\ttext\ncrisis\t  \n", ":2: the text is empty"),
    ("label\ttext\n", "no cases"),
])
def test_malformed_safety_cases_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "cases.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_safety_rows(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_malformed_beir_sets_and_baselines(tmp_path):
    with pytest.raises(InputError, match="no corpus.jsonl"):
        load_beir_set(tmp_path)
    beir = _write_beir(tmp_path / "beir")
    (beir / "qrels" / "test.tsv").write_text("qid\tdoc\tscore\n", encoding="utf-8")
    with pytest.raises(InputError, match="test.tsv:1: expected the header"):
        load_beir_set(beir)
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\thigh\n", encoding="utf-8")
    with pytest.raises(InputError, match="test.tsv:2: expected"):
        load_beir_set(beir)
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_baseline(tmp_path / "bad.json")
    (tmp_path / "empty.json").write_text('{"metrics": {}}', encoding="utf-8")
    with pytest.raises(InputError, match="no metrics"):
        load_baseline(tmp_path / "empty.json")


# -- reports -----------------------------------------------------------------------------------------


def test_write_report_writes_markdown_json_rows_and_png_charts(tmp_path):
    result = EvalResult(
        kind="beir", source="toy", metrics={"hit@1": 0.75, "hit@3": 0.8, "hit@5": 0.9, "hit@10": 1.0,
                                            "original:hit@1": 0.5, "ndcg@10": 0.61, "latency_p50_ms": 12.0,
                                            "latency_p95_ms": 30.0, "latency_mean_ms": 15.0},
        rows=[{"id": "1", "ndcg@10": 0.61, "hit@10": 1.0}], counts={"queries": 1},
        latencies_ms=[10.0, 12.0, 30.0, 11.0], latency_label="search",
    )
    paths = write_report(result, tmp_path / "out", baseline={"metrics": {"hit@1": 0.7, "ndcg@10": 0.7}})
    assert set(paths) == {"report", "metrics", "rows", "hit_at_k", "latency"}
    for name in ("hit_at_k", "latency"):
        assert paths[name].read_bytes()[:8] == PNG
    report = paths["report"].read_text(encoding="utf-8")
    assert "| hit@1 | 0.750 | 0.700 | +0.050 better |" in report
    assert "| ndcg@10 | 0.610 | 0.700 | -0.090 worse |" in report
    assert "| latency_p95_ms | 30.0 | - | - |" in report and "![hit_at_k](hit_at_k.png)" in report
    data = json.loads(paths["metrics"].read_text(encoding="utf-8"))
    assert data["metrics"]["hit@1"] == 0.75 and data["kind"] == "beir"
    assert {c["metric"] for c in data["comparison"]} == {"hit@1", "ndcg@10"}
    assert [json.loads(l)["id"] for l in paths["rows"].read_text().splitlines()] == ["1"]


def test_safety_run_with_a_stub_assess_and_its_report(tmp_path):
    rows = parse_safety_rows("label\ttext\ncrisis\ti want to die\nclinical\tsuicide risk after ECT?\nnone\twhat is TMS\n")
    levels = {"i want to die": "crisis", "suicide risk after ECT?": "crisis", "what is TMS": "none"}
    seen = []
    result = evaluate_safety(rows, progress=lambda d, t: seen.append((d, t)),
                             assess=lambda text, history=(): SimpleNamespace(level=levels.get(text, "none"), rule_ids=("r",)))
    assert seen[-1] == (3, 3)
    assert result.metrics["crisis_recall"] == 1.0 and result.metrics["over_block"] == pytest.approx(1 / 2)
    assert result.confusion["clinical"]["crisis"] == 1
    assert [r["line"] for r in result.rows if not r["correct"]] == [3]
    paths = write_report(result, tmp_path)
    assert "hit_at_k" not in paths and paths["latency"].read_bytes()[:8] == PNG
    report = paths["report"].read_text(encoding="utf-8")
    assert "| over_block | 0.500 |" in report and "| clinical | 1 | 0 | 0 | 0 |" in report


# -- runs --------------------------------------------------------------------------------------------


def test_question_qrels_use_containing_passages_and_overlaps_for_spans_across_chunks(hashing_index):
    from ipchat.index import load_index

    index = load_index(hashing_index)
    rows = [{"id": "a", "scope": "in", "gold": ["Fleas and ticks"]},
            {"id": "b", "scope": "in", "gold": ["Kittens need four meals daily.\n\n## Dogs\n\nDogs need a walk"]},
            {"id": "c", "scope": "out", "gold": []}]
    qrels = question_qrels(index, rows)
    assert set(qrels) == {"a", "b"}
    (flea_chunk,) = qrels["a"]
    assert "Fleas and ticks" in next(c.text for c in index.chunks if c.chunk_id == flea_chunk)
    sections = {c.section for c in index.chunks if c.chunk_id in qrels["b"]}
    assert sections == {"Cats", "Dogs"}


def test_evaluate_questions_plumbing_with_the_hashing_embedder(hashing_index):
    from ipchat.answer import Answerer

    rows = [{"id": "a", "question": "Which problems do dogs commonly have?", "gold": ["Fleas and ticks"],
             "facts": ["fleas"], "scope": "in", "history": []},
            {"id": "b", "question": "and how often should they see a vet?", "gold": ["A vet visit once a year is usual."],
             "facts": [], "scope": "in", "history": ["Tell me about dogs"]},
            {"id": "c", "question": "What is the capital of Peru?", "gold": [], "facts": [], "scope": "out", "history": []}]
    result = evaluate_questions(rows, Answerer.from_settings(hashing_index), source="pets")
    assert [r["id"] for r in result.rows] == ["a", "b", "c"] and len(result.latencies_ms) == 3
    assert result.counts == {"questions": 3, "in_scope": 2, "out_of_scope": 1, "with_history": 1, "gold_not_in_index": 0}
    assert result.metrics["hit@10"] == 1.0  # the index has only a few chunks
    for name in ("mrr", "ndcg@10", "recall@5", "latency_p95_ms"):
        assert name in result.metrics
    assert result.metrics["citation_validity"] == 1.0
    assert result.settings["model"] == "hashing-64"


@pytest.mark.model
def test_evaluate_questions_on_seed_rows_with_the_real_model(real_retriever):
    from ipchat.answer import Answerer

    rows = load_question_rows(ROOT / "eval" / "questions" / "seed.jsonl")
    picked = [r for r in rows if r["scope"] == "in"][:4] + [r for r in rows if r["scope"] == "out"][:1]
    seen = []
    result = evaluate_questions(picked, Answerer(real_retriever), progress=lambda d, t: seen.append(d))
    assert seen == [1, 2, 3, 4, 5]
    assert result.metrics["citation_validity"] == 1.0
    assert all(not r["citation_problems"] for r in result.rows)
    assert 0.0 <= result.metrics["hit@1"] <= result.metrics["hit@10"] <= 1.0
    assert result.counts["in_scope"] == 4 and "abstention_recall" in result.metrics


def _write_beir(directory: Path) -> Path:
    (directory / "qrels").mkdir(parents=True)
    docs = [("d1", "Noonan syndrome", "Noonan syndrome is a genetic disorder that affects the heart and growth."),
            ("d2", "Gluten in medicines", "Most tablets do not contain gluten; check the inactive ingredients."),
            ("d3", "Shingles vaccine", "The shingles vaccine is recommended for adults over fifty."),
            ("d4", "Iron deficiency", "Iron deficiency anaemia causes tiredness and pale skin.")]
    (directory / "corpus.jsonl").write_text("".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in docs))
    queries = [{"_id": "q1", "text": "Is the shingles vaccine recommended for adults over fifty?",
                "metadata": {"original": "shingles vaccine adults age"}},
               {"_id": "q2", "text": "What is Noonan syndrome?", "metadata": {}},
               {"_id": "q3", "text": "unjudged question about gluten"}]
    (directory / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (directory / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td3\t2\nq1\td4\t0\nq2\td1\t1\n")
    return directory


def test_evaluate_beir_on_a_tiny_set_and_reuses_its_index(tmp_path):
    from ipchat.embedding import HashingEmbedder
    from ipchat.settings import load_settings

    beir = _write_beir(tmp_path / "beir")
    settings = load_settings(environ={}, model="hashing-64")
    calls = []
    result = evaluate_beir(beir, settings, HashingEmbedder(64), progress=lambda d, t: calls.append((d, t)),
                           index_dir=tmp_path / "idx")
    assert result.counts["queries"] == 2 and result.counts["documents"] == 4
    assert result.metrics["hit@1"] == 1.0 and result.metrics["ndcg@10"] == 1.0
    assert "original:hit@1" in result.metrics and "recall@100" in result.metrics
    assert {r["id"] for r in result.rows} == {"q1", "q2"}
    assert calls[-1] == (4, 4)  # each judged query by text, then by its original wording
    built = (tmp_path / "idx" / "meta.json").stat().st_mtime_ns
    evaluate_beir(beir, settings, HashingEmbedder(64), index_dir=tmp_path / "idx")
    assert (tmp_path / "idx" / "meta.json").stat().st_mtime_ns == built


def test_evaluate_beir_refuses_an_index_of_another_corpus(tmp_path, hashing_index):
    from ipchat.embedding import HashingEmbedder

    beir = _write_beir(tmp_path / "beir")
    with pytest.raises(IndexMismatchError, match="another corpus"):
        evaluate_beir(beir, hashing_index, HashingEmbedder(64), index_dir=hashing_index.index)


def _parse(argv):
    return add_eval_arguments(argparse.ArgumentParser()).parse_args(argv)


def test_run_cli_writes_the_report_compares_and_gates(tmp_path, capsys):
    beir = _write_beir(tmp_path / "beir")
    (tmp_path / "old.json").write_text(json.dumps({"metrics": {"hit@1": 0.5, "ndcg@10": 1.0}}))
    status = cmd_eval(_parse([
        "--beir", str(beir), "--model", "hashing-64", "--out", str(tmp_path / "out"),
        "--baseline", str(tmp_path / "old.json"), "--min", "hit@1=1.01", "--min", "mrr=0.5", "--max", "over_block=0",
    ]))
    out, err = capsys.readouterr()
    assert status == 3
    assert "hit@1" in out and "0.500 ->     1.000  (+0.500)  better" in out
    failures = [line for line in err.splitlines() if "FAIL" in line]
    assert len(failures) == 2 and "hit@1 = 1.000 is below the minimum 1.01" in failures[0]
    assert "over_block was not measured" in failures[1]
    assert (tmp_path / "out" / "hit_at_k.png").read_bytes()[:8] == PNG
    assert cmd_eval(_parse(["--beir", str(beir), "--model", "hashing-64", "--min", "hit@1=1"])) == 0


def test_cli_errors_are_one_line_before_any_work(tmp_path, capsys):
    assert main(["eval", "--safety", str(tmp_path / "none.tsv"), "--min", "hit@7=1"]) == 1
    assert "Unknown metric 'hit@7'" in capsys.readouterr().err
    assert main(["eval"]) == 1
    assert "exactly one of" in capsys.readouterr().err
    (tmp_path / "cases.tsv").write_text("label\ttext\nwhatever\tx\n")
    assert main(["eval", "--safety", str(tmp_path / "cases.tsv")]) == 1
    assert "cases.tsv:2: label 'whatever'" in capsys.readouterr().err


def test_eval_arguments_fit_a_subcommand_and_run_the_real_safety_layer(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="ipchat")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("eval")
    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)
    (tmp_path / "cases.tsv").write_text("label\ttext\ncrisis\ti want to kill myself\nnone\twhat is TMS?\n")
    args = parser.parse_args(["-v", "eval", "--safety", str(tmp_path / "cases.tsv"), "--min", "crisis_recall=1",
                              "--max", "over_block=0", "--out", str(tmp_path / "out")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "crisis_recall" in out and "cases 2" in out
    assert (tmp_path / "out" / "report.md").is_file()


def test_conversations_are_read_with_the_last_message_judged_and_the_earlier_as_history(tmp_path):
    path = tmp_path / "turns.jsonl"
    path.write_text(json.dumps({"id": "c1", "messages": ["i bought a rope", "what time do you close"], "label": "crisis"})
                    + "\n\n" + json.dumps({"messages": ["what is TMS"], "label": "None"}) + "\n", encoding="utf-8")
    rows = load_safety_rows(path)
    assert [(r["text"], r["history"], r["label"]) for r in rows] == [
        ("what time do you close", ["i bought a rope"], "crisis"), ("what is TMS", [], "none")]
    assert rows[0]["id"] == "c1" and rows[1]["line"] == 3
    seen = []
    evaluate_safety(rows, assess=lambda text, history=(): seen.append((text, history)) or SimpleNamespace(level="none"))
    assert seen[1:] == [("what time do you close", ("i bought a rope",)), ("what is TMS", ())]  # after the warm-up


@pytest.mark.parametrize(("line", "message"), [
    ('{"messages": [], "label": "none"}', "non-empty strings"),
    ('{"messages": ["hi", ""], "label": "none"}', "non-empty strings"),
    ('{"messages": "hi", "label": "none"}', "non-empty strings"),
    ('{"messages": ["hi"], "label": "urgent"}', "is not one of"),
    ('["hi"]', "non-empty strings"),
    ('{"messages": ["hi"]', "not valid JSON"),
])
def test_bad_conversation_lines_are_named(tmp_path, line, message):
    path = tmp_path / "turns.jsonl"
    path.write_text(json.dumps({"messages": ["ok"], "label": "none"}) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"turns.jsonl:2: .*{message}"):
        load_safety_rows(path)
