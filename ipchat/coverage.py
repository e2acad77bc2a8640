"""Does the retrieved text hold what the question asks for? Two checks that sentence scores cannot make.

Sentence similarity ranks "How many TMS sessions per week?" close to the TMS paragraph, which states
no schedule, and "What is deep brain stimulation?" close to the sentences about brain stimulation.
Both have to be declined. These checks look at what the question asks for:

- **Expected answer type.** A question asking for a percentage, a duration, a count, a frequency, a
  dose, a cost or a year is answered only by a sentence that states one, on the question's topic.
  When no retrieved sentence does, the sources do not give that figure.
- **Named treatments the sources never mention.** A question about a treatment (from a lexicon of
  psychiatric treatments, procedures and drugs) that appears nowhere in the indexed text is about
  something the sources do not cover. When the question names no covered topic besides it, the reply
  declines; when it also names a covered one, or names the treatment only as the patient's history
  ("failed sertraline"), the answer carries a note.

Pure string work; the index is only asked which words it holds.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Callable

from .keywords import keyword_tokens
from .lexicon import description_pattern, load_lexicon
from .quantities import extract_quantities

# -- expected answer types ------------------------------------------------------------------------

# "How quickly does ketamine work?" is not typed: "so quickly" answers it without a figure.
# A wh-phrase counts where a clause begins: "how long does it last", "..., and how long is each
# session" — not "could it shorten how long treatment takes" (a yes/no question).
# Where a clause starts: the text's start, after punctuation or a conjunction, then any hedging adverbs
# ("My mum's booked in. Roughly how many treatments ...?").
# A terse question may lead with its topic ("ECT how many sessions", "ketamine infusions how long"): one
# or two leading words that are neither an auxiliary nor a pronoun ("could it shorten how long ..." asks
# yes or no) still start the clause.
_LEAD = (r"^\W*(?:(?!(?:is|are|was|were|do|does|did|can|could|should|would|will|may|might|must|has|have|had|it|this"
         r"|that|they|he|she|i|we|you)\b)[\w/-]+\s+){1,2}(?=how\b)")
# A question embedded after a verb of knowing or asking asks too: "a daughter wants to know how many sessions ...".
_EMBEDDING = r"\b(?:know|knows|knew|ask|asks|asked|asking|wonder|wonders|wondered|wondering|tell (?:me|us|her|him|them)|sure|idea|explain|understand|find out|check)\s+(?:(?:me|us|her|him|them)\s+)?"
# ... or by a phrase that sets the scene: "after one ketamine infusion how many days does the effect last".
_SCENE_LEAD = r"^\W*(?:after|before|during|following|once|with|without|for|in|on)\s+(?:[\w/-]+\s+){1,5}?(?=how\b)"
_CLAUSE = (r"(?:^|" + _LEAD + r"|" + _SCENE_LEAD + r"|[,;:(.!]\s*|\b(?:and|or|but|so|also|then)\s+|\?\s*|" + _EMBEDDING + r")"
           r"(?:(?:roughly|approximately|approx|about|around|typically|usually|generally|normally|on average|just"
           r"|so|ok|okay|also|out of interest|quick question|quick q|sorry|please|and|but)\s*,?\s+)*")
_SHORT_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)"
_LONG_UNIT = r"(?:days?|weeks?|wks?|months?|mos?|years?|yrs?|decades?)"  # ward shorthand too: "per wk", "at 6 mo"
_TIME_UNIT = r"(?:" + _SHORT_UNIT + "|" + _LONG_UNIT + ")"

# Each kind is asked by a wh-phrase ("how many", "what percentage"), which counts in any question, or
# by a keyword ("dose", "%", "per week"), which counts only outside yes/no questions: "Is ECT 100%
# safe?" and "Is ketamine an anesthetic at high doses?" ask for no figure.
_ASKED_BY_PHRASE: dict[str, str] = {
    "percentage": r"\b(what|which|how much of (a|the)) (percentage|percent|proportion|fraction|share)\b|"
                  r"\b(what|which) (is|are|was|were) the \w+ rates?\b|"
                  # "how well does it work tho, any numbers?": how many respond, in figures
                  # "does it actually work, like any numbers on it": whether it works, in figures
                  r"\b(how (well|effective(ly)?|successful)|(does|do|did) (it|they|this|that|\w+) (actually |really |even )?work)\b"
                  # ... asked after the question mark, and followed by who the figures are for and another
                  # question: "does tms actually work?? any numbers i can give the family, and does it last"
                  r"(\?+\s*)?[^.?]{0,40}\b(any|got|some|the) (numbers|stats|statistics|figures|percentages)"
                  r"(\s+(i|we|you)\s+(can|could)\s+\w+(\s+(to\s+)?(the|my|our|his|her|their|a)\s+\w+)?"
                  r"|\s+(on|for) (it|that|this|them))?\W*($|(and|or|but|plus)\b)",
    "duration": _CLAUSE + r"how long\b|" + _CLAUSE + r"how many " + _TIME_UNIT + r"\b",
    "count": _CLAUSE + r"how many\b",
    # a measured value to act on: "at what reading do we stop it?", "what's the cut-off?"
    "measurement": r"\bat what (reading|level|value|bp|blood pressure|pressure|heart rate|pulse|score|threshold|cut-?off)\b|"
                   r"\bwhat(?: is| are|'s|s|’s) the ([\w/-]+ ){0,2}(cut-?offs?|thresholds?)\b",
    "frequency": _CLAUSE + r"how (often|frequently)\b",
    "dose": r"\b(what|which) (is the |are the )?(\w+ )?(doses?|dosage|dosing)\b|\bhow much (ketamine|medication|drug)\b",
    "cost": r"\bhow much (does|do|did|is|are|would|will|might) .{1,40}\b(cost|charge)\b|"
            r"\bwhat (does|do|did|would|will|might) .{1,40}\bcost\b|\bhow expensive\b",
    "year": r"\b(what|which) year\b|\bwhen (was|were|did|has|have)\b.{0,60}\b(invent|introduc|develop|"
            r"discover|approv|clear|found|first|start|begin|began|license|authori)\w*",
}
_ASKED_BY_KEYWORD: dict[str, str] = {
    "percentage": r"%|\bpercent(age)?\b|\b(response|remission|relapse|success|failure|mortality|death|recovery|cure|"
                  r"dropout|complication) rates?\b|"
                  # "whats the mortality risk of ECT in older pts": the risk of dying, as a figure.
                  r"\b(mortality|fatality|death) risks?\b|\brisk of (death|dying)\b",
    "duration": r"\b(in|for) (minutes|hours)\b|\(minutes\)|\bduration of (each|a|one) session\b",
    "frequency": r"\bper (day|week|wk|month|mo)\b|\btimes (a|per) (day|week|wk|month|mo)\b|\b(hz|hertz)\b|"
                 r"\b(sessions?|treatments?|infusions?|visits?|appointments?) (a|each|every) (day|week|wk|month)\b",
    "dose": r"\b(doses?|dosage|dosing|mg|milligrams?|mg/kg|micrograms?|mcg)\b",
    "cost": r"\b(cost|price|fee)s? (of|for|per)\b|\binsurance\b",
    "measurement": r"\b(cut-?offs?|thresholds?)\b",  # "bp cutoff where u hold the infusion"
}
_AUXILIARY = (r"(?:is|are|was|were|does|do|did|can|could|should|would|will|may|might|must|has|have|had|"
              r"isn't|aren't|doesn't|don't|can't)")
_YES_NO = re.compile(r"^\W*" + _AUXILIARY + r"\b", re.I)
QUESTION_TYPES: dict[str, tuple[re.Pattern, re.Pattern | None]] = {
    kind: (re.compile(_ASKED_BY_PHRASE[kind], re.I),
           re.compile(_ASKED_BY_KEYWORD[kind], re.I) if kind in _ASKED_BY_KEYWORD else None)
    for kind in ("percentage", "duration", "count", "frequency", "dose", "cost", "year", "measurement")
}

# What a sentence states is read by quantities.extract_quantities (the reader verify compares figures
# with); costs, which it does not tell from plain numbers, by their currency.
_MEASUREMENT = re.compile(r"\b\d+(?:\s*/\s*\d+)?\s*(?:mm\s?hg|bpm|beats per minute|points?)\b|\b(?:score|reading|cut-?off|threshold)s?\s+(?:of|above|below|over|under)\s+\d", re.I)
_COST = re.compile(r"[$€£]\s?\d|\b\d+(?:[.,]\d+)?\s*(dollars|euros|pounds|usd|eur|gbp)\b", re.I)
_DOSE_UNITS = frozenset(f"count:{stem}" for stem in keyword_tokens(
    "mg milligram milligrams mcg microgram micrograms g gram grams ml millilitre millilitres milliliter milliliters"))
_DAY_SECONDS = 86_400.0

TYPE_LABELS = {"percentage": "a percentage", "duration": "a duration", "count": "a number", "frequency": "a frequency",
               "dose": "a dose", "cost": "a cost", "year": "a year", "measurement": "a reading or cut-off",
               "duration:short": "a duration in seconds, minutes or hours",
               "duration:long": "a duration in days, weeks, months or years",
               "frequency:schedule": "how many times a day, week or month", "frequency:hz": "a frequency in Hz"}


_SENTENCE_END = re.compile(r"[.!?\n]+\s+")
_ASKS_SOURCES_FOR = re.compile(r"\W*(?:does|do|did|can|could|will|would)\s+(?:the\s+)?(?:guide|article|source|sources|"
                               r"text|paper|review|references?|it|they)\s+(?:give|state|mention|report|provide|list|quote|"
                               r"cite|include|have|offer|say)\b", re.I)
# A sentence that asks: a wh-word, or an auxiliary before its subject ("can the coil thing help"), not before
# a verb of courtesy ("Do let me know", "Would be grateful", "will be driving after").
_QUESTION_OPENING = re.compile(r"(?:so |and |but |ok |okay )?(?:(?:how|what|which|who|whom|when|where|why)\b|"
                               + _AUXILIARY + r"\s+(?!(?:be|let|love|like|appreciate|welcome|please)\b)\w)", re.I)


def _asking_start(question: str) -> int:
    """Where the part of `question` that asks begins: the last sentence before its first question mark (or,
    without one, in the message) that opens with a question word. With none, the whole message asks ("ECT
    session length (minutes). thanks", "rTMS sessions per wk + total no. in a course?")."""
    mark = question.find("?")
    starts = [m.end() for m in _SENTENCE_END.finditer(question, 0, mark if mark >= 0 else len(question))]
    asking = [start for start in starts if _QUESTION_OPENING.match(question, start)]
    return asking[-1] if asking else 0


_WH_CLAUSE = re.compile(r"[,;]\s*(?:(?:and|but|so|like|ok|also)\s+)?(?:what(?:'s|s| is| are)?|which)\s", re.I)


def expected_types(question: str) -> tuple[str, ...]:
    """The kinds of figure `question` asks for, in the order it asks for them; empty for most questions.

    "count" is dropped when a more specific kind is asked for ("how many weeks" is a duration). A
    duration or frequency narrows to the scale the question names: "duration:short" for seconds to
    hours, "duration:long" for days to years, "frequency:hz" or "frequency:schedule".
    """
    # A keyword counts in the sentence that asks, not in a story told before it ("my son's OCD is awful, hand
    # washing for hours. can the magnetic coil thing help with that?" asks for no duration).
    at = _asking_start(question)
    asking = question[at:]
    # "Does the guide give a remission percentage?" asks whether the sources state the figure: it asks for it.
    yes_no = bool(_YES_NO.match(asking)) and not _ASKS_SOURCES_FOR.match(asking)
    # ... and a yes/no question followed by a clause that asks what ("does tms even work tho, whats the % who get
    # better") asks for the figure that clause names, in that clause.
    wh_clause = _WH_CLAUSE.search(asking) if yes_no else None
    if wh_clause is not None:
        yes_no, at = False, at + wh_clause.start()
    asked: list[tuple[int, str]] = []
    for kind, (phrase, keyword) in QUESTION_TYPES.items():
        match = phrase.search(question) or (keyword.search(question, at) if keyword is not None and not yes_no else None)
        if match:
            asked.append((match.start(), kind))
    kinds = [kind for _start, kind in sorted(asked)]
    if "count" in kinds and _HOW_MANY_RESPOND.search(question):
        # "how many actually improve?" asks for a response rate; "how many are still better a year later,
        # percentage" names the kind itself, so the count is that percentage, asked once.
        if "percentage" in kinds:
            kinds.remove("count")
        else:
            kinds[kinds.index("count")] = "percentage"
    if "count" in kinds and "frequency" in kinds and re.search(
            r"\bhow many times (?:a|an|per|each|every)\b|\bhow many\s+(?:[\w-]+\s+){0,3}?(?:a|per|each|every)\s+"
            r"(?:day|week|wk|month|mo|fortnight)\b", question, re.I):
        kinds.remove("count")  # "how many times a week", "how many ECT sessions per wk" ask how often
    if "count" in kinds and re.search(r"\bhow many " + _TIME_UNIT + r"\b", question, re.I) and \
            not re.search(_CLAUSE + r"how many (?!" + _TIME_UNIT + r"\b)", question, re.I):
        kinds.remove("count")
    if "duration" in kinds:
        # The units of the clause that asks "how long", not of a later question ("how long does each
        # appointment last and how many times a week ...?", "how long is each session n how many times a week ...").
        asked_at = QUESTION_TYPES["duration"][0].search(question)
        clause = question[asked_at.start() + asked_at.group(0).lower().find("how"):] if asked_at else question
        end = re.search(r"(?:\b(?:and|or|but|n|plus)|[&+])\s+(?:how|what|when|which|where|is|are|do|does|can|will|would)\b|[?;]", clause[1:])
        clause = clause[: end.start() + 1] if end else clause
        short = re.search(r"\b" + _SHORT_UNIT + r"\b", clause, re.I)
        long_ = re.search(r"\b" + _LONG_UNIT + r"\b", clause, re.I)
        # "How long does each session take?": one sitting lasts minutes or hours, not weeks.
        one_sitting = re.search(r"\b(?:each|a single|one|per|every|an?|the) (?:\w+ )?(?:session|treatment|infusion|appointment"
                                r"|procedure|sitting|visit)\b", clause, re.I) and not re.search(
                                r"\bcourse|\bhow long (?:until|before|till|for)\b|\b(?:work|effects?|benefits?|help|kick in)\b", clause, re.I)
        if one_sitting and not long_:
            short = True
        if bool(short) != bool(long_):
            kinds[kinds.index("duration")] = "duration:short" if short else "duration:long"
    if "frequency" in kinds:
        hertz = re.search(r"\b(hz|hertz)\b", question, re.I)
        schedule = re.search(r"\bper (day|week|wk|month|mo)\b|\btimes (a|per)\b|\bhow (often|frequently)\b|\b(a|each|every) (day|week|wk|month)\b",
                             question, re.I)
        if bool(hertz) != bool(schedule):
            kinds[kinds.index("frequency")] = "frequency:hz" if hertz else "frequency:schedule"
    return tuple(kinds)


# "How many (patients) improve / respond / get better": the share of those treated, which the sources give as a percentage.
_HOW_MANY_RESPOND = re.compile(
    r"\bhow many\s+(?:(?:of\s+)?(?:them|those|the|these|patients|pts|people|ppl|\w+\s+(?:patients|pts|people|ppl))\s+)?(?:actually\s+|really\s+|tend to\s+|will\s+|would\s+|do\s+)?"
    r"(?:improve|improved|respond|responded|recover|recovered|get better|got better|benefit|benefited|benefitted|remit|remitted|relapse|relapsed"
    # ... or (still) found relief: "how many pts still got relief from TMS after a yr"
    # ... or a fall in their symptoms: "how many ppl get a proper drop in their depression symptoms"
    r"|(?:still\s+)?(?:get|got|had|have|found|find|report|reported|saw|see|notice|noticed|felt|feel)\s+(?:any\s+|some\s+|real\s+|lasting\s+)?"
    r"(?:relief|benefit|improvement|a response|results"
    r"|an?\s+(?:(?:proper|real|big|significant|noticeable|decent|good|major|clear|meaningful)\s+)?(?:drop|reduction|decrease|fall|improvement)\s+(?:in|of)\b)"
    # ... or are (still) well: "how many are still ok after a year", "how many people are still feeling better"
    r"|(?:still\s+)?(?:(?:are|were|stay|stayed|remain|remained|feel|felt|keep|kept|end up|ended up)\s+)?(?:still\s+)?"
    r"(?:(?:feeling|doing|staying|keeping)\s+)?(?:ok|okay|well|better|improved|symptom[- ]free|in remission))\b"
    # ... or asked of people alone after what happens to them: "does relief still hold up a year later? how many ppl"
    r"|\bhow many\s+(?:of\s+)?(?:them|those|people|patients|pts|ppl)(?:\s*\([^)]*\))?\s*(?:[?.!]|$)",
    re.I)
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)


