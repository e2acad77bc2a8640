"""Keyword side of retrieval: tokenising for BM25 and mapping misspelt query words onto the index vocabulary."""

from __future__ import annotations

import functools
import re
from typing import Iterable, Mapping

_WORD = re.compile(r"\w+", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


# English function words (the NLTK list plus question words): they match everything and rank nothing. Then the
# adverbs and courtesies a question is typed with ("what conditions is ECT good for specifically", "roughly", "tbh"):
# stemmed, they would meet the sources' adjectives ("specific areas of the brain"). Then the contractions as they are
# typed without an apostrophe ("thats", "theres", "dont"), which are the same function words ("ill", "id", "im" and
# "lets" are words of their own: "mentally ill", "IM ketamine").
_STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself
him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most
mustn't my myself no nor not of off on once only or other ought our ours ourselves out over own same shan't
she she'd she'll she's should shouldn't so some such than that that's the their theirs them themselves then
there there's these they they'd they'll they're they've this those through to too under until up very was
wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while who who's
whom why why's will with won't would wouldn't you you'd you'll you're you've your yours yourself yourselves
s t d ll m re ve y also does doe
specifically basically actually exactly literally honestly roughly really seriously definitely genuinely obviously
probably tbh pls plz thx thanks anyway kinda sorta
thats theres whats dont doesnt didnt isnt wasnt arent werent havent hasnt hadnt wouldnt couldnt shouldnt theyre
youre ive youve weve theyve hows whos wheres whens whys hes shes cant wont
""".split())


def surface_words(text: str) -> list[str]:
    """The lower-cased words of `text` as written: no stemming, no stop-word removal."""
    return _WORD.findall(text.lower())


def keyword_tokens(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed word tokens of `text`; numbers are kept ("83" in "83%")."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
    return _stemmer().stemWords(words) if words else []


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


class SpellingMap:
    """Finds index words within one edit (insert, delete, substitute, swap) of an unknown query word.

    Symmetric-delete lookup: two words are close when their one-deletion variants meet. This is what
    lets "nmda" reach the source's "ndma" and "ketamin" reach "ketamine".
    """

    MIN_LENGTH = 4

    def __init__(self, vocabulary: Iterable[str]):
        self._by_variant: dict[str, set[str]] = {}
        for word in vocabulary:
            if len(word) >= self.MIN_LENGTH and not word.isdigit():
                for variant in _deletions(word):
                    self._by_variant.setdefault(variant, set()).add(word)

    def candidates(self, word: str) -> list[str]:
        """Index words close to `word`, sorted; empty for short words and numbers."""
        if len(word) < self.MIN_LENGTH or word.isdigit():
            return []
        found: set[str] = set()
        for variant in _deletions(word):
            found |= self._by_variant.get(variant, set())
        return sorted(w for w in found if _one_edit(word, w))


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return False
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def query_terms(tokens: list[str], vocabulary: Mapping[str, int], spelling: SpellingMap | None) -> list[str]:
    """The query tokens the index knows, in order; an unknown token is replaced by its close index words."""
    terms: list[str] = []
    for token in tokens:
        if token in vocabulary:
            terms.append(token)
        elif spelling is not None:
            terms.extend(spelling.candidates(token)[:3])
    return terms


def query_token_ids(tokens: list[str], vocabulary: Mapping[str, int], spelling: SpellingMap | None) -> list[int]:
    """Vocabulary ids of the query tokens; unknown tokens are replaced by their close index words."""
    return [vocabulary[t] for t in query_terms(tokens, vocabulary, spelling)]


def _content_stems(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOPWORDS]
    return _stemmer().stemWords(words) if words else []


def _unseen(stem: str, vocabulary: Mapping[str, int], spelling: SpellingMap | None) -> bool:
    """Whether the index has never seen `stem`, nor any word one spelling slip away."""
    return stem not in vocabulary and not (spelling and spelling.candidates(stem))


def is_unknown_word(word: str, vocabulary: Mapping[str, int], spelling: SpellingMap | None) -> bool:
    """Whether the index has never seen `word` (by its stem), nor any word one spelling slip away."""
    stems = _content_stems(word)
    return bool(stems) and all(_unseen(s, vocabulary, spelling) for s in stems)


def unknown_share(text: str, vocabulary: Mapping[str, int], spelling: SpellingMap | None,
                  asked: str | None = None, known: Iterable[str] = ()) -> float:
    """Share of the content words of `text` (three letters or more) that the index has never seen.

    A question about "vagus nerve stimulation" or "psilocybin" is about something the corpus does not
    mention; this is one of the two signals the answer module abstains on. With `asked`, the part of `text`
    that asks, only its words can count as unknown, over all of `text`'s words: the rest tells why the writer
    asks ("family saw one flew over the cuckoos nest and r horrified. how does the article describe ECT").
    `known`: words to count as known though the index never uses them (lay words for the sources' own).
    """
    stems = _content_stems(text)
    if not stems:
        return 1.0
    # ... unless the asking part has no word of its own ("... offered the same way ketamine is. Is it?"): then the
    # background is what it asks.
    counted = (asked is not None and _content_stems(asked)) or stems
    also = set(_content_stems(" ".join(known)))
    unknown = [s for s in counted if s not in also and _unseen(s, vocabulary, spelling)]
    return len(unknown) / len(stems)
