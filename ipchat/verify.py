"""Claim checking: split a text into claims and judge each against the indexed sources.

For every claim the retriever finds passages, each sentence of those passages is scored against
the claim (cosine of the sentence vector with the claim embedding, plus the share of the claim's
keywords it contains), and the best sentences are compared with the claim:

* ``contradicted`` — a sentence on the same point says otherwise: a quantity of the same kind that
  disagrees ("six to twelve treatments" vs "twenty sessions"), one side of an antonym pair against
  the other ("noninvasive" vs "invasive"), or a statement the claim negates ("has addictive
  properties" vs "no addictive properties");
* ``supported`` — the best sentence is close enough, disagrees on nothing, and addresses what the
  claim asserts: every quantity it gives, its negation, the graded properties of the antonym table
  ("mild", "rapid"), and, when the sentence is part of a list, the items the claim names;
* ``not_found`` — nothing in the sources is close enough, or the closest sentences leave out a
  quantity, negation, property or list item the claim gives.

Evidence is quoted verbatim with its offsets; a sentence inside a list is quoted with its whole list.

There is no entailment model: the comparisons below are lexical rules plus the embedding scores.
The thresholds were calibrated with ``eval/verify_report.py`` on ``eval/claims/claims.jsonl``.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass
from typing import Sequence

from .answer import citation, list_block, sentence_matches
from .chunking import ABBREVIATIONS, split_sentences
from .errors import InputError
from .keywords import keyword_tokens, unknown_share
from .quantities import (NUMBERISH, Quantity, QuantityCheck, clause_ids, compare_quantities,  # noqa: F401
                         extract_quantities, matches, quantities_agree, stems, tokenize)
from .retrieval import MAX_QUERY_CHARS
from .types import Chunk, Citation, Hit

MAX_TEXT_CHARS = 20_000

VERDICTS = ("supported", "contradicted", "not_found")

# -- calibration -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """The numbers behind a verdict. Defaults calibrated with `eval/verify_report.py --sweep` on
    eval/claims/claims.jsonl (53 claims): accuracy is 0.94-0.98 over support 0.45-0.60 x unknown_penalty
    0.25-0.75, related 0.40-0.50 and cosine_weight 0.5-0.7. The defaults sit inside that plateau (0.962,
    every neighbour at least 0.943) on its stricter side: a claim wrongly marked supported misleads a
    teacher more than one marked not_found, and the cells scoring 0.981 gain a single claim that clears
    the support bar by 0.01.

    * evidence score of a sentence = cosine_weight * cosine(claim, sentence) + (1 - cosine_weight) *
      share of the claim's keywords found in the sentence or its section heading;
    * a sentence below `related` is not on the same point: it can neither support nor contradict;
    * the sentences within `margin` of the best eligible one (at most `compared`) are compared with the
      claim for numbers, negation and general antonyms; specific antonym pairs are checked in every
      eligible sentence;
    * support needs the sentence's score, less `unknown_penalty` times the share of the claim's words
      the sources never use, at or above `support`.
    """

    cosine_weight: float = 0.6
    related: float = 0.45
    support: float = 0.55
    unknown_penalty: float = 0.5
    margin: float = 0.15
    compared: int = 3


DEFAULT_THRESHOLDS = Thresholds()
DEFAULT_K = 5
# Inside a list, at least this share of the claim's own words must be among the list items to support it.
LIST_ITEM_COVERAGE = 0.5


# -- records -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimResult:
    """One claim, its verdict, a short reason and the citations it rests on (empty for not_found)."""

    claim: str
    verdict: str
    reason: str
    evidence: tuple[Citation, ...] = ()

    def to_dict(self) -> dict:
        """The JSON shape of one claim: claim, verdict, reason, evidence (list of citation dicts)."""
        return {"claim": self.claim, "verdict": self.verdict, "reason": self.reason,
                "evidence": [dataclasses.asdict(c) for c in self.evidence]}


@dataclass(frozen=True)
class Verification:
    """The results for every claim of a text, in the order the claims appear."""

    claims: tuple[ClaimResult, ...]

    def to_dict(self) -> dict:
        """The stable JSON shape `ipchat verify --json` writes: {"claims": [ClaimResult.to_dict(), ...]}."""
        return {"claims": [c.to_dict() for c in self.claims]}

    def counts(self) -> dict[str, int]:
        """Number of claims per verdict (every verdict present, possibly zero)."""
        out = {v: 0 for v in VERDICTS}
        for c in self.claims:
            out[c.verdict] += 1
        return out


# Tokens, clauses and quantities live in quantities.py; verify reads and compares them.

# -- negation and antonyms ---------------------------------------------------------------------------

_NEGATIONS = {"not", "no", "never", "without", "cannot", "none", "neither", "nor", "lacks", "lack", "free"}
# Phrases that start with a negation word but don't negate what follows.
_NOT_NEGATIONS = (("not", "only"), ("not", "just"), ("no", "more", "than"), ("no", "less", "than"),
                  ("no", "longer", "than"), ("free", "to"), ("feel", "free"))
NEGATION_SCOPE = 3  # content words after a negation that it covers, within the clause

# Antonym pairs: (what is at stake, side A pattern, side B pattern, specific), matched on lower-cased text.
# A side negated in its clause counts as the other side ("not invasive" is side B of invasiveness).
# A *specific* pair names one property of one procedure, so a sentence on the same treatment that takes
# the other side is on the same point ("awake" vs "under anesthesia"). The others are general modifiers
# ("mild", "rapid", "increase") that say something different about every noun they qualify, so they only
# count in the sentences closest to the claim or when their clauses share a keyword.
ANTONYM_PAIRS: tuple[tuple[str, str, str, bool], ...] = (
    ("invasiveness", r"(?<!non-)(?<!non)\binvasive\b", r"\bnon-?invasive\b", True),
    ("consciousness", r"\b(?:awake|conscious|alert)\b",
     r"\b(?:under (?:general )?an(?:a)?esthesia|an(?:a)?esthetized|an(?:a)?esthetised|asleep|sedated|unconscious)\b", True),
    # Whether something is first-line depends on what it is; the pair says nothing about a treatment by itself.
    ("line of treatment", r"\bfirst[- ]line\b", r"\b(?:second[- ]line|third[- ]line|last resort)\b", False),
    ("addiction", r"(?<!non-)(?<!non)\b(?:addictive|habit-forming)\b", r"\bnon-?addictive\b", True),
    ("humaneness", r"\bhumane\b", r"\b(?:inhumane|barbaric|cruel)\b", True),
    ("route", r"\b(?:intravenous|intravenously|iv)\b", r"\b(?:oral|orally|by mouth|pills?|tablets?|capsules?)\b", True),
    # Electric current vs magnetic pulses is what tells ECT from TMS; "electromagnetic" (no word boundary
    # inside it) is neither side.
    ("stimulus", r"\bmagnetic\b", r"\belectric(?:al)?\b", True),
    ("speed", r"\b(?:rapid|rapidly|fast|quick|quickly|immediate|immediately)\b",
     r"\b(?:slow|slowly|delayed|gradual|gradually)\b", False),
    ("severity", r"\b(?:mild|minor|slight)\b", r"\b(?:severe|serious)\b", False),
    ("effectiveness", r"\beffective\b", r"\bineffective\b", False),
    ("direction", r"\b(?:increase[sd]?|increasing|raise[sd]?|raising|boosts?|elevate[sd]?)\b",
     r"\b(?:decrease[sd]?|decreasing|reduce[sd]?|reducing|lowers?|lowering|diminish(?:es)?)\b", False),
    ("duration of benefit", r"\b(?:long-lasting|lasting|durable|permanent)\b", r"\b(?:short-lived|temporary|transient)\b",
     False),
    ("portrayal", r"\bpositive(?:ly)?\b", r"\bnegative(?:ly)?\b", False),
    ("safety", r"\bsafe\b", r"\b(?:unsafe|dangerous|harmful)\b", False),
)
# Stems of the treatment names: the subject of a claim, not what it asserts or denies about it.
_TOPIC_STEMS = frozenset(keyword_tokens("ect electroconvulsive tms rtms transcranial magnetic stimulation ketamine"))
# Words too common in this domain for "the source says X, the claim says not X" to mean anything.
_GENERIC = frozenset(keyword_tokens("patient patients treatment therapy therapies brain mental health use used "
                                    "condition conditions disorder disorders people can may"))


def _negated_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of `text` covered by a negation: from the cue to NEGATION_SCOPE content words on,
    within its clause. "non-" and "non" prefixes negate their own word."""
    tokens = tokenize(text)
    clauses = clause_ids(tokens)
    spans = []
    for i, t in enumerate(tokens):
        if t.text == "non" and i + 2 < len(tokens) and tokens[i + 1].text == "-":
            spans.append((t.start, tokens[i + 2].end))  # "non-invasive": the prefix negates its own word only
            continue
        cue = t.text in _NEGATIONS or t.text.endswith("n't")
        if not cue or any(matches(tokens, i - k, p) for p in _NOT_NEGATIONS for k in range(len(p))
                          if p[k] == t.text):
            continue
        content, end = 0, t.end
        for k in range(i + 1, len(tokens)):
            if clauses[k] != clauses[i]:
                break
            end = tokens[k].end
            if tokens[k].text.isalpha() and keyword_tokens(tokens[k].text):
                content += 1
                if content >= NEGATION_SCOPE:
                    break
        spans.append((t.start, end))
    for m in re.finditer(r"\bnon(?=[a-z]{5,})", text.lower()):
        spans.append((m.start(), m.end() + 1))
    return spans


