"""The safety backstop's own model: chosen by setting, falling back to the answer model, with its own
vote settings and a stricter ear for earlier messages; run on onnxruntime by default (its export made
once and checked), on torch by choice; and the vector cache both models use."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from ipchat import mpnet
from ipchat.embedding import HashingEmbedder, VectorCache
from ipchat.errors import IpchatError, ModelError
from ipchat.runtime import OnnxEmbedder
from ipchat.safety import backstop as bs
from ipchat.safety.data import SafetyDataError
from ipchat.safety.head import Head
from ipchat.settings import DEFAULT_MODEL, SAFETY_MODEL, Settings, load_settings


def test_the_safety_model_is_a_setting_of_its_own():
    assert load_settings(environ={}).safety_model is None
    assert load_settings(environ={"IPCHAT_SAFETY_MODEL": "some/model"}).safety_model == "some/model"
    assert bs.safety_model_name(Settings(safety_model="some/model")) == "some/model"


def test_the_bundled_safety_model_is_used_when_installed_else_the_answer_model(monkeypatch, caplog):
    monkeypatch.setattr(mpnet, "part_files", lambda: ["piece"] * 5)
    assert bs.safety_model_name(Settings()) == SAFETY_MODEL
    monkeypatch.setattr(mpnet, "part_files", lambda: None)
    assert bs.safety_model_name(Settings()) == DEFAULT_MODEL
    assert bs.safety_model_name(Settings(model="hashing-64")) == "hashing-64"
    assert "not installed" in caplog.text


def test_the_answer_embedder_serves_when_it_is_the_safety_model():
    answer = HashingEmbedder(64)
    assert bs.load_safety_embedder(Settings(safety_model="hashing-64"), answer) is answer
    other = bs.load_safety_embedder(Settings(safety_model="hashing-32"), answer)
    assert other is not answer and other.dimension == 32
    assert bs.load_safety_embedder(Settings(safety_model="hashing-32")) is other  # loaded once per process


def _toy(vote=None, risk_p=0.5) -> bs.Backstop:
    exemplars = (bs.Exemplar("crisis.x.0", "crisis", "x", "en", "a"), bs.Exemplar("negative.x.0", "negative", "x", "en", "b"))
    head = Head("toy", np.zeros((1, 2, 1), np.float32), np.zeros((1, 1), np.float32), np.zeros((1, 1, 3), np.float32),
                np.array([[0.0, 0.0, 3.0]], np.float32), risk_p)  # always p(crisis) ~0.91
    return bs.Backstop(exemplars, np.eye(2, dtype=np.float32), "toy", head, vote)


def test_a_models_vote_settings_apply_and_unknown_ones_are_refused():
    assert _toy().vote == {"risk_min": bs.RISK_MIN, "margin": bs.MARGIN, "agree": bs.AGREE,
                           "head_margin": bs.HEAD_MARGIN, "history_risk_p": 0.5, "head_min": -1.0}
    strict = _toy({"risk_min": 0.99, "agree": 1, "head_margin": 2.0})
    loose = _toy({"risk_min": 0.5, "agree": 1, "head_margin": 2.0})
    near = np.array([0.8, 0.6], np.float32)  # 0.8 like the crisis exemplar, 0.6 like the negative one
    assert loose.judge(near).level == "crisis" and strict.judge(near).level == "none"
    with pytest.raises(SafetyDataError, match="unknown vote setting"):
        _toy({"riskmin": 0.5})


def test_earlier_messages_are_heard_with_the_history_threshold():
    backstop = _toy({"history_risk_p": 0.99, "head_margin": -2.0})
    vector = np.array([0.0, 1.0], np.float32)  # the negative exemplar itself: only the head can speak
    assert backstop.judge(vector).level == "crisis"  # 0.91 >= 0.5
    assert backstop.for_history.judge(vector).level == "none"  # 0.91 < 0.99
    assert backstop.for_history is backstop.for_history
    same = _toy()  # no history threshold of its own: the head's, so it hears earlier messages as it hears this one
    assert same.for_history is same


def test_the_shipped_safety_model_keeps_its_vote_settings():
    exemplars = bs.load_exemplars()
    vectors, vote = bs._bundled_vectors(exemplars, SAFETY_MODEL)
    assert vectors.shape == (len(exemplars), 768)
    assert set(vote) <= set(bs.VOTE_KEYS) and vote["history_risk_p"] > 0.9 and vote["head_min"] > 0


def test_the_vector_cache_embeds_each_text_once_and_forgets_the_oldest():
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return np.array([[float(len(t))] for t in texts])

    cache = VectorCache(embed, size=2)
    assert [v[0] for v in cache(["a", "bb", "a"])] == [1.0, 2.0, 1.0]
    assert calls == [["a", "bb"]]
    cache(["bb"])
    cache(["a"])
    assert len(calls) == 1
    cache(["ccc"])  # "bb" was used least lately ("a" since): forgotten
    assert cache.get("bb") is None and cache.get("a") is not None
    cache.remember("d", np.array([9.0]))
    assert cache(["d"])[0][0] == 9.0 and len(calls) == 2
    assert len(cache) == 2
    cache.clear()
    assert cache.get("d") is None and len(cache) == 0


def test_the_short_name_of_the_safety_model_finds_its_shipped_bank_and_head():
    assert bs.safety_model_name(Settings(safety_model="all-mpnet-base-v2")) == SAFETY_MODEL


def test_the_fallback_is_the_model_the_answers_use(monkeypatch):
    monkeypatch.setattr(mpnet, "part_files", lambda: None)
    answer = HashingEmbedder(48)
    assert bs.load_safety_embedder(Settings(), answer) is answer  # the index's model, not the configured default


def test_a_safety_model_without_meaning_runs_no_backstop(real_retriever):
    from ipchat.answer import Answerer

    answerer = Answerer(real_retriever, Settings(safety_model="hashing-64"))
    assert answerer.backstop is None and answerer.safety_embedder is None


def test_the_default_safety_model_leaves_the_settings_digest_as_it_was(monkeypatch):
    import ipchat.settings as settings_module

    hashed = []
    real_dumps = settings_module.json.dumps
    monkeypatch.setattr(settings_module.json, "dumps", lambda data, **kw: hashed.append(dict(data)) or real_dumps(data, **kw))
    default, chosen = Settings().digest(), Settings(safety_model="x/y").digest()
    assert "safety_model" not in hashed[0] and hashed[1]["safety_model"] == "x/y"  # the default is not hashed
    assert default != chosen


def test_the_head_speaks_only_near_some_risk_exemplar():
    far = np.array([0.3, 0.2], np.float32) / np.linalg.norm([0.3, 0.2])  # about 0.83 like the crisis exemplar
    assert _toy({"head_margin": -2.0, "head_min": 0.9, "risk_min": 0.99}).judge(far).level == "none"
    assert _toy({"head_margin": -2.0, "head_min": 0.5, "risk_min": 0.99}).judge(far).level == "crisis"


def test_a_question_far_from_every_exemplar_is_not_raised_by_the_head(safety_embedder):
    from ipchat.safety import assess, backstop_for, embed_turn

    question = "what's the article's line on talking to patients about side effects? want a quote for the end of my feature"
    assert assess(question, backstop=backstop_for(safety_embedder), **embed_turn(safety_embedder.embed, question)).level == "none"


# -- the runtime: onnxruntime by default, torch by choice ---------------------------------------------

def test_the_safety_model_runs_on_onnxruntime_by_default_with_torchs_vectors(safety_embedder):
    from ipchat.embedding import QUERY_TEXTS, SentenceTransformerEmbedder

    assert isinstance(safety_embedder, OnnxEmbedder) and safety_embedder.name == mpnet.MPNET
    torch_model = bs._load_embedder(mpnet.MPNET, 32, "torch")
    assert isinstance(torch_model, SentenceTransformerEmbedder)
    texts = ["is ECT indicated for severe suicidality?", "thinking about bed days on the unit tbh",
             "i bought a rope yesterday and tied it to the rafter, how long until tms works because i need it to "
             "work soon or else " * 3, "Ich will nicht mehr leben", "ok"]
    query = safety_embedder.embed(texts)  # a query: one batch, on the query thread
    build = safety_embedder.embed(texts * (QUERY_TEXTS // len(texts) + 1))[:len(texts)]  # a build: every core
    reference = torch_model.embed(texts)
    assert query.shape == reference.shape == (len(texts), 768)
    assert np.all(np.sum(query * reference, axis=1) > 0.99999)
    assert np.all(np.sum(build * reference, axis=1) > 0.99999)


def test_torch_is_chosen_by_setting_and_onnx_only_for_the_bundled_model(monkeypatch):
    from ipchat.embedding import SentenceTransformerEmbedder

    assert isinstance(bs.load_safety_embedder(Settings(safety_model=SAFETY_MODEL, safety_runtime="torch")),
                      SentenceTransformerEmbedder)
    with pytest.raises(ModelError, match="IPCHAT_SAFETY_RUNTIME=onnx runs the bundled .*all-mpnet-base-v2 only"):
        bs.load_safety_embedder(Settings(safety_model="hashing-24", safety_runtime="onnx"))
    assert bs.load_safety_embedder(Settings(safety_model="hashing-24")).dimension == 24  # auto: another model on its own runtime


def test_without_onnxruntime_auto_falls_back_to_torch_and_onnx_says_how_to_install(monkeypatch):
    import importlib.util

    from ipchat.embedding import SentenceTransformerEmbedder

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real_find_spec(name, *a))
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    bs._load_embedder.cache_clear()
    try:
        assert isinstance(bs._load_embedder(mpnet.MPNET, 16, "auto"), SentenceTransformerEmbedder)
        with pytest.raises(ModelError, match="needs the package onnxruntime: pip install onnxruntime .*=torch"):
            bs._load_embedder(mpnet.MPNET, 16, "onnx")
    finally:
        bs._load_embedder.cache_clear()
