"""Cited answers: safety first, follow-up rewriting, retrieval, then verbatim sentences with [n] markers.

The default answer is extractive: the sentences of the retrieved passages are scored against the
question, the best few are quoted verbatim, each followed by its marker, and every marker resolves to
a citation with the exact offsets of its quote. When nothing scores high enough the reply abstains and
the passages are offered as closest material. Generated phrasing (llm.py) is optional and checked.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
import time
from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Sequence

import numpy as np

from . import safety
from .conversation import rewrite_followup, topics_in
from .coverage import (TYPE_LABELS, TreatmentCoverage, expected_types, in_passing, named_treatments, phrase_pattern,
                       states, without_links)
from .embedding import VectorCache
from .errors import InputError
from .index import passage_text
from .keywords import is_unknown_word, keyword_tokens, query_token_ids, unknown_share
from .lexicon import (aspects_asked, broader_class, conditions_asked, conditions_named, conditions_treated, cue, is_medication,
                      lay_phrases, lay_sources_added, topic_of, unnamed_conditions_asked, unnamed_effects_asked,
                      without_courtesy_lead, without_known_part, without_speaker_aside, without_speaker_role)
from .llm import ChatClient, LLMUnavailable, check_generated
from .retrieval import MAX_QUERY_CHARS, Retriever
from .settings import Settings, load_settings
from .types import Chunk, Citation, Hit, Reply

log = logging.getLogger(__name__)

ABSTAIN_TEXT = "The indexed sources don't cover this."
# Sentence score = weighted sum of these parts; weights chosen with eval/answers.py on the seed set.
SENTENCE_WEIGHT, KEYWORD_WEIGHT, PASSAGE_WEIGHT = 0.5, 0.3, 0.2
# Answerability = best sentence score minus this times the share of question words unknown to the index.
UNKNOWN_PENALTY = 0.3
KEEP_MARGIN = 0.12  # keep sentences scoring within this of the best one (eval/answers.py: facts vs length)
# A sentence that takes up where the answer's first one ends ("... and increase the amount of glutamate." →
# "Increasing glutamate activates AMPA receptors, ...") carries its explanation on: it is kept within this
# wider margin.
CHAIN_MARGIN = 0.18
# A sentence next to a kept one, holding a part of what is asked that no kept sentence holds (a lay word's
# source: "... ketamine has addictive properties." before "Patients with a history of substance use disorder
# ..."), is kept within this margin: the kept sentence quoting the question's own words outscores it by more
# than a continuation would.
PART_MARGIN = 0.24
# Within this of each other, the sentences of one chain (the second takes up the first's last words) are
# alike in score: they are quoted in reading order.
TIE_MARGIN = 0.02
# Openings that set a sentence against or beside the one before it.
_CONNECTIVE = re.compile(r"(?:in contrast|by contrast|on the other hand|conversely|however|similarly|likewise)\b", re.I)
# A question asking how things differ ("first line vs procedural therapies, whats the key difference"): the sentence
# set against the first kept one ("In contrast, procedural therapies ...") says the other half of the answer, and is
# kept within PART_MARGIN.
_DIFFERENCE_ASKED = re.compile(r"\b(?:vs|versus|difference|differences|diff|diffs|differ|differs|compared? (?:to|with)|"
                               r"contrast|distinguish)\b", re.I)
_CHAIN_WORDS = 3  # one of the first words of its opening must be one of the last words of the kept sentence
# A sentence whose subject only refers back ("It also helps providers avoid ineffective treatments ..."): quoted
# first, the sentence just before it, which says what "it" is, is kept beside it within PART_MARGIN.
_ALSO_OF_BEFORE = re.compile(r"(?:it|this|that|they|these|those)\s+(?:also|too|further|in turn)\b", re.I)
# A thing asked whether a treatment does something to (lexicon.unnamed_effects_asked) is taken for one the sources
# never name only when its word is this long and its stem not this close to one they use (difflib ratio): not "achy",
# not "memroy".
_EFFECT_MIN = 6
_NEAR_CUTOFF = 0.65
# A question asking for a figure ("how many sessions", "how long", "what percentage") is answered by a
# sentence that states one of that kind (coverage.expected_types): such sentences get this bonus
# (eval/answers.py: 0.2 over 0.1 raised the follow-ups' first citation and lowered no set's figure).
QUANTITY_BONUS = 0.2
# A question naming a treatment ("how many ECT sessions") is answered from a passage about it, not from
# one comparing it with psychotherapy: sentences of passages naming one of its treatments get this.
TOPIC_BONUS = 0.1  # eval/answers.py: 0.05-0.15 gave the same figures; none hurt a set
# Off a sentence that names treatments not asked about, by their share of those it names. Over every question set
# (2,964 rows), 0.1 and 0.2 moved 1 and 4 rows to the right first citation and none away.
SPREAD_PENALTY = 0.2
# Off a sentence that names every treatment a question names together (two or more) and none of the question's
# other words: a list of them, not what is asked of them (see `_asked_of`). Over every learnt question set, 0.2 against
# none moved 4 rows to the right first citation and none away.
LIST_PENALTY = 0.2
# A lay word the lexicon translates ("selling points" → benefits, "as a pill" → intravenously) says what is
# asked more surely than the question's other words, which dilute it in a long question: a sentence
# holding the sources' word gets this.
LAY_BONUS = 0.1
# A bare web address states nothing: it is quoted only when the question asks for links or sources. Nor
# does an entry of a reference list ("Ganti, Latha; ... McGraw-Hill, 2018"), whose author and title words
# can outscore the sentence that answers ("psych essay" → "Psychiatry Clerkship"), nor a title in a list of
# resources ("once the course is done?" → "ECT Virtual Course").
LINK_PENALTY = 0.3
_BARE_LINK = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.I)
_REFERENCE_SECTION = re.compile(r"^\s*(?:references?|bibliography|works cited|citations|sources|notes and references)\s*$", re.I)
_LINK_QUESTION = re.compile(r"\b(links?|urls?|websites?|web ?pages?|sites?|online|sources?|references?|cited|cites?|citations?)\b", re.I)
# A question for organisations, courses or further reading asks for the list of resources, which names them;
# not for the reference list's bare links and book entries, whose words (a URL's path, a title) can outscore it
# ("a professional society for magnetic stimulation" found ".../transcranial-magnetic-stimulation/...").
_RESOURCE_QUESTION = re.compile(r"\b(resources|orgs|organi[sz]ations?|societ(?:y|ies)|institutes?|training|trained|learning"
                                r"|professional (?:groups?|bod(?:y|ies)|associations?)|associations?|further reading"
                                r"|learn(?:ing)? more|read more)\b", re.I)
# Figures that hold only for the people they were measured in: asked for a condition, they must be stated of it.
POPULATION_FIGURES = ("percentage",)
# A question for organisations, links or further reading is answered from a list of resources, which
# states little else for the other words of the question to find.
RESOURCE_BONUS = 0.1
_RESOURCE_SECTION = re.compile(r"\b(?:resources|further reading|useful links|see also|learn more|organi[sz]ations)\b", re.I)
# A question asking about an aspect (pregnancy, driving, cost; lexicon.toml) is answered by a sentence that
# speaks to it, not by the treatment's other sentences ("ok in pregnancy?" after an ECT question quoted its
# side effects): such sentences get this.
ASPECT_BONUS = 0.2
DUPLICATE_COSINE = 0.9
# "whats 'interventional psychiatry' actually mean": a term asked to be defined is answered by the sentence that
# defines it ("Interventional psychiatry is an emerging psychiatric subspecialty ..."), not by one whose other words
# match the rest of the question ("consultant keeps sayin it in MDT"): that sentence gets this.
DEFINITION_BONUS = 0.1
# "what do clinicians need to understand to do this well": a sentence that says the question's words in its order
# ("clinicians need to understand the neural circuits ...") speaks to it more surely than one that holds the same
# words apart ("Make sure to discuss your patient's needs ...", under "Practical Considerations for Clinicians").
# A sentence gets this times the share of the question's adjacent keyword pairs it holds side by side; like
# LAY_BONUS it is left out of the margins `select` reads.
PHRASE_BONUS = 0.1
# "when do they say u should even start thinking about the procedural stuff": a question asking in what
# circumstances something is done is answered by a sentence that opens with them ("When traditional psychotherapy
# or medications are ineffective, interventional or procedural therapies can give ..."), which gets this. A
# "when" that asks for a time ("when does it start working", "when will i feel better") does not.
CONDITION_BONUS = 0.15
_CONDITION_ASKED = re.compile(
    # ... the asker's subject may come first, before a modal and a verb of choosing: "when docs would even think about
    # these brain treatments" (not "when a pt is treatment resistant, what ...": a condition given).
    r"\b(?:when\s+(?:(?!(?:it|you|i|they|we|he|she)\b)[a-z]+\s+){1,2}?(?:would|should|could|might|do|does|will|can|wld|wud|shld|shud|cld|cud)"
    r"\s+(?:even\s+|ever\s+|usually\s+|normally\s+|typically\s+|actually\s+)?(?:think|consider|start|offer|use|go|move|recommend|"
    r"suggest|try|refer|turn|look)\w*\b|"
    r"when\s+(?:do|does|did|should|would|could|can|might|is|are|will|wld|wud|shld|shud|cld|cud)\b(?![^?.]{0,60}\b(?:work|works|working|kick|kicks|feel|"
    r"notice|see|seeing|results?|effects?|improve|improvement|better|wear|wears|last|lasts|happen|start to|starts to|begin to|"
    r"the (?:first|next|last)|appointment|session|infusion|treatment starts?)\b)|when is it (?:time|right)\b|"
    r"what (?:has|needs|have|need) to (?:fail|be tried|have failed|not work|not be working|go wrong)\b)", re.I)
_CONDITION_OPENS = re.compile(r"^\W*(?:when|if|once|unless|where)\s+[^,.;:]{3,120},", re.I)
# A term as a question names it, quoted or not: "'interventional psychiatry'", "ketamine".
_TERM = r"[a-z][\w -]{2,40}?"
_DEFINE_ASKED = re.compile(
    # "what actually is it": a word of emphasis may come between "what" and its verb.
    r"\b(?:what(?:\s+(?:actually|actualy|exactly|even|really))?(?:'s|’s|s|\s+is|\s+are|\s+does|\s+do)|define|meaning of|definition of"
    # "what class of drug is ketamine exactly": the kind of thing it is, which its definition says.
    r"|what\s+(?:kind|type|class|sort|category|family)\s+of\s+(?:drug|medication|medicine|treatment|therapy|procedure|thing)\s+(?:is|are))"
    r"\s+(?:the\s+(?:term|word|phrase)\s+)?"
    r"['\"‘“]?(?P<term>it|that|this|" + _TERM + r")['\"’”]?\s*(?:(?:actually|actualy|acually|even|really|exactly|supposed to|meant to|sposed to)(?:\s+|(?=[?,.;]|$)))*"
    r"(?:mean|means|stand for|refer to)?(?:\s+(?:in (?:one|a|1) (?:line|sentence|word)|in plain english|in simple terms|simply|briefly))?"
    r"\s*(?:[?,.;]|$)",
    re.I)
# ... or asked as what the sources say it is: "pt heard ketamine is a horse tranq lol, what does the guide actually say
# ketamine is".
_DEFINE_REPORTED = re.compile(
    r"\bwhat\s+(?:does|do|did)\s+(?:the\s+)?(?:guide|article|source|sources|text|paper|it|they)\s+"
    r"(?:actually\s+|really\s+|even\s+)?(?:say|says|call|describe|define)\s+(?P<term>" + _TERM + r")\s+(?:is|are|as)"
    r"\s*(?:[?,.;]|$)", re.I)
_EXPANSION = re.compile(r"\s\([^()]*\)")
_QUOTED_TERM = re.compile(r"['\"‘“](?P<term>" + _TERM + r")['\"’”]", re.I)


def _defined_term(query: str) -> str | None:
    """The term `query` asks to be defined (`_DEFINE_ASKED`), or None. Asked of "it" or "that", the term is the
    one quoted before it: "keep hearing 'interventional psychiatry' on the ward rounds.. whats it actually mean";
    with none quoted, the one treatment named before it: "wait ketamine as in the party drug?? what actually is it"."""
    asked = _DEFINE_REPORTED.search(query) or _DEFINE_ASKED.search(query)
    if asked is None:
        return None
    term = asked.group("term").strip()
    if term.lower() in ("it", "that", "this", "that term", "that word", "this term", "the term", "they", "those"):
        quoted = list(_QUOTED_TERM.finditer(query, 0, asked.start("term")))
        if quoted:
            return quoted[-1].group("term").strip()
        if term.lower() in ("it", "that", "this"):
            before = [(name, start, end) for name, start, end in named_treatments(query) if end <= asked.start("term")]
            if len({name for name, _s, _e in before}) == 1:
                return query[before[-1][1]:before[-1][2]]
        return None
    return term


_LIST_MARKER = re.compile(r"(?:^|\n)[ \t]*(?:[-*+]|\d+[.)])[ \t]+$")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, scored against the question."""

    hit: Hit
    vector: np.ndarray | None  # the sentence's vector, as the store holds it
    start: int
    end: int
    score: float
    lift: float = 0.0  # the part of `score` owed to the lay-word bonus: it orders, it does not set the keep margin
    says: frozenset[str] = frozenset()  # the sources' words for the question's lay words that the sentence holds
    off_topic: bool = False  # its passage names another treatment, not one of those asked about


