"""Rule-based safety layer: every message passes through `assess` before retrieval.

Rules, not a model, so the result is deterministic, auditable and fast. The hard
part is precision in both directions: the corpus itself discusses suicidality
clinically, so firing on the word "suicide" would block the questions clinicians
ask, while a person in crisis rarely uses the textbook words.

Levels, lowest first (`LEVELS`):

* ``none``      nothing related to suicide or self-harm.
* ``clinical``  suicide or self-harm as a clinical or teaching topic, a statement
                about people in general ("patients who want to die"), or a risk
                statement the writer negates ("I'm not suicidal, ..."). Answered
                normally, with a one-line resources footer.
* ``concern``   someone else is at risk, a clinician reports what a patient said,
                the writer mentions a past attempt or past ideation, asks what to do
                "if" they feel that way, or asks generically for lethal amounts or
                methods. The reply starts with guidance and resources.
* ``crisis``    the writer is at risk now: ideation (active or passive), intent,
                plan, preparation, self-harm, an attempt under way, or asking for
                the means to die. The answer is withheld; the reply is the crisis
                message.

How a message is assessed:

1. Normalise: Unicode, case, curly quotes, spaced or starred letters (k.i.l.l,
   k*ll), leetspeak inside words (k1ll, mys3lf) while standalone numbers stay
   numbers (10 kms), runs of repeated letters, slang (wanna, want 2, kms,
   unalive, sewerslide) and contractions with or without apostrophes.
2. Set aside what is only mentioned, not said: "what does kms mean" asks about a
   term, and text in quotation marks is someone else's words.
3. Split into sentences and clauses, and neutralise idioms ("this exam is killing
   me", "kill the process") so the risk rules cannot see them; each idiom that
   fires is reported as ``idiom.*``.
4. Find risk predicates ("want to die", "kill myself", "better off without me",
   "saving up my pills", ...). For each one, walk back from the predicate to find
   who it is about (I, my son, patients, ...), and look between that subject and
   the predicate for negation ("I would never ..."), reported speech (a patient
   who said ...), a hypothetical ("what if I ...") and tense (past vs now).
5. The message level is the most severe finding; a crisis sentence inside a
   clinical question is therefore still a crisis. Mentions of suicide or
   self-harm with no finding make the message ``clinical``.

Every finding contributes two rule ids: the pattern that matched (for example
``ideation.want_to_die``) and the decision taken (for example
``crisis.first_person`` or ``concern.third_person``).

Conversation rule: `assess` also assesses the last `HISTORY_WINDOW` earlier user
messages on their own. `Assessment.history_level` is the most severe level among
them. If that is ``crisis`` or ``concern``, `Assessment.show_resources` is True,
so the resources stay visible for the following turns even when the current
message is harmless; when the current message carries no resources of its own
(level ``none``), `Assessment.session_footer` holds the one-line footer to show.
The current message's own ``level`` and ``message`` are never changed by history.

Privacy: nothing the user typed is logged or stored. The logger
``ipchat.safety`` receives only the level, the rule ids and the elapsed time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Sequence

from ipchat.errors import InputError

from .normalise import normalise
from .resources import _resolve_region, concern_message, crisis_message, message_for, regions, resources_footer
from .rules import LEVELS, RANK, RISK_LEVELS, evaluate

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
]

_log = logging.getLogger("ipchat.safety")

#: How many earlier user messages are looked at for the conversation rule.
HISTORY_WINDOW = 6

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
    """

    level: str
    rule_ids: tuple[str, ...]
    message: str
    show_resources: bool
    history_level: str = "none"
    region: str = "US"
    session_footer: str = ""

    @property
    def resources(self) -> str:
        """Return the resources text to show with this turn: `message` when it has them, else `session_footer`."""
        return self.message if self.level != "none" else self.session_footer

    def to_dict(self) -> dict[str, object]:
        """Return ``{"level", "rule_ids", "message"}``, JSON-ready and free of user text."""
        return {"level": self.level, "rule_ids": list(self.rule_ids), "message": self.message}




def assess(text: str, history: Sequence[str] = (), region: str | None = None) -> Assessment:
    """Return the safety Assessment of `text`, the user's current message.

    `history` holds the earlier user messages, oldest first; the last `HISTORY_WINDOW` of
    them decide `history_level` and `show_resources` (see the module docstring) but never
    the current `level`. `region` picks the resources (default: $IPCHAT_REGION, else US).

    Raises InputError if `text` is not a string or is longer than `MAX_TEXT_CHARS`, or if
    `history` is not a sequence of strings; IpchatError if the region is unknown.
    """
    started = time.perf_counter()
    if not isinstance(text, str):
        raise InputError(f"The message must be text, not {type(text).__name__}.")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"The message is {len(text)} characters long; the limit is {MAX_TEXT_CHARS}.")
    if isinstance(history, (str, bytes)) or not all(isinstance(item, str) for item in history):
        raise InputError("history must be a sequence of earlier messages, each a string.")
    code = _resolve_region(region)

    level, rule_ids = evaluate(text)
    history_level = "none"
    for earlier in tuple(history)[-HISTORY_WINDOW:]:
        earlier_level, _ = evaluate(earlier[-MAX_TEXT_CHARS:])
        if RANK[earlier_level] > RANK[history_level]:
            history_level = earlier_level
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
    )
    # Only the verdict is logged, never the message.
    _log.debug("safety level=%s rules=%s ms=%.3f", level, ",".join(rule_ids) or "-",
               (time.perf_counter() - started) * 1000)
    return assessment
