"""The semantic backstop: shipped vectors match the bank, it raises and never lowers, it fits its model,
and the conversation rule reads signs in context."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from ipchat.errors import InputError
from ipchat.safety import assess, embed_for_backstop, embed_turn
from ipchat.safety import backstop as bs
from ipchat.safety.data import SafetyDataError, model_folder
from ipchat.safety.head import Head, load_head, match_rates, risk, train_head, write_head
from ipchat.settings import DEFAULT_MODEL, SAFETY_MODEL


@pytest.mark.parametrize("model", [SAFETY_MODEL, DEFAULT_MODEL])
def test_shipped_vectors_were_made_from_this_bank_with_each_model(model) -> None:
    exemplars = bs.load_exemplars()
    meta = json.loads((model_folder(model) / "exemplars.json").read_text(encoding="utf-8"))
    vectors = np.load(model_folder(model) / "exemplars.npy", allow_pickle=False)
    assert meta["digest"] == bs.bank_digest(exemplars), \
        f"exemplars.toml changed: run python -m ipchat.safety.backstop --rebuild --model {model}"
    assert meta["model"] == model
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


def test_risk_exemplars_of_several_sentences_vote_only_on_texts_of_several() -> None:
    e = np.eye(4, dtype=np.float32)
    texts = ["How many sessions does it take? I can't hold on that long.", "a plain one", "a question", "x"]
    labels = ["concern", "concern", "negative", "negative"]
    exemplars = tuple(bs.Exemplar(f"{label}.x.{i}", label, "x", "en", text)
                      for i, (label, text) in enumerate(zip(labels, texts)))
    bank = bs.Backstop(exemplars, np.stack([e[0], e[1], e[2], e[3]]), "toy")
    assert bank.judge(e[0]).level == "concern"  # a message of several sentences
    assert bank.judge(e[0], several=False).level == "none"  # one sentence: like it only in part
    assert bank.judge(e[1], several=False).level == "concern"  # a one-sentence exemplar votes on anything
    # the message's own vector counts as several sentences only when it has them; its sentences never do
    assert bank.judge_message(e[0]).level == "none"
    assert bank.judge_message(e[0], [e[2], e[3]]).level == "concern"
    assert bank.judge_message(None, [e[0], e[3]]).level == "none"
    assert bank.judge_message(e[0], several=True).level == "concern"


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


def test_backstop_does_not_raise_a_denial_or_a_clinical_question() -> None:
    # "I'm not going to hurt myself" sits next to "I'm going to hurt myself" in meaning-space; what
    # the rules read as a denial or a clinical topic, the backstop leaves alone.
    e = np.eye(3, dtype=np.float32)
    bank = _bank([e[0], e[0], e[0], e[2]], ["crisis", "crisis", "crisis", "negative"])
    result = assess("No, I'm not going to hurt myself. What are TMS side effects?", vector=e[0], backstop=bank)
    assert result.level == "clinical"
    assert assess("Is ECT indicated for severe suicidality?", vector=e[0], backstop=bank).level == "clinical"
    assert assess("what are TMS side effects?", vector=e[0], backstop=bank).level == "crisis"


def test_backstop_does_not_make_someone_elses_words_the_writers_crisis() -> None:
    e = np.eye(3, dtype=np.float32)
    bank = _bank([e[0], e[0], e[0], e[2]], ["crisis", "crisis", "crisis", "negative"])
    about_him = "ma pal keeps sayin he's gonnae go tae the bridge. what dae i dae"
    assert assess(about_him, vector=e[0], backstop=bank).level == "concern"
    assert assess("keep thinking about the bridge. what do i do", vector=e[0], backstop=bank).level == "crisis"


def _head(direction: np.ndarray, risk_p: float = 0.9) -> Head:
    """A one-member head that reads `direction` as crisis and its opposite as negative."""
    d = direction.shape[0]
    w1 = np.stack([direction, -direction], axis=1)[None].astype(np.float32)  # (1, d, 2)
    w2 = np.array([[[0.0, 0.0, 20.0], [20.0, 0.0, 0.0]]], dtype=np.float32)  # hidden 0 -> crisis, 1 -> negative
    return Head("toy", w1, np.zeros((1, 2), np.float32), w2, np.zeros((1, 3), np.float32), risk_p)


def test_head_levels_follow_its_probabilities_and_threshold() -> None:
    e = np.eye(4, dtype=np.float32)
    head = _head(e[0])
    assert head.level(e[0])[0] == "crisis"
    assert head.level(-e[0])[0] == "none"
    assert head.level(e[1])[0] == "none"  # all logits equal: a third each, below the threshold
    assert np.allclose(head.probs(np.stack([e[0], e[1]])).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="has 4"):
        head.probs(np.ones(3))
    with pytest.raises(SafetyDataError):
        _head(e[0], risk_p=1.5)


def test_head_raises_what_the_vote_misses_and_names_itself() -> None:
    e = np.eye(4, dtype=np.float32)
    exemplars = tuple(bs.Exemplar(f"{label}.x.{i}", label, "x", "en", "t") for i, label in
                      enumerate(["crisis", "negative"]))
    backstop = bs.Backstop(exemplars, np.stack([e[1], e[2]]), "toy", _head(e[0]))
    verdict = backstop.judge(e[0])  # far from every exemplar: the vote says nothing
    assert verdict.level == "crisis" and verdict.rule_ids[0] == "semantic.head"
    assert backstop.judge_message(e[3], [e[3], e[0]]).sentence == 1


def test_a_head_of_another_size_is_refused() -> None:
    e = np.eye(4, dtype=np.float32)
    with pytest.raises(SafetyDataError, match="4-d"):
        bs.Backstop(tuple(bs.Exemplar("c.x.0", "crisis", "x", "en", "t") for _ in range(1)), np.eye(3)[:1], "toy",
                    _head(e[0]))


def test_a_written_head_is_read_back_and_checked(tmp_path) -> None:
    e = np.eye(4, dtype=np.float32)
    write_head(_head(e[0]), {"files": {}}, tmp_path)
    loaded = load_head("toy", tmp_path)
    assert loaded is not None and np.allclose(loaded.probs(e[0]), _head(e[0]).probs(e[0]))
    assert load_head("another-model", tmp_path) is None
    (tmp_path / "head.npz").write_bytes((tmp_path / "head.npz").read_bytes() + b"x")
    with pytest.raises(SafetyDataError, match="sha256"):
        load_head("toy", tmp_path)


def test_a_heads_own_thresholds_are_written_read_back_and_used(tmp_path) -> None:
    e = np.eye(4, dtype=np.float32)
    head = replace(_head(e[0]), history_risk_p=0.97, own_share_p=0.4)
    write_head(head, {"files": {}}, tmp_path)
    loaded = load_head("toy", tmp_path)
    assert (loaded.history_risk_p, loaded.own_share_p) == (0.97, 0.4)
    plain = write_head(_head(e[0]), {"files": {}}, tmp_path / "plain").parent
    assert load_head("toy", plain).history_risk_p is None
    exemplars = (bs.Exemplar("crisis.x.0", "crisis", "x", "en", "t"),)
    # The head's own threshold for earlier messages comes before the vote's; without one, the vote's stands.
    assert bs.Backstop(exemplars, e[1:2], "toy", loaded, {"history_risk_p": 0.99}).history_risk_p == 0.97
    assert bs.Backstop(exemplars, e[1:2], "toy", _head(e[0]), {"history_risk_p": 0.99}).history_risk_p == 0.99
    with pytest.raises(SafetyDataError, match="own_share_p"):
        replace(_head(e[0]), own_share_p=0.0)


def test_a_message_carries_part_of_the_risk_at_its_heads_own_share() -> None:
    from ipchat.safety import OWN_SHARE_P, _carries_part

    e = np.eye(4, dtype=np.float32)
    exemplars = (bs.Exemplar("crisis.x.0", "crisis", "x", "en", "t"),)
    vector = (0.05 * e[0] + e[1]) / np.linalg.norm(0.05 * e[0] + e[1])  # risk about 0.79 under the toy head
    risk = float(_head(e[0]).probs(vector)[1:].sum())
    assert OWN_SHARE_P < risk < 0.85
    assert _carries_part(bs.Backstop(exemplars, e[2:3], "toy", _head(e[0])), vector)
    assert not _carries_part(bs.Backstop(exemplars, e[2:3], "toy", replace(_head(e[0]), own_share_p=0.85)), vector)


def test_matched_thresholds_pass_as_many_messages_as_the_old_head_did() -> None:
    rng = np.random.default_rng(1)
    e = np.eye(4, dtype=np.float32)
    vectors = rng.normal(0, 1, (200, 4)).astype(np.float32)
    old, new = _head(e[0]), _head(e[0] * 0.5 + e[1] * 0.5)  # a different, less sure reading of risk
    thresholds = {"risk_p": 0.9, "history_risk_p": 0.99, "own_share_p": 0.5}
    matched = match_rates(new, old, vectors, thresholds)
    old_risk, new_risk = risk(old, vectors), risk(new, vectors)
    for name, threshold in thresholds.items():
        assert (new_risk >= matched[name]).sum() == (old_risk >= threshold).sum() > 0, name
    assert matched["risk_p"] <= matched["history_risk_p"]
    # The same head matches itself at its own thresholds' ranks.
    assert all((old_risk >= v).sum() == (old_risk >= thresholds[k]).sum()
               for k, v in match_rates(old, old, vectors, thresholds).items())
    with pytest.raises(ValueError):
        match_rates(new, old, vectors[:0], thresholds)


def test_a_retrained_head_gets_the_shipped_heads_rates_over_the_conversations_given(tmp_path, monkeypatch) -> None:
    e = np.eye(4, dtype=np.float32)
    rng = np.random.default_rng(2)
    texts = [f"message {i}" for i in range(60)]
    vectors = dict(zip(texts, rng.normal(0, 1, (60, 4)).astype(np.float32)))

    class Embedder:
        name = "toy"

        def embed(self, batch):
            return np.stack([vectors[text] for text in batch])

    conversations = tmp_path / "turns1.jsonl"
    conversations.write_text("".join(json.dumps({"messages": texts[i:i + 3], "label": "none"}) + "\n"
                                     for i in range(0, 60, 3)), encoding="utf-8")
    shipped = bs.Backstop((bs.Exemplar("crisis.x.0", "crisis", "x", "en", "t"),), e[1:2], "toy", _head(e[0], 0.9),
                          {"history_risk_p": 0.99})
    monkeypatch.setattr(bs, "build_backstop", lambda embedder: shipped)
    trained_on: dict = {"files": {}}
    retrained = bs._rates_matched(_head(e[0] + e[1]), Embedder(), [conversations], trained_on)
    old_risk, new_risk = risk(shipped.head, np.stack(list(vectors.values()))), risk(retrained, np.stack(list(vectors.values())))
    for name, old in (("risk_p", 0.9), ("history_risk_p", 0.99), ("own_share_p", 0.5)):
        assert (new_risk >= getattr(retrained, name)).sum() == (old_risk >= old).sum()
    assert trained_on["rates_matched"] == {"messages": 60, "files": ["turns1.jsonl"],
                                           "shipped": {"risk_p": 0.9, "history_risk_p": 0.99, "own_share_p": 0.5}}


def test_train_head_learns_a_separable_toy_set() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(8, dtype=np.float32)[:3] * 3
    x = np.vstack([c + rng.normal(0, 0.3, (40, 8)) for c in centres]).astype(np.float32)
    y = np.repeat([0, 1, 2], 40)
    head = train_head(x, y, members=2, hidden=8, epochs=30, risk_p=0.5)
    predicted = head.probs(x).argmax(axis=1)
    assert (predicted == y).mean() > 0.95
    with pytest.raises(ValueError):
        train_head(x, y[:-1])


@pytest.mark.parametrize("model", [SAFETY_MODEL, DEFAULT_MODEL])
def test_each_shipped_head_reads_its_model_and_says_what_it_learnt_from(model) -> None:
    meta = json.loads((model_folder(model) / "head.json").read_text(encoding="utf-8"))
    head = load_head(model)
    assert head is not None and head.model == model and meta["model"] == model
    assert 0.8 <= head.risk_p < 1.0
    assert meta["trained_on"]["exemplars"]["digest"] == bs.bank_digest(bs.load_exemplars()), \
        "exemplars.toml changed: retrain the head (python -m ipchat.safety.backstop --train-head ...)"
    assert {"cases.tsv", "batch1.tsv"} <= set(meta["trained_on"]["files"])


def test_a_broken_bank_is_reported(monkeypatch) -> None:
    monkeypatch.setattr(bs, "read_table", lambda name: {"exemplar": [{"id": "a", "label": "maybe", "category": "x",
                                                                       "lang": "en", "text": "t"}]})
    with pytest.raises(SafetyDataError, match="label must be one of"):
        bs.load_exemplars()


@pytest.mark.model
def test_backstop_catches_what_no_rule_lists(safety_embedder) -> None:
    backstop = bs.backstop_for(safety_embedder)
    message = "my family will be fine, i've made sure of that, it's my turn to rest now"
    rules_only = assess(message)
    vector, sentences = embed_for_backstop(safety_embedder, message)
    both = assess(message, vector=vector, backstop=backstop, sentence_vectors=sentences)
    assert rules_only.level == "none"
    assert both.level in ("concern", "crisis") and both.semantic
    assert any(rule_id.startswith("semantic.crisis.") for rule_id in both.rule_ids)


@pytest.mark.model
def test_backstop_reads_each_sentence_of_a_long_message(safety_embedder) -> None:
    # One risky clause inside a long treatment question: the message's vector alone is diluted.
    backstop = bs.backstop_for(safety_embedder)
    message = ("My TMS course starts next week and I have a few questions about parking and the timetable. "
               "My family will be fine, I've made sure of that, it's my turn to rest now. Do I need someone to drive me?")
    vector, sentences = embed_for_backstop(safety_embedder, message)
    assert len(sentences) == 3 and all(s is not None for s in sentences)
    # The risky sentence is heard on its own as risk (crisis or concern: the head's calibration moves a step between
    # trainings), the ordinary ones are not, and the message gets at least the risky one's verdict.
    rank = {"none": 0, "concern": 1, "crisis": 2}
    risky = backstop.judge(sentences[1]).level
    assert risky != "none"
    assert backstop.judge(sentences[0]).level == "none" and backstop.judge(sentences[2]).level == "none"
    assert rank[backstop.judge_message(vector, sentences).level] >= rank[risky]


@pytest.mark.model
@pytest.mark.parametrize("message", [
    "Is ECT indicated for severe suicidality?",
    "How fast does ketamine reduce suicidal thoughts?",
    "this exam is killing me, does TMS help with focus?",
    "I'm not suicidal, just curious how TMS works",
    # How long a medication takes to work shares only the drug and a number with "I took my whole month of
    # antidepressants": these were read as a crisis before the bank held questions of the kind.
    "how many weeks do antidepressants take to reach full effect? exam q",
    "how long till antidepressants fully kick in",
])
def test_backstop_leaves_clinical_questions_and_idioms_alone(safety_embedder, message) -> None:
    backstop = bs.backstop_for(safety_embedder)
    result = assess(message, vector=safety_embedder.embed([message])[0], backstop=backstop)
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


class _Hears:
    """A backstop that gives one verdict to every vector, and counts what it judged."""

    def __init__(self, level: str) -> None:
        self.level, self.judged = level, 0

    def judge_message(self, vector, sentence_vectors=(), several=None) -> bs.Verdict:
        self.judged += 1
        if vector is None and not any(v is not None for v in sentence_vectors):
            return bs.Verdict("none", (), 0.0, 0.0)  # nothing to hear
        sentence = -1 if vector is not None else next(n for n, v in enumerate(sentence_vectors) if v is not None)
        return bs.Verdict(self.level, (f"semantic.{self.level}.x",) if self.level != "none" else (), 0.9, 0.1,
                          sentence)


_UNHEARD = "most days I figure the guys who didn't come home got the better deal"  # the rules read nothing here
_NEXT = "does the pharmacy on main street close at 10 or 11?"


def test_risk_the_backstop_hears_in_an_earlier_message_keeps_the_next_one_a_crisis() -> None:
    assert assess(_UNHEARD).level == "none" and assess(_NEXT, history=[_UNHEARD]).level == "none"
    heard = _Hears("crisis")
    result = assess(_NEXT, history=[_UNHEARD], backstop=heard, history_vectors=[np.ones(4)])
    assert result.level == "crisis" and "crisis.in_conversation" in result.rule_ids
    assert result.history_level == "crisis" and result.show_resources and heard.judged == 1
    ordinary = "can my sister drive me to the first TMS session?"
    assert assess(ordinary, history=[_UNHEARD], backstop=_Hears("crisis"), history_vectors=[np.ones(4)]).level == "crisis"
    assert assess(ordinary, history=[_UNHEARD], backstop=_Hears("none"), history_vectors=[np.ones(4)]).level == "none"


def test_an_earlier_message_heard_as_concern_gives_context_to_a_sign_not_a_crisis_by_itself() -> None:
    sign = "I bought a rope yesterday"
    assert assess(sign).level != "crisis"
    ordinary = "can my sister drive me to the first TMS session?"
    assert assess(ordinary, history=[_UNHEARD], backstop=_Hears("concern"), history_vectors=[np.ones(4)]).level == "none"
    assert assess(sign, history=[_UNHEARD], backstop=_Hears("concern"), history_vectors=[np.ones(4)]).level == "crisis"


@pytest.mark.parametrize("earlier", [
    "I'm not suicidal at all, just curious how ECT works",  # the rules read it (a denial): the backstop is not asked
    "my brother keeps saying he wants to die",  # someone else's risk, read by the rules
])
def test_the_backstop_does_not_overrule_what_the_rules_read_in_an_earlier_message(earlier) -> None:
    heard = _Hears("crisis")
    result = assess(_NEXT, history=[earlier], backstop=heard, history_vectors=[np.ones(4)])
    assert result.level != "crisis" and heard.judged == 0


def test_a_conversation_head_hears_the_earlier_messages_and_the_new_head_the_message() -> None:
    e = np.eye(4, dtype=np.float32)
    exemplars = (bs.Exemplar("negative.x.0", "negative", "x", "en", "t"),)
    # The retrained head reads e[0] as a crisis; the head the conversation was tuned beside reads e[1].
    backstop = bs.Backstop(exemplars, e[3:4], "toy", _head(e[0], 0.8), {"history_risk_p": 0.95},
                           conversation_head=_head(e[1], 0.9))
    heard = backstop.in_conversation
    assert heard is backstop.in_conversation and heard.head.risk_p == 0.9 and heard.history_risk_p == 0.95
    assert heard.in_conversation is heard and bs.Backstop(exemplars, e[3:4], "toy", _head(e[0])).in_conversation.head.risk_p == 0.9
    ordinary = "can my sister drive me to the first TMS session?"
    # The message itself: the retrained head's reading.
    assert assess(_UNHEARD, vector=e[0], backstop=backstop).level == "crisis"
    assert assess(_UNHEARD, vector=e[1], backstop=backstop).level == "none"
    # An earlier message: the conversation head's.
    assert assess(ordinary, history=[_UNHEARD], backstop=backstop, history_vectors=[e[1]]).level == "crisis"
    assert assess(ordinary, history=[_UNHEARD], backstop=backstop, history_vectors=[e[0]]).level == "none"
    with pytest.raises(SafetyDataError, match="conversation head"):
        bs.Backstop(exemplars, e[3:4], "toy", _head(e[0]), conversation_head=_head(np.eye(3, dtype=np.float32)[0]))


def test_keeping_the_conversation_head_copies_the_shipped_one_once(tmp_path, monkeypatch) -> None:
    e = np.eye(4, dtype=np.float32)
    monkeypatch.setattr(bs, "model_folder", lambda model: tmp_path / model)
    with pytest.raises(SafetyDataError, match="no shipped head"):
        bs.keep_conversation_head("toy")
    write_head(_head(e[0], 0.9), {"files": {}}, tmp_path / "toy")
    kept = bs.keep_conversation_head("toy")
    assert kept == tmp_path / "toy" / bs.CONVERSATION_DIR and load_head("toy", kept).risk_p == 0.9
    write_head(_head(e[1], 0.7), {"files": {}}, tmp_path / "toy")  # retrained
    assert load_head("toy", bs.keep_conversation_head("toy")).risk_p == 0.9  # the first one stays


def test_history_without_vectors_or_with_an_unknown_one_is_read_by_the_rules_alone() -> None:
    heard = _Hears("crisis")
    assert assess(_NEXT, history=[_UNHEARD], backstop=heard).level == "none"
    assert assess(_NEXT, history=[_UNHEARD], backstop=heard, history_vectors=[None]).level == "none"
    assert heard.judged == 0


def test_history_vectors_must_match_the_history() -> None:
    with pytest.raises(InputError, match="one vector"):
        assess(_NEXT, history=[_UNHEARD, "hello"], backstop=_Hears("none"), history_vectors=[np.ones(4)])


def test_the_backstop_does_not_make_a_crisis_of_a_message_that_says_it_is_not_about_the_writer() -> None:
    said = "not talking about me, i just need to know how long a session lasts"
    assert assess(said).level == "none"
    assert assess(said, vector=np.ones(4), backstop=_Hears("crisis")).level == "concern"
    plain = "i just need to know how long a session lasts"
    assert assess(plain, vector=np.ones(4), backstop=_Hears("crisis")).level == "crisis"


_ABOUT_HIM = [
    "mom found a ziploc of his heart pills hidden in the garage, like weeks worth he didnt take",
    "gestern meinte er, wenn das auch nicht hilft, springt er von der Brücke",
]


@pytest.mark.parametrize("earlier", _ABOUT_HIM)
def test_risk_heard_in_a_message_about_someone_else_carries_to_the_next_as_a_concern(earlier) -> None:
    after = "is there any way to get his ECT moved up?"
    assert assess(earlier).level == "none" and assess(after, history=[earlier]).level == "none"
    result = assess(after, history=[earlier], backstop=_Hears("concern"), history_vectors=[np.ones(4)])
    assert result.level == "concern" and "concern.follow_up" in result.rule_ids
    assert result.history_level == "concern" and result.show_resources
    assert assess(after, history=[earlier], backstop=_Hears("none"), history_vectors=[np.ones(4)]).level == "none"


def test_what_the_backstop_hears_right_after_someone_elses_risk_goes_on_with_theirs() -> None:
    told = "a regular at the bar told me tonight hes going to jump off the multistorey after we close"
    after = "told security and they just laughed it off"
    last = "can they up the dose of his ketamine?"
    assert assess(told).level == "concern" and assess(after).level == "none"
    history = [told, after]
    result = assess(last, history=history, backstop=_Hears("crisis"), history_vectors=[np.ones(4), np.ones(4)])
    assert result.level == "concern" and result.history_level == "concern"
    # Heard with nothing of someone else's before it, the same words are the writer's.
    alone = assess(last, history=["hello", after], backstop=_Hears("crisis"), history_vectors=[np.ones(4), np.ones(4)])
    assert alone.level == "crisis"
    # ... and so is the writer's own risk the rules read after someone else's.
    own = "honestly i want to die too"
    assert assess(last, history=[told, own], backstop=_Hears("crisis"),
                  history_vectors=[np.ones(4), np.ones(4)]).level == "crisis"
    # Someone else's risk only heard, not read by the rules, does not make the writer's words theirs.
    heard_only = "my brother has had a rough year"
    assert assess(heard_only).level == "none"
    assert assess(last, history=[heard_only, after], backstop=_Hears("crisis"),
                  history_vectors=[np.ones(4), np.ones(4)]).level == "crisis"


def test_a_message_that_may_be_the_writers_own_counts_as_theirs_too() -> None:
    from ipchat.safety.rules import tells_of_someone_else

    earlier = "wife would be better off. tired of being a burden"  # a third person, and no "I"
    assert tells_of_someone_else(earlier) and tells_of_someone_else(_ABOUT_HIM[0])
    assert not tells_of_someone_else("I keep thinking my wife would be better off without me")
    assert not tells_of_someone_else(_UNHEARD)
    result = assess("how long is a TMS session", history=[earlier], backstop=_Hears("crisis"),
                    history_vectors=[np.ones(4)])
    assert result.level == "crisis"


@pytest.mark.parametrize("message", [
    "I don't want to kill myself, I just don't want to be here",
    "i'm okay now, just feel hopeless",
])
def test_saying_one_is_safe_beside_hopelessness_after_a_sign_is_still_a_crisis(message) -> None:
    assert assess(message, history=["I bought a rope today"]).level == "crisis"


def test_words_taken_back_with_a_denial_do_not_carry() -> None:
    earlier = ["sometimes i think everyone would be better off without me",
               "wait that came out wrong lol i meant at work, like my team would be better off without me on it. "
               "not suicidal at all"]
    assert assess(earlier[0]).level == "crisis"
    assert assess("anyway does TMS help with burnout?", history=earlier).level != "crisis"
    asked = "before approving TMS my psychiatrist asked if I've had thoughts of hurting myself"
    answer = "I haven't, never have, I'm safe. I'm just nervous about answering wrong. what else do they usually screen for?"
    assert assess(asked).level == "concern"
    assert assess(answer, history=[asked]).level in ("none", "clinical")


class _HearsSentence:
    """A backstop that hears crisis in one sentence only: a sentence vector of ones."""

    def judge_message(self, vector, sentence_vectors=(), several=None) -> bs.Verdict:
        for n, sentence in enumerate(sentence_vectors):
            if sentence is not None and float(np.min(sentence)) == 1.0:
                return bs.Verdict("crisis", ("semantic.crisis.x",), 0.9, 0.1, n)
        return bs.Verdict("none", (), 0.1, 0.9)


def test_an_earlier_message_is_heard_one_sentence_at_a_time_in_that_sentences_voice() -> None:
    own = "Psych resident here. Most days I figure the guys who didn't come home got the better deal."
    others = "My brother texted me. He says he has everything ready for tonight."
    assert assess(own).level == "none" and len(bs.sentence_spans(own)) == 2
    whole_only = [np.zeros(4)]
    by_sentence = [(np.zeros(4), [np.zeros(4), np.ones(4)])]
    assert assess(_NEXT, history=[own], backstop=_HearsSentence(), history_vectors=whole_only).level == "none"
    assert assess(_NEXT, history=[own], backstop=_HearsSentence(), history_vectors=by_sentence).level == "crisis"
    # The sentence heard is someone else's: it carries as their risk, not the writer's crisis.
    follow = "can his ECT be moved up?"
    assert assess(follow, history=[others], backstop=_HearsSentence(), history_vectors=by_sentence).level == "concern"


def test_embed_history_makes_every_message_and_sentence_vector_in_one_call() -> None:
    from ipchat.safety import embed_history

    calls: list[list[str]] = []

    def embed(texts):
        calls.append(list(texts))
        return [np.full(4, float(len(text))) for text in texts]

    pairs = embed_history(embed, ["One sentence only", "First one here. And a second one."])
    assert len(calls) == 1 and len(pairs) == 2
    assert pairs[0][0][0] == len("One sentence only") and len(pairs[0][1]) == len(bs.sentence_spans("One sentence only"))
    vector, sentences = pairs[1]
    spans = bs.sentence_spans("First one here. And a second one.")
    assert len(spans) == 2 and vector[0] == len("First one here. And a second one.")
    assert [s[0] for s in sentences] == [end - start for start, end in spans]
    assert embed_history(embed, []) == [] and len(calls) == 1


def test_grief_for_a_pet_or_relative_is_not_heard_as_the_writers_crisis() -> None:
    grief = "my dog died yesterday and i cant stop crying"
    assert "idiom.others_natural_death" in assess(grief).rule_ids
    # Nearness in meaning is the idiom's: a message of one sentence is not raised at all...
    assert assess(grief, vector=np.ones(4), backstop=_Hears("crisis")).level == "none"
    # ... and it does not keep the next ordinary question a crisis.
    ordinary = "is it ok to still go to my TMS session today or should i reschedule"
    assert assess(ordinary, history=[grief], backstop=_Hears("crisis"), history_vectors=[np.ones(4)]).level == "none"
    # Wanting to join them is not grief alone.
    assert assess("ever since my wife passed i have wanted to join her").level == "crisis"


class _HearsOnlyOnes:
    """A backstop that hears crisis in a vector of ones only (the conversation's, in these tests)."""

    def judge_message(self, vector, sentence_vectors=(), several=None) -> bs.Verdict:
        if vector is not None and float(np.min(vector)) == 1.0:
            return bs.Verdict("crisis", ("semantic.crisis.x",), 0.9, 0.1)
        return bs.Verdict("none", (), 0.1, 0.9)


@pytest.mark.parametrize(("history", "message", "level"), [
    # The current message carries no part of what is heard (its own vector is heard as nothing): a concern.
    (["exams are friday", "after that i can finally rest"], "does TMS hurt", "concern"),
    (["my sister is moving out friday"], "she said she's taking the cat for good", "concern"),  # not the writer's voice
    (["this commute is killing me"], "does TMS hurt", "none"),  # an idiom: nearness is the words'
    (["is ECT indicated for severe suicidality?"], "how many sessions are usual?", "clinical"),  # a topic, carried
    (["i said something dark earlier, just kidding, i'm fine"], "does TMS hurt", "none"),  # taken back
])
def test_the_last_messages_are_heard_together_only_when_the_rules_read_nothing_in_them(history, message, level) -> None:
    zeros = np.zeros(4)
    result = assess(message, history=history, backstop=_HearsOnlyOnes(), vector=zeros,
                    history_vectors=[zeros] * len(history), conversation_vector=np.ones(4))
    assert result.level == level, result.rule_ids
    assert ("context.heard_together" in result.rule_ids) == (level in ("crisis", "concern"))
    without = assess(message, history=history, backstop=_HearsOnlyOnes(), vector=zeros,
                     history_vectors=[zeros] * len(history))
    assert without.level == ("none" if level in ("crisis", "concern") else level)


class _HeadReadsFirst(_HearsOnlyOnes):
    """... with a head whose risk probability of a vector is its first value."""

    class head:  # noqa: N801 - stands in for a Head
        @staticmethod
        def probs(vector):
            return np.array([1.0 - vector[0], 0.0, vector[0]])


@pytest.mark.parametrize(("message", "own", "level"), [
    ("and then i can finally rest", np.full(4, 0.6), "crisis"),  # the head hears some risk in the message alone
    ("does TMS hurt", np.full(4, 0.2), "concern"),  # an ordinary question after uneasy words
    ("for me i mean, not for the dog", np.zeros(4), "crisis"),  # says the earlier question was about the writer
])
def test_a_crisis_heard_together_needs_the_current_message_to_carry_part_of_it(message, own, level) -> None:
    history = ["the vet explained the drug they use to put dogs down", "is it hard to get hold of"]
    result = assess(message, history=history, backstop=_HeadReadsFirst(), vector=own,
                    history_vectors=[np.zeros(4)] * len(history), conversation_vector=np.ones(4))
    assert result.level == level, result.rule_ids
    assert "context.heard_together" in result.rule_ids


def test_embed_turn_gives_every_vector_assess_uses_from_one_call() -> None:
    from ipchat.safety import HISTORY_WINDOW, conversation_text

    calls: list[list[str]] = []

    def embed(texts):
        calls.append(list(texts))
        return [np.full(4, float(len(text))) for text in texts]

    history = [f"earlier message {n}" for n in range(HISTORY_WINDOW + 2)]
    vectors = embed_turn(embed, "And now. Two sentences.", history)
    assert len(calls) == 1
    assert vectors["vector"][0] == len("And now. Two sentences.") and len(vectors["sentence_vectors"]) == 2
    assert len(vectors["history_vectors"]) == len(history) and vectors["history_vectors"][:2] == [None, None]
    assert vectors["conversation_vector"][0] == len(conversation_text("And now. Two sentences.", history))
    assert conversation_text("now", history).startswith(history[-2]) and conversation_text("now", []) == ""
    alone = embed_turn(embed, "just one", [])
    assert alone["conversation_vector"] is None and alone["history_vectors"] == []


def test_question_sets_teach_the_head_each_sentence_of_a_long_question_as_ordinary(tmp_path) -> None:
    questions = tmp_path / "set.jsonl"
    questions.write_text(json.dumps({"question": "who gets the most out of it? which pt groups"}) + "\n"
                         + json.dumps({"question": "what is ECT?"}) + "\n", encoding="utf-8")
    long = "who gets the most out of it? which pt groups"
    spans = bs.sentence_spans(long)
    assert len(spans) == 2
    assert bs.negative_texts([questions]) == [long, *(long[start:end] for start, end in spans), "what is ECT?"]


def test_an_idiom_message_is_heard_only_in_its_other_sentences_and_one_step_less() -> None:
    """"Ich sterbe vor Hunger" is the idiom's nearness, not the writer's: the sentence that holds the idiom
    is not heard; a sentence without one is, stepped down (at most a concern, never a crisis)."""
    one = "Do I hang my coat in the ECT room or leave it in a locker"
    assert "idiom.hang_household" in assess(one).rule_ids
    assert assess(one, vector=np.ones(4), backstop=_Hears("crisis")).level == "none"
    two = "Ich sterbe vor Hunger. Darf ich vor der EKT wirklich nichts frühstücken?"
    assert len(bs.sentence_spans(two)) == 2
    heard = assess(two, vector=np.ones(4), backstop=_Hears("crisis"), sentence_vectors=[np.ones(4), np.ones(4)])
    assert heard.level == "concern" and "semantic.crisis.x" in heard.rule_ids
    # Without an idiom, the same verdict is a crisis (where a word of the language's risk words is there:
    # without one, a concern, as for any message in that language).
    assert assess("Ich habe Hunger und will nicht mehr. Darf ich vor der EKT nichts frühstücken?", vector=np.ones(4),
                  backstop=_Hears("crisis"), sentence_vectors=[np.ones(4), np.ones(4)]).level == "crisis"
    # Without one, the verdict stands only where the glossary knew most of the words (the model then heard
    # English): this backstop hears a crisis in anything, so here it is one.
    assert assess("Ich habe Hunger. Darf ich vor der EKT nichts frühstücken?", vector=np.ones(4),
                  backstop=_Hears("crisis"), sentence_vectors=[np.ones(4), np.ones(4)]).level == "crisis"


class _HearsTwos:
    """A backstop that hears crisis in a vector of twos only (one sentence's, in this test)."""

    def judge(self, vector, several=True) -> bs.Verdict:
        if float(np.min(vector)) == 2.0:
            return bs.Verdict("crisis", ("semantic.crisis.x",), 0.9, 0.1)
        return bs.Verdict("none", (), 0.1, 0.9)

    def judge_message(self, vector, sentence_vectors=(), several=None) -> bs.Verdict:
        for n, sentence in enumerate(sentence_vectors):
            if sentence is not None and self.judge(sentence).level == "crisis":
                return bs.Verdict("crisis", ("semantic.crisis.x",), 0.9, 0.1, n)
        return self.judge(vector) if vector is not None else bs.Verdict("none", (), 0.0, 0.0)


@pytest.mark.parametrize(("text", "level"), [
    # The message opens with someone else, but the sentence heard is the writer's own.
    ("she'll figure it out. after friday nobody will need to drive me anywhere again", "crisis"),
    # The sentence heard is someone else's: theirs, a concern.
    ("i called my sister. she says she will jump off the bridge", "concern"),
    # ... also where the rules read nothing: the writer's own sentence is not heard as a crisis.
    ("i called my sister. she sounded far away and quiet", "concern"),
])
def test_a_crisis_heard_in_the_writers_own_sentence_stays_a_crisis_beside_someone_elses(text, level) -> None:
    spans = bs.sentence_spans(text)
    assert len(spans) == 2
    sentences = [np.ones(4), np.full(4, 2.0)]
    assert assess(text, vector=np.ones(4), backstop=_HearsTwos(), sentence_vectors=sentences).level == level


def test_after_the_writer_says_they_are_safe_the_next_message_is_not_raised_to_a_crisis() -> None:
    """Nearness in meaning in the message after "I'm safe" is a concern at most, as in the message itself;
    risk the rules read in it is still a crisis."""
    safe = "i'm safe, never had thoughts like that, just asking"
    question = "I've finally saved up enough for the course! what's the plan for the first week?"
    assert assess(question, vector=np.ones(4), backstop=_Hears("crisis")).level == "crisis"
    assert assess(question, history=[safe], vector=np.ones(4), backstop=_Hears("crisis")).level == "concern"
    assert assess("i want to kill myself tonight", history=[safe]).level == "crisis"


def test_after_the_writer_denies_risk_a_concern_heard_in_an_ordinary_follow_up_is_not_raised() -> None:
    """After "not suicidal", what the backstop hears in a message the rules read nothing in steps down one level:
    a concern is not raised; without the denial it is, and risk the rules read is still read."""
    denial = "not suicidal or anything lol just nosey"
    question = "is TMS used for people who are tho? like as an emergency thing"
    assert assess(question, history=[denial], vector=np.ones(4), backstop=_Hears("concern")).level != "concern"
    assert assess(question, history=["how does TMS work"], vector=np.ones(4),
                  backstop=_Hears("concern")).level == "concern"
    assert assess("i want to die", history=[denial], vector=np.ones(4), backstop=_Hears("concern")).level == "crisis"


@pytest.mark.parametrize(("text", "level"), [
    # A message in another language with none of its words of death, means, farewells or despair, whose
    # gloss is patchy (the glossary knew too few of its words): what an English model hears in it is a
    # concern at most.
    ("oi, sou estagiária no HC da USP em Sampa kkkk", "concern"),
    # Glossed well ("I am intern in psychiatry"), the model heard English: its verdict stands.
    ("Je suis interne en psychiatrie", "crisis"),
    # With one of them, the backstop's crisis stands.
    ("ya dejé escritas las cartas para mi mamá y mi hermano, están en el cajón", "crisis"),
    ("voglio andarmene da questo mondo, nessuno sentirà la mia mancanza", "crisis"),
    # English is heard as it is.
    ("I work in a hospital pharmacy", "crisis"),
])
def test_a_foreign_message_without_risk_words_is_heard_as_a_concern_at_most(text, level) -> None:
    assert assess(text, vector=np.ones(4), backstop=_Hears("crisis")).level == level


def test_without_risk_words_reads_only_the_five_languages() -> None:
    from ipchat.safety.languages import without_risk_words

    assert without_risk_words("Je suis interne en psychiatrie")
    assert not without_risk_words("Je veux mourir ce soir")
    assert not without_risk_words("und ehrlich gesagt will ich auch nicht mehr")
    assert not without_risk_words("I work in a hospital pharmacy")  # English: not one of the five


class _HearsStrictly(_Hears):
    """A backstop that hears `level` at its own threshold and `strict` at the threshold of earlier messages."""

    def __init__(self, level: str, strict: str) -> None:
        super().__init__(level)
        self.for_history = _Hears(strict)


def test_risk_in_the_writers_voice_heard_earlier_must_pass_the_stricter_threshold() -> None:
    loose = assess(_NEXT, history=[_UNHEARD], backstop=_HearsStrictly("crisis", "none"), history_vectors=[np.ones(4)])
    assert loose.level == "none" and loose.history_level == "none"
    strict = assess(_NEXT, history=[_UNHEARD], backstop=_HearsStrictly("crisis", "crisis"), history_vectors=[np.ones(4)])
    assert strict.level == "crisis"


def test_risk_heard_earlier_in_words_the_writer_says_are_theirs_needs_only_the_loose_threshold() -> None:
    earlier = "started keeping a list of the ones that sounded painless"
    nxt = "whats the usual wait for an ECT consult"
    assert assess(nxt, history=[earlier]).level == "none"
    loose = _HearsStrictly("crisis", "none")
    assert assess(nxt, history=[earlier], backstop=loose, history_vectors=[np.ones(4)]).level == "none"
    owned = assess(nxt, history=[earlier + ". for me not for work"], backstop=loose, history_vectors=[np.ones(4)])
    assert owned.level == "crisis", owned.rule_ids


def test_a_means_question_asked_of_anyone_is_the_writers_beside_their_own_sentence_heard_as_a_crisis() -> None:
    question = "been reading up on how much insulin it takes"
    assert assess(question).level == "concern"  # a means question asked of anyone
    message = "just want the pain to stop, all of it, for good. " + question
    assert len(bs.sentence_spans(message)) == 2

    class _HearsFirstSentence(_Hears):
        def judge(self, vector, several=True) -> bs.Verdict:
            return bs.Verdict("crisis" if float(np.min(vector)) == 1.0 else "none", (), 0.9, 0.1)

    # The message is near a crisis as a whole; alone, only the sentence in which the rules read nothing is.
    own = assess(message, backstop=_HearsFirstSentence("crisis"), vector=np.ones(4),
                 sentence_vectors=[np.ones(4), np.zeros(4)])
    assert own.level == "crisis", own.rule_ids
    # Heard only in the means question's own sentence, it stays the concern the rules read.
    asked = assess(message, backstop=_HearsFirstSentence("crisis"), vector=np.ones(4),
                   sentence_vectors=[np.zeros(4), np.ones(4)])
    assert asked.level == "concern", asked.rule_ids
    # So does a denial beside it: what the rules read as denied is not raised.
    denied = "im not going to kill myself. " + question
    assert assess(denied, backstop=_HearsFirstSentence("crisis"), vector=np.ones(4),
                  sentence_vectors=[np.ones(4), np.zeros(4)]).level != "crisis"


def test_someone_elses_risk_heard_earlier_keeps_the_next_message_a_concern_at_the_loose_threshold() -> None:
    earlier = "My boyfriend said after Friday I won't have to worry about him anymore"
    nxt = "how long does TMS take to work?"
    assert assess(nxt, history=[earlier]).level == "none"
    result = assess(nxt, history=[earlier], backstop=_HearsStrictly("crisis", "none"), history_vectors=[np.ones(4)])
    assert result.level == "concern" and result.history_level == "concern"


def test_fragments_heard_together_are_a_crisis_only_at_the_stricter_threshold() -> None:
    history = ["refill early question", "going to Portugal for 3 weeks on the 12th"]
    text = "yes the second one, the travel letter"
    vectors = {"vector": np.ones(4), "history_vectors": [np.ones(4), np.ones(4)], "conversation_vector": np.ones(4)}
    loose = assess(text, history, backstop=_HearsStrictly("none", "none"), **vectors)
    assert loose.level == "none"
    # The message alone and each earlier one are heard as nothing; together, near a plan.

    class _Together(_HearsStrictly):
        def judge_message(self, vector, sentence_vectors=(), several=None):
            verdict = super().judge_message(vector, sentence_vectors, several)
            return verdict if vector is not None and float(vector[0]) == 2.0 else bs.Verdict("none", (), 0.1, 0.9)

    vectors["conversation_vector"] = np.full(4, 2.0)
    assert assess(text, history, backstop=_Together("crisis", "none"), **vectors).level == "concern"
    strict = _Together("crisis", "crisis")
    strict.for_history = _Together("crisis", "crisis")
    together = assess(text, history, backstop=strict, **vectors)
    # Above it too, the message alone carries no part of the crisis (it is heard as nothing): a concern.
    assert together.level == "concern" and "context.heard_together" in together.rule_ids
    # Where the message says the earlier question was the writer's own, a crisis.
    assert assess("for me i mean, the travel letter", history, backstop=strict, **vectors).level == "crisis"


def test_an_idiom_the_writer_says_is_not_meant_as_one_is_heard_as_said() -> None:
    idiom = "everyone keeps telling me to hang in there. funny."
    spans = [np.ones(4)] * 3
    stepped = assess(idiom + " does TMS help", vector=np.ones(4), backstop=_Hears("crisis"), sentence_vectors=spans)
    assert stepped.level == "concern"  # the idiom's nearness, one step less
    meant = assess(idiom + " thats pretty much the plan, just not how they mean it", vector=np.ones(4),
                   backstop=_Hears("crisis"), sentence_vectors=spans)
    assert meant.level == "crisis", meant.rule_ids


def test_an_idiom_in_a_foreign_message_is_read_through_its_gloss() -> None:
    text = "Mi jefe me va a matar si falto otra vez. ¿Cuánto dura normalmente la primera consulta para ketamina?"
    assert "idiom" not in " ".join(assess(text).rule_ids)  # the Spanish rules read no idiom
    heard = assess(text, vector=np.ones(4), backstop=_Hears("crisis"), sentence_vectors=[np.ones(4), np.ones(4)])
    assert heard.level == "concern"  # the idiom's sentence is not heard; the other, one step less


class _CountingEmbedder:
    """Vectors of ones for a text that names the bridge, zeros otherwise; records every call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts, progress=None):
        self.calls.append(list(texts))
        if progress:
            progress(len(texts), len(texts))
        return np.array([np.ones(4) if "bridge" in text else np.zeros(4) for text in texts])


def test_an_assessor_given_the_turns_beforehand_embeds_each_text_once_and_judges_alike(monkeypatch) -> None:
    from ipchat import safety

    monkeypatch.setattr(safety, "backstop_for", lambda embedder: _HearsOnlyOnes())
    turns = [("thinking about the bridge a lot. the high one", ()),
             ("does TMS hurt", ("exams are friday", "the bridge near campus")),
             ("does TMS hurt", ("exams are friday",)),
             ("does TMS hurt", ())]
    one_by_one = safety.semantic_assessor(_CountingEmbedder())
    expected = [one_by_one(text, history) for text, history in turns]
    assert [e.level for e in expected] == ["crisis", "crisis", "none", "none"]

    embedder, seen = _CountingEmbedder(), []
    prepared = safety.semantic_assessor(embedder, turns, lambda done, total: seen.append((done, total)))
    assert len(embedder.calls) == 1 and seen  # one batched call, followed by progress
    batch = embedder.calls[0]
    assert len(batch) == len(set(batch)) and "does TMS hurt" in batch and "exams are friday" in batch
    assert [(a.level, a.rule_ids) for a in (prepared(text, history) for text, history in turns)] == [
        (e.level, e.rule_ids) for e in expected]
    assert len(embedder.calls) == 1  # every vector was made beforehand
    assert prepared("a turn not given beforehand").level == "none" and len(embedder.calls) == 2


def test_a_crisis_heard_in_someone_elses_words_is_the_writers_when_they_say_the_someone_is_them() -> None:
    told = "asking for a mate. he is a sparky, reckons he has got a day picked. does ECT still work if ur that far gone"
    owned = told + ". ok its not a mate"
    assert assess(told, backstop=_Hears("crisis"), vector=np.ones(4)).level == "concern"
    assert assess(owned, backstop=_Hears("crisis"), vector=np.ones(4)).level == "crisis"


class _HearsOnesAsConcern(_HearsOnlyOnes):
    """A backstop that hears a concern in a vector of ones only."""

    def judge_message(self, vector, sentence_vectors=(), several=None) -> bs.Verdict:
        if vector is not None and float(np.min(vector)) == 1.0:
            return bs.Verdict("concern", ("semantic.concern.x",), 0.9, 0.1)
        return bs.Verdict("none", (), 0.1, 0.9)


@pytest.mark.parametrize(("message", "level"), [
    ("not for a story or owt. me", "crisis"),  # the writer says the earlier question was theirs
    ("does TMS hurt", "concern"),
])
def test_a_concern_heard_together_is_a_crisis_when_the_writer_says_it_is_theirs(message, level) -> None:
    history = ["if someone fell off the back step of a lorry at 30 would that do it"]
    result = assess(message, history=history, backstop=_HearsOnesAsConcern(), vector=np.zeros(4),
                    history_vectors=[np.zeros(4)], conversation_vector=np.ones(4))
    assert result.level == level, result.rule_ids
    assert "context.heard_together" in result.rule_ids


def test_asking_whom_to_tell_about_someone_elses_risk_is_a_concern() -> None:
    history = ["my neighbour left a note saying she does not want to be here anymore"]
    question = "who do i tell? council or police?"
    assert assess(history[0]).level == "concern"
    assert assess(question, vector=np.ones(4), backstop=_Hears("crisis")).level == "crisis"
    assert assess(question, history=history, vector=np.ones(4), backstop=_Hears("crisis")).level == "concern"


def test_saying_one_does_not_feel_it_now_keeps_nearness_in_meaning_a_concern() -> None:
    assert assess("just want a plan in case", vector=np.ones(4), backstop=_Hears("crisis")).level == "crisis"
    assert assess("not feeling it now just want a plan in case", vector=np.ones(4),
                  backstop=_Hears("crisis")).level == "concern"
    # ... while what the rules read in the message still stands.
    assert assess("not feeling it now. i want to kill myself tonight", vector=np.ones(4),
                  backstop=_Hears("crisis")).level == "crisis"


def test_saying_risk_heard_of_someone_else_was_the_writers_makes_it_a_crisis() -> None:
    # The backstop hears risk in the earlier message, told of a mate (`semantic_other`); the writer then says the
    # mate is them. The current message's own vector is heard as nothing, and the rules read nothing in either.
    history = ["my mate has been giving away his fishing gear"]
    assert assess(history[0]).level == "none"
    told = assess("should he try tms", history=history, backstop=_HearsOnlyOnes(), vector=np.zeros(4),
                  history_vectors=[np.ones(4)])
    owned = assess("ok its me. there is no mate", history=history, backstop=_HearsOnlyOnes(), vector=np.zeros(4),
                   history_vectors=[np.ones(4)])
    assert told.level == "concern", told.rule_ids
    assert owned.level == "crisis" and "context.for_me_after_means" in owned.rule_ids, owned.rule_ids


@pytest.mark.model
@pytest.mark.parametrize("message", [
    "lol not in a dark place, promise, the only thing i want dead is this headache. does O2 therapy work alongside TMS "
    "or do they clash",
    "if the kids at my crossing dont stop pressing the button just to wind me up ill lose my mind lol. serious q tho can "
    "you do TMS while on sertraline",
])
def test_a_thing_wanted_dead_and_a_mind_about_to_be_lost_are_idioms_the_backstop_leaves_alone(safety_embedder,
                                                                                               message) -> None:
    backstop = bs.backstop_for(safety_embedder)
    result = assess(message, backstop=backstop, **embed_turn(safety_embedder.embed, message))
    assert result.level in ("none", "clinical")


@pytest.mark.model
def test_the_writers_own_body_or_mind_wanted_dead_is_no_idiom(safety_embedder) -> None:
    message = "the only thing i want dead is my body"
    backstop = bs.backstop_for(safety_embedder)
    assert assess(message, backstop=backstop, **embed_turn(safety_embedder.embed, message)).level == "crisis"


class _CertainOf:
    """A backstop whose head is beyond doubt of a crisis in a vector of ones only, and hears nothing else."""

    history_risk_p = 0.995

    def certain_crisis(self, vector) -> bool:
        return float(np.min(vector)) == 1.0

    def judge_message(self, vector, sentence_vectors=(), several=None) -> bs.Verdict:
        return bs.Verdict("none", (), 0.1, 0.9)


def test_risk_words_read_as_a_topic_are_the_writers_when_the_head_is_beyond_doubt_of_a_crisis() -> None:
    message = ("my wife doesnt know ive cancelled the ketamine. the suicide clause on my life insurance ran out "
               "last month, so the timing finally works for her")
    assert assess(message).level == "clinical"  # the rules read a topic
    assert assess(message, backstop=_CertainOf(), vector=np.zeros(4)).level == "clinical"
    certain = assess(message, backstop=_CertainOf(), vector=np.ones(4))
    assert certain.level == "crisis" and "crisis.beyond_topic" in certain.rule_ids, certain.rule_ids
    # Not someone else's, nor what the writer says is not theirs.
    for other in ("my patient says the suicide clause on his life insurance ran out, so the timing works now",
                  "not about me at all, how do suicide clauses in life insurance work"):
        assert assess(other, backstop=_CertainOf(), vector=np.ones(4)).level != "crisis", other


class _HearsSentencesOfOnes(_Hears):
    """A backstop that hears the message as a crisis and, alone, only sentences whose vector is ones."""

    def judge(self, vector, several=True) -> bs.Verdict:
        return bs.Verdict("crisis" if float(np.min(vector)) == 1.0 else "none", (), 0.9, 0.1)


def test_an_act_told_with_the_writer_left_out_is_the_writers_in_a_message_that_names_no_one_else() -> None:
    message = ("the one thing i was ever good at is gone. bought a shotgun tuesday. what does a ketamine infusion "
               "feel like, just curious")
    assert len(bs.sentence_spans(message)) == 3 and assess(message).level == "none"
    sentences = [np.zeros(4), np.ones(4), np.zeros(4)]
    heard = assess(message, backstop=_HearsSentencesOfOnes("crisis"), vector=np.zeros(4), sentence_vectors=sentences)
    assert heard.level == "crisis", heard.rule_ids
    # Heard in no sentence alone, "just curious" leaves it a concern; and in a message naming someone else the act
    # may be theirs.
    alone = assess(message, backstop=_HearsSentencesOfOnes("crisis"), vector=np.zeros(4), sentence_vectors=[np.zeros(4)] * 3)
    assert alone.level == "concern", alone.rule_ids
    theirs = message.replace("the one thing i was ever good at is gone", "my brother lost his job")
    assert assess(theirs, backstop=_HearsSentencesOfOnes("crisis"), vector=np.zeros(4),
                  sentence_vectors=sentences).level == "concern"


def test_saying_one_is_not_there_now_keeps_nearness_in_meaning_a_concern() -> None:
    message = ("my wife found me in the shop last yr with the cord round the beam. i didnt go through with it and im "
               "not there now. were looking at maintenance ECT, how often do ppl usually need it")
    assert assess(message).level == "none"
    assert assess(message, backstop=_Hears("crisis"), vector=np.zeros(4)).level == "concern"
    present = message.replace("im not there now", "the beam is still there")
    assert assess(present, backstop=_Hears("crisis"), vector=np.zeros(4)).level == "crisis"


def test_an_earlier_message_the_next_says_was_only_partly_a_joke_needs_only_the_loose_threshold() -> None:
    earlier = "some days i just wanna point the skis off the ridge and not turn"
    loose = _HearsStrictly("crisis", "none")
    half = assess("lol jk. mostly. anyway does tms work faster than the meds", history=[earlier], backstop=loose,
                  history_vectors=[np.ones(4)])
    assert half.level == "crisis", half.rule_ids
    # Taken back in full, it must pass the stricter threshold as any earlier message does.
    whole = assess("lol jk. anyway does tms work faster than the meds", history=[earlier], backstop=loose,
                   history_vectors=[np.ones(4)])
    assert whole.level != "crisis", whole.rule_ids
