"""The semantic backstop: shipped vectors match the bank, it raises and never lowers, it fits its model,
and the conversation rule reads signs in context."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ipchat.safety import assess, embed_for_backstop
from ipchat.safety import backstop as bs
from ipchat.safety.data import SafetyDataError, data_file
from ipchat.settings import DEFAULT_MODEL


def test_shipped_vectors_were_made_from_this_bank_with_the_default_model() -> None:
    exemplars = bs.load_exemplars()
    meta = json.loads(data_file("exemplars.json").read_text(encoding="utf-8"))
    vectors = np.load(data_file("exemplars.npy"), allow_pickle=False)
    assert meta["digest"] == bs.bank_digest(exemplars), "exemplars.toml changed: run python -m ipchat.safety.backstop --rebuild"
    assert meta["model"] == DEFAULT_MODEL
    assert vectors.shape == (len(exemplars), meta["dimension"])
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)


def test_bank_is_broad_and_labelled() -> None:
    exemplars = bs.load_exemplars()
    labels = [e.label for e in exemplars]
    assert labels.count("crisis") >= 300 and labels.count("concern") >= 100 and labels.count("negative") >= 200
    assert {e.lang for e in exemplars} >= {"en", "es", "fr", "de", "pt", "it"}


def _bank(vectors, labels) -> bs.Backstop:
    exemplars = tuple(bs.Exemplar(f"{label}.x.{i}", label, "x", "en", f"text {i}") for i, label in enumerate(labels))
    return bs.Backstop(exemplars, np.asarray(vectors, dtype=np.float32), "toy")


def test_judge_needs_agreeing_crisis_neighbours_for_crisis() -> None:
    e = np.eye(4, dtype=np.float32)
    bank = _bank([e[0], e[0], e[0], e[1], e[2]], ["crisis", "crisis", "crisis", "concern", "negative"])
    assert bank.judge(e[0]).level == "crisis"
    assert bank.judge(e[0]).rule_ids == ("semantic.crisis.x.0",)
    assert bank.judge(e[1]).level == "concern"  # the nearest risk exemplar is a concern one
    assert bank.judge(e[2]).level == "none"  # nearest is a negative
    assert bank.judge(e[3]).level == "none"  # nothing near


def test_judge_refuses_a_vector_of_another_model() -> None:
    bank = _bank(np.eye(3), ["crisis", "concern", "negative"])
    with pytest.raises(ValueError, match="has 3"):
        bank.judge(np.ones(5))


def test_backstop_never_lowers_what_the_rules_found() -> None:
    # A vector right on a negative exemplar cannot undo a crisis the rules found.
    e = np.eye(3, dtype=np.float32)
    bank = _bank([e[0], e[1], e[2]], ["crisis", "concern", "negative"])
    result = assess("I want to kill myself", vector=e[2], backstop=bank)
    assert result.level == "crisis" and result.semantic


def test_backstop_does_not_make_a_denial_a_crisis() -> None:
    # "I'm not going to hurt myself" sits next to "I'm going to hurt myself" in meaning-space.
    e = np.eye(3, dtype=np.float32)
    bank = _bank([e[0], e[0], e[0], e[2]], ["crisis", "crisis", "crisis", "negative"])
    result = assess("No, I'm not going to hurt myself. What are TMS side effects?", vector=e[0], backstop=bank)
    assert result.level == "concern"
    assert assess("what are TMS side effects?", vector=e[0], backstop=bank).level == "crisis"


def test_a_broken_bank_is_reported(monkeypatch) -> None:
    monkeypatch.setattr(bs, "read_table", lambda name: {"exemplar": [{"id": "a", "label": "maybe", "category": "x",
                                                                       "lang": "en", "text": "t"}]})
    with pytest.raises(SafetyDataError, match="label must be one of"):
        bs.load_exemplars()


@pytest.mark.model
def test_backstop_catches_what_no_rule_lists(real_embedder) -> None:
    backstop = bs.backstop_for(real_embedder)
    message = "my family will be fine, i've made sure of that, it's my turn to rest now"
    rules_only = assess(message)
    vector, sentences = embed_for_backstop(real_embedder, message)
    both = assess(message, vector=vector, backstop=backstop, sentence_vectors=sentences)
    assert rules_only.level == "none"
    assert both.level in ("concern", "crisis") and both.semantic
    assert any(rule_id.startswith("semantic.crisis.") for rule_id in both.rule_ids)


@pytest.mark.model
def test_backstop_reads_each_sentence_of_a_long_message(real_embedder) -> None:
    # One risky clause inside a long treatment question: the message's vector alone is diluted.
    backstop = bs.backstop_for(real_embedder)
    message = ("My TMS course starts next week and I have a few questions about parking and the timetable. "
               "My family will be fine, I've made sure of that, it's my turn to rest now. Do I need someone to drive me?")
    vector, sentences = embed_for_backstop(real_embedder, message)
    assert len(sentences) == 3 and all(s is not None for s in sentences)
    whole = backstop.judge(vector)
    per_sentence = backstop.judge_message(vector, sentences)
    assert {"none": 0, "concern": 1, "crisis": 2}[per_sentence.level] > {"none": 0, "concern": 1, "crisis": 2}[whole.level]


@pytest.mark.model
@pytest.mark.parametrize("message", [
    "Is ECT indicated for severe suicidality?",
    "How fast does ketamine reduce suicidal thoughts?",
    "this exam is killing me, does TMS help with focus?",
    "I'm not suicidal, just curious how TMS works",
])
def test_backstop_leaves_clinical_questions_and_idioms_alone(real_embedder, message) -> None:
    backstop = bs.backstop_for(real_embedder)
    result = assess(message, vector=real_embedder.embed([message])[0], backstop=backstop)
    assert result.level in ("none", "clinical")


# --------------------------------------------------------------------------------------
# The conversation rule: signs read in context
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("history", "message"), [
    (["I've been thinking about ending it"], "I have the pills saved"),
    (["everything is hopeless and I'm so done"], "how many of those would be too many?"),
    (["I bought a rope today."], "I'm just so done with all of this"),
    (["I attempted suicide two years ago"], "I set a date"),
])
def test_two_messages_together_state_risk_and_a_plan(history, message) -> None:
    assert assess(message).level != "crisis"
    result = assess(message, history=history)
    assert result.level == "crisis"
    assert "crisis.in_conversation" in result.rule_ids


@pytest.mark.parametrize(("history", "message"), [
    (["Is ECT indicated for severe suicidality?"], "what's the plan for tapering my meds?"),
    (["my son has been very depressed"], "I bought a rope for the garden swing"),
    (["this exam is killing me"], "I set a date for my first TMS session"),
])
def test_clinical_context_does_not_turn_plans_into_crises(history, message) -> None:
    assert assess(message, history=history).level != "crisis"


# --------------------------------------------------------------------------------------
# The folded multi-turn set: every conversation, its last message read in context
# --------------------------------------------------------------------------------------

import pathlib  # noqa: E402

_TURNS = [json.loads(line) for line in
          (pathlib.Path(__file__).resolve().parent.parent / "eval" / "safety" / "turns.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("row", _TURNS, ids=[row["id"] for row in _TURNS])
def test_folded_conversation(row) -> None:
    result = assess(row["messages"][-1], history=row["messages"][:-1])
    assert result.level == row["label"], f"{row['why']}: got {result.level} via {result.rule_ids}"