@dataclass(frozen=True)
class Side:
    """Which side of an antonym pair a text takes: +1 side A, -1 side B, 0 neither or both.

    `phrase` is the wording that decided it ("noninvasive", "no addictive"); `context` the keyword
    stems of its clause, without the pair's own words and the treatment names.
    """

    sign: int
    phrase: str = ""
    context: frozenset[str] = frozenset()


def pair_side(text: str, pattern_a: str, pattern_b: str) -> Side:
    """The side `text` takes on the antonym pair (pattern_a, pattern_b); see Side."""
    lower = text.lower().replace("’", "'")
    negated = _negated_spans(lower)
    sides: dict[int, tuple[str, int]] = {}
    for sign, pattern in ((1, pattern_a), (-1, pattern_b)):
        for m in re.finditer(pattern, lower):
            inside = [(s, e) for s, e in negated if s <= m.start() < e]
            # "non-invasive" is matched as side B directly; its own "non" must not flip it back.
            flip = bool(inside) and not (sign == -1 and lower[m.start():m.start() + 3] == "non")
            side = -sign if flip else sign
            phrase = text[inside[0][0]:m.end()] if flip else text[m.start():m.end()]
            sides.setdefault(side, (phrase, m.start()))
    if len(sides) != 1:
        return Side(0)
    sign, (phrase, at) = next(iter(sides.items()))
    own = stems(re.findall(r"[a-z]+", " ".join(re.findall(pattern_a + "|" + pattern_b, lower)) + " " + phrase.lower()))
    return Side(sign, phrase, frozenset(_clause_stems(text, at) - own - _TOPIC_STEMS - _GENERIC))