def without_links(text: str) -> str:
    """`text` with web addresses blanked out: "/2024/" in a link is not a year, "/ect" not a mention of ECT."""
    return _URL.sub(" ", text)


@functools.lru_cache(maxsize=8192)  # source sentences, asked about again for every question that retrieves them
def stated_kinds(text: str) -> frozenset[str]:
    """The kinds of figure (QUESTION_TYPES' names, with their scales) that `text` states, links aside."""
    text = without_links(text)
    kinds: set[str] = {"cost"} if _COST.search(text) else set()
    if _MEASUREMENT.search(text):
        kinds.add("measurement")
    for q in extract_quantities(text):
        if q.kind == "percent":
            kinds.add("percentage")
        elif q.kind == "year":
            kinds.add("year")
        elif q.kind == "duration":
            size = q.high if math.isfinite(q.high) else q.low
            kinds |= {"duration", "duration:short" if size < _DAY_SECONDS else "duration:long"}
        elif q.kind.startswith("frequency/"):
            kinds |= {"frequency", "frequency:schedule"}
        elif q.kind == "count:hz":
            kinds |= {"frequency", "frequency:hz"}
        elif q.kind in _DOSE_UNITS:
            kinds |= {"dose", "count"}
        else:  # treatments, count:<noun>, number: a count of things
            kinds.add("count")
    return frozenset(kinds)


