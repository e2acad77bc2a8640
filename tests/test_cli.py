"""The command line: JSON shapes, stdin modes, and one-line errors with exit status 1."""

import io
import json
import subprocess
import sys

import pytest

from ipchat.cli import main

HIT_FIELDS = ["rank", "chunk_id", "doc_id", "title", "section", "text", "start", "end", "score", "dense_score", "bm25_score"]


@pytest.fixture
def built(small_corpus, tmp_path, capsys):
    index = tmp_path / "idx"
    assert main(["build", "--corpus", str(small_corpus), "--index", str(index), "--model", "hashing-64"]) == 0
    out = capsys.readouterr().out
    assert "Indexed 1 document(s)" in out and "chunks" in out
    return index


def test_search_json_shape(built, capsys):
    assert main(["search", "fleas and ticks", "--index", str(built), "-k", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == "fleas and ticks"
    assert len(data["hits"]) == 2
    assert list(data["hits"][0]) == HIT_FIELDS
    assert "Fleas and ticks" in data["hits"][0]["text"]


def test_search_stdin_writes_one_object_per_line(built, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("cats sleep\n\nvet visit\n"))
    assert main(["search", "-", "--index", str(built)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(l)["query"] for l in lines] == ["cats sleep", "vet visit"]


def test_ask_json_and_stdin_with_history(built, capsys, monkeypatch):
    assert main(["ask", "how long do cats sleep?", "--index", str(built), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"question", "rewritten_query", "answer", "abstained", "citations", "hits", "safety", "timings_ms"} <= set(data)
    lines = 'how long do cats sleep?\n{"question": "does it hurt?", "history": ["How does TMS work?"]}\n{"question": 3}\n'
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    assert main(["ask", "-", "--index", str(built)]) == 0
    out = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert out[0]["question"] == "how long do cats sleep?"
    assert out[1]["question"] == "does it hurt?"
    assert out[1]["rewritten_query"].startswith("does TMS")  # the history reached the rewrite
    assert "error" in out[2]


def test_ask_human_output_lists_sources(built, capsys):
    assert main(["ask", "Which problems do dogs commonly have?", "--index", str(built)]) == 0
    out = capsys.readouterr().out
    assert "- Fleas and ticks" in out.split("Sources:")[0]  # the answer quotes the list
    assert "[1] Pet care — Dogs" in out and "https://example.org/pets" in out.split("Sources:")[1]


def test_ask_human_output_says_what_the_sources_lack(built, capsys):
    # The pet corpus never mentions lithium: the question is declined with a note saying so.
    assert main(["ask", "What is lithium used for?", "--index", str(built)]) == 0
    out = capsys.readouterr().out
    assert "The indexed sources don't cover this." in out
    assert "Note: The indexed sources never mention lithium." in out
    assert "Closest material (not an answer):" in out


def test_safety_stdin_does_not_echo_text(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("I want to kill myself tonight, Zephyrine\nwhat is TMS?\n"))
    assert main(["safety", "--json", "-"]) == 0
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [l["level"] for l in lines] == ["crisis", "none"]
    assert all(set(l) == {"level", "rule_ids", "semantic", "screened"} for l in lines)
    # The default models load: the backstop read the crisis, the screen cleared the question.
    assert [(l["semantic"], l["screened"]) for l in lines] == [(True, False), (False, True)]
    assert "Zephyrine" not in json.dumps(lines) and "tonight" not in json.dumps(lines)


def test_safety_says_when_it_runs_on_rules_alone(capsys, monkeypatch):
    monkeypatch.setenv("IPCHAT_MODEL", "hashing-x")  # no such model: nothing can be loaded
    monkeypatch.setenv("IPCHAT_SAFETY_MODEL", "hashing-x")
    assert main(["safety", "I envy people who die in their sleep"]) == 0
    out = capsys.readouterr().out
    assert "level: crisis" in out
    assert "checks: rules only (no model could be loaded" in out
    assert main(["safety", "--rules-only", "--json", "what is TMS?"]) == 0
    assert json.loads(capsys.readouterr().out)["semantic"] is False


def test_safety_reads_the_conversation(capsys):
    # Each message alone is below crisis; together they state hopelessness and a plan.
    argv = ["safety", "--rules-only", "I bought a rope today"]
    assert main(argv) == 0
    assert "level: none" in capsys.readouterr().out
    assert main(argv + ["--history", "everything is hopeless, I can't see a way out"]) == 0
    out = capsys.readouterr().out
    assert "level: crisis" in out and "crisis.in_conversation" in out


@pytest.mark.parametrize("argv, message", [
    (["search", "x", "--index", "/nonexistent/idx"], "No index at /nonexistent/idx"),
    (["build", "--corpus", "/nonexistent/corpus", "--index", "/tmp/never", "--model", "hashing-64"], "does not exist"),
    (["search", "   ", "--index", "{index}"], "empty"),
    (["search", "x", "--index", "{index}", "--model", "another-model"], "was built with model"),
])
def test_expected_failures_are_one_line_with_status_1(built, capsys, argv, message):
    argv = [a.replace("{index}", str(built)) for a in argv]
    assert main(argv) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ipchat: ") and message in err[0]
    assert "Traceback" not in captured.err


def test_console_script_exit_status(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ipchat.cli", "search", "x", "--index", str(tmp_path / "none")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("ipchat: No index at")
    assert "Traceback" not in result.stderr


def test_progress_in_a_log_says_the_rate_and_the_time_left(caplog, monkeypatch):
    import logging

    from ipchat import cli

    clock = iter([100.0, 110.0, 120.0])
    monkeypatch.setattr(cli.time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: False, raising=False)
    update, close = cli._progress_bar("Embedding", unit="chunk", logger=logging.getLogger("ipchat.test"))
    with caplog.at_level(logging.INFO, logger="ipchat.test"):
        update(0, 400)
        update(100, 400)   # 100 chunks in 10 s: 300 left at 10/s
        update(200, 400)
    close()
    assert "Embedding: 100/400 (10.0 chunk/s, 30 s left)" in caplog.text
    assert "Embedding: 200/400 (10.0 chunk/s, 20 s left)" in caplog.text
    assert cli._duration(3725) == "1 h 02 min" and cli._duration(185) == "3 min 05 s"