def _clause_stems(text: str, at: int) -> set[str]:
    """Keyword stems of the clause of `text` containing character offset `at`."""
    tokens = tokenize(text)
    if not tokens:
        return set()
    clauses = clause_ids(tokens)
    i = next((k for k, t in enumerate(tokens) if t.end > at), len(tokens) - 1)
    return stems(t.text for t, c in zip(tokens, clauses) if c == clauses[i] and t.text.isalpha())


@dataclass(frozen=True)
class AntonymConflict:
    """Claim and source take opposite sides of the pair `name`."""

    name: str
    source_phrase: str
    claim_phrase: str
    specific: bool
    shared_context: frozenset[str]


def antonym_conflicts(claim: str, source: str) -> list[AntonymConflict]:
    """Every antonym pair on which claim and source take opposite sides. A text using both sides of a
    pair takes neither, so "increasing glutamate ... while reducing glutamate" conflicts with nothing."""
    out = []
    for name, a, b, specific in ANTONYM_PAIRS:
        c_side = pair_side(claim, a, b)
        if not c_side.sign:
            continue
        s_side = pair_side(source, a, b)
        if s_side.sign and s_side.sign != c_side.sign:
            out.append(AntonymConflict(name, s_side.phrase, c_side.phrase, specific, c_side.context & s_side.context))
    return out