def states(text: str, kind: str) -> bool:
    """True when `text` states a figure of `kind` ("six to twelve treatments" is a count), links aside."""
    return kind in stated_kinds(text)


# -- named treatments -----------------------------------------------------------------------------

# Psychiatric treatments, procedures and drugs a question may name, with the ways people write them
# (ipchat/data/lexicon.toml). Whether the sources mention each is read from the index, never assumed:
# a corpus that adds a paper on deep brain stimulation covers it from then on.
TREATMENTS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (t.name, t.aliases) for t in load_lexicon().treatments)


def phrase_pattern(alias: str, hyphen_after: bool = True, plural: bool = False) -> re.Pattern:
    """`alias` as a whole phrase, any case, its spaces matching spaces or hyphens. With `hyphen_after`,
    a hyphenated compound counts as a mention ("psilocybin-assisted" names psilocybin); with `plural`, so
    does a plural "s" ("how many ECTs in a course")."""
    end = r"(?![\w])" if hyphen_after else r"(?![\w-])"
    return re.compile(r"(?<![\w-])" + re.escape(alias).replace(r"\ ", r"[\s-]+") + ("s?" if plural else "") + end,
                      re.I)


# Each treatment's names, then its descriptions ("the shock one"; lexicon `described_by`): a name as long as
# a description ("magnetic seizure therapy", not "the magnetic ... therapy") is the one meant.
_ALIASES = [(name, alias, phrase_pattern(alias), False) for name, aliases in TREATMENTS for alias in aliases] + [
    (t.name, "", description_pattern(t.described_by), True) for t in load_lexicon().treatments if t.described_by]


