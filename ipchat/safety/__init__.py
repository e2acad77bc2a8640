"""The safety layer: every message passes through `assess` before retrieval.

Rules first, so the verdict is deterministic, auditable and fast; then, when the caller has the
message's vector, a semantic backstop that can only raise the level. The hard part is precision in
both directions: the corpus discusses suicidality clinically, so firing on the word "suicide" would
block the questions clinicians ask, while a person in crisis rarely uses the textbook words.

Levels, lowest first (`LEVELS`):

* ``none``      nothing related to suicide or self-harm.
* ``clinical``  suicide or self-harm as a clinical or teaching topic, a statement about people in
                general ("patients who want to die"), or a risk statement the writer negates
                ("I'm not suicidal, ..."). Answered, with a one-line resources footer.
* ``concern``   someone else is at risk, a clinician reports what a patient said, the writer
                mentions a past attempt or past ideation, asks what to do "if" they feel that way,
                or asks generically for lethal amounts or methods. Guidance first, then the answer.
* ``crisis``    the writer is at risk now. The answer is withheld; the reply is the crisis message.

Findings are grounded in the Columbia screener (C-SSRS). Each names its item in `rule_ids`:

    cssrs.wish_dead        wish to be dead, passive ideation ("wish I could sleep and not wake up")
    cssrs.active_thoughts  non-specific active thoughts ("I want to kill myself")
    cssrs.method           thoughts with a method ("thinking about hanging myself")
    cssrs.intent           intent ("I'm going to", "I've decided")
    cssrs.plan             a plan: a time, date or place ("tonight", "on the 14th", "from the bridge")
    cssrs.preparation      preparatory acts: means acquired, notes, belongings given away, affairs
                           arranged "for when I'm gone"
    cssrs.attempt          an attempt under way or just made (or, in the past tense, a past attempt)
    nssi.current           self-injury: cutting, burning, hitting oneself
    starvation.to_die      starving oneself in order to die
    means.seeking          asking how, how much, how high, which is quicker, the most painless way
    bereavement            someone lost to suicide

The level follows from the finding's subject and tense, for every item alike (one table):

    subject / tense                                   level
    the writer, now (or no subject: "wanna die")      crisis
    the writer, in the past ("attempted in 2019")     concern
    the writer, hypothetical ("what if I ...")        concern
    the writer, negated ("I'd never ...")             clinical
    someone else ("my husband", "a patient said")     concern
    people in general, or a topic ("is X common")     clinical
    means.seeking: the writer or "you"                crisis; anyone else: concern

How a message is read:

1. Normalise (normalise.py): Unicode, case, quotes, spaced, starred and leetspeak letters, runs of
   repeated letters, slang and contractions, and misspelt risk words ("wnat", "myslef").
2. Set aside what is only mentioned: "what does kms mean", and text in quotation marks (someone
   else's words: at most concern).
3. Split into sentences and clauses, and neutralise idioms ("this exam is killing me").
4. Match the risk patterns of ipchat/data/safety/patterns.toml. Most are compositions of word lists
   (lexicon.toml): subject x modality x act x target ("gonna" x "off" x "myself", "thinking about" x
   "jumping off the bridge"). For each match, find who it is about and read negation, reported
   speech, a hypothetical and tense around it (rules.py).
5. Match the phrases of languages.toml: Spanish, French, German, Portuguese and Italian.
6. Signs that are a crisis only in context (a rope bought, a date set, "how many would be too
   many?") count when the same message states risk or hopelessness, names a time or place, holds a
   second sign (or says it is kept from everyone: "told nobody"), names the writer's own loss ("since
   Margaret passed": cue.bereaved), or when earlier messages did (the conversation rule below).
7. With the message's vector, the backstop (backstop.py) compares it with reviewed exemplars and may
   raise the level to concern or crisis (``semantic.<exemplar id>``). It never lowers one. In a
   message whose risky words the rules read as an idiom and nothing else, it hears only the sentences
   without one, one step less. A message in one of the five languages with none of that language's
   words of death, means, farewells or despair (`risk_words` in languages.toml) it raises to a concern
   at most: the bundled model is English.

The message level is the most severe finding: a crisis sentence inside a clinical question is still
a crisis. A mention of suicide or self-harm with no finding makes the message ``clinical``. Every
finding contributes its rule id, its decision (``crisis.first_person``, ``concern.third_person``,
...) and, when it is a risk, its item.

Conversation rule: `assess` also reads the last `HISTORY_WINDOW` earlier user messages.
`Assessment.history_level` is the most severe of their own levels (risk the backstop heard in one
counts: the writer's as crisis, someone else's as concern); when it is crisis or concern,
`show_resources` stays True for the following turns, and `session_footer` holds the footer to show
when the current message carries none. Earlier messages also give context: after risk or
hopelessness, a sign in the current message is a crisis ("I've been thinking about ending it" ...
"I have the pills saved"), and after a sign, risk or hopelessness in the current one is. With their
vectors (`history_vectors`, with each sentence's: `embed_history`) the backstop hears the earlier
messages too, one sentence at a time as it hears the current one: risk it hears in the writer's
voice, in one the rules read nothing in, counts there as a rule's crisis finding would (and nearness to
concern as hopelessness), so "most days I figure the guys who didn't come home got the better deal" ...
"cleaned the rifle tonight" is a crisis; risk it hears in a message about someone else keeps the next
message a concern ("mom found weeks of his heart pills hidden" ... "can his ECT be moved up?"). When the
rules read nothing in the last messages and nothing was raised, the backstop hears them joined
(`conversation_vector`, `embed_turn`): fragments that each say little can say it together. A writer
who says they are safe, or denies risk of their own with no hopelessness beside it, ends what carried;
one who says the earlier words were a film's, a book's or an exam's (cue.reframed) ends it too, and
closes someone else's risk told before; one who gives them back to someone they know ("that's what my
patient wrote", cue.reattributed) ends the writer's own and makes it that person's, a concern. "ok the
friend is me" after talk of means makes that risk the writer's for the messages after it too
(`_revealed`), and so do words the writer posted, quoted back in the next message ("someone screenshotted
what i said" ... "it said 'gonna unalive myself before monday'"), and risk of their own told after a sign or
named means ("took tonight's and tomorrow's together" ... "on purpose. i wanted it all to stop"), unless it
names a time long past. A follow-up carries nothing from before words the writer said were a song's, a film's
or a book's ("that's the song on the radio"). Means put out of reach by someone else ("she's locked my meds in
her car", cue.means_removed) are a safety step, not talk of means after risk. With someone else's risk in view
and no finding of the writer's own, a crisis the backstop hears in a message that names that person is theirs:
a concern, unless a sentence in the writer's own words is heard as one. A writer who says they are not safe, or
answers a question about their safety with no ("you asked if im safe. no not really"), states risk
(``ideation.not_safe``).

Privacy: nothing the user typed is logged or stored. The logger ``ipchat.safety`` receives only
the level, the rule ids and the elapsed time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Sequence

import numpy as np

from ipchat.errors import InputError

from .backstop import (Backstop, Screen, backstop_for, load_safety_embedder, load_screen, safety_model_name,
                       screen_for, sentence_spans)
from .gloss import for_model, gloss, language_of, reads_well
from .languages import without_risk_words

from .normalise import normalise
from .resources import _resolve_region, concern_message, crisis_message, message_for, regions, resources_footer
from .rules import (LEVELS, RANK, RISK_LEVELS, Reading, asks_whom_to_tell, in_writers_voice, load_rules, measured_before,
                    names_someone_else, put_to_writer, read_message, speaks_of_self, speaks_without_subject,
                    called_a_joke, speaks_of_people_only, tells_of_someone_else, told_as_fiction, told_as_recent)

__all__ = [
    "LEVELS",
    "HISTORY_WINDOW",
    "MAX_TEXT_CHARS",
    "Assessment",
    "assess",
    "crisis_message",
    "concern_message",
    "resources_footer",
    "regions",
    "normalise",
    "backstop_for",
    "load_safety_embedder",
    "semantic_assessor",
    "read_turn",
    "Screen",
    "screen_for",
    "load_screen",
    "safety_model_name",
    "sentence_spans",
    "embed_for_backstop",
    "embed_history",
    "embed_turn",
    "conversation_text",
]

_log = logging.getLogger("ipchat.safety")

#: How many earlier user messages are looked at for the conversation rule.
HISTORY_WINDOW = 6
#: How many of them a follow-up reads on from (the last two: what the current message answers or adds to).
FOLLOW_UP = 2

#: A crisis heard only in the last messages joined stays one when the current message carries part of it: the
#: head's risk probability of that message alone is at least this (see `_heard_together`), unless the head
#: carries its own (head.json's own_share_p).
OWN_SHARE_P = 0.5

#: Longest message `assess` accepts; longer earlier messages are assessed on their last part.
MAX_TEXT_CHARS = 20_000

# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """The safety verdict for one message. Holds no user text.

    `level` is the current message's own level. `message` is the text to show for
    it: the crisis message (instead of an answer), the concern guidance (before the
    answer), the one-line footer (after a clinical answer), or "" for none.
    `show_resources` is True when this message or one of the last `HISTORY_WINDOW`
    earlier messages was crisis or concern; `history_level` is the most severe level
    among those earlier messages ("none" without history). `session_footer` is the
    one-line footer to keep showing because of history when `message` itself
    carries no resources (level none), else "". `region` is the resolved region.
    `semantic` is True when the backstop read the message as well as the rules.
    """

    level: str
    rule_ids: tuple[str, ...]
    message: str
    show_resources: bool
    history_level: str = "none"
    region: str = "US"
    session_footer: str = ""
    semantic: bool = False  # True when the backstop read the message too (rules alone otherwise)
    screened: bool = False  # True when the screen heard no risk, so the rules alone read it (backstop.Screen)

    @property
    def resources(self) -> str:
        """Return the resources text to show with this turn: `message` when it has them, else `session_footer`."""
        return self.message if self.level != "none" else self.session_footer

    def to_dict(self) -> dict[str, object]:
        """Return ``{"level", "rule_ids", "message", "semantic", "screened"}``, JSON-ready and free of user text."""
        return {"level": self.level, "rule_ids": list(self.rule_ids), "message": self.message,
                "semantic": self.semantic, "screened": self.screened}




def _with_sentences(messages: Sequence[str]) -> tuple[list[str], list[int]]:
    """What the model embeds for each message followed by its sentences (for a message of several): each
    text itself, or its English gloss when it is in one of the five languages (gloss.py); and how many
    texts each message gave."""
    texts, sizes = [], []
    for message in messages:
        parts = [message] + [message[start:end] for start, end in sentence_spans(message)]
        lang = language_of(message)
        texts += [part if lang is None else gloss(part, lang) or part for part in parts]
        sizes.append(len(parts))
    return texts, sizes


def _pairs(vectors: Sequence[np.ndarray], sizes: Sequence[int]) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    pairs, at = [], 0
    for size in sizes:
        pairs.append((vectors[at], list(vectors[at + 1: at + size])))
        at += size
    return pairs


def embed_history(embed, messages: Sequence[str]) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """Each message's vector and, for a message of several sentences, each sentence's vector, from one
    call to `embed` (a function from a list of texts to their vectors: an embedder's `embed`, or a cache
    in front of it), for `assess(history_vectors=)`."""
    texts, sizes = _with_sentences(messages)
    return _pairs(list(embed(texts)) if texts else [], sizes)


def conversation_text(text: str, history: Sequence[str]) -> str:
    """The last `FOLLOW_UP` earlier messages and `text`, joined as one: what the backstop hears together
    when no message alone says anything ("thinking about the bridge near campus a lot" ... "the high one"
    ... "friday"). Empty without history."""
    return " ".join([*tuple(history)[-FOLLOW_UP:], text]) if history else ""


def _turn_texts(text: str, history: Sequence[str]) -> tuple[list[str], list[int], bool]:
    """What `embed_turn` hands the model for `text` after `history`: the texts (the message and its
    sentences, each earlier message in the window and its sentences, then the conversation joined when
    there is history), how many texts each message gave, and whether the joined conversation is last."""
    window = tuple(history)[-HISTORY_WINDOW:]
    joined = conversation_text(text, history)
    texts, sizes = _with_sentences([text, *window])
    return texts + ([for_model(joined)] if joined else []), sizes, bool(joined)


def turn_texts(text: str, history: Sequence[str] = ()) -> list[str]:
    """The texts `embed_turn` embeds for `text` after `history`: to make them beforehand for many turns at
    once (see `semantic_assessor`, `Answerer.prepare`)."""
    return _turn_texts(text, tuple(history))[0]


def embed_turn(embed, text: str, history: Sequence[str] = ()) -> dict[str, object]:
    """Every vector `assess` can use for `text` after `history`, from one call to `embed` (as for
    `embed_history`): ``assess(text, history, backstop=..., **embed_turn(embed, text, history))``. The
    earlier messages beyond `HISTORY_WINDOW` are not embedded."""
    history = tuple(history)
    texts, sizes, joined = _turn_texts(text, history)
    vectors = list(embed(texts))
    (vector, sentence_vectors), *earlier = _pairs(vectors, sizes)
    return {"vector": vector, "sentence_vectors": sentence_vectors,
            "history_vectors": [None] * (len(history) - len(earlier)) + earlier,
            "conversation_vector": vectors[-1] if joined else None}


def asks(text: str) -> bool:
    """Whether a sentence of `text` asks something (the lexicon's cue.asks, on the normalised text)."""
    normalised = normalise(text)
    asking = load_rules().cues["asks"]
    return any(asking.search(normalised[start:end].strip())
               for start, end in sentence_spans(normalised) or [(0, len(normalised))])


def _cleared(screen: Screen | None, text: str, history: Sequence[str]) -> bool:
    """Whether `screen` lets the rules alone read `text` after `history`: the message asks something (a
    disclosure is always read by the safety model) and the screen hears no risk in any of the texts the
    safety model would read (turn_texts)."""
    return screen is not None and asks(text) and screen.clears(turn_texts(text, history))


def read_turn(embed, text: str, history: Sequence[str] = (), screen: Screen | None = None) -> dict[str, object]:
    """What `assess` is given for `text` after `history` beside the backstop: every vector `embed_turn` makes
    with the safety model's `embed`, or, when `screen` (backstop.Screen) clears the turn (`_cleared`: a
    question it hears no risk in), none of them (``{"screened": True}``: the rules alone read the turn)."""
    history = tuple(history)
    if _cleared(screen, text, history):
        return {"screened": True}
    return embed_turn(embed, text, history)


def _beforehand(embed, texts: Sequence[str], progress: Callable[[int, int], None] | None = None):
    """`embed` (a function from a list of texts to their vectors) with `texts` embedded now, each distinct one
    once, in its batches (`progress` follows them): what it is asked later comes from them, the rest from `embed`."""
    wanted = list(dict.fromkeys(texts))
    if not wanted:
        return embed
    known = dict(zip(wanted, embed(wanted, progress) if progress is not None else embed(wanted)))

    def lookup(pieces: Sequence[str]) -> np.ndarray:
        missing = [piece for piece in dict.fromkeys(pieces) if piece not in known]
        if missing:
            known.update(zip(missing, embed(missing)))
        return np.stack([known[piece] for piece in pieces])

    return lookup


def semantic_assessor(embedder, turns: Iterable[tuple[str, Sequence[str]]] = (),
                      progress: Callable[[int, int], None] | None = None, screen: Screen | None = None):
    """`assess(text, history=())` with the semantic backstop of `embedder`'s model (see
    `load_safety_embedder`), every vector it can use made by one call per message (`embed_turn`).

    `turns`, pairs of (text, history) about to be judged (a whole evaluation set), have their vectors made
    beforehand in the embedder's batches, each distinct text once (`progress(done, total)` follows them):
    several times faster than a call per message, with the judgements unchanged. The judge's own timing
    then leaves the model out. With `screen` (backstop.Screen), the screen's vectors are made beforehand
    too, and the safety model's only for the turns the screen does not clear (`read_turn`)."""
    backstop = backstop_for(embedder)
    turns = [(text, tuple(history)) for text, history in turns]
    if screen is not None and turns:
        screen = screen.reading(_beforehand(screen.embed, [piece for text, history in turns if asks(text)
                                                           for piece in turn_texts(text, history)]))
        turns = [(text, history) for text, history in turns if not _cleared(screen, text, history)]
    embed = _beforehand(embedder.embed, [piece for text, history in turns for piece in turn_texts(text, history)],
                        progress)

    def judge(text: str, history: Sequence[str] = ()) -> Assessment:
        return assess(text, history, backstop=backstop, **read_turn(embed, text, history, screen))

    return judge


def embed_for_backstop(embedder, text: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """The message's vector and, for a message of several sentences, each sentence's vector, from one
    call to `embedder` (one batch), for `assess(vector=, sentence_vectors=)`."""
    return embed_history(embedder.embed, [text])[0]


_STEP_DOWN = {"crisis": "concern", "concern": "none"}


def _noise(text: str) -> bool:
    """Whether what the model makes of `text` is no evidence of risk: a message in one of the five languages
    with none of its words of risk (`languages.without_risk_words`) whose gloss is too patchy to read as
    English (`gloss.reads_well`)."""
    return without_risk_words(text) and not reads_well(text)


def _idiom_only(reading: Reading) -> bool:
    """True when the rules read a message's risky words as an idiom and nothing else ("ended it with him
    tonight", "goodbye cards on my last day")."""
    return reading.level == "none" and not (reading.signs or reading.distress or reading.self_risk) and any(
        rule_id.startswith("idiom.") for rule_id in reading.rule_ids)


def _has_idiom(sentence: str, lang: str | None = None) -> bool:
    """Whether the rules read an idiom in `sentence` (read on its own), or in its English gloss when it is in
    `lang`, one of the five languages ("Mi jefe me va a matar si falto otra vez": "my boss is going to kill
    me if I miss again")."""
    glossed = gloss(sentence, lang) if lang is not None else None
    return any(rule_id.startswith("idiom.") for text in (sentence, glossed) if text
               for rule_id in read_message(text).rule_ids)


def _judge(backstop: Backstop, reading: Reading, text: str, vector, sentence_vectors=()):
    """The backstop's verdict on a message. When the rules read its risky words as an idiom and nothing
    else ("Do I hang my coat in the ECT room?", "Ich sterbe vor Hunger, darf ich vor der EKT nichts
    frühstücken?"), nearness in meaning is the idiom's: only its sentences without an idiom are heard,
    and one step less ("Dead on my feet after ECT session 3. Is a long nap normal?"). A message in another
    language with none of its words of death, means, farewells or despair is heard as a concern at most
    (`languages.without_risk_words`: the bundled model is English, and its sense of "Je suis interne en
    psychiatrie" is noise)."""
    lang = language_of(text) if reading.level == "none" else None
    # ... unless the writer says the idiom is not meant as one ("everyone keeps telling me to hang in there. thats
    # pretty much the plan, just not how they mean it"): then its sentences are heard as said.
    idiom_only = _idiom_only(reading) or (lang is not None and _idiom_only(read_message(gloss(text, lang) or "")))
    if reading.not_a_joke or not idiom_only:
        verdict = backstop.judge_message(vector, sentence_vectors)
    else:
        spans = sentence_spans(text)
        kept = [v if v is not None and not _has_idiom(text[start:end], lang) else None
                for (start, end), v in zip(spans, sentence_vectors)]
        verdict = backstop.judge_message(None, kept)
        verdict = replace(verdict, level=_STEP_DOWN.get(verdict.level, verdict.level))
    if verdict.level == "crisis" and _noise(text):
        verdict = replace(verdict, level="concern")
    return verdict


def _redates(reading: Reading) -> bool:
    """True when a message takes earlier words back by dating them to the writer's past ("that's how I felt
    last winter before ECT. I don't feel that way now"), not by calling them a joke, a film's or someone
    else's."""
    return reading.safe_now and reading.long_ago and not (reading.reframed or reading.reattributed)


def _takes_back(readings: Sequence[Reading], n: int) -> bool:
    """Whether the n-th earlier message took back the writer's risk told just before it ("sorry should explain,
    its the TMS intake form, one of the questions. im not, im fine"), as `assess` reads such a message: safe
    now, after words that put the writer at risk, and neither someone else's nor dated to the writer's past; or
    says the words before it were not meant at all ("lol not literally, just mortified"), whatever they told."""
    reading = readings[n]
    if _retracted(reading):
        return True
    return reading.safe_now and not reading.reattributed and not _redates(reading) and not reading.findings \
        and any(r.writer_at_risk for r in readings[max(0, n - FOLLOW_UP):n])


# Attempts by something swallowed: what was taken goes on acting after the writer says they are ok.
_TAKEN_IN = frozenset({"attempt.took_pills", "attempt.overdose", "attempt.an_overdose"})


def _attempt_not_undone(reading: Reading, before: Sequence[Reading], told: Sequence[str]) -> bool:
    """Whether `reading` says the writer is all right after an attempt told just before it (`before`, the
    readings of the messages `told`), as happening now, without taking the attempt back: "i took all my
    sertraline ... about an hour ago" ... "im ok ish, bit dozy" is not safe. Being ok now undoes a wish or a
    plan; an overdose just taken (`_TAKEN_IN`, told with a time that places it now) goes on acting. "i
    overdosed once" ... "im safe now" is a past, and is undone."""
    return reading.safe_now and not reading.retracts and not reading.reframed and any(
        f.rule_id in _TAKEN_IN and f.level == "crisis" and told_as_recent(message)
        for r, message in zip(before, told) if not r.long_ago for f in r.findings)


def _preparation_not_undone(reading: Reading, text: str, before: Sequence[Reading], told: Sequence[str]) -> bool:
    """Whether `reading` (of `text`) laughs off means readied and told as now just before it ("got all my pills
    counted out on the workbench rn" ... "lol jk jk im fine"): an act done is not undone by calling it a joke, as
    words are. Said to be someone else's, a film's, of the past, or something else ("i mean my weekly meds in the
    dosette box"), or told in a story ("My character says 'I've counted out the pills, tonight's the night.'"), it is."""
    return reading.safe_now and called_a_joke(text) and not (
        reading.reframed or reading.reattributed or reading.long_ago or told_as_fiction(text)) and any(
        f.item == "cssrs.preparation" and f.level == "crisis" and told_as_recent(message)
        for r, message in zip(before, told) if not (r.long_ago or told_as_fiction(message)) for f in r.findings)


def _retracted(reading: Reading) -> bool:
    """Whether a message takes the words before it back as never meant ("lol not literally, just mortified") and
    says nothing at risk itself."""
    return reading.retracts and not reading.findings


def _given_away(reading: Reading, earlier: Reading) -> bool:
    """Whether `reading` gives the risk of an `earlier` message to someone else: the writer's own, or words of
    risk put as "you" ("what do you do when you just want it all to be over" ... "its not me, its a girl on my
    course")."""
    return reading.reattributed and (earlier.writer_at_risk or any(
        f.decision == "clinical.generic_you" for f in earlier.findings))


def _carries_as(reading: Reading) -> str:
    """The level an earlier message passes to a follow-up (capped at concern by the caller): someone lost
    to suicide carries as the concern it was told as ("lost my brother to suicide last yr" ... "he'd only had 4
    sessions"); risk the backstop heard of someone else carries as a concern, and so does the writer's own it heard
    once the writer dates it to the past ("used to think bout drivin off the ridge road" ... "that passed, got help,
    been fine a long time" ... "now im 68 and the low mood is back")."""
    return "concern" if reading.semantic_other or reading.semantic_risk else reading.level


def _heard(reading: Reading, message: str, vectors, backstop: Backstop, vouched: bool = False) -> Reading:
    """An earlier message's Reading with what the backstop hears in it. Risk in the writer's voice that the
    rules missed ("most days I figure the guys who didn't come home got the better deal") gives context to
    what follows, as a crisis finding would; nearness to concern counts as hopelessness. A message the rules
    read at any level (clinical, someone else's or past risk, a crisis), or taken back, is left as it is.
    Risk heard in a message about someone else (not in the writer's voice) is theirs: it carries to the next
    message as someone else's risk told by the rules would. A message that may be either's ("mom found
    weeks of his heart pills hidden in the garage": a third person and no "I") counts as both.
    `vectors`: the message's vector, or the pair `embed_history` gives (its vector and its sentences'), or
    None. A sentence heard alone is read in the voice of that sentence ("My brother texted me. He says he
    has everything ready for tonight." is his). `vouched`: the message after this one says it was no joke, or
    only partly one ("some days i just wanna point the skis off the ridge and not turn" ... "lol jk. mostly").
    """
    vector, sentences = vectors if isinstance(vectors, tuple) else (vectors, ())
    if vector is None or reading.level != "none" or reading.safe_now:
        return reading
    verdict = _judge(backstop, reading, message, vector, sentences)
    if verdict.level == "none":
        return reading
    spans = sentence_spans(message) if verdict.sentence >= 0 else []
    judged = message[slice(*spans[verdict.sentence])] if verdict.sentence < len(spans) and spans else message
    in_voice = in_writers_voice(judged, message)
    other = tells_of_someone_else(message, in_voice)
    if not in_voice:
        return replace(reading, semantic_other=True) if other else reading
    # Risk in the writer's own voice makes the next messages a crisis: it must be heard at the stricter
    # threshold of earlier messages (`for_history`); someone else's, which keeps them a concern, need not. Nor
    # need words the writer says are theirs, or no joke ("started keeping a list of the ones that sounded
    # painless. for me not for work"): they already say what the stricter threshold asks for.
    strict = backstop if reading.for_me or reading.not_a_joke or vouched else getattr(backstop, "for_history", backstop)
    level = verdict.level if strict is backstop else _judge(strict, reading, message, vector, sentences).level
    if level == "none":
        return replace(reading, semantic_other=True) if other else reading
    # In the writer's voice but naming someone else with no "I" ("wife would be better off. tired of being a
    # burden", "mom found weeks of his pills hidden"): it may be either's, so it counts as both.
    heard = replace(reading, semantic_risk=True) if level == "crisis" else replace(reading, distress=True)
    return replace(heard, semantic_other=True) if other else heard


_THEIR_RISK = frozenset({"concern.third_person", "concern.reported_speech", "concern.third_person_in_context"})


def _theirs_if_following(heard: Reading, ruled: Reading, before: Sequence[Reading]) -> Reading:
    """What the backstop heard in an earlier message (`heard`; `ruled` is the rules' reading of it) goes on
    with someone else's risk told just before (`before`), unless the writer's own risk is read in it: "regular
    at the bar told me tonight hes going to jump off the multistorey" ... "told security and they just laughed
    it off", or "Mein Mann ... sagt, dass er nicht mehr leben will" ... "Gestern hat er seine ganzen Werkzeuge
    dem Nachbarn geschenkt. Ich hab Angst": the writer's voice tells of his risk and their own fear. The
    other's risk must be one the rules read; risk or hopelessness the rules read as the writer's, a first-person
    sign, "asking for me", or words heard as may-be-either's keep it the writer's ("O meu marido tem Alzheimer"
    ... "já não aguento. tenho pensado em tomar os comprimidos dele todos de uma vez e acabar com isto")."""
    if not (heard.semantic_risk or heard.distress) or heard.semantic_other or ruled.self_risk or ruled.distress \
            or ruled.signs or ruled.for_me or ruled.own_words:
        return heard  # heard as may-be-either's ("counts as both"), or with the writer's own risk read in it
    if not any(f.decision in _THEIR_RISK for r in before for f in r.findings):
        return heard  # someone else's risk must have been read by the rules, not only heard
    return replace(heard, semantic_risk=False, distress=False, semantic_other=True)


def _revealed(readings: Sequence[Reading], texts: Sequence[str] | None = None) -> list[Reading]:
    """Earlier readings with what a later message says of the one or two before it. "ok the friend is me",
    after means or risk told of a friend, makes that risk the writer's (it then carries as their own); "that's
    what my patient wrote in her sleep diary", after the writer's own words of risk, makes it that person's
    (it then carries as a concern, and the writer's own no longer does: cue.reattributed is a safe_now). With
    the messages' `texts`, "im ok ish" after an overdose just taken is not safe (`_attempt_not_undone`)."""
    out = list(readings)
    for n, reading in enumerate(out):
        before = out[max(0, n - FOLLOW_UP):n]
        if texts is not None and _attempt_not_undone(reading, before, texts[max(0, n - FOLLOW_UP):n]):
            out[n] = reading = replace(reading, safe_now=False)
        if reading.self_risk and not reading.writer_at_risk and not reading.safe_now and any(
                r.signs or r.means_named for r in before) and not reading.long_ago:
            # Risk told after a sign, as `assess` reads it then ("took tonight's tramadol and tomorrow's together"
            # ... "on purpose. i wanted it all to stop"): the writer's now, for the messages after it too.
            out[n] = reading = replace(reading, semantic_risk=True)
        if reading.for_me and not reading.writer_at_risk and any(
                r.means_talk or r.means_named or r.semantic_other or r.level == "concern" for r in before):
            out[n] = replace(reading, semantic_risk=True)
        elif reading.reattributed and any(_given_away(reading, r) for r in before):
            out[n] = replace(reading, semantic_other=True)
        elif any(f.decision == "concern.reported_speech" for f in reading.findings) and (
                reading.own_words or any(r.own_words for r in before[-1:])):
            # "someone screenshotted what i said in the gc" ... "it said 'gonna unalive myself before monday'":
            # the words reported are the writer's own.
            out[n] = replace(reading, semantic_risk=True)
    return out


def _topic_in_view(earlier: Sequence[Reading]) -> bool:
    """Whether a clinical topic in the last message, or in the one before it with the last going on with it (no
    finding, no turn to something else, no close or acknowledgement), is still in view."""
    for n, reading in enumerate(reversed(earlier[-FOLLOW_UP:])):
        if reading.closes:
            return False
        if reading.level == "clinical":
            return True
        if n or reading.level != "none" or reading.new_subject or reading.acknowledges:
            return False
    return False


def _since_safe(readings: Sequence[Reading]) -> Sequence[Reading]:
    """The readings after the last one in which the writer said they are safe or took it back ("omg not
    like that 😂 … im fine, genuinely"): risk before it no longer makes talk of means a crisis."""
    last = max((n for n, r in enumerate(readings) if r.safe_now), default=-1)
    return readings[last + 1:]


def _since_turned(readings: Sequence[Reading]) -> Sequence[Reading]:
    """The readings after the last one that closes ("thanks, that helps"), says the writer is safe or takes
    earlier words back ("im not, never have been"), or turns to something else ("totally different question
    tho"): what was told before it is no longer in view."""
    # A past told with "im ok now" in the same message stays in view: being safe now is said of the present.
    # So does one told just before ("used to think about dying every day" ... "not anymore, im ok now"): only
    # taking the words back ("lol not literally", "its a song") closes it.
    def past(r: Reading) -> bool:
        return any(f.decision == "concern.past_self" for f in r.findings)

    def turns(n: int, r: Reading) -> bool:
        if r.closes or (r.new_subject and not r.findings):
            return True
        if not r.safe_now or past(r):
            return False
        return r.retracts or r.reframed or r.reattributed or not any(past(e) for e in readings[:n])

    last = max((n for n, r in enumerate(readings) if turns(n, r)), default=-1)
    return readings[last + 1:]


def _crisis_in_own_words(text: str, sentence_vectors, judged: int | None, backstop: Backstop) -> bool:
    """Whether a sentence of `text` that speaks of the writer and does not open with someone else is itself
    heard as a crisis ("she'll figure it out. after friday nobody will need to drive me anywhere again":
    the first sentence is hers, the second the writer's). `judged` is the sentence the crisis verdict came
    from (-1: the whole message; None: each sentence is heard afresh)."""
    for n, sentence, vector in _sentences_heard(text, sentence_vectors):
        # ... or tells of an act with the writer left out, in a message that names no one else ("the one thing i was
        # ever good at is gone. bought a shotgun tuesday.")
        own = speaks_of_self(sentence) or (speaks_without_subject(sentence) and not names_someone_else(text))
        if not own or asks_whom_to_tell(sentence):
            continue  # "im just a porter, who do i tell??" after what a patient said asks how to help them
        if n == judged or backstop.judge(vector, several=False).level == "crisis":
            return True
    return False


def _topic_only(reading: Reading) -> bool:
    """Whether the rules read risk words as a clinical topic and as nothing else: no denial, no one else's risk, no
    words taken back."""
    return reading.level == "clinical" and all(f.decision == "clinical.topic" for f in reading.findings) and not (
        reading.safe_now or reading.denies_now or reading.reframed or reading.reattributed or reading.retracts)


def _told_of_self(text: str) -> bool:
    """Whether a sentence of `text` speaks of the writer (`speaks_of_self`): "the suicide clause on my life insurance
    ran out last month", though the message opens with someone else ("my wife doesnt know ...")."""
    spans = sentence_spans(text)
    return any(speaks_of_self(text[start:end]) for start, end in spans) if spans else speaks_of_self(text)


def _sentences_heard(text: str, sentence_vectors):
    """(n, sentence, vector) for each sentence of `text` with a vector (`sentence_vectors` follows sentence_spans)."""
    for n, (start, end) in enumerate(sentence_spans(text)):
        vector = sentence_vectors[n] if n < len(sentence_vectors) else None
        if vector is not None:
            yield n, text[start:end], vector


def _crisis_beside_question(text: str, sentence_vectors, backstop: Backstop) -> bool:
    """Whether a sentence of `text` in which the rules read nothing, in the writer's voice and naming no one else nor
    any means, is heard alone as a crisis ("just want the pain to stop, all of it, for good."): the writer's state,
    not more of the means ("theres a massive bottle behind the bar and idk if i should lock it up")."""
    for _n, sentence, vector in _sentences_heard(text, sentence_vectors):
        reading = read_message(sentence)
        if reading.level != "none" or reading.means_named or not in_writers_voice(sentence, sentence) \
                or names_someone_else(sentence):
            continue
        if backstop.judge(vector, several=False).level == "crisis":
            return True
    return False


def _heard_together(text: str, history: Sequence[str], reading: Reading, earlier: Sequence[Reading],
                    vector: np.ndarray, backstop: Backstop,
                    own_vector: np.ndarray | None = None) -> tuple[str, tuple[str, ...]] | None:
    """The level and rule ids the backstop hears in the last messages joined (`conversation_text`), when
    the rules read nothing in any of them: not a topic, a denial, an idiom, or anything taken back (where
    nearness in meaning is the words', not the writer's). Fragments that each say little ("I've asked my
    sister to take them from Friday" ... "should I reschedule the consult or just not show?") can say it
    together. In no one's voice or in someone else's, it is a concern. So is a crisis the current message
    (`own_vector`) carries no part of, unless it says the earlier words were about the writer or no joke: an
    ordinary question after uneasy words ("terrified ill get hooked" ... "how many sessions" ... "and do they
    taper you off or just stop") is near a crisis only as the earlier words are. A concern heard together is a
    crisis when the current message says the words were the writer's (`for_me`)."""
    if any(r.level != "none" or r.safe_now or any(i.startswith("idiom.") for i in r.rule_ids)
           for r in (*earlier, reading)):
        return None
    verdict = backstop.judge_message(vector, several=True)  # the messages joined
    if verdict.level == "none":
        return None
    joined = conversation_text(text, history)
    # Fragments in one of the five languages need a word of risk among them, however well they gloss: two
    # questions about fasting after an earlier message were heard together as a crisis without one. A crisis
    # heard together must be heard at the stricter threshold of earlier messages too (`for_history`): "refill
    # early" ... "going to Portugal on the 12th" ... "the travel letter" is near a plan; below it, a concern.
    level = verdict.level if in_writers_voice(joined, joined) and not without_risk_words(joined) else "concern"
    strict = getattr(backstop, "for_history", backstop)
    if level == "crisis" and strict is not backstop and strict.judge_message(vector, several=True).level != "crisis":
        level = "concern"
    if level == "crisis" and own_vector is not None and not (reading.for_me or reading.not_a_joke) \
            and not _carries_part(backstop, own_vector):
        level = "concern"
    if level == "concern" and reading.for_me and not without_risk_words(joined):
        # The writer says what was heard as risk is theirs ("if someone fell off the back step of a refuse
        # truck would that do it" ... "not for a story or owt. me"), as `for_me` does after means named.
        level = "crisis"
    return level, tuple(verdict.rule_ids)


def _in_conversation(backstop):
    """The backstop the earlier messages and the messages joined are heard with: `Backstop.in_conversation` when a
    conversation head ships, else `backstop` itself (whatever stands in for one)."""
    return backstop.in_conversation if getattr(backstop, "conversation_head", None) is not None else backstop


def _carries_part(backstop: Backstop, vector: np.ndarray) -> bool:
    """Whether a message's own vector carries some risk: the head gives it at least its `own_share_p`, or
    `OWN_SHARE_P` for a head without one (without a head, the backstop hears it as a risk)."""
    head = getattr(backstop, "head", None)
    if head is None:
        return backstop.judge_message(vector, several=False).level != "none"
    p = head.probs(vector)
    own = getattr(head, "own_share_p", None)
    return float(p[1] + p[2]) >= (own if own is not None else OWN_SHARE_P)


def _crisis_in_turn(window: Sequence[str], earlier: Sequence[Reading]) -> bool:
    """True when one of the last `FOLLOW_UP` earlier messages was a crisis of the writer's own read in the
    conversation before it, though not alone, and no message since says they are safe: "not suicidal or anything
    just wondering about ketamine" ... "ok thats a lie sorry. theres a rope in the pool plant room and ive been
    thinking about it every shift" ... "anyway how many sessions do people usually need". (Rules only: risk the
    backstop heard in an earlier message counts through `_heard`.)"""
    for n in range(max(0, len(window) - FOLLOW_UP), len(window)):
        # Only the writer's own words, with no one else named and no hypothetical: a crisis read in someone else's
        # message ("found notes in his room saying goodbye to his mates") is theirs, and keeps a concern.
        if earlier[n].writer_at_risk or any(r.safe_now for r in earlier[n + 1:]) or not speaks_of_self(window[n]) \
                or names_someone_else(window[n]) or any(f.decision.startswith("concern.") for f in earlier[n].findings):
            continue
        before = assess(window[n], window[:n], carry=False)  # no backstop: a rule's crisis, with its decision
        if before.level == "crisis" and any(rule_id.startswith("crisis.") for rule_id in before.rule_ids):
            return True
    return False


def assess(text: str, history: Sequence[str] = (), region: str | None = None, *,
           vector: np.ndarray | None = None, backstop: Backstop | None = None,
           sentence_vectors: Sequence[np.ndarray | None] = (),
           history_vectors: Sequence = (), conversation_vector: np.ndarray | None = None,
           screened: bool = False, carry: bool = True) -> Assessment:
    """Return the safety Assessment of `text`, the user's current message.

    `history` holds the earlier user messages, oldest first; the last `HISTORY_WINDOW` of them decide
    `history_level` and `show_resources`, and give context to signs (see the module docstring).
    `region` picks the resources (default: $IPCHAT_REGION, else US). With `vector` (the message's
    embedding) and `backstop`, the semantic backstop may raise the level; it never lowers it.
    `sentence_vectors` (for backstop.sentence_spans(text), see embed_for_backstop) let it judge each
    sentence of a long message too. `history_vectors` (one per earlier message: its vector, or the pair
    `embed_history` gives with its sentences' vectors, or None where unknown) let it hear risk in the
    earlier messages that the rules missed: that gives context to this one, as a rule's finding there
    would (see `_heard`). `conversation_vector` (the vector of `conversation_text(text, history)`) lets it
    hear the last messages together when the rules read nothing in any of them and nothing was raised
    (see `_heard_together`). `embed_turn` makes all of these in one model call. `screened` (see
    `read_turn`) records that the screen heard no risk in the turn, so no vector was made: the rules read it.
    With `carry` (the default) an earlier message the rules judged a crisis only in the conversation before it
    stays open as one said outright does (see `_crisis_in_turn`).

    Raises InputError if `text` is not a string or is longer than `MAX_TEXT_CHARS`, if `history` is not
    a sequence of strings, or if `history_vectors` is given and does not match it in length; IpchatError if the region is unknown; ValueError if
    `vector` does not fit the backstop's model.
    """
    started = time.perf_counter()
    if not isinstance(text, str):
        raise InputError(f"The message must be text, not {type(text).__name__}.")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"The message is {len(text)} characters long; the limit is {MAX_TEXT_CHARS}.")
    if isinstance(history, (str, bytes)) or not all(isinstance(item, str) for item in history):
        raise InputError("history must be a sequence of earlier messages, each a string.")
    code = _resolve_region(region)

    if history_vectors and len(history_vectors) != len(history):
        raise InputError(f"history_vectors must hold one vector (or None) per earlier message: "
                         f"{len(history_vectors)} for {len(history)} messages.")
    window = tuple(history)[-HISTORY_WINDOW:]
    earlier = [read_message(message[-MAX_TEXT_CHARS:]) for message in window]
    if history_vectors and backstop is not None:
        heard: list[Reading] = []
        # Each earlier message is vouched for by the one after it saying it was no joke ("lol jk. mostly").
        vouched = [r.not_a_joke for r in earlier[1:]] + [read_message(text).not_a_joke]
        for reading, message, vec, after in zip(earlier, window, tuple(history_vectors)[-len(window):], vouched):
            heard.append(_theirs_if_following(_heard(reading, message, vec, _in_conversation(backstop), after),
                                              reading, heard[-FOLLOW_UP:]))
        earlier = heard
    earlier = _revealed(earlier, window)
    # Someone else's loss told a message or two before gives their sign now its context (a concern).
    reading = read_message(text, context=any(r.gives_context for r in earlier),
                           others_context=any(r.loss_told for r in earlier[-FOLLOW_UP:]))
    if _attempt_not_undone(reading, earlier[-FOLLOW_UP:], window[-FOLLOW_UP:]) or _preparation_not_undone(
            reading, text, earlier[-FOLLOW_UP:], window[-FOLLOW_UP:]):
        reading = replace(reading, safe_now=False, retracts=False)
    level, rule_ids = reading.level, list(reading.rule_ids)
    # After a sign earlier on ("I bought a rope"), risk or hopelessness now makes it a crisis, and so does a sign now
    # after means named in the writer's voice ("... mixed with a lot of alcohol and my dads zopiclone" ... "i just
    # want it to be enough this time"; not "last night he was cleaning his gun"); after the writer said they are at
    # risk, talk of means, places, times or amounts does too ("which pharmacies are open after 10pm?").
    # Risk the writer tells only of a past long gone ("does my past attempt change anything") is not risk now; told
    # of last night, or as going on since something, it still is.
    own_now = reading.self_risk and not (reading.long_ago and reading.findings and all(
        f.decision == "concern.past_self" for f in reading.findings))
    if level != "crisis" and (own_now or reading.distress or reading.signs) and not (
            reading.safe_now and not (reading.self_risk or reading.distress)) and any(
            r.signs or (r.means_named and (own_now or reading.distress or (
                reading.signs and in_writers_voice(told, told)))) for r, told in zip(earlier, window)):
        level = "crisis"
        rule_ids += ["context.earlier_sign", "crisis.in_conversation"]
    elif level != "crisis" and reading.means_talk and not reading.safe_now and any(
            r.writer_at_risk or r.distress for r in _since_safe(earlier[-FOLLOW_UP:])):
        level = "crisis"
        rule_ids += ["context.means_after_risk", "crisis.in_conversation"]
    elif level != "crisis" and (any(r.writer_at_risk for r in earlier[-FOLLOW_UP:]) or (
            any(r.signs for r in earlier[-FOLLOW_UP:]) and any(r.distress or r.self_risk for r in earlier))
            or carry and _crisis_in_turn(window, earlier)) \
            and not reading.safe_now and not any(r.safe_now and not r.writer_at_risk for r in earlier[-FOLLOW_UP:][1:]):
        # The writer said they are at risk a message or two ago (or a sign then and hopelessness before) and
        # has not said they are safe since: they still are ("I'm going to end it tonight" ... "does the
        # Walgreens on Main close at 10?"). A message that takes words back and then states risk ("ha not
        # literally... well. some days i sit in the car and think about the hose pipe and the exhaust") has not
        # said so.
        level = "crisis"
        rule_ids += ["context.risk_still_open", "crisis.in_conversation"]
    if level != "crisis" and reading.not_a_joke and any(
            r.means_named or r.findings or any(i.startswith("idiom.") for i in r.rule_ids) for r in earlier[-FOLLOW_UP:]):
        # "I just want to jump off the balcony after this week 😅" ... "honestly that wasn't only a joke".
        level = "crisis"
        rule_ids += ["context.not_a_joke", "crisis.in_conversation"]
    if level != "crisis" and reading.screen_yes and not (reading.long_ago or reading.safe_now) and any(
            rule_id.startswith(("ideation.", "cssrs.", "topic.suicide")) for r in earlier[-FOLLOW_UP:] for rule_id in r.rule_ids):
        # "q7 is 'thoughts of ending your life in the past month'" ... "cause I'd be ticking yes on both. this week".
        level = "crisis"
        rule_ids += ["context.screen_answered_yes", "cssrs.active_thoughts", "crisis.in_conversation"]
    if level != "crisis" and reading.for_me and any(r.means_talk or r.means_named or r.semantic_other
                                                    for r in earlier[-FOLLOW_UP:]):
        # "if someone took a lot of it with alcohol what happens" ... "asking for me btw": the means were theirs;
        # so too risk the backstop heard told of someone ("if someone fell off the back step of a refuse truck
        # would that do it" ... "not for a story. me").
        level = "crisis"
        rule_ids += ["context.for_me_after_means", "crisis.in_conversation"]
    if level != "crisis" and any(f.decision == "concern.generic_means" for f in reading.findings) \
            and measured_before(text, window[-FOLLOW_UP:]):
        # "is ketamine dose done by weight? im about 58kg" ... "how much would it take to stop someone that size
        # breathing": the size asked of is the one the writer gave of themselves.
        level = "crisis"
        rule_ids += ["context.own_measure_earlier", "crisis.in_conversation"]
    # Taking back earlier risk ("joking obviously, I'm safe") keeps the topic: clinical, with the footer.
    # Words said to be someone else's ("that's what my patient wrote") are their risk: a concern.
    # Words dated to the writer's past ("that's how I felt last winter, I don't feel that way now") are their past:
    # a concern, in this message and the next ones.
    # ... and so are risk words put as "you" ("what do you do when you just want it all to be over"), once given to
    # someone else ("sorry that came out wrong, its not me, its a girl on my course").
    if reading.safe_now and RANK[level] < RANK["clinical"] and any(
            r.writer_at_risk or _given_away(reading, r) for r in earlier[-FOLLOW_UP:]):
        if reading.reattributed:
            level, rule_ids = "concern", rule_ids + ["context.reattributed", "concern.follow_up"]
        elif _redates(reading):
            level, rule_ids = "concern", rule_ids + ["context.redated", "concern.past_self"]
        elif reading.reframed and not reading.findings:
            # "lol its a song, this cab radio only gets one station. how long do ketamine infusions take":
            # the earlier words were never anyone's risk, so no topic of it is kept.
            rule_ids = rule_ids + ["context.reframed"]
        else:
            level, rule_ids = "clinical", rule_ids + ["context.taken_back", "clinical.follow_up"]
    # A follow-up that refers back ("what's the plan for her TMS now?") keeps the concern or the clinical
    # topic of the message it follows.
    # ... unless it takes the earlier words back ("to be clear, I'm not suicidal").
    denied = any(f.decision == "clinical.negated" for f in reading.findings)
    # Someone else's risk told in the message before, or the one before that, stays in view, even without
    # a word that refers back ("my patient told me she has a plan for the weekend" ... "how fast can urgent
    # ECT be arranged?"; "found cuts on my daughter's thighs" ... "she's 16" ... "is TMS approved for
    # teenagers?"), unless the message between closes it ("thanks, that helps", "he's himself again").
    # The writer's own past told in the message before or the one before that stays in view ("ten years ago I
    # overdosed after a tour" ... "my psychiatrist suggested maintenance ECT" ... "how often are the
    # sessions?"), unless a message since turns to something else ("totally different question tho"), closes
    # or says they are safe; "what if I ever ..." stays in view for the next message only.
    in_view = earlier[-1:] if len(earlier) < 2 or earlier[-1].closes else earlier[-FOLLOW_UP:]
    others = earlier and any(r.semantic_other or any(
        f.level == "concern" and f.item != "bereavement" and f.decision not in ("concern.past_self", "concern.hypothetical_self")
        for f in r.findings) for r in in_view)
    recent = earlier[-FOLLOW_UP:]
    # ... unless this message takes it back as never meant ("literally wanted to die when the coach broke down"
    # ... "lol not literally, just mortified").
    own_past = bool(earlier) and not (reading.new_subject and not reading.findings) and not reading.closes \
        and not _retracted(reading) and (
        any(f.decision in ("concern.past_self", "concern.hypothetical_self") for f in earlier[-1].findings)
        or any(f.decision == "concern.past_self" for r in _since_turned(recent) for f in r.findings)
        # ... and the writer's own "what if I ever" (not a question put to them) stays in view past a message that
        # tells nothing new of risk and neither closes nor turns away ("im ok now, my nurse said to have a plan just
        # in case" ... "is there a number for that sort of thing").
        or len(recent) > 1 and any(f.decision == "concern.hypothetical_self" for f in recent[-2].findings)
        and not put_to_writer(window[-2]) and not recent[-1].findings
        and not (recent[-1].closes or recent[-1].retracts or recent[-1].new_subject)
        or any(_redates(r) and any(e.writer_at_risk for e in recent[:n]) for n, r in enumerate(recent)))
    # ... and a past the writer dated in the message just before ("that came out wrong, i mean back in 2019")
    # stays in view for the next message, even one that moves on ("anyway is there an age limit for ect").
    own_past = own_past or (len(recent) > 1 and _redates(recent[-1]) and not reading.closes
                            and any(e.writer_at_risk or e.self_risk for e in recent[:-1]))
    # ... and a question about means asked of people in general, once the writer says it was not about them
    # ("how would someone die from a ketamine overdose" ... "I'm writing a novel, not about me at all").
    # ... nor a question put to the writer ("asked if I've had thoughts of ...") once they say they are safe
    # ("I haven't, never have, I'm safe. what else do they screen for?"); their own past still does.
    # The writer's own "if I ever start feeling like I can't go on, who do I ring" ... "not now, im ok" stays a
    # concern: being safe now is what "if I ever" already said.
    only_questions = all(f.decision == "concern.generic_means" or (
        f.decision == "concern.hypothetical_self" and put_to_writer(message))
        for r, message in zip(earlier[-FOLLOW_UP:], window[-FOLLOW_UP:]) for f in r.findings if f.level == "concern") \
        and not any(r.semantic_other for r in earlier[-FOLLOW_UP:])
    # A clinical topic in the message before carries into this one unless it turns to something else,
    # closes or opens by acknowledging the answer ("for my psych 101 paper: does ECT reduce suicide
    # rates?" ... "also is the effect different for adolescents?"): the footer stays beside the answer.
    # Saying the topic is not about the writer ("just reading up, not about me") keeps it a topic.
    # So does one a message before that, when the message between goes on with it ("are ketamine clinics safe for
    # people at high suicide risk" ... "mate in the van reckons they shouldnt give it to them" ... "who's right").
    # The writer asks what to do if it comes to them, after talk of suicidal feelings or risk ("my neuro said TN gets
    # called the suicide disease and to tell her if i ever feel that way" ... "im fine rn but what should i actually do
    # if it happens at 3am"): their own "what if I ever", a concern.
    # The earlier talk must speak of the writer ("if i ever feel that way"), not only of a topic ("does ketamine reduce
    # suicidal thoughts?" ... "what should I do if it happens during the infusion?").
    if RANK[level] < RANK["concern"] and reading.if_it_comes and not (reading.new_subject or reading.closes) and any(
            ("topic.suicide_or_self_harm" in r.rule_ids or any(f.level in RISK_LEVELS for f in r.findings))
            and speaks_of_self(message) for r, message in zip(earlier[-FOLLOW_UP:], window[-FOLLOW_UP:])):
        level = "concern"
        rule_ids += ["context.own_if_back", "concern.hypothetical_self"]
    if level == "none" and _topic_in_view(earlier) and not (
            reading.new_subject or (reading.closes and not reading.reframed) or reading.acknowledges):
        level = "clinical"
        rule_ids += ["context.topic_carried", "clinical.follow_up"]
    # Words about people said to have been about people in general ("how do i get them to stop thinking about killing
    # themselves" ... "sorry, should of said, i mean patients in general") are a topic, not a person's risk: clinical.
    # Not one person's ("my daughter told me she wants to kill herself" ... "is ketamine used for teens? i mean in
    # general").
    if others and reading.generalises and not own_past and all(
            speaks_of_people_only(message) for r, message in zip(in_view, window[-len(in_view):]) if r.findings):
        others = False
        if level == "none":
            level, rule_ids = "clinical", rule_ids + ["context.generalised", "clinical.follow_up"]
    if (reading.refers_back or (others and not reading.safe_now) or own_past) and earlier and RANK[level] < RANK["concern"] and not denied \
            and not (reading.safe_now and only_questions):
        # ... only what was said since the writer said the words were not theirs ("that's the song on the radio"
        # ... "do they play music during ECT?").
        # ... nor what the writer took back since ("its the intake form, one of the questions. im not, im fine").
        offset = len(earlier) - len(earlier[-FOLLOW_UP:])
        last_reframed = max((n for n, r in enumerate(earlier[-FOLLOW_UP:])
                             if r.reframed or _takes_back(earlier, offset + n)), default=-1)
        carried = min(max((_carries_as(r) for r in earlier[-FOLLOW_UP:][last_reframed + 1:]), key=RANK.__getitem__,
                          default="none"), "concern", key=RANK.__getitem__)
        if RANK[carried] > RANK[level]:
            level = carried
            rule_ids += ["context.follow_up", f"{carried}.follow_up"]
    semantic = vector is not None and backstop is not None
    # A message the rules read as a clinical topic or a denial is not raised: there the backstop's
    # sense of meaning ("suicidal thoughts", "overdose") is what the rules already weighed ...
    # ... unless the risk words were read as a topic and nothing else, in a message with a sentence told of the writer,
    # that the head hears as a crisis beyond doubt ("I consent people for ECT for severe suicidality most weeks and
    # lately I've been ticking every box on our own risk tool for myself"): what the message does with the topic is
    # the writer's.
    if semantic and level == "clinical" and _topic_only(reading) and _told_of_self(text) \
            and backstop.certain_crisis(vector):
        level = "crisis"
        rule_ids += ["semantic.head", "crisis.beyond_topic"]
    if semantic and reading.level != "clinical":
        verdict = _judge(backstop, reading, text, vector, sentence_vectors)
        if verdict.level != "none" and reading.signs and level != "crisis" and in_writers_voice(text, text):
            level = "crisis"  # a sign beside what reads as risk
            rule_ids += [*reading.signs, "crisis.in_context"]
        raised = verdict.level
        if raised == "crisis" and (reading.safe_now or reading.denies_now
                                   or (earlier and earlier[-1].safe_now and not reading.findings)):
            # "not talking about me, how long is a session?": near in meaning, not meant; so too in the
            # message after the writer said so ("I said no to all of them" ... "I've finally saved up for
            # the TMS course! what's the plan for the first week?"), and where the writer says they do not feel
            # it now ("not feeling it now just want a plan in case").
            raised = "concern"
        if verdict.level == "concern" and earlier and (earlier[-1].safe_now or earlier[-1].denies_now) and not (
                reading.findings or reading.signs or reading.distress or reading.self_risk):
            # ... and a concern heard in an ordinary follow-up to the writer's word that they are not at risk is not
            # raised at all ("not suicidal or anything lol just nosey" ... "is TMS used for people who are tho?"):
            # after it, what the backstop hears steps down one level.
            raised = "none"
        unclaimed = [f for f in reading.findings if not f.decision.startswith("crisis.")]
        if raised == "crisis" and unclaimed and not (
                all(f.decision == "concern.generic_means" for f in unclaimed)
                and _crisis_beside_question(text, sentence_vectors, backstop)):
            # The rules read the risk words and judged them past, denied, hypothetical or someone else's
            # ("No, I'm not going to hurt myself"): near in meaning is not the same meaning. A means question asked
            # of anyone is the writer's beside a sentence of their own heard as a crisis, as it is beside
            # hopelessness the rules read (`read_message`): "just want the pain to stop, all of it, for good. ...
            # been reading up on how much insulin it takes".
            raised = "concern"
        if raised == "crisis":
            spans = sentence_spans(text) if verdict.sentence >= 0 else []
            judged = text[slice(*spans[verdict.sentence])] if verdict.sentence < len(spans) and spans else text
            if not in_writers_voice(judged, text) and not reading.for_me:
                # meaning without a subject: "my brother keeps saying he'll jump" is his; unless the writer says the
                # someone else is them ("asking for a mate. hes got a day picked ... ok its not a mate")
                raised = "concern"
                if _crisis_in_own_words(text, sentence_vectors, verdict.sentence, backstop):
                    raised = "crisis"
            elif others and not reading.findings and (names_someone_else(judged) or asks_whom_to_tell(judged)) \
                    and not _crisis_in_own_words(text, sentence_vectors, None, backstop):
                # Someone else's risk is in view and the message speaks of them ("He keeps saying he'll take
                # the shotgun down to the river" ... "The gun cabinet key is on his keyring. Who do I ring"), or
                # asks whom to tell ("who do i tell? council or police?"): what is near a crisis is theirs,
                # unless a sentence in the writer's own words is heard as one.
                raised = "concern"
        if RANK[raised] > RANK[level]:
            level = raised
            rule_ids += verdict.rule_ids
    if semantic and level == "none" and conversation_vector is not None and earlier:
        together = _heard_together(text, history, reading, earlier[-FOLLOW_UP:], conversation_vector,
                                   _in_conversation(backstop), vector)
        if together is not None:
            level = together[0]
            rule_ids += ["context.heard_together", *together[1]]
    rule_ids = tuple(dict.fromkeys(rule_ids))
    history_level = max(("crisis" if r.semantic_risk else "concern" if r.semantic_other else r.level for r in earlier),
                        key=RANK.__getitem__,
                        default="none")
    show_resources = level in RISK_LEVELS or history_level in RISK_LEVELS
    session_footer = resources_footer(code) if show_resources and level == "none" else ""

    assessment = Assessment(
        level=level,
        rule_ids=rule_ids,
        message=message_for(level, code),
        show_resources=show_resources,
        history_level=history_level,
        region=code,
        session_footer=session_footer,
        semantic=semantic,
        screened=screened and not semantic,
    )
    # Only the verdict is logged, never the message.
    _log.debug("safety level=%s rules=%s semantic=%s ms=%.3f", level, ",".join(rule_ids) or "-", semantic,
               (time.perf_counter() - started) * 1000)
    return assessment
