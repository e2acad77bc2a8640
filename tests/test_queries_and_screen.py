"""Questions on the fast path: the bundled answer model embeds queries on onnxruntime (the same vectors as
torch's, builds stay on torch), and the answers' model screens each turn before the safety model reads it
(what it hears no risk in at all, the rules alone read)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ipchat import mpnet, queries
from ipchat.embedding import QUERY_TEXTS, SentenceTransformerEmbedder, load_embedder
from ipchat.errors import IpchatError, ModelError
from ipchat.runtime import OnnxEmbedder
from ipchat.safety import asks, assess, read_turn, semantic_assessor, turn_texts
from ipchat.safety import backstop as bs
from ipchat.settings import DEFAULT_MODEL, SAFETY_SCREEN, Settings, load_settings

TEXTS = ["is ECT indicated for severe suicidality?", "how many tms sessions is a full course",
         "whats the recovery like after a ketamine drip, can i drive home", "ok"]


# -- queries on onnxruntime ---------------------------------------------------------------------------

@pytest.mark.parametrize("field, variable, what", [("query_runtime", "IPCHAT_QUERY_RUNTIME", "query runtime"),
                                                   ("safety_runtime", "IPCHAT_SAFETY_RUNTIME", "safety runtime")])
def test_a_runtime_is_a_setting_that_leaves_the_digest_alone(field, variable, what):
    # The same model and vectors either way (to about 1e-6), so an answer's digest does not depend on it.
    assert getattr(load_settings(environ={}), field) == "auto"
    assert getattr(load_settings(environ={variable: " Torch "}), field) == "torch"
    with pytest.raises(IpchatError, match=f"Unknown {what} 'gpu'.*auto, onnx, torch"):
        load_settings(environ={variable: "gpu"})
    assert Settings().digest() == Settings(**{field: "torch"}).digest() == Settings(**{field: "onnx"}).digest()


def test_queries_run_on_onnxruntime_with_torchs_vectors_and_builds_stay_on_torch(real_embedder, monkeypatch):
    assert real_embedder.query_runtime == "auto"
    on_torch = load_embedder(DEFAULT_MODEL, query_runtime="torch")
    assert on_torch.query_runtime == "torch" and on_torch._onnx_queries() is None
    query = real_embedder.embed(TEXTS)
    assert isinstance(real_embedder._queries, OnnxEmbedder)  # made (or found) at the first query
    reference = on_torch.embed(TEXTS)
    assert query.shape == reference.shape == (len(TEXTS), 384)
    assert np.abs(query - reference).max() < 1e-5
    calls = []
    monkeypatch.setattr(real_embedder._queries, "embed", lambda *a, **k: calls.append(a) or np.zeros((1, 384)))
    build = real_embedder.embed(TEXTS * (QUERY_TEXTS // len(TEXTS) + 1))  # more than a query's texts: torch
    assert not calls and np.abs(build[:len(TEXTS)] - reference).max() < 1e-5
    real_embedder.embed(TEXTS[:1])
    assert len(calls) == 1


def test_another_model_and_an_unknown_runtime(monkeypatch):
    with pytest.raises(ModelError, match="Unknown query runtime 'fast'"):
        SentenceTransformerEmbedder(DEFAULT_MODEL, query_runtime="fast")
    assert load_embedder("hashing-16", query_runtime="onnx").dimension == 16  # the test embedder has no runtime


def test_auto_falls_back_to_torch_with_a_warning_and_onnx_is_an_error(monkeypatch, caplog):
    def broken(*_a, **_k):
        raise ModelError("Queries on onnxruntime need the package onnxruntime")

    monkeypatch.setattr(queries, "query_embedder", broken)
    auto = load_embedder(DEFAULT_MODEL)
    vectors = auto.embed(TEXTS[:2])
    assert auto.query_runtime == "torch" and "queries run on torch" in caplog.text and vectors.shape == (2, 384)
    with pytest.raises(ModelError, match="need the package onnxruntime"):
        load_embedder(DEFAULT_MODEL, query_runtime="onnx")


EXPORTS = {  # the two fp32 exports: the answers' model's queries, the safety model
    "queries": (queries.query_embedder, queries.check_export, queries.MODEL_FILE, queries.MINILM_SHA256,
                queries.EXPORT_VERSION, 384, "real_embedder"),
    "mpnet": (mpnet.onnx_embedder, mpnet.check_onnx, mpnet.ONNX_FILE, mpnet.SHA256["model.safetensors"],
              mpnet.ONNX_VERSION, 768, "safety_embedder"),
}


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_an_export_is_made_once_and_made_again_when_its_file_changes(export, request, tmp_path, caplog):
    make, check, model_file, source, version, dimension, reference = EXPORTS[export]
    reference = request.getfixturevalue(reference)
    place = tmp_path / "export"
    made = make(places=[place])
    record = json.loads((place / "export.json").read_text(encoding="utf-8"))
    assert record["sha256"] == made.encoder_sha256 and record["source_sha256"] == source
    assert record["export_version"] == version and record["dimension"] == dimension
    assert check(place) == record
    stamp = (place / model_file).stat().st_mtime_ns
    make(places=[place])
    assert (place / model_file).stat().st_mtime_ns == stamp  # found, not made again
    with open(place / model_file, "r+b") as written:
        written.seek(-64, 2)
        written.write(b"\0" * 64)
    with pytest.raises(ModelError, match="does not match the sha256"):
        check(place)
    again = make(places=[place])
    assert "making it again" in caplog.text and check(place)["sha256"] == again.encoder_sha256
    assert np.abs(again.embed(TEXTS) - reference.embed(TEXTS)).max() < 1e-5


# -- the safety screen --------------------------------------------------------------------------------

def test_the_screen_is_a_setting_off_at_zero():
    assert load_settings(environ={}).safety_screen == SAFETY_SCREEN > 0
    assert load_settings(environ={"IPCHAT_SAFETY_SCREEN": "0"}).safety_screen == 0
    with pytest.raises(IpchatError, match="IPCHAT_SAFETY_SCREEN must be at least 0 and below 1"):
        load_settings(environ={"IPCHAT_SAFETY_SCREEN": "1.5"})
    assert Settings().digest() != Settings(safety_screen=0.0).digest()


def test_there_is_a_screen_only_in_front_of_another_model_with_a_head(real_embedder, safety_embedder):
    settings = Settings()
    screen = bs.screen_for(settings, real_embedder, safety_embedder)
    assert screen is not None and screen.model == DEFAULT_MODEL and screen.threshold == SAFETY_SCREEN
    assert bs.screen_for(settings.replace(safety_screen=0.0), real_embedder, safety_embedder) is None
    assert bs.screen_for(settings, real_embedder, real_embedder) is None  # one model: nothing to save
    assert bs.screen_for(settings, load_embedder("hashing-32"), safety_embedder) is None  # no meaning, no head


def test_the_screen_clears_plain_questions_and_never_a_risk(real_embedder, safety_embedder):
    screen = bs.screen_for(Settings(), real_embedder, safety_embedder)
    backstop = bs.backstop_for(safety_embedder)
    for question in ("how many tms sessions is a full course", "what are the side effects of ECT"):
        found = read_turn(safety_embedder.embed, question, (), screen)
        assert found == {"screened": True}
        result = assess(question, backstop=backstop, **found)
        assert result.screened and not result.semantic and result.level == "none"
        assert result.to_dict()["screened"] is True
    # Read by the safety model: a risk the rules miss, one only heard with the earlier messages, and a clinical
    # question that names suicidality.
    for text, history in (("tms appt is thurs but honestly might not make it to thurs if u get me", ()),
                          ("friday", ("thinking about the bridge near campus a lot", "the high one")),
                          ("is ECT indicated for severe suicidality?", ())):
        assert screen.risk(turn_texts(text, history)) >= screen.threshold
        found = read_turn(safety_embedder.embed, text, history, screen)
        assert "vector" in found
        assert assess(text, history, backstop=backstop, **found).semantic


def test_a_disclosure_is_read_by_the_safety_model_whatever_the_screen_hears(real_embedder, safety_embedder):
    screen = bs.screen_for(Settings(), real_embedder, safety_embedder)
    backstop = bs.backstop_for(safety_embedder)
    text = "tms appt is thurs but might not make it to thurs if u get me"
    assert screen.risk(turn_texts(text, ())) < screen.threshold  # the answers' model hears nothing in it
    assert not asks(text)
    found = read_turn(safety_embedder.embed, text, (), screen)
    assert "vector" in found and assess(text, backstop=backstop, **found).level == "crisis"
    assert asks("is ECT safe post MI?") and asks("ok. and how long does it last") and not asks("might not be here monday tbh")


def test_an_evaluation_with_the_screen_judges_as_message_by_message(real_embedder, safety_embedder):
    screen = bs.screen_for(Settings(), real_embedder, safety_embedder)
    turns = [("what are the side effects of ECT", ()), ("tms appt is thurs but might not make it to thurs if u get me", ()),
             ("and for ketamine?", ("what are the side effects of ECT",))]
    judge = semantic_assessor(safety_embedder, turns, screen=screen)
    backstop = bs.backstop_for(safety_embedder)
    for text, history in turns:
        batch = judge(text, history)
        alone = assess(text, history, backstop=backstop, **read_turn(safety_embedder.embed, text, history, screen))
        assert (batch.level, batch.rule_ids, batch.screened) == (alone.level, alone.rule_ids, alone.screened)
    assert judge(*turns[0]).screened and not judge(*turns[1]).screened


def test_a_screened_question_costs_the_answers_model_one_call(real_retriever, monkeypatch):
    from ipchat.answer import Answerer

    answerer = Answerer(real_retriever)
    assert answerer.screen is not None
    question = "what are the side effects of shock therapy"
    query = real_retriever.expand_query(question)
    assert query != question  # the query searched for ("... (electroconvulsive therapy)") is not the message the screen reads
    real_retriever.forget_queries()
    calls = []
    embed = real_retriever._vectors._embed
    monkeypatch.setattr(real_retriever._vectors, "_embed", lambda texts: calls.append(list(texts)) or embed(texts))
    reply = answerer.ask(question)
    assert reply.safety.screened and reply.citations
    assert len(calls) == 1 and question in calls[0] and query in calls[0]


def test_the_crisis_reply_never_waits_on_the_answers_own_steps(real_retriever, monkeypatch):
    from ipchat import answer
    from ipchat.answer import Answerer

    answerer = Answerer(real_retriever)
    assert answerer.screen is not None

    def broken(question, history):
        raise RuntimeError("rewriting failed")

    monkeypatch.setattr(answer, "rewrite_followup", broken)
    reply = answerer.ask("i have a plan and a date. how long is an ECT course")
    assert reply.safety.level == "crisis" and reply.path == "crisis" and not reply.citations
    with pytest.raises(RuntimeError, match="rewriting failed"):
        answerer.ask("how long is an ECT course")  # an ordinary question still meets the failure, after the verdict