def named_treatments(text: str) -> list[tuple[str, int, int]]:
    """(name, start, end) of each treatment `text` names, in order; overlapping mentions keep the longest."""
    return list(_named_treatments(text))


@functools.lru_cache(maxsize=4096)
def _named_treatments(text: str) -> tuple[tuple[str, int, int], ...]:
    # Cached: every question reads the same passages and sentences of its pool again.
    found: list[tuple[str, int, int, bool]] = []
    for name, _alias, pattern, described in _ALIASES:
        for match in pattern.finditer(text):
            found.append((name, match.start(), match.end(), described))
    found.sort(key=lambda f: (f[1], -(f[2] - f[1]), f[3]))
    kept: list[tuple[str, int, int]] = []
    for name, start, end, _described in found:
        if kept and start < kept[-1][2]:
            continue  # inside a longer mention ("transcranial direct current stimulation" holds no TMS)
        kept.append((name, start, end))
    return tuple(kept)


# A treatment named as the patient's history is context, not what the question is about: "my patient
# failed sertraline and bupropion; what options are there?", "she cannot continue her Zoloft".
_IN_PASSING = re.compile(
    r"\b(failed|failing|fails|after|taking|takes|took|stopped|stopping|continue|continuing|tried|trying|despite|"
    r"intolerant (of|to)|allergic to|history of|discontinued|discontinuing|switched from|switching from|"
    r"(patient|pt|client|he|she|they|someone|who|who's|who is|currently|already|is|are|was|were) on)"
    r"\s+((her|his|their|the|a|an|my|our|your|its)\s+)?$", re.I)
