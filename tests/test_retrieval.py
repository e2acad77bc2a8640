import numpy as np
import pytest

from ipchat.embedding import HashingEmbedder
from ipchat.errors import InputError
from ipchat.index import load_index
from ipchat.keywords import SpellingMap, keyword_tokens, query_token_ids, unknown_share
from ipchat.retrieval import Retriever, reciprocal_rank_fusion, top_k, weighted_fusion


def test_rrf_on_hand_computed_rankings():
    scores = reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60)
    assert scores[1] == pytest.approx(1 / 61 + 1 / 62)
    assert scores[2] == pytest.approx(1 / 62)
    assert scores[3] == pytest.approx(1 / 63 + 1 / 61)
    assert top_k(scores, 3) == [1, 3, 2]


def test_weighted_fusion_on_hand_computed_scores():
    dense = {1: 0.9, 2: 0.5, 3: 0.1}
    keyword = {1: 0.0, 2: 4.0, 3: 2.0}
    fused = weighted_fusion(dense, keyword, dense_weight=0.5)
    assert fused[1] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)
    assert fused[2] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert fused[3] == pytest.approx(0.5 * 0.0 + 0.5 * 0.5)
    assert top_k(fused, 3) == [2, 1, 3]


def test_dense_range_floor_lets_a_clear_keyword_match_win():
    dense = {1: 0.06, 2: 0.02}  # no semantic signal: a spread of 0.04
    keyword = {1: 0.0, 2: 3.0}
    assert top_k(weighted_fusion(dense, keyword, 0.8), 1) == [1]
    assert top_k(weighted_fusion(dense, keyword, 0.8, dense_min_spread=0.3), 1) == [2]


def test_keyword_tokens_keep_numbers_and_drop_function_words():
    assert keyword_tokens("What does 83% of the patients mean?") == ["83", "patient", "mean"]
    # ... typed without their apostrophes too; "ill" and "im" are words of their own.
    assert keyword_tokens("thats what theres dont doesnt") == []
    assert keyword_tokens("mentally ill pts on IM ketamine") == ["mental", "ill", "pts", "im", "ketamin"]


def test_lay_words_for_the_sources_own_count_as_known():
    vocabulary = {"ineffect": 0, "medic": 1}
    assert unknown_share("meds and nothing shifts it", vocabulary, None) == 1.0
    assert unknown_share("meds and nothing shifts it", vocabulary, None, known=["nothing shifts it"]) == 1 / 3


def test_spelling_map_finds_one_edit_neighbours():
    spelling = SpellingMap(["ndma", "ketamin", "glutam", "tms"])
    assert spelling.candidates("nmda") == ["ndma"]  # swap
    assert spelling.candidates("ketmin") == ["ketamin"]  # deletion
    assert spelling.candidates("glutamm") == ["glutam"]  # insertion
    assert spelling.candidates("tmz") == []  # too short to correct safely
    vocab = {"ndma": 0, "receptor": 1}
    assert query_token_ids(["nmda", "receptor", "zzzz"], vocab, SpellingMap(vocab)) == [0, 1]


def test_faiss_matches_numpy_brute_force(hashing_index):
    retriever = Retriever(load_index(hashing_index), HashingEmbedder(64), hashing_index.replace(mode="dense"))
    vectors = retriever.index.dense.reconstruct_n(0, retriever.index.dense.ntotal)
    for query in ["how long do cats sleep", "dog ear infections", "vet"]:
        expected = np.argsort(-(vectors @ HashingEmbedder(64).embed([query])[0]), kind="stable")[:3]
        hits = retriever.search(query, 3)
        assert [h.chunk.chunk_id for h in hits] == [retriever.index.chunks[i].chunk_id for i in expected]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_search_returns_ranked_hits_with_both_scores(hashing_index, mode):
    retriever = Retriever(load_index(hashing_index), HashingEmbedder(64), hashing_index.replace(mode=mode))
    hits = retriever.search("fleas and ticks", 3)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert "Fleas and ticks" in hits[0].chunk.text
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    assert hits[0].bm25_score > 0
    assert (hits[0].dense_score is None) == (mode == "keyword")