def antonym_conflict(claim: str, source: str) -> tuple[str, str, str] | None:
    """The first antonym pair on which claim and source take opposite sides, as (what, source phrase,
    claim phrase); None when there is none. Does not judge whether both are about the same thing."""
    found = antonym_conflicts(claim, source)
    return (found[0].name, found[0].source_phrase, found[0].claim_phrase) if found else None


def _polarity(text: str) -> dict[str, tuple[bool, str]]:
    """For each content stem of `text`: whether every occurrence is negated, and the phrase it sits in."""
    negated = _negated_spans(text.replace("’", "'"))
    seen: dict[str, list[bool]] = {}
    phrase: dict[str, str] = {}
    for m in re.finditer(r"[A-Za-z]+(?:-[A-Za-z]+)*", text):
        for stem in keyword_tokens(m.group(0)):
            inside = [(s, e) for s, e in negated if s <= m.start() < e]
            seen.setdefault(stem, []).append(bool(inside))
            if inside:
                phrase.setdefault(stem, text[inside[0][0]:inside[0][1]])
            else:
                phrase.setdefault(stem, m.group(0))
    return {stem: (all(flags), phrase[stem]) for stem, flags in seen.items()}


def negation_conflict(claim: str, source: str) -> tuple[str, str] | None:
    """(source phrase, claim phrase) when one text negates a content word the other only asserts.

    "Ketamine has no addictive properties" against "ketamine has addictive properties" conflicts; a
    word the source uses both negated and not (or too common to mean anything) never does. None when
    there is no such word.
    """
    c_pol, s_pol = _polarity(claim), _polarity(source)
    for stem, (c_neg, c_phrase) in c_pol.items():
        if stem in _GENERIC or stem in _TOPIC_STEMS or stem not in s_pol:
            continue
        s_neg, s_phrase = s_pol[stem]
        if c_neg != s_neg:
            return s_phrase, c_phrase
    return None


def negation_addressed(claim: str, source: str) -> bool:
    """False when the claim negates something the source neither negates nor answers with an antonym.

    "TMS does not require anesthesia" is not supported by a sentence that never mentions anesthesia,
    however close it is otherwise. True for claims without a negation.
    """
    negated = {stem for stem, (neg, _) in _polarity(claim).items()
               if neg and stem not in _GENERIC and stem not in _TOPIC_STEMS}
    if not negated:
        return True
    s_pol = _polarity(source)
    if any(s_pol.get(stem, (False, ""))[0] for stem in negated):
        return True
    return any(pair_side(claim, a, b).sign and pair_side(claim, a, b).sign == pair_side(source, a, b).sign
               for _, a, b, _ in ANTONYM_PAIRS)


def properties_addressed(claim: str, source: str) -> bool:
    """False when the claim takes a side of an antonym pair ("mild", "rapid", "invasive") and the source
    uses neither side: "ketamine's side effects are mild" is not supported by a passage on ketamine's
    side effects that never grades them. True when the claim uses no pair."""
    lower = source.lower().replace("’", "'")
    return all(re.search(a, lower) or re.search(b, lower)
               for _, a, b, _ in ANTONYM_PAIRS if pair_side(claim, a, b).sign)


def find_conflict(claim: str, source: str) -> str | None:
    """A short reason when `source` says otherwise than `claim` (quantities, antonyms, negation), else None.

    The caller decides whether the two are on the same point; this only compares wording.
    """
    check = compare_quantities(claim, source)
    if check.conflicts:
        q, aligned = check.conflicts[0]
        return f"source: {', '.join(s.text for s in aligned)}; claim: {q.text}"
    antonym = antonym_conflict(claim, source)
    if antonym:
        _, s_phrase, c_phrase = antonym
        return f"source: {s_phrase}; claim: {c_phrase}"
    negation = negation_conflict(claim, source)
    if negation:
        return f"source: {negation[0]}; claim: {negation[1]}"
    return None


