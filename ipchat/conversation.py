"""Follow-up questions: rewrite "What are its side effects?" into a question that stands on its own.

Pure string work over the conversation's earlier user turns; no model. The topic of a conversation is
the most recent treatment (or other article term) a user named; a follow-up that names none of its own
but leans on the context (a pronoun, "and for ECT?", "how many sessions?") borrows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .abbreviations import join_initialisms
from .coverage import named_treatments, phrase_pattern
from .lexicon import bare_pattern, cue, description_pattern, load_lexicon

# Topics by their display name, with the ways people write them (ipchat/data/lexicon.toml): the
# treatments that open a topic first, then the broader topics.
TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (t.topic, t.aliases + t.topic_aliases) for t in load_lexicon().treatments if t.topic
) + tuple((t.name, t.aliases) for t in load_lexicon().topics)

# "this" and "that" refer to the treatment, except in "is that it?" and "after that" (an event, not the treatment).
_PRONOUN = re.compile(r"\b((?<!is that )(?<!that is )(?<!that's )it|its|it's|they|them|their|(?<!after )(?<!before )(?<!than )(?:this|that)(?! it\b)|these|those"
                      r"|this treatment|the treatment|the procedure)\b", re.I)
# What patients do, not a treatment: "they" before it are the people treated ("and if they respond?").
_PEOPLE_DO = re.compile(r"\s+(?:(?:do not|don't|dont|did not|didn't|start to|begin to|stop)\s+)?(?:respond|improve|get better|feel|"
                        r"recover|relapse|notice|see an? \w+|tolerate|cope|qualify)\b", re.I)
# "n ketamine?", "& ect?": texting's "and" opens one too.
_AND = r"(?:[&+]|n(?=\s)|(?:and|or)\b)"
_ELLIPSIS = re.compile(r"^\s*(?:" + _AND + r"|(?:what about|how about|same for|and for|and what about|what of"
                       r"|same (?:question|thing|q) (?:for|about|with)|likewise for|ditto for)\b)", re.I)
_SHORT_WORDS = 6
# "n are the procedural ones quicker?" after "how long do antidepressants take?": a verb of its own after the "and"
# asks its own question of the new subject, not the earlier one again ("and is it the same for ECT?" does).
_OWN_PREDICATE = re.compile(r"^\s*" + _AND + r"\s+(?:are|is|do|does|did|can|could|will|would|should|was|were|has|have)\b", re.I)
_SAME_ASKED = re.compile(r"\b(?:same|too|also|as well|either|similar|likewise)\b", re.I)

# Case-sensitive shorthand whose long form names a topic ("ADs" for antidepressants): spelled out in the earlier
# turns, so that "how long do ADs take" opens the topic its long form does.
_TOPIC_SHORTHAND = tuple((re.compile(r"\b" + re.escape(s.short) + r"\b"), s.long) for s in load_lexicon().shorthand
                         if s.case_sensitive and any(phrase_pattern(alias, hyphen_after=False, plural=True).fullmatch(s.long)
                                                     for _name, aliases in TOPICS for alias in aliases))


def _spell_out(turn: str) -> str:
    for pattern, long_form in _TOPIC_SHORTHAND:
        turn = pattern.sub(long_form, turn)
    return turn


@dataclass(frozen=True)
class Rewrite:
    """The query to search with: the question, made to stand on its own."""

    query: str


# Topic names do not match at the start of a hyphenated compound ("ECT-related"); treatment coverage does.
# A treatment described instead of named ("and the shock one?", "and the IV one?") opens its topic too.
_ALIASES = [(name, alias, phrase_pattern(alias, hyphen_after=False, plural=True))
            for name, aliases in TOPICS for alias in aliases] + [
    (t.topic, "", description_pattern(t.described_by)) for t in load_lexicon().treatments if t.topic and t.described_by] + [
    (t.name, "", bare_pattern(t.bare)) for t in load_lexicon().topics if t.bare]


def topics_in(text: str) -> list[str]:
    """The topics named in `text`, in order of first mention."""
    found: list[tuple[int, str]] = []
    for name, _alias, pattern in _ALIASES:
        match = pattern.search(text)
        if match and name not in [n for _, n in found]:
            found.append((match.start(), name))
    return [name for _, name in sorted(found)]


# A topic named by a class word after "these" or "those" ("these procedures": lexicon `pointed_as`) points back to
# what the conversation is about.
# Each word is matched as aliases are (`phrase_pattern`: spaces match hyphens).
_POINTED = [(t.name, re.compile(r"\b(?:these|those)\s+(?:" + "|".join(
    phrase_pattern(word, hyphen_after=False).pattern for word in t.pointed) + ")", re.I))
    for t in load_lexicon().topics if t.pointed]


def conversation_topic(history: Sequence[str]) -> tuple[str | None, str | None]:
    """The topic of the latest earlier user turn that names one, and that turn.

    Within a turn the first topic named wins: it is usually the subject ("alternative therapies
    besides meds and psychotherapy"), unless another is set beside it and pointed back to as "these" or
    "those" ("how fast do antidepressants kick in vs these procedures": the procedures are what the
    conversation is about). Pointed to alone ("are these procedures painful" after an ECT question), the
    words may mean the earlier topic's own, so they name nothing.
    """
    for turn in reversed(history):
        named = topics_in(turn)
        if named:
            pointed = [name for name, pattern in _POINTED if pattern.search(turn) and name not in named]
            return (pointed[0] if pointed else named[0]), turn
    return None, None


def _replace_topic(turn: str, old: str, new: str) -> str:
    for name, _alias, pattern in _ALIASES:
        if name == old:
            turn = pattern.sub(new, turn)
    # Two names of the old topic side by side ("during a ketamine infusion") are one mention of the new.
    return re.sub(r"\b(" + re.escape(new) + r")(?:\s+" + re.escape(new) + r"\b)+", r"\1", turn)


_ASKS = re.compile(r"^\W*(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|should|would"
                   r"|will|may|might|must|has|have|any|anything|tell me|explain|describe|list|compare|define|info|information)\b", re.I)


def _states(turn: str) -> bool:
    """True when the earlier turn states something rather than asks ("pt responded to first 2 infusions")."""
    return bool(turn) and "?" not in turn and not _ASKS.match(turn)


_THAT = re.compile(r"\b(?:that|this)\b(?!\s+(?:treatment|procedure|drug|therapy|one|medication|infusion|session)s?\b)", re.I)


def _judges_what_was_said(question: str) -> bool:
    """A one-word question ("expected?", "normal?") or a short one whose first pointer is "that" or "this"
    ("is that a problem"), not "it" (the treatment), or that ends on "there" ("any concern there?"): a verdict
    on what the earlier turn stated."""
    words = question.split()
    if len(words) == 1:
        return True
    if len(words) <= _SHORT_WORDS and _THERE.search(question):
        return True
    first = _PRONOUN.search(question)
    return len(words) <= _SHORT_WORDS and first is not None and bool(_THAT.fullmatch(first.group(0)))


# "any concern there?", "what's the risk there": a closing "there" points at what was said ("is there?" asks
# whether something exists).
_THERE = re.compile(r"(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )(?<!\bisn't )(?<!\baren't )\bthere\W*$", re.I)


# "why tho?", "how come?": the reason for what the earlier question asked.
_WHY = re.compile(r"^\W*(?:(?:but|and|so|ok|okay)\s+)?(?:why|how come|what(?:'s| is|s) the reason|reason)"
                  r"(?:\s+(?:tho|though|is that|was that|not|so|exactly|then|for that|for this))*\W*$", re.I)
_UNIT = r"(?:yrs?|years?|months?|mos?|weeks?|wks?)"
_COUNT = r"(?:a|an|one|two|three|six|twelve|\d+)"
# "and a yr later?", "after six months?", "long term?": the earlier question, asked of another time.
_LATER = re.compile(r"^\W*(?:(?:and|or|but|what about|how about|and what about|and after|and at)\s+)?(?:"
                    + _COUNT + r"\s+" + _UNIT + r"\s+(?:later|on|out|after(?:wards)?|down the line)"
                    r"|(?:after|at|by)\s+" + _COUNT + r"\s+" + _UNIT
                    + r"|(?:in\s+the\s+)?(?:long|longer)[- ]term|(?:in\s+the\s+)?long run)\W*$", re.I)


# "and does that last?", "will those results hold up?": whether what the earlier answer told of (a response
# rate, an improvement) lasts; "that" is what was said ("it" is the treatment: "does it last?").
_WHAT_WAS_TOLD = (r"(?:that|this|those|these|th(?:at|is|e|ose|ese) (?:effects?|benefits?|response|improvements?|relief"
                  r"|results?|gains?))")
# ... or whether it is permanent or wears off: "is that permanent or does it wear off?", "does that wear off?"
_WEARS_OFF = r"(?:\s+or\s+(?:does|do|will|would)\s+(?:it|that|this|they)\s+(?:wear off|fade|go away|stop working))?"
_LASTS = re.compile(r"^\W*(?:(?:and|but|so|ok|okay)\s+)?(?:"
                    r"(?:does|do|will|would|did|can)\s+" + _WHAT_WAS_TOLD + r"\s+"
                    r"(?:last|hold(?:\s+up)?|stick|persist|stay|keep\s+(?:working|going)|wear off|fade)"
                    r"(?:\s+(?:long|long[- ]term|over time|afterwards|after))?"
                    r"|(?:is|are|will|would)\s+" + _WHAT_WAS_TOLD + r"\s+(?:be\s+)?(?:permanent|lasting|long[- ]lasting|for good"
                    r"|for life|forever)" + _WEARS_OFF + r")\W*$", re.I)


# "anything else given w it?", "what else do they use?": more of what the earlier question asked about.
_ELSE = re.compile(r"^\W*(?:(?:and|so|ok|okay|also)\s+)?(?:(?:(?:is|are)\s+there\s+)?(?:anything|something"
                   r"|any other (?:drugs?|meds?|medications?|things?))\s+else\b(?:\W+\w+){0,5}|what\s+else)\W*$", re.I)


def _asks_again_of_earlier(question: str) -> bool:
    """True when `question` asks the earlier question again, for its reason ("why tho?"), for another
    time ("and a yr later?", "and does that last?") or for more of it ("anything else given w it?"): it
    holds nothing to search with of its own."""
    return bool(_WHY.match(question) or _LATER.match(question) or _LASTS.match(question) or _ELSE.match(question))


def _named_plainly(text: str, topic: str) -> bool:
    """True when `text` names `topic` by its display name or its treatment's full name."""
    names = [topic] + [t.name for t in load_lexicon().treatments if t.topic == topic]
    return any(phrase_pattern(name).search(text) for name in names)


# "and the other one, the shock treatment?": a pointer at another treatment, then its name in apposition. The
# pointer adds nothing the name does not say, so it does not count towards the ellipsis's length.
_APPOSED_POINTER = re.compile(r"^(\W*(?:and|or|what about|how about|and what about|and for)\s+)(?:the|that|this)\s+"
                              r"(?:(?:other|second|first|last|latter|former|alternative|remaining)\s+)?"
                              r"(?:one|option|treatment|therapy|procedure|thing)?\s*[,:\u2013\u2014-]\s*(?=\w)", re.I)


# "and ketamine - same list or narrower?", "what about TMS, any different?": a tail comparing the new subject
# with what was answered adds nothing to search with, so it does not count towards the ellipsis's length.
_COMPARED_TAIL = re.compile(r"\s*[,:\u2013\u2014-]\s*(?:(?:is|are|would|will)\s+(?:it|that|they)\s+)?(?:any\s+|much\s+)?"
                            r"(?:the\s+)?\b(?:same|similar|different|narrower|wider|broader|shorter|longer|better|worse|more|less)"
                            r"(?:\s+(?:list|thing|story|answer|deal|again|too|as well))?"
                            r"(?:\s+or\s+(?:\w+\s+)?(?:same|similar|different|narrower|wider|broader|shorter|longer|better|worse"
                            r"|more|less|not))?\W*$", re.I)


def _is_elliptical(question: str) -> bool:
    plain = _APPOSED_POINTER.sub(r"\1", question)
    plain = _COMPARED_TAIL.sub("", plain) or plain
    return bool(_ELLIPSIS.match(plain)) and len(plain.split()) <= _SHORT_WORDS and not (
        _OWN_PREDICATE.match(plain) and not _SAME_ASKED.search(plain))


def _as_asked(turn: str, history: Sequence[str]) -> str:
    """The earlier `turn` as it was understood: an ellipsis itself ("what about TMS?" after "what are the side
    effects of ketamine infusions?") is the question it stood for ("what are the side effects of TMS?"), so
    that "and the shock one?" after both asks for ECT's side effects, not "what about ECT?"."""
    turn = turn.strip()
    before = [i for i, earlier in enumerate(history) if earlier.strip() == turn]
    if not before or not _is_elliptical(turn):
        return turn
    return rewrite_followup(turn, history[:before[-1]]).query


_UNNAMED = next((t.name for t in load_lexicon().topics if t.unnamed), None)


def _unnamed_pointed(question: str) -> str:
    """A first question that names no topic or treatment and points with "these" or "those"
    (lexicon cue.points_unnamed) before any topic it names asks about the sources' own subject (the [[topic]]
    marked `unnamed`):
    "would u ever go straight to these as first line" -> "... go straight to interventional therapies as
    first line"."""
    if _UNNAMED is None or named_treatments(question):
        return question
    pointed = cue("points_unnamed").search(question)
    # A topic named before the pointer is what it points to; one after is set beside it ("are these better
    # than antidepressants", "go straight to these as first line").
    if pointed is None or topics_in(_spell_out(question[:pointed.start("ref")])):
        return question
    return question[:pointed.start("ref")] + _UNNAMED + question[pointed.end("ref"):]


def rewrite_followup(question: str, history: Sequence[str] = ()) -> Rewrite:
    """A self-contained query for `question` given the earlier user turns (oldest first).

    - "and for ECT?" after "What are the side effects of TMS?" → "What are the side effects of ECT?"
    - "What are its side effects?" after a TMS question → "What are TMS's side effects?"
    - "how many sessions?" or "how many does a patient usually start with?" after an ECT question →
      "how many sessions (ECT)?": a question that names no topic is read in the conversation's.
    A question that names its own topic (or another treatment) is returned unchanged.
    """
    # "E.C.T." is ECT, in the question and in the turns it leans on.
    question = join_initialisms(question.strip())
    history = [_spell_out(join_initialisms(turn)) for turn in history]
    if not history:
        return Rewrite(_unnamed_pointed(question))
    own = topics_in(_spell_out(question))
    topic, turn = conversation_topic(history)
    elliptical = _is_elliptical(question)
    named = named_treatments(question)
    # "and for ECT?", "what about esketamine?": the earlier question, asked about the new subject. A
    # treatment that is not one of the topics (the sources may never mention it) counts as one too,
    # so that it does not borrow the earlier topic as its own.
    new = own[0] if own else question[named[0][1]:named[0][2]] if named and not _PRONOUN.search(question) else None
    if elliptical and turn is not None and new is not None and new != topic:
        return Rewrite(_replace_topic(_as_asked(turn, history), topic, new))
    last = history[-1].strip()
    if topic is not None and not own and not named and (
            _states(last) and _judges_what_was_said(question) or _asks_again_of_earlier(question)):
        # "pt had the drip this am, now says colours seem off" … "expected?" or "is that a problem?": a
        # verdict asked on a statement is about what was stated, which the topic alone does not carry;
        # nor does it carry what "why tho?" or "and a yr later?" ask again ("what % respond to TMS").
        query = f"{last.rstrip(' .!;,')} - {question}"
        if not _named_plainly(query, topic):
            query = f"{query.rstrip(' ?.!')} ({topic})?"
        return Rewrite(query)
    if topic is None:
        return Rewrite(question)
    if own:
        # "how many infusions to start with?", "so where does the magnet go", "magnet one the same?" after
        # an ECT question: a follow-up that names its topic only by description gets the topic's name.
        if not _named_plainly(question, own[0]):
            return Rewrite(f"{question.rstrip(' ?.!')} ({own[0]})?")
        return Rewrite(question)
    pronouns = list(_PRONOUN.finditer(question))
    if pronouns:
        target = pronouns[0]
        if target.group(0).lower() == "they":
            # "how do they give it?": "they" are the staff who give it; "it" is the treatment.
            target = next((m for m in pronouns[1:] if m.group(0).lower() in ("it", "its", "it's")), target)
        word = target.group(0).lower()
        if word == "they" and _PEOPLE_DO.match(question, target.end()):
            # "and if they respond? then what": "they" are the patients; the topic is added, not put in their place.
            return Rewrite(f"{question.rstrip(' ?.!')} ({topic})?")
        replacement = f"{topic}'s" if word in ("its", "their") else topic
        return Rewrite(question[:target.start()] + replacement + question[target.end():])
    if named:
        return Rewrite(question)  # "What is deep brain stimulation?" names its own subject
    # A question that names no topic is read in the conversation's: "how many does a patient usually
    # start with?", "and the side effects?", "any risk of getting hooked".
    stem = question.rstrip(" ?.!")
    return Rewrite(f"{stem} ({topic})?")
