"""Hybrid retrieval: dense and keyword (BM25) candidates from a store (FAISS + bm25s files, or Milvus),
fused into ranked Hits."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .abbreviations import expand, join_initialisms
from .lexicon import expand_lay
from .coverage import without_links
from .embedding import Embedder, VectorCache, encoder_of, load_embedder
from .errors import InputError
from .index import Index, check_encoder, passage_text
from .keywords import keyword_tokens, query_terms, surface_words
from .settings import Settings
from .types import Hit

MAX_QUERY_CHARS = 4000
QUERY_CACHE = 256  # query vectors kept per retriever


def hit_to_dict(hit: Hit, index: Index) -> dict:
    """The stable JSON shape of a hit, as `ipchat search --json` and `ipchat ask --json` write it."""
    return {
        "rank": hit.rank,
        "chunk_id": hit.chunk.chunk_id,
        "doc_id": hit.chunk.doc_id,
        "title": index.documents[hit.chunk.doc_id].title,
        "section": hit.chunk.section,
        "text": hit.chunk.text,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
        "score": hit.score,
        "dense_score": hit.dense_score,
        "bm25_score": hit.bm25_score,
    }


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Sum of 1 / (k + rank) over the rankings each item appears in (ranks start at 1)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores


def _min_max(scores: Mapping[int, float], min_spread: float = 0.0) -> dict[int, float]:
    """Scale scores to [0, 1] by their range; a range below `min_spread` counts as `min_spread`.

    The floor matters for dense scores: when every cosine is near the same low value ("what does 83%
    refer to"), the model has no opinion, and stretching that noise to [0, 1] would drown a clear
    keyword match.
    """
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    spread = max(high - low, min_spread)
    if spread <= 1e-12:
        return {item: (1.0 if high > 0 else 0.0) for item in scores}
    return {item: (value - low) / spread for item, value in scores.items()}


def weighted_fusion(dense: Mapping[int, float], keyword: Mapping[int, float], dense_weight: float,
                    dense_min_spread: float = 0.0) -> dict[int, float]:
    """Convex combination of normalised dense and BM25 scores over the union of candidates.

    Dense scores are clipped at zero and min-max scaled (with a floor on their range); BM25 scores are divided by their
    maximum, so a candidate with no query word scores zero on that side.
    """
    # A negative cosine means "unrelated" as surely as zero does; clipping keeps it from setting the scale.
    d = _min_max({item: max(value, 0.0) for item, value in dense.items()}, dense_min_spread)
    top = max(keyword.values(), default=0.0)
    b = {item: (value / top if top > 0 else 0.0) for item, value in keyword.items()}
    return {item: dense_weight * d.get(item, 0.0) + (1 - dense_weight) * b.get(item, 0.0) for item in set(d) | set(b)}


def top_k(scores: Mapping[int, float], k: int) -> list[int]:
    """Items by descending score, ties broken by item id for stable output."""
    return sorted(scores, key=lambda item: (-scores[item], item))[:k]


class Retriever:
    """Searches one index with one embedder; both are loaded once and reused for every query."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        if embedder.dimension != index.meta["dimension"]:
            raise InputError(f"Model {embedder.name} gives {embedder.dimension}-d vectors; the index holds {index.meta['dimension']}-d.")
        encoder, sha256 = encoder_of(embedder)
        location = str(index.location)
        check_encoder(index.meta, encoder, location, sha256=sha256,
                      rebuild=f"ipchat build --store {location}" if "://" in location else None)
        self.index = index
        self.embedder = embedder
        self.settings = settings
        # Follow-ups, the safety backstop and the answer module ask for the same query vector more
        # than once: keep the last QUERY_CACHE of them.
        self._vectors = VectorCache(embedder.embed, QUERY_CACHE)
        self._expanded = VectorCache(lambda queries: [self._expand(query) for query in queries], QUERY_CACHE)
        self._words: frozenset[str] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> "Retriever":
        """Open the store the settings name (the index at `settings.index`, or `settings.store`) and load
        the model it was built with (or use `embedder`)."""
        from .stores import open_store

        index = open_store(settings)
        embedder = embedder or load_embedder(index.model, settings.batch_size, settings.encoder, settings.query_runtime)
        return cls(index, embedder, settings)

    def knows_word(self, word: str) -> bool:
        """True when `word` (any case) occurs as written in the indexed text or headings, links aside.

        Surface words, not stems: "meds" is not known because a link holds "med.uth.edu".
        """
        if self._words is None:  # built once: the index never changes after loading
            words: set[str] = set()
            for chunk in self.index.chunks:
                words.update(surface_words(without_links(passage_text(chunk))))
            self._words = frozenset(words)
        return word.lower() in self._words

    def expand_query(self, query: str) -> str:
        """`query` with the long form added after clinical shorthand the sources never use ("TRD"), and
        the sources' word after a lay word for it ("put to sleep (anesthesia)"), from the lexicon. An answer
        asks it twice of each question (to search and to score), so the last few are kept."""
        return self._expanded([query])[0]

    def _expand(self, query: str) -> str:
        return expand_lay(expand(join_initialisms(query), self.knows_word), self.knows_word)

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector, from the cache when it was embedded (or remembered) lately."""
        return self._vectors([query])[0]

    def embed_queries(self, queries: Sequence[str]) -> list[np.ndarray]:
        """The vectors of `queries`, from the cache where it has them; the others in one model call."""
        return self._vectors(queries)

    def forget_queries(self) -> None:
        """Empty the query-vector cache (benchmarks time cold queries with it)."""
        self._vectors.clear()

    def remember(self, query: str, vector: np.ndarray) -> None:
        """Keep `vector` as the embedding of `query` (made elsewhere in the same pass), so it is not encoded again."""
        self._vectors.remember(query, vector)

    def dense_scores(self, query: str, ids: Sequence[int]) -> dict[int, float]:
        """Cosine similarity of the query with the given chunks (keys of the store)."""
        return self.index.dense_scores(self.embed_query(query), list(ids))

    def dense_search(self, query: str, n: int) -> dict[int, float]:
        """The n chunks nearest the query by inner product, with their scores."""
        return self.index.dense_search(self.embed_query(query), n)

    def keyword_search(self, query: str, n: int) -> tuple[list[int], Mapping[int, float]]:
        """The n best chunks by BM25 (positive scores only, best first) and a score for every chunk the
        store can score (0 for the others); misspelt query words count as their nearest index words."""
        terms = query_terms(keyword_tokens(query), self.index.vocabulary, self.index.spelling)
        return self.index.keyword_search(terms, n)

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """The top-k chunks for `query` as Hits, best first.

        Raises InputError for an empty or over-long query.
        """
        query = (query or "").strip()
        if not query:
            raise InputError("The query is empty.")
        if len(query) > MAX_QUERY_CHARS:
            raise InputError(f"The query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}.")
        query = self.expand_query(query)
        k = k or self.settings.k
        mode = mode or self.settings.mode
        n = max(self.settings.candidates, k)
        keyword_top, keyword = self.keyword_search(query, n)
        if mode == "keyword":
            fused = {i: float(keyword[i]) for i in keyword_top}
            dense: dict[int, float] = {}
        else:
            dense = self.dense_search(query, n)
            if mode == "dense":
                fused = dict(dense)
            else:
                missing = [i for i in keyword_top if i not in dense]
                dense.update(self.dense_scores(query, missing))
                candidates = {i: float(keyword.get(i, 0.0)) for i in dense}
                if self.settings.fusion == "rrf":
                    dense_rank = top_k(dense, n)
                    fused = reciprocal_rank_fusion([dense_rank, keyword_top], self.settings.rrf_k)
                else:
                    fused = weighted_fusion(dense, candidates, self.settings.dense_weight, self.settings.dense_min_spread)
        hits = []
        for rank, i in enumerate(top_k(fused, k), start=1):
            hits.append(Hit(
                chunk=self.index.chunk(i), score=round(fused[i], 6), rank=rank,
                dense_score=round(dense[i], 6) if i in dense else None,
                bm25_score=round(float(keyword.get(i, 0.0)), 6),
            ))
        return hits