def _is_list_item(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    return bool(_LIST_MARKER.search(text[max(0, line_start - 1):start]))


@functools.lru_cache(maxsize=4096)
def _list_marks(spans: tuple[tuple[int, int], ...], doc_text: str) -> tuple[tuple[bool, ...], tuple[bool, ...]]:
    """For each sentence span: whether it is a list item, and whether it is a lead-in ending in ':'. Cached: every
    question reads the same passages of its pool again."""
    return (tuple(_is_list_item(doc_text, s) for s, _ in spans), tuple(doc_text[s:e].endswith(":") for s, e in spans))


def list_block(chunk: Chunk, doc_text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the list (with its ':' lead-in) that the sentence at [start, end) belongs to, or the sentence itself."""
    spans = tuple(chunk.sentences)
    i = spans.index((start, end))
    items, leads = _list_marks(spans, doc_text)
    if leads[i] and i + 1 < len(spans) and items[i + 1]:
        first, last = i, i + 1
    elif items[i]:
        first = last = i
    else:
        return start, end
    while first > 0 and items[first]:
        if not items[first - 1]:
            if leads[first - 1]:
                first -= 1
            break
        first -= 1
    while last + 1 < len(spans) and items[last + 1]:
        last += 1
    return spans[first][0], spans[last][1]


@functools.lru_cache(maxsize=8192)
def _cached_tokens(text: str) -> tuple[str, ...]:
    """keyword_tokens of a passage's sentence, kept: every question reads the same sentences of its pool again."""
    return tuple(keyword_tokens(text))


def sentence_matches(index, query: str, vector, hits: Sequence[Hit]) -> Iterator[tuple[Hit, np.ndarray, int, int, str, float, float]]:
    """Every sentence of the hits as (hit, the sentence's vector, start, end, text, cosine to
    `vector`, share of the query's keywords found in the sentence or its section heading)."""
    vocab = index.vocabulary
    wanted = set(query_token_ids(keyword_tokens(query), vocab, index.spelling))
    blocks = index.sentence_vectors_of([hit.chunk.chunk_id for hit in hits])  # one call to the store
    for hit, block in zip(hits, blocks):
        chunk = hit.chunk
        cosines = block @ vector
        for (start, end), sentence_vector, cosine in zip(chunk.sentences, block, cosines):
            text = chunk.text[start - chunk.start:end - chunk.start]
            if cue("reader_direction").search(text):  # "... keep reading!": it says nothing of its subject
                continue
            words = {vocab[t] for t in _cached_tokens(f"{chunk.section} {text}") if t in vocab}
            yield hit, sentence_vector, start, end, text, float(cosine), len(wanted & words) / len(wanted) if wanted else 0.0


def citation(index, n: int, chunk: Chunk, start: int, end: int) -> Citation:
    """Citation `n`: the text [start, end) of `chunk`'s document, with its title, URL, section and page."""
    doc = index.documents[chunk.doc_id]
    return Citation(n=n, chunk_id=chunk.chunk_id, doc_id=chunk.doc_id, title=doc.title, url=doc.url,
                    section=chunk.section, quote=doc.text[start:end], start=start, end=end, page=doc.page_at(start))


class Answerer:
    """Answers questions from one index; load once, ask many times."""

    def __init__(self, retriever: Retriever, settings: Settings | None = None, region: str | None = None):
        self.retriever = retriever
        self.settings = settings or retriever.settings
        self.region = region
        self.llm = ChatClient(self.settings.llm_url, self.settings.llm_model, self.settings.llm_timeout) \
            if self.settings.llm_url else None
        self.coverage = TreatmentCoverage(self._mentions)
        embedder = retriever.embedder
        self.backstop = self.safety_embedder = self.screen = None
        self.safety_embed = retriever.embed_queries
        if self.settings.safety_backstop and getattr(embedder, "semantic", False):
            chosen = safety.load_safety_embedder(self.settings, embedder)
            if getattr(chosen, "semantic", False):  # a model whose vectors carry meaning (not the hashing test one)
                self.safety_embedder = chosen
                self.backstop = safety.backstop_for(chosen)
                if chosen is not embedder:
                    self.safety_embed = VectorCache(chosen.embed)
                    # The answers' model hears each question first, through the retriever's cache (a question
                    # asked as written is then embedded once for both): what it hears no risk in at all, the
                    # safety model does not read (safety.Screen).
                    self.screen = safety.screen_for(self.settings, embedder, chosen, retriever.embed_queries)
        self._chunk_treatments: dict[str, frozenset[str]] = {}  # chunk id → treatments its text names
        self._sentence_treatments: dict[tuple[str, int], frozenset[str]] = {}  # (chunk id, start) → the same, of a sentence
        self._sentence_pairs: dict[tuple[str, int], frozenset[tuple[str, str]]] = {}  # ... its adjacent keyword pairs

    @classmethod
    def from_settings(cls, settings: Settings | None = None, embedder=None, region: str | None = None) -> "Answerer":
        """Load the index and its model. Raises IndexMissingError / IndexMismatchError / ModelError."""
        settings = settings or load_settings()
        return cls(Retriever.from_settings(settings, embedder), settings, region)

    @property
    def index(self):
        return self.retriever.index

    def prepare(self, turns: Iterable[tuple[str, Sequence[str]]], progress=None) -> int:
        """Make the safety model's vectors for `turns` (pairs of a question and the earlier questions, as `ask`
        takes them) beforehand, in the model's batches, each distinct text once: asking them afterwards reads
        them from the cache, with the same replies, several times faster than a model call per question (an
        evaluation set). `progress(done, total)` follows the texts. Returns how many texts were embedded."""
        if self.backstop is None or not isinstance(self.safety_embed, VectorCache):
            return 0
        wanted = list(dict.fromkeys(
            piece for question, history in turns
            for piece in safety.turn_texts((question or "").strip(), tuple(turn.strip() for turn in history))))
        missing = [text for text in wanted if self.safety_embed.get(text) is None]
        if missing:
            self.safety_embed.size = max(self.safety_embed.size, len(wanted) + 256)  # all of them stay until asked
            for text, vector in zip(missing, self.safety_embedder.embed(missing, progress)):
                self.safety_embed.remember(text, vector)
        return len(missing)

    def forget_queries(self) -> None:
        """Empty the query-vector caches, the retriever's and the safety model's (benchmarks time cold asks)."""
        self.retriever.forget_queries()
        if isinstance(self.safety_embed, VectorCache):
            self.safety_embed.clear()

    def _mentions(self, phrase: str) -> bool:
        """True when the indexed text, links aside, contains `phrase` (its words first, then the phrase itself)."""
        words = phrase.lower().replace("-", " ").split()
        if not words or not all(self.retriever.knows_word(w) for w in words):
            return False
        if len(words) == 1:
            return True
        pattern = phrase_pattern(phrase)
        return any(pattern.search(without_links(doc.text)) for doc in self.index.documents.values())

    # -- coverage --------------------------------------------------------------------------------

    def gaps(self, query: str, candidates: Sequence[Candidate]) -> tuple[bool, list[str]]:
        """What the sources lack for `query`: (decline, notes).

        Declines when the question is about a treatment the sources never mention and names no covered
        topic besides it, when it asks about an aspect (driving, pregnancy, cost, ...; lexicon.toml) that
        no pooled sentence speaks to, or when the first figure it asks for (coverage.expected_types) is
        stated by no retrieved sentence on its topic. A treatment named beside a covered topic or as the patient's
        history ("failed sertraline"), and a later figure the sources lack, give notes instead.
        """
        notes: list[str] = []
        mentions = named_treatments(query)
        passing = in_passing(query, mentions)
        uncovered = self.coverage.uncovered(query, mentions)
        covered_topics = {name for name, _s, _e in mentions if self.coverage.covered(name)}
        decline = False
        # "How long do SSRIs take to work?": the sources never name SSRIs but speak of antidepressants.
        by_class = {name: broader_class(name) for name in uncovered}
        by_class = {name: broader for name, broader in by_class.items() if broader and self._mentions(broader)
                    and not cue("picks_among").search(query)}  # "which SSRI ...?" asks what the class cannot say
        if uncovered:
            masked = _masked(query, mentions)
            asked_about = [name for (name, _s, _e), context in zip(mentions, passing)
                           if name in uncovered and name not in by_class and not context]
            # Compared with, or taken with, what the sources never mention ("ECT vs VNS", "hold the lithium
            # before ECT?"): nothing in them can answer, whatever else the question names.
            # ... and so is a choice among them: "which anaesthetic agent is used for ECT - propofol, etomidate?".
            first_asked = min((start for name, start, _e in mentions if name in asked_about), default=0)
            decline = bool(asked_about) and (not covered_topics and not topics_in(masked)
                                             or bool(cue("relation").search(query))
                                             or bool(cue("picks_among").search(query, 0, first_asked)))
            unnamed = [name for name in uncovered if name not in by_class]
            if unnamed:
                notes.append(f"The indexed sources never mention {_join(unnamed)}.")
            for broader in dict.fromkeys(by_class.values()):
                members = [name for name, b in by_class.items() if b == broader]
                notes.append(f"The indexed sources never mention {_join(members)}; they speak of {broader} in general.")
        noted_figures: set[str] = set()
        # The drugs asked about, not named as the patient's history ("my pt on sertraline is pregnant, is she a
        # candidate for procedural therapy?" asks about the procedures).
        asked = asked_topics(query) - {name for (name, _s, _e), context in zip(mentions, passing) if context}
        medications = {name for name in asked if is_medication(name)}
        if set(topics_in(query)) - {topic_of(name) for name in medications}:
            medications = set()  # a procedure or another topic is asked about too
        # "consenting a 20yo for ECT, what SEs does it list": what is asked is what the sources list; the
        # age and the consent are who it is for.
        listing = _listing_clause(query)
        outside = (lambda position: not listing[0] <= position < listing[1]) if listing else (lambda _position: False)
        for aspect in aspects_asked(query):
            # "Can I drive after ECT?": what is asked is driving, and no pooled sentence speaks of it.
            # Asked in a later clause ("what is ECT, and can I drive after it?") it is a note.
            # Asked of a drug alone ("ketamine ok in pregnancy?"), only a sentence naming the drug answers.
            speaking = [c for c in candidates if aspect.answered.search(self._sentence(c))]
            of_drug = medications if aspect.medication_named and medications == asked and speaking else set()
            if not any(not of_drug or of_drug & {n for n, _s, _e in named_treatments(self._sentence(c))}
                       for c in speaking):
                # Named only in the background ("The consent form talked about a 'course'. How many
                # treatments ...?") it is a note too; named in the background and asked again ("whats the
                # youngest age someone can get ECT? my 15yo cousin was mentioned for it"), it is asked.
                # Named as who is told ("adverse effects to counsel an elderly pt on?"), it is a note as well;
                # and so is a role or service it qualifies ("sports med doc, ... what fields does ... combine?").
                decline = decline or any(not (_in_later_clause(query, m.start()) or _in_background(query, m.start())
                                              or _in_aside(query, m.start())
                                              or cue("audience").search(query, 0, m.start())
                                              or cue("role_after").match(query, m.end())
                                              or cue("purpose").search(query, 0, m.start()) or outside(m.start()))
                                         for m in aspect.asked.finditer(query))
                notes.append(f"No indexed passage discusses {aspect.name}{' for ' + _join(sorted(of_drug)) if of_drug else ''}.")
                noted_figures.update(aspect.figures)
        # "Does TMS work for tinnitus or migraines?": what is asked is what the treatment is for, and no pooled
        # sentence names the condition. Asked beside a condition the sources do name, it is a note.
        # ... and so is a condition no lexicon entry lists, by a name the sources never use ("could TMS be used to help
        # lazy eye / amblyopia in adults").
        asked_for = conditions_asked(query) + unnamed_conditions_asked(query, self._unknown_word)
        pooled = [self._sentence(c) for c in candidates] if asked_for else []
        named = {name for sentence in pooled for name in conditions_treated(sentence)}
        unnamed = [(name, position) for name, position in asked_for if name not in named]
        if unnamed:
            decline = decline or len(unnamed) == len(asked_for) and any(
                _asked_in_main(query, position) for _n, position in unnamed)
            mentioned = {name for sentence in pooled for name in conditions_named(sentence)}
            absent = [name for name, _p in unnamed if name not in mentioned]
            cautioned = [name for name, _p in unnamed if name in mentioned]
            if absent:
                notes.append(f"No indexed passage discusses {_join(absent)}.")
            if cautioned:
                notes.append(f"The indexed sources name {_join(cautioned)} only as a history or a caution, "
                             "not as something a treatment is for.")
        # "does ketamine raise intraocular pressure?": what is asked is whether a treatment does something to what the
        # sources never name. Asked in a later clause, the background or an aside, it is a note. An aspect asked already
        # has its note ("can ketamine cause bladder problems": bladder or urinary problems). A lay word for the sources'
        # own ("eyesight" for vision), a short word and a misspelling of one they use ("memroy") are not such a thing.
        lay_words = {word.lower() for phrase in lay_phrases(query, self.retriever.knows_word)
                     for word in re.findall(r"[A-Za-z]+", phrase)}
        effects = unnamed_effects_asked(query, lambda word: len(word) >= _EFFECT_MIN and word.lower() not in lay_words
                                        and self._unknown_word(word) and not self._near_known(word)) \
            if not aspects_asked(query) else []
        # ... and so is a condition from the lexicon asked as what a treatment brings about ("does having ect raise the
        # chance of developing epilepsy later on") that no pooled sentence names, unless noted already.
        noted = {n.lower() for n, _p in asked_for + effects}
        effects += [(name, position) for name, position in conditions_asked(query, "causes_condition")
                    if name.lower() not in noted and not any(name in conditions_named(self._sentence(c)) for c in candidates)]
        if effects:
            decline = decline or any(_asked_in_main(query, position) for _n, position in effects)
            notes.append(f"No indexed passage discusses {_join([name for name, _p in effects])}.")
        conditions = conditions_named(query)
        listed_kinds = expected_types(query[listing[0]:listing[1]]) if listing else None
        for i, kind in enumerate(expected_types(query)):
            if kind.split(":")[0] in noted_figures:
                continue  # "what do they cost?": the aspect's note ("cost or insurance") already says it
            # A rate is the rate of the people it was measured in: "what percentage of people with OCD
            # respond to TMS?" is not answered by 83% of patients with depression.
            of = conditions if kind in POPULATION_FIGURES else []
            if not any(states(self._sentence(c), kind) and self._on_topic(c, covered_topics)
                       and (not of or set(of) & set(conditions_named(self._sentence(c)))) for c in candidates):
                decline = decline or i == 0 and (listed_kinds is None or kind in listed_kinds)
                notes.append(f"No retrieved passage{' on ' + _join(sorted(covered_topics)) if covered_topics else ''} "
                             f"states {TYPE_LABELS[kind]}{' for ' + _join(of) if of else ''}.")
        return decline, notes

    def _unknown_word(self, word: str) -> bool:
        """Whether the index has never seen `word`, nor a word one spelling slip from it."""
        return is_unknown_word(word, self.index.vocabulary, self.index.spelling)

    def _sentence(self, candidate: Candidate) -> str:
        return self.index.documents[candidate.hit.chunk.doc_id].text[candidate.start:candidate.end]

    def _on_topic_hit(self, hit: Hit, topics: set[str]) -> bool:
        return self._on_topic(Candidate(hit, None, 0, 0, 0.0), topics)

    def _on_topic(self, candidate: Candidate, topics: set[str]) -> bool:
        """True when the candidate's passage (with its section heading) names one of `topics`, or there are none."""
        if not topics:
            return True
        chunk = candidate.hit.chunk
        if chunk.chunk_id not in self._chunk_treatments:
            self._chunk_treatments[chunk.chunk_id] = frozenset(
                name for name, _s, _e in named_treatments(without_links(passage_text(chunk))))
        return bool(topics & self._chunk_treatments[chunk.chunk_id])

    # -- scoring ---------------------------------------------------------------------------------

    def score_sentences(self, query: str, hits: Sequence[Hit]) -> list[Candidate]:
        """Every sentence of the hits, scored: cosine to the query, share of query words, passage score."""
        top_passage = max((h.score for h in hits), default=1.0) or 1.0
        kinds = expected_types(query)
        topics = asked_topics(query)
        wants_links = bool(_LINK_QUESTION.search(query))
        wants_resources = wants_links or bool(_RESOURCE_QUESTION.search(query))
        # A lay word in the background of a long message ("all I keep picturing is that scene from One Flew
        # Over the Cuckoo's Nest. ... Will he be awake?") says what worries the writer, not what is asked.
        lay = {source: phrase_pattern(source) for source in lay_sources_added(query, _asking_part(query))}
        aspects = [aspect.answered for aspect in aspects_asked(query)]
        # What the question asks of the treatments it names together, in its own words ("meant", "first", "line"
        # of "are ECT/TMS/ketamine meant as first line?"): a sentence that names them all and none of these
        # words lists them ("Interventional therapies include ECT, TMS, and Ketamine infusions"); it does not
        # answer.
        asked_of = _asked_of(query) if len(topics) > 1 else frozenset()
        term = _defined_term(query)
        # ... a term cut short ("interventional psych") defined in full ("Interventional psychiatry is ...") too.
        defines = re.compile(r"^\W*" + re.escape(term)
                             + r"\w*\s+(?:(?:is|are)\s+(?:a|an|the|one of)|refers? to|means)\b", re.I) if term else None
        # The pairs are read from the writer's own words: not the expansions added in brackets (the lay-word
        # bonus reads those), nor the treatments' names, which every sentence on a treatment says its own way.
        own_words = _EXPANSION.sub(" ", query)
        condition = bool(_CONDITION_ASKED.search(own_words))
        asked_words = keyword_tokens(_masked(own_words, named_treatments(own_words)))
        asked_pairs = {pair for pair in zip(asked_words, asked_words[1:]) if pair[0] != pair[1]}
        candidates = []
        for hit, sentence_vector, start, end, text, cosine, coverage in sentence_matches(
                self.index, query, self.retriever.embed_query(query), hits):
            score = SENTENCE_WEIGHT * cosine + KEYWORD_WEIGHT * coverage + PASSAGE_WEIGHT * hit.score / top_passage
            phrase = 0.0
            if asked_pairs:
                pairs = self._sentence_pairs.get((hit.chunk.chunk_id, start))
                if pairs is None:
                    words = keyword_tokens(text)
                    pairs = self._sentence_pairs[hit.chunk.chunk_id, start] = frozenset(zip(words, words[1:]))
                phrase = PHRASE_BONUS * len(asked_pairs & pairs) / len(asked_pairs)
                score += phrase
            if any(states(text, kind) for kind in kinds):
                score += QUANTITY_BONUS
            on_topic = not topics or self._on_topic_hit(hit, topics)
            if topics and on_topic:
                score += TOPIC_BONUS
                # A sentence that also names treatments not asked about speaks of them too: an overview
                # ("how Ketamine Infusions, TMS, and ECT work") less than one about the treatment asked.
                named = self._sentence_treatments.get((hit.chunk.chunk_id, start))
                if named is None:
                    named = self._sentence_treatments[hit.chunk.chunk_id, start] = frozenset(
                        name for name, _s, _e in named_treatments(text))
                if named - topics:
                    score -= SPREAD_PENALTY * len(named - topics) / len(named)
                if asked_of and topics <= named and not asked_of & set(keyword_tokens(text)):
                    score -= LIST_PENALTY
            if any(answered.search(text) for answered in aspects):
                score += ASPECT_BONUS
            if defines is not None and defines.search(text):
                score += DEFINITION_BONUS
            if condition and _CONDITION_OPENS.match(text):
                score += CONDITION_BONUS
            says = frozenset(source for source, pattern in lay.items() if pattern.search(text))
            lift = LAY_BONUS * len(says) / len(lay) if lay else 0.0
            score += lift
            # Like the lay-word bonus, the phrase bonus orders sentences without crowding out the neighbours
            # kept within a margin of the best (select): "In contrast, procedural therapies ..." after "The key
            # differences are that first-line therapies ...".
            lift += phrase
            resource_list = bool(_RESOURCE_SECTION.search(hit.chunk.section or ""))
            if wants_resources and resource_list:
                score += RESOURCE_BONUS
            if not wants_links and (_BARE_LINK.match(text) or _REFERENCE_SECTION.match(hit.chunk.section or "")) \
                    or not wants_resources and resource_list:
                score -= LINK_PENALTY
            # about another treatment: its passage names one, not the one asked about
            other = not on_topic and bool(self._chunk_treatments.get(hit.chunk.chunk_id))
            candidates.append(Candidate(hit, sentence_vector, start, end, score, lift, says, other))
        candidates = self._as_lists(candidates)
        candidates.sort(key=lambda c: (-c.score, c.hit.rank, c.start))
        return candidates

    def _as_lists(self, candidates: list[Candidate]) -> list[Candidate]:
        """A list is quoted whole, with its ':' lead-in (`list_block`), so it is scored as one: each of its
        sentences gets the best score any of them has, and the best lay-word lift. "what does a pt need to
        have to qualify" finds an item ("Be unable to tolerate medications ...") by its words and the
        lead-in ("..., they should:") by the lay word for criteria: together they outrank a sentence
        that only speaks of who is offered the treatments."""
        blocks: dict[tuple[str, int, int], list[int]] = {}
        for i, c in enumerate(candidates):
            doc_text = self.index.documents[c.hit.chunk.doc_id].text
            span = list_block(c.hit.chunk, doc_text, c.start, c.end)
            if span != (c.start, c.end):
                blocks.setdefault((c.hit.chunk.chunk_id, *span), []).append(i)
        for members in blocks.values():
            if len(members) < 2:
                continue
            base = max(candidates[i].score - candidates[i].lift for i in members)
            lift = max(candidates[i].lift for i in members)
            says = frozenset().union(*(candidates[i].says for i in members))
            for i in members:
                candidates[i] = replace(candidates[i], score=base + lift, lift=lift, says=says)
        return candidates

    def answerability(self, query: str, candidates: Sequence[Candidate]) -> float:
        """How well the passages answer `query`: the best sentence score, less a penalty for question
        words the index has never seen. Below `settings.abstain_threshold` the reply abstains."""
        if not candidates:
            return 0.0
        index = self.index
        # Words the index never saw in a background told before the question ("family saw one flew over the cuckoos
        # nest and r horrified. how does the article describe ECT") say why the writer asks, not what: only the
        # asking part's count. Words told after the question ("Will ECT change my mum's personality? She's worried
        # she won't be 'herself' afterwards") still say what it asks.
        # Lay words for the sources' own ("talking therapy", "nothing shifts it") are known too, in a question that
        # names a treatment or topic the sources cover ("my eczema cream does nothing" names none).
        covered = any(self.coverage.covered(name) for name, _s, _e in named_treatments(query)) or bool(topics_in(query))
        lay = lay_phrases(query, self.retriever.knows_word) if covered else ()
        share = unknown_share(query, index.vocabulary, index.spelling, asked=_asked_after_background(query), known=lay)
        return candidates[0].score - UNKNOWN_PENALTY * share

    def select(self, candidates: list[Candidate], query: str = "") -> list[tuple[Candidate, int, int]]:
        """The quotes to answer with: (candidate, start, end), lists kept whole, near-duplicates dropped. `query`
        (the question as scored) says whether a difference is asked (`_DIFFERENCE_ASKED`)."""
        if not candidates:
            return []
        # The margin is read without the lay-word bonus, so that the bonus puts the sentence it favours
        # first without crowding out its neighbours ("addictive" beside "substance use disorder").
        best = max(c.score - c.lift for c in candidates)
        # When the question's lay words stand for two or more of the sources' words ("can ketamine be habit
        # forming? pt has hx of drug misuse": addictive, substance use disorder), each says a part of what is
        # asked: the best sentence holding each is kept within the wider margin, though the message's other
        # words favour the sentence holding another. A sentence about another treatment than the one asked
        # about says no part of it ("what about for TMS?" after ECT side effects: "... ongoing ECT treatments").
        # So too with one lay word that the best sentence does not hold ("any addiction risk? hx of alcohol use
        # d/o": the sentence on substance use disorder, and the one saying ketamine is addictive).
        parts = bool(frozenset().union(*(c.says for c in candidates)))
        differs = bool(query and _DIFFERENCE_ASKED.search(query))
        # "any tips on how we should work with pts and the team": advice asked in the plural, so the sentence right
        # after the best one, giving the next piece of it, is kept within the wider margin.
        advice = bool(query and cue("asks_advice").search(query))
        seen: set[str] = set()
        chosen: list[tuple[Candidate, int, int]] = []
        for candidate in candidates:
            if len(chosen) >= self.settings.max_quotes:
                break
            below = best - (candidate.score - candidate.lift)
            new_part = parts and not candidate.off_topic and bool(candidate.says - seen)
            seen |= candidate.says
            # A sentence beside a kept one saying a part the question asks that no sentence kept says ("and what if it
            # works": "If they see an improvement ...") is measured with the bonus for it: the part is asked.
            if below > KEEP_MARGIN and not (chosen and (
                    (below <= CHAIN_MARGIN and (new_part or self._continues(chosen[0][0], candidate)))
                    or (new_part and below - candidate.lift <= PART_MARGIN
                        and any(self._beside(c, candidate) for c, _, _ in chosen))
                    or (below <= PART_MARGIN and differs and _CONNECTIVE.match(self._sentence(candidate))
                        and self._continues(chosen[0][0], candidate))
                    or (below <= PART_MARGIN and advice and len(chosen) == 1
                        and self._step(chosen[0][0], candidate) == 1)
                    or (below <= PART_MARGIN and len(chosen) == 1 and self._referent(chosen[0][0], candidate)))):
                continue
            doc_text = self.index.documents[candidate.hit.chunk.doc_id].text
            start, end = list_block(candidate.hit.chunk, doc_text, candidate.start, candidate.end)
            if any(c.hit.chunk.doc_id == candidate.hit.chunk.doc_id and s <= candidate.start and candidate.end <= e
                   for c, s, e in chosen):
                continue  # already quoted as part of a list
            if any(float(c.vector @ candidate.vector) > DUPLICATE_COSINE for c, _, _ in chosen):
                continue
            chosen.append((candidate, start, end))
        if len(chosen) > 1 and chosen[0][0].score - chosen[1][0].score <= TIE_MARGIN \
                and self._step(chosen[0][0], chosen[1][0]) == -1 and self._continues(chosen[1][0], chosen[0][0]):
            # Two sentences of one chain that score alike are quoted in reading order: "Ketamine ... block the
            # NDMA receptors ... and increase the amount of glutamate." before "Increasing glutamate activates
            # AMPA receptors ...".
            chosen[0], chosen[1] = chosen[1], chosen[0]
        return chosen

    @staticmethod
    def _step(kept: Candidate, candidate: Candidate) -> int | None:
        """How many sentences after `kept` `candidate` comes in the same passage (negative: before it); None
        when they are not sentences of one passage."""
        if kept.hit.chunk.chunk_id != candidate.hit.chunk.chunk_id:
            return None
        spans = list(kept.hit.chunk.sentences)
        if (kept.start, kept.end) not in spans or (candidate.start, candidate.end) not in spans:
            return None
        return spans.index((candidate.start, candidate.end)) - spans.index((kept.start, kept.end))

    def _near_known(self, word: str) -> bool:
        """Whether `word`'s stem is close to one the index uses (difflib ratio `_NEAR_CUTOFF`): a misspelling
        ("memroy")."""
        stems = keyword_tokens(word)
        return bool(stems) and bool(difflib.get_close_matches(stems[0], self.index.vocabulary, n=1,
                                                              cutoff=_NEAR_CUTOFF))

    def _referent(self, kept: Candidate, candidate: Candidate) -> bool:
        """True when `kept` opens by referring back (`_ALSO_OF_BEFORE`: "It also helps ...") and `candidate` is the
        sentence just before it in its passage, which says what it refers to."""
        return self._step(kept, candidate) == -1 and bool(_ALSO_OF_BEFORE.match(self._sentence(kept)))

    def _beside(self, kept: Candidate, candidate: Candidate) -> bool:
        """True when `candidate` is the sentence just before or just after `kept` in its passage."""
        return self._step(kept, candidate) in (-1, 1)

    def _continues(self, kept: Candidate, candidate: Candidate) -> bool:
        """True when `candidate` is the sentence right after `kept` in its passage and its opening takes up a
        word of `kept`'s ending ("... increase the amount of glutamate." → "Increasing glutamate activates ..."),
        or when it opens the next paragraph with a word that sets it against or beside `kept` ("The key
        differences are that first-line therapies ..." → "In contrast, procedural therapies are ...")."""
        if kept.hit.chunk.chunk_id != candidate.hit.chunk.chunk_id:
            if kept.hit.chunk.doc_id != candidate.hit.chunk.doc_id or candidate.start < kept.end:
                return False
            doc_text = self.index.documents[kept.hit.chunk.doc_id].text
            return not doc_text[kept.end:candidate.start].strip() and bool(_CONNECTIVE.match(self._sentence(candidate)))
        if self._step(kept, candidate) != 1:
            return False
        opening = keyword_tokens(self._sentence(candidate))[:_CHAIN_WORDS]
        return bool(set(opening) & set(keyword_tokens(self._sentence(kept))[-_CHAIN_WORDS:]))

    # -- answering -------------------------------------------------------------------------------

    def _rewrite(self, question: str, history: tuple[str, ...]):
        """The question as searched for (a follow-up read in its conversation's topic), and that query expanded."""
        # Who asks ("addictions nurse - ...") is not what is asked: it is neither searched for nor scored.
        rewrite = rewrite_followup(question, history)
        # ... nor is what they say they already have ("besides X, what else ..."), nor how they announce it ("quick one - "),
        # nor who they say they are after the question ("... ? im a pharmacologist so the neuro side is outside my lane").
        rewrite = replace(rewrite, query=without_known_part(without_speaker_role(without_courtesy_lead(
            without_speaker_aside(rewrite.query)))))
        return rewrite, self.retriever.expand_query(rewrite.query)  # what search() looks for; scored against too

    def ask(self, question: str, history: Sequence[str] = (), *, k: int | None = None, mode: str | None = None,
            clinical_context: bool = False) -> Reply:
        """Answer `question` given the earlier user turns (oldest first).

        A crisis message gets the crisis reply and nothing from the corpus, unless the user has said
        they ask about a patient or for teaching (`clinical_context`): then it is answered, and the
        assessment stays on the reply so the resources stay in view. `k` and `mode` override the
        settings for this question. Raises InputError for an empty or over-long question.
        """
        started = time.perf_counter()
        timings: dict[str, float] = {}
        question = (question or "").strip()
        if not question:
            raise InputError("The question is empty.")
        if len(question) > MAX_QUERY_CHARS:
            raise InputError(f"The question is {len(question)} characters long; the limit is {MAX_QUERY_CHARS}.")

        mark = time.perf_counter()
        # The backstop reads its own model's vectors through `safety_embed`, a cache of the safety model's
        # (or, when the safety model is the answer model, the retriever's cache: the vector retrieval needs
        # anyway). A long question's sentences are embedded in the same model call; the earlier questions
        # and their sentences were embedded when they were asked.
        if isinstance(history, (str, bytes)):
            raise InputError("history must be a sequence of earlier questions, each a string.")
        history = tuple(history)
        if not all(isinstance(turn, str) for turn in history):
            raise InputError("history must be a sequence of earlier questions, each a string.")
        history = tuple(turn.strip() for turn in history)
        rewrite = query = None
        if self.screen is not None:
            # The answers' model embeds the texts the screen reads and the query retrieval will search for in one
            # call (one call is cheaper than two on a CPU). Only vectors are made here: nothing is searched for
            # before the safety layer has read the message.
            try:
                rewrite, query = self._rewrite(question, history)
                self.retriever.embed_queries(list(safety.turn_texts(question, history)) + [query])
            except Exception:  # the safety verdict never waits on the answer's own steps: they run again after it
                log.debug("could not prepare the query ahead of the safety verdict", exc_info=True)
                rewrite = query = None
        vectors = safety.read_turn(self.safety_embed, question, history, self.screen) if self.backstop is not None else {}
        assessment = safety.assess(question, history=history, region=self.region, backstop=self.backstop, **vectors)
        timings["safety"] = (time.perf_counter() - mark) * 1000
        if assessment.level == "crisis" and not clinical_context:
            timings["total"] = (time.perf_counter() - started) * 1000
            return Reply(question=question, answer=assessment.message, citations=(), hits=(), abstained=False,
                         safety=assessment, rewritten_query="", timings_ms=_round(timings), path="crisis")

        mark = time.perf_counter()
        if rewrite is None:
            rewrite, query = self._rewrite(question, history)
        timings["rewrite"] = (time.perf_counter() - mark) * 1000
        mark = time.perf_counter()
        # Two stages: a wide pool of passages whose every sentence is scored (the answer and the coverage
        # checks read the pool), of which the best k are shown as sources.
        shown = k or self.settings.k
        pool = self.retriever.search(rewrite.query, max(shown, self.settings.pool), mode)
        hits = pool[:shown]
        timings["retrieve"] = (time.perf_counter() - mark) * 1000

        mark = time.perf_counter()
        candidates = self.score_sentences(query, pool)
        answerability = self.answerability(query, candidates)
        # Coverage is judged before shorthand expansion: a long form added for retrieval ("SSRI
        # (selective serotonin reuptake inhibitor antidepressant)") must not make it about a covered topic.
        declined, notes = self.gaps(rewrite.query, candidates)
        abstained = declined or answerability < self.settings.abstain_threshold
        citations: list[Citation] = []
        path = "extractive"
        if abstained:
            answer = ABSTAIN_TEXT
        else:
            parts = []
            for n, (candidate, start, end) in enumerate(self.select(candidates, query), start=1):
                cited = citation(self.index, n, candidate.hit.chunk, start, end)
                citations.append(cited)
                parts.append(f"{cited.quote} [{n}]")
            answer = "\n\n".join(parts)
            if self.llm is not None:
                generated = self._generate(query, hits, timings)
                if generated is not None:
                    answer, citations, path = generated[0], generated[1], "llm"
                else:
                    path = "extractive (llm fallback)"
        hits = _shown(hits, pool, citations, shown)
        timings["answer"] = (time.perf_counter() - mark) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        return Reply(question=question, answer=answer, citations=tuple(citations), hits=tuple(hits),
                     abstained=abstained, safety=assessment, rewritten_query=query,
                     timings_ms=_round(timings), path=path, answerability=round(answerability, 4), notes=tuple(notes),
                     declined=declined)

    def _generate(self, query: str, hits: Sequence[Hit], timings: dict) -> tuple[str, list[Citation]] | None:
        """A checked generated answer over the hits, or None when the model fails or nothing survives."""
        passages = {n: hit.chunk.text for n, hit in enumerate(hits, start=1)}
        mark = time.perf_counter()
        try:
            text = self.llm.complete(query, passages)
        except LLMUnavailable as exc:
            log.warning("%s; using the extractive answer", exc)
            return None
        finally:
            timings["llm"] = (time.perf_counter() - mark) * 1000
        kept, dropped = check_generated(text, passages)
        if dropped:
            log.info("dropped %d generated sentence(s): %s", len(dropped), ", ".join(sorted(set(dropped))))
        if not kept:
            return None
        cited = sorted({n for s in kept for n in s.markers})
        citations = [citation(self.index, n, hits[n - 1].chunk, hits[n - 1].chunk.start, hits[n - 1].chunk.end) for n in cited]
        answer = " ".join(s.text + " " + "".join(f"[{n}]" for n in s.markers) for s in kept)
        return answer, citations


def _shown(top: Sequence[Hit], pool: Sequence[Hit], citations: Sequence[Citation], k: int) -> list[Hit]:
    """The k sources to show: every cited passage, then the pool's best others."""
    cited = {c.chunk_id for c in citations}
    chosen = [h for h in pool if h.chunk.chunk_id in cited]
    for hit in top:
        if len(chosen) >= k:
            break
        if hit.chunk.chunk_id not in cited:
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.rank)


_LATER_CLAUSE = re.compile(
    r"(?:[;?]|,?\s\b(?:and|but|also|then)\s+(?:what|how|can|could|is|are|does|do|will|would|should|when|who|why|where)\b)",
    re.I)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_ASKING = re.compile(r"^\W*(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|should|"
                     r"would|will|may|might|must|has|have|any|anything|tell me|explain|describe|list)\b", re.I)


_POINTS_BACK = re.compile(r"\b(?:she|he|her|him|his|hers|they|them|their|it|this|that|these|those|still|such|like (?:her|him|me|them|this))\b", re.I)
# ... and so does one that leaves out what it asks about ("pt has hx of alcohol use disorder, asking abt
# ketamine. any cautions mentioned?"): "any X?" is asked of what was just told.
_ELLIPTICAL_ASK = re.compile(r"^\W*(?:(?:so|and|but|ok|okay)\W+)?(?:any|anything)\b", re.I)


def _in_background(question: str, position: int) -> bool:
    """True when `position` lies in a statement before the question proper ("My wife starts ECT on Monday.
    The consent form talked about a 'course'. How many treatments ...?"): a sentence that neither asks
    nor ends in a question mark, in a message where another sentence does."""
    sentences = _sentences(question)
    asks = [_asks(question[a:b]) for a, b in sentences]
    if len(sentences) < 2 or not any(asks):
        return False
    # A question that points back at the background ("My mother has a pacemaker. Is she still able to
    # have TMS?") asks about it.
    if any(ask and (_POINTS_BACK.search(question[a:b]) or _ELLIPTICAL_ASK.match(question[a:b]))
           for (a, b), ask in zip(sentences, asks)):
        return False
    return any(a <= position < b and not ask for (a, b), ask in zip(sentences, asks))


def _in_aside(question: str, position: int) -> bool:
    """True when `position` lies in an aside the question proper does not ask about: inside brackets ("one of our
    pregnant pts (2nd trimester) ... why would pregnancy push them that way"), or in a statement clause before a
    comma that a clause opening with a question word follows without pointing back at it ("kid says sertraline
    isnt working after 10 days, how long do antidepressants take to fully kick in")."""
    opened = question.rfind("(", 0, position)
    if opened >= 0 and question.find(")", opened) >= position:  # the first ")" after the "(" closes it after `position`
        return True
    sentence = next(((a, b) for a, b in _sentences(question) if a <= position <= b), None)
    if sentence is None:
        return False
    a, b = sentence
    cut = question.find(",", position, b)
    if cut < 0 or _CLAUSE_ASKS.search(question, a, cut) or not _TOLD_VERB.search(question, a, cut):
        return False
    rest = question[cut + 1:b]
    return bool(_ASKING.match(rest.lstrip())) and not _POINTS_BACK.search(rest)


# A clause that asks, or holds a question mark: not a statement set before the question.
_CLAUSE_ASKS = re.compile(r"\?|^\W*(?:how|what|whats|what's|which|who|when|where|why|is|are|can|could|does|do|should|"
                          r"would)\b", re.I)
# ... and a statement tells something: someone says, thinks or has. A topic named before the question ("unilateral vs
# bilateral ECT electrode placement, which has less memory loss") is what it asks about.
_TOLD_VERB = re.compile(r"\b(?:says|said|tells|told|thinks|thought|reckons|feels|felt|asks|asked|wants|wanted|keeps|kept|"
                        r"is|are|was|were|has|have|had|isnt|isn't|wasnt|wasn't|started|stopped|tried|got)\b", re.I)


_POINTS_AT_STATEMENT = re.compile(r"\b(?:this|that|these|those|such)\b", re.I)


def _asking_part(question: str) -> str | None:
    """The text of `question` from its first asking sentence to its last, when statements come before or after
    it (a background); None when there are none, or when the question points back at those before it ("... her
    muscles ache too. Is this something that's known to happen?")."""
    span = _asking_span(question)
    return question[span[0]:span[1]] if span else None


def _asked_after_background(question: str) -> str | None:
    """The asking part of `question` when a background comes before it and nothing after it; else None."""
    span = _asking_span(question)
    return question[span[0]:] if span and span[1] == len(question) else None


@functools.lru_cache(maxsize=4096)
def _asking_span(question: str) -> tuple[int, int] | None:
    """Where `_asking_part` lies in `question` (asked once for the scoring and once for answerability)."""
    sentences = _sentences(question)
    asking = [(a, b) for a, b in sentences if _asks(question[a:b])]
    if not asking:
        return None
    start = asking[0][0]
    if start == sentences[0][0] or _POINTS_AT_STATEMENT.search(question[start:]) \
            or _ELLIPTICAL_ASK.match(question[start:]):
        start = 0
    # ... and up to its last asking sentence, when statements follow it ("is ECT done under a GA? family r
    # freaking out bc of what theyve seen in films"): what follows says why the writer asks.
    end = asking[-1][1] if asking[-1][1] < sentences[-1][1] else len(question)
    if start == 0 and end == len(question):
        return None
    return start, end


_REFERS_BACK = re.compile(r"\b(?:it|its|it's|itself|this|that|the treatment|the procedure|this treatment|that treatment)\b", re.I)


# Words any question about treatments uses: they say nothing of what is asked of them.
_TREATMENT_WORDS = frozenset(keyword_tokens("therapy therapies treatment treatments tx interventional procedural "
                                            "psychiatry infusion infusions"))


def _masked(text: str, mentions: Sequence[tuple[str, int, int]]) -> str:
    """`text` with the treatments it names (coverage.named_treatments) blanked out, offsets kept."""
    for _name, start, end in mentions:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _asked_of(query: str) -> frozenset[str]:
    """The word stems of `query` other than its treatments' names and words for treatment in general: what
    it asks of them."""
    return frozenset(keyword_tokens(_masked(query, named_treatments(query)))) - _TREATMENT_WORDS


def asked_topics(question: str) -> set[str]:
    """The treatments `question` asks about: those its asking sentence names; when that sentence names none
    but points back ("A caller is scared TMS will wipe their memory the way shock treatment can. How bad
    are its side effects?"), the first one named before it, the subject; else every one named."""
    named = named_treatments(question)
    sentences = _sentences(question)
    asking = [(a, b) for a, b in sentences if question[a:b].rstrip().endswith("?") or _ASKING.match(question[a:b])]
    if len(sentences) < 2 or not asking or not named:
        return {name for name, _s, _e in named}
    a, b = asking[-1]
    own = {name for name, start, _e in named if a <= start < b}
    if own:
        return own
    earlier = [name for name, start, _e in named if start < a]
    if earlier and _REFERS_BACK.search(question[a:b]):
        return {earlier[0]}
    return {name for name, _s, _e in named}


# "GA + anything else given": asked with no question mark.
_ASKS_FOR_MORE = re.compile(r"\b(?:anything|any|something)\s+(?:else|other|more)\b", re.I)


def _asks(sentence: str) -> bool:
    """True when `sentence` asks: it ends in a question mark, opens with a question word or asks for more."""
    return sentence.rstrip().endswith("?") or bool(_ASKING.match(sentence)) or bool(_ASKS_FOR_MORE.search(sentence))


def _sentences(question: str) -> list[tuple[int, int]]:
    start = 0
    spans = []
    for match in _SENTENCE_END.finditer(question):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(question)))
    return spans