# -- topics ------------------------------------------------------------------------------------------

# The treatments the corpus is about. A claim about one of them is only compared with sentences about
# the same one (or none in particular): "TMS is noninvasive" says nothing about ECT.
TOPICS: dict[str, str] = {
    "ECT": r"\b(?:ect|electroconvulsive|electro-convulsive|shock therapy)\b",
    "TMS": r"\b(?:r?tms|transcranial magnetic)\b",
    "ketamine": r"\bketamine\b",
}


def topics_of(text: str) -> frozenset[str]:
    """The treatments (keys of TOPICS) that `text` names."""
    lower = text.lower()
    return frozenset(name for name, pattern in TOPICS.items() if re.search(pattern, lower))


def topics_compatible(claim_topics: frozenset[str], source_topics: frozenset[str]) -> bool:
    """False only when both name treatments and none in common."""
    return not claim_topics or not source_topics or bool(claim_topics & source_topics)


# -- claims ------------------------------------------------------------------------------------------

_BULLET = re.compile(r"^[ \t]*(?:[-*+•·‣▪–]|\d+[.)]|[a-zA-Z][.)](?=\s))[ \t]+")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+")
_ABBREVIATIONS = ABBREVIATIONS | {"ca"}  # claims date things "ca. 1990"; the chunker's set leaves chunk boundaries as built


def _sentences(text: str) -> list[str]:
    return [s for s in (text[a:b].strip() for a, b in split_sentences(text, 0, len(text), _ABBREVIATIONS)) if s]


def _marker_type(marker: str) -> str:
    """"-", "*", "+", "•" … keep their own character; "1." and "2)" are "number." and "number)"."""
    marker = marker.strip()
    return f"number{marker[-1]}" if marker[:-1].isdigit() else ("letter" + marker[-1] if marker[:-1].isalpha() else marker)


def split_claims(text: str) -> list[str]:
    """The claims of `text`, in order: its sentences and list items.

    List items start with "-", "*", "+", "•", "1." or "1)". An item under a lead-in ending with ":"
    ("Side effects include:") becomes "lead-in item" so it reads as a claim on its own; the lead-in is
    not a claim by itself, and it applies only to the list right after it (a blank-line gap within the
    list is fine, another marker style or prose ends it). Items that are sentences of their own are
    kept as they are. Markdown headings and fragments without a letter are skipped. Lines of one
    paragraph are joined before splitting into sentences. Returns [] for blank text.
    """
    claims: list[str] = []
    paragraph: list[str] = []
    lead_in: str | None = None
    lead_at = -1  # where the lead-in sits in `claims`; dropped at the end once an item has used it
    used: set[int] = set()
    list_type: str | None = None  # marker style of the list the lead-in belongs to

    def flush() -> None:
        nonlocal lead_in, lead_at, list_type
        if paragraph:
            sentences = _sentences(" ".join(paragraph))
            claims.extend(sentences)
            lead_in, list_type = (sentences[-1], None) if sentences and sentences[-1].endswith(":") else (None, None)
            lead_at = len(claims) - 1
            paragraph.clear()

    for line in (text or "").replace("\r\n", "\n").split("\n"):
        if not line.strip():
            flush()
            continue
        if _HEADING.match(line):
            flush()
            lead_in = list_type = None
            continue
        marker = _BULLET.match(line)
        if marker:
            flush()
            style = _marker_type(marker.group(0))
            if lead_in and list_type not in (None, style):
                lead_in = None  # a list in another style is not the one the lead-in announced
            list_type = style
            for sentence in _sentences(line[marker.end():].strip()):
                claims.append(_with_lead_in(lead_in, sentence))
                if lead_in:
                    used.add(lead_at)
            continue
        if list_type is not None:
            lead_in = list_type = None  # prose after a list ends it
        paragraph.append(line.strip())
    flush()
    # A lead-in that introduced items is folded into them; one with no list after it is a sentence like any other.
    kept = (c for i, c in enumerate(claims) if i not in used)
    return [c for c in (re.sub(r"\s+", " ", c).strip() for c in kept) if re.search(r"[A-Za-z]", c)]