def test_search_rejects_empty_and_huge_queries(hashing_index):
    retriever = Retriever(load_index(hashing_index), HashingEmbedder(64), hashing_index)
    with pytest.raises(InputError, match="empty"):
        retriever.search("   ")
    with pytest.raises(InputError, match="limit"):
        retriever.search("x" * 5000)


def test_embedder_dimension_must_match_index(hashing_index):
    with pytest.raises(InputError, match="64-d"):
        Retriever(load_index(hashing_index), HashingEmbedder(32), hashing_index)


# --- the real model on the bundled corpus -------------------------------------------------------

def top_texts(retriever, query, k=1):
    return [h.chunk.text for h in retriever.search(query, k)]


def test_nmda_finds_the_sources_ndma_passage(store_retriever):
    assert "NDMA receptors" in top_texts(store_retriever, "How does ketamine act on NMDA receptors?")[0]
    assert "NDMA receptors" in top_texts(store_retriever, "nmda", 3)[0]


def test_percentage_finds_the_tms_figure(store_retriever):
    assert "About 83% of patients" in top_texts(store_retriever, "what does 83% refer to")[0]


SEED_CHECKS = {
    "how many ect sessions": "six to twelve treatments",
    "ketamine side effects": "Nausea and vomiting",
    "what are the side effects of TMS?": "scalp pain or discomfort",
    "is TMS invasive?": "noninvasive therapy",
    "how long do antidepressants take to work": "four to eight weeks",
    "alternative therapies like yoga or acupuncture": "animal-assisted therapy",
}


@pytest.mark.parametrize("question, expected", SEED_CHECKS.items())
def test_seed_questions_find_their_passage_in_top_three(store_retriever, question, expected):
    assert any(expected in text for text in top_texts(store_retriever, question, 3))


def test_real_model_weights_are_hash_checked(real_embedder):
    from ipchat.embedding import MINILM_SHA256, _sha256, bundled_minilm_path

    assert _sha256(bundled_minilm_path() / "model.safetensors") == MINILM_SHA256
    assert real_embedder.dimension == 384 and real_embedder.max_tokens == 256


def test_tampered_weights_are_refused(tmp_path, monkeypatch):
    from ipchat import embedding
    from ipchat.errors import ModelError

    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "model.safetensors").write_bytes(b"not the weights")
    monkeypatch.setattr(embedding, "bundled_minilm_path", lambda: fake)
    with pytest.raises(ModelError, match="sha256"):
        embedding.resolve_model(embedding.DEFAULT_MODEL)


def test_embedding_order_does_not_depend_on_batching(real_embedder):
    texts = ["short", "a much longer sentence about transcranial magnetic stimulation and its side effects", "ECT"]
    together = real_embedder.embed(texts)
    one_by_one = np.vstack([real_embedder.embed([t]) for t in texts])
    assert np.allclose(together, one_by_one, atol=1e-5)


class _CountingEmbedder(HashingEmbedder):
    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return super().embed(texts)


def test_embed_queries_takes_known_vectors_from_the_cache_and_embeds_the_rest_in_one_call(hashing_index):
    embedder = _CountingEmbedder(64)
    retriever = Retriever(load_index(hashing_index), embedder, hashing_index)
    known = retriever.embed_query("dog ear infections")
    embedder.calls.clear()
    vectors = retriever.embed_queries(["dog ear infections", "how long do cats sleep", "vet", "vet"])
    assert embedder.calls == [["how long do cats sleep", "vet"]]
    assert np.array_equal(vectors[0], known) and np.array_equal(vectors[2], vectors[3])
    assert np.allclose(vectors[1], HashingEmbedder(64).embed(["how long do cats sleep"])[0])
    retriever.embed_queries(["vet"])
    assert len(embedder.calls) == 1  # remembered