_CLAUSE_START = re.compile(r"(?:[,;:(]|\s[-\u2013\u2014]\s)\s*")


def _listing_clause(question: str) -> tuple[int, int] | None:
    """Where `question` asks what the sources themselves list or say (lexicon cue `asks_listing`): from the
    start of that clause (its sentence, or the last comma, dash or colon before the cue) to the end of its
    sentence; None when it asks no such thing."""
    match = cue("asks_listing").search(question)
    if match is None:
        return None
    start, end = next(((a, b) for a, b in _sentences(question) if a <= match.start() <= b), (0, len(question)))
    start = max([m.end() for m in _CLAUSE_START.finditer(question, start, match.start())], default=start)
    # A clause that names nothing but the asking ("0.5mg/kg over 40 min? what does the guide recommend") asks about
    # what came before it.
    if not keyword_tokens(question[start:match.start()] + " " + question[match.end():end]):
        return None
    return start, end


def _asked_in_main(query: str, position: int) -> bool:
    """Whether what `query` names at `position` is what it asks: not in a later clause, the background or an aside."""
    return not (_in_later_clause(query, position) or _in_background(query, position) or _in_aside(query, position))


def _in_later_clause(question: str, position: int) -> bool:
    """True when `position` lies in a question that follows another one ("What is ECT, and can I drive after it?")."""
    return bool(_LATER_CLAUSE.search(question[:position]))


def _join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _round(timings: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in timings.items()}


def reply_to_dict(reply: Reply, index) -> dict:
    """The stable JSON shape of a reply, as `ipchat ask --json` writes it."""
    from dataclasses import asdict

    from .retrieval import hit_to_dict

    return {
        "question": reply.question,
        "rewritten_query": reply.rewritten_query,
        "answer": reply.answer,
        "abstained": reply.abstained,
        "declined": reply.declined,
        "notes": list(reply.notes),
        "path": reply.path,
        "citations": [asdict(c) for c in reply.citations],
        "hits": [hit_to_dict(h, index) for h in reply.hits],
        "safety": reply.safety.to_dict() if reply.safety is not None else None,
        "timings_ms": reply.timings_ms,
    }