def _with_lead_in(lead_in: str | None, item: str) -> str:
    """"Side effects include:" + "Nausea" → "Side effects include nausea"; sentences stay as they are."""
    if not lead_in or _is_sentence(item):
        return item
    first = item[0].lower() if len(item) > 1 and item[1].islower() else item[0]  # keep "TMS", "IV"
    return f"{lead_in.rstrip(':').rstrip()} {first}{item[1:]}"


def _is_sentence(item: str) -> bool:
    """A list item that is a sentence of its own ("ECT is given under anesthesia.") needs no lead-in."""
    return len(re.findall(r"[A-Za-z]+", item)) >= 3 and item.rstrip().endswith((".", "!", "?"))


# -- evidence ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage, scored against a claim."""

    hit: Hit
    start: int
    end: int
    text: str
    cosine: float
    coverage: float
    score: float
    topics: frozenset[str]


def score_evidence(claim: str, hits: Sequence[Hit], retriever, cosine_weight: float = DEFAULT_THRESHOLDS.cosine_weight
                   ) -> list[Evidence]:
    """Every sentence of the hits scored against the claim, best first.

    score = cosine_weight * cosine(sentence vector, claim embedding) + (1 - cosine_weight) * share of the
    claim's keywords found in the sentence or its section heading. Sentences that are bare links are
    left out.
    """
    out = []
    vector = retriever.embed_query(claim[:MAX_QUERY_CHARS])
    for hit, _row, start, end, text, cosine, coverage in sentence_matches(retriever.index, claim, vector, hits):
        if re.fullmatch(r"\S*https?://\S*", text):
            continue
        score = cosine_weight * cosine + (1 - cosine_weight) * coverage
        out.append(Evidence(hit, start, end, text, cosine, coverage, score,
                            topics_of(text) or topics_of(hit.chunk.section)))
    out.sort(key=lambda e: (-e.score, e.hit.rank, e.start))
    return out


def _citation(n: int, index, chunk: Chunk, start: int, end: int) -> Citation:
    """answer.citation, with a list item quoted as its whole list."""
    return citation(index, n, chunk, *list_block(chunk, index.documents[chunk.doc_id].text, start, end))


def _list_text(index, evidence: Evidence) -> str:
    """The evidence text, or its whole list block when it is a list item, for comparing with the claim."""
    doc = index.documents[evidence.hit.chunk.doc_id]
    start, end = list_block(evidence.hit.chunk, doc.text, evidence.start, evidence.end)
    return doc.text[start:end]


@dataclass(frozen=True)
class Judgement:
    """A verdict with the sentences it rests on and the scores behind it (for calibration)."""

    verdict: str
    reason: str
    evidence: tuple[Evidence, ...]
    best_score: float
    support_score: float
    unknown: float


def claim_unknown_share(claim: str, index) -> float:
    """Share of the claim's content words the sources never use, leaving out numbers and units
    ("twenty sessions" is a claim about a number, not about an unknown topic)."""
    words = [w for w in re.findall(r"[A-Za-z]+", claim) if w.lower() not in NUMBERISH]
    return unknown_share(" ".join(words), index.vocabulary, index.spelling) if words else 0.0


def _list_item_coverage(claim: str, evidence: Evidence, index) -> float:
    """For evidence inside a list, the share of the claim's own words (beyond the list's lead-in, its
    section and the treatment names) that the list items contain; 1.0 for evidence that is no list.

    A lead-in like "The potential side effects include:" is close to every claim of the form "ketamine
    side effects include X"; whether X is listed is what decides.
    """
    chunk = evidence.hit.chunk
    doc_text = index.documents[chunk.doc_id].text
    start, end = list_block(chunk, doc_text, evidence.start, evidence.end)
    if (start, end) == (evidence.start, evidence.end) and not evidence.text.endswith(":"):
        return 1.0
    spans = [(s, e) for s, e in chunk.sentences if start <= s and e <= end]
    lead = [doc_text[s:e] for s, e in spans if doc_text[s:e].endswith(":")]
    items = [doc_text[s:e] for s, e in spans if not doc_text[s:e].endswith(":")]
    residual = stems(re.findall(r"[A-Za-z]+", claim)) - stems(re.findall(r"[A-Za-z]+", " ".join(lead) + " " + chunk.section)) \
        - _GENERIC - _TOPIC_STEMS
    if not residual:
        return 1.0
    return len(residual & stems(re.findall(r"[A-Za-z]+", " ".join(items)))) / len(residual)