_LIST_JOIN = re.compile(r"^\s*(,|/|and|or|,\s*and|,\s*or)\s*$", re.I)
# Taken at the same time as what is asked about: "safe to do ECT while pt is on lithium?" asks about the two
# together, not about a patient's history.
_WHILE_ON = re.compile(r"\bwhile\s+(?:(?:the\s+)?(?:patient|pt|client|he|she|they|i|you|someone|we)\s+)?"
                       r"(?:is|are|am|'s|s|still|currently|\s)*\s*(?:on|taking)\s+((her|his|their|the|a|an|my|our|your)\s+)?$", re.I)


def in_passing(text: str, mentions: list[tuple[str, int, int]] | None = None) -> list[bool]:
    """For each of `named_treatments(text)` (or `mentions`, when already found): True when it is named as
    context (the patient's history), not as what is asked about. A treatment listed after one in passing
    ("sertraline and bupropion") is too."""
    mentions = named_treatments(text) if mentions is None else mentions
    flags: list[bool] = []
    for i, (_name, start, _end) in enumerate(mentions):
        before = text[max(0, start - 40):start]
        passing = bool(_IN_PASSING.search(before)) and not _WHILE_ON.search(before)
        if not passing and i and flags[-1] and _LIST_JOIN.match(text[mentions[i - 1][2]:start]):
            passing = True
        flags.append(passing)
    return flags


class TreatmentCoverage:
    """Which lexicon treatments the indexed text mentions, asked once per name and remembered.

    `mentions(alias)` answers whether the sources contain a phrase; it is given by the caller (the
    answer module asks the index's keyword vocabulary, then the text for multi-word phrases).
    """

    def __init__(self, mentions: Callable[[str], bool]):
        self._mentions = mentions
        self._covered: dict[str, bool] = {}

    def covered(self, name: str) -> bool:
        if name not in self._covered:
            aliases = next(a for n, a in TREATMENTS if n == name)
            self._covered[name] = any(self._mentions(alias) for alias in aliases)
        return self._covered[name]

    def uncovered(self, question: str, mentions: list[tuple[str, int, int]] | None = None) -> list[str]:
        """The treatments `question` names (or `mentions`, when already found) that the sources never
        mention, in order of mention."""
        names: list[str] = []
        for name, _start, _end in named_treatments(question) if mentions is None else mentions:
            if name not in names and not self.covered(name):
                names.append(name)
        return names