def judge_claim(claim: str, retriever, k: int = DEFAULT_K, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Judgement:
    """Judge one claim against the index of `retriever`.

    In order: a specific antonym pair against any eligible sentence (same treatment, score at least
    `thresholds.related`) → contradicted; then, for the best few eligible sentences in score order, a
    disagreeing number, a general antonym or a negation → contradicted, or a close enough sentence that
    states every number of the claim (and its negation, if any; its graded properties such as "mild";
    and, inside a list, the items the claim names) → supported; otherwise not_found.
    Raises InputError for an empty claim.
    """
    t = thresholds
    index = retriever.index
    hits = retriever.search(claim[:MAX_QUERY_CHARS], k)
    candidates = score_evidence(claim, hits, retriever, t.cosine_weight)
    claim_topics = topics_of(claim)
    unknown = claim_unknown_share(claim, index)
    best_score = candidates[0].score if candidates else 0.0
    eligible = [e for e in candidates if topics_compatible(claim_topics, e.topics) and e.score >= t.related]
    closest = [e for e in eligible if e.score >= eligible[0].score - t.margin][:t.compared] if eligible else []
    top_support = closest[0].score - t.unknown_penalty * unknown if closest else 0.0
    texts = {id(e): _list_text(index, e) for e in eligible}

    for e in eligible:
        for conflict in antonym_conflicts(claim, texts[id(e)]):
            if conflict.specific or conflict.shared_context:
                return Judgement("contradicted", f"source: {conflict.source_phrase}; claim: {conflict.claim_phrase}",
                                 (e,), best_score, top_support, unknown)
    for e in closest:
        text = texts[id(e)]
        conflict = find_conflict(claim, text)
        if conflict:
            return Judgement("contradicted", conflict, (e,), best_score, top_support, unknown)
        support = e.score - t.unknown_penalty * unknown
        check = compare_quantities(claim, text)
        # What the claim asserts must be there: its numbers and negation in the quoted sentence, its graded
        # properties somewhere in the passage (a compound claim often spans two sentences of one passage).
        if support >= t.support and not check.unaddressed and negation_addressed(claim, text) \
                and properties_addressed(claim, e.hit.chunk.text) \
                and _list_item_coverage(claim, e, index) >= LIST_ITEM_COVERAGE:
            agreed = "; ".join(f"source: {s.text}; claim: {q.text}" for q, s in check.agreements)
            reason = agreed or f"the passage states it (similarity {e.cosine:.2f}, {e.coverage:.0%} of the claim's keywords)"
            return Judgement("supported", reason, (e,), best_score, top_support, unknown)
    reason = _not_found_reason(claim, candidates, closest, index)
    return Judgement("not_found", reason, (), best_score, top_support, unknown)


def judge_claims(claims: Sequence[str], retriever, k: int = DEFAULT_K, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 vectors: Sequence | None = None) -> list[Judgement]:
    """Judge several claims; their embeddings are computed in one batch (or taken from `vectors`, one
    row per claim), which is several times faster than one model call per claim.

    The searches run on a shallow copy of `retriever` that looks the claims' vectors up first, so the
    shared retriever (and its cache) is left untouched.
    """
    claims = list(claims)
    if not claims:
        return []
    queries = [c[:MAX_QUERY_CHARS] for c in claims]
    # search() embeds a claim with its shorthand spelt out ("TRD (treatment-resistant depression)"):
    # those forms go into the same batch.
    expanded = [e for e in dict.fromkeys(retriever.expand_query(q) for q in queries) if e not in queries]
    if vectors is None:
        embedded = retriever.embedder.embed(queries + expanded)
        vectors, extra = embedded[:len(queries)], embedded[len(queries):]
    else:
        extra = retriever.embedder.embed(expanded) if expanded else []
    known = {**dict(zip(queries, vectors)), **dict(zip(expanded, extra))}
    original = retriever.embed_query
    batched = copy.copy(retriever)
    batched.embed_query = lambda text: known[text] if text in known else original(text)
    return [judge_claim(c, batched, k, thresholds) for c in claims]


def _not_found_reason(claim: str, candidates, closest, index) -> str:
    """Why nothing supports the claim: what the closest passage leaves out, or the words the sources never use."""
    best = candidates[0].score if candidates else 0.0
    if closest:
        e = closest[0]
        text = _list_text(index, e)
        quantities = compare_quantities(claim, text).unaddressed
        if quantities:
            kind = quantities[0].kind.split("/")[0].split(":")[0]
            return f"the closest passage gives no {kind} to compare with: {quantities[0].text}"
        for _, a, b, _ in ANTONYM_PAIRS:
            side = pair_side(claim, a, b)
            if side.sign and not properties_addressed(side.phrase, e.hit.chunk.text):
                return f"the closest passage does not say whether it is {side.phrase} (closest match {best:.2f})"
        if not negation_addressed(claim, text):
            return f"the closest passage does not state the negation (closest match {best:.2f})"
        if _list_item_coverage(claim, e, index) < LIST_ITEM_COVERAGE:
            return f"the closest list does not include it (closest match {best:.2f})"
    missing = _unknown_words(claim, index)
    if missing:
        return f"no passage addresses it (words the sources never use: {', '.join(missing[:5])}; closest match {best:.2f})"
    return f"no passage addresses it (closest match {best:.2f})"


def _unknown_words(claim: str, index) -> list[str]:
    vocab, spelling = index.vocabulary, index.spelling
    out = []
    for word in re.findall(r"[A-Za-z][A-Za-z\-]+|\d+", claim):
        stems = keyword_tokens(word)
        if stems and all(s not in vocab and not spelling.candidates(s) for s in stems) and word.lower() not in out:
            out.append(word.lower())
    return out


def verify_text(text: str, retriever, k: int = DEFAULT_K, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Verification:
    """Split `text` into claims and judge each against the sources of `retriever`.

    Returns a Verification whose claims carry a verdict ("supported", "contradicted", "not_found"),
    a short reason and, for the first two, the cited sentence (a whole list when the sentence is a
    list item), quoted verbatim with its offsets. `k` passages are retrieved per claim.
    Raises InputError when the text is empty, has no claims, or is over MAX_TEXT_CHARS characters.
    """
    text = text or ""
    if not text.strip():
        raise InputError("The text to check is empty.")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"The text is {len(text)} characters long; the limit is {MAX_TEXT_CHARS}.")
    claims = split_claims(text)
    if not claims:
        raise InputError("The text has no sentences to check.")
    results = []
    for claim, judgement in zip(claims, judge_claims(claims, retriever, k, thresholds)):
        citations = tuple(_citation(n, retriever.index, e.hit.chunk, e.start, e.end)
                          for n, e in enumerate(judgement.evidence, start=1))
        results.append(ClaimResult(claim, judgement.verdict, judgement.reason, citations))
    return Verification(tuple(results))


_LABELS = {"supported": "SUPPORTED", "contradicted": "CONTRADICTED", "not_found": "NOT FOUND"}


def render_text(verification: Verification) -> str:
    """The plain-text report `ipchat verify` prints: per claim its verdict, reason and numbered quotes
    with their section, then a one-line count per verdict."""
    lines = []
    for i, result in enumerate(verification.claims, start=1):
        lines.append(f"{i}. [{_LABELS[result.verdict]}] {result.claim}")
        lines.append(f"   {result.reason}")
        for c in result.evidence:
            quote = "\n".join(("      " + line) if line.strip() else "" for line in c.quote.split("\n")).lstrip()
            lines.append(f"   [{c.n}] \"{quote}\"")
            lines.append(f"       — {c.title}, {c.section} ({c.url}) chars {c.start}-{c.end}")
        lines.append("")
    counts = verification.counts()
    lines.append(", ".join(f"{n} {verdict.replace('_', ' ')}" for verdict, n in counts.items()))
    return "\n".join(lines)
