"""The rules engine of the safety layer: mentions and quotations, idioms, risk patterns, decisions.

The patterns, idioms, word lists and cues are data (ipchat/data/safety/, read by data.py); this
module holds the grammar that decides what a match means: who it is about, whether it is negated,
hypothetical, reported or in the past.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

from .data import (Entry, Lexicon, SafetyDataError, head_index, literal_heads, load_entries, load_lexicon, required_heads,
                   word_heads)
from .languages import dated_aside, fold, is_foreign, load_phrases, read_languages
from .normalise import normalise

#: Levels ordered by severity, lowest first.
LEVELS: tuple[str, ...] = ("none", "clinical", "concern", "crisis")
RANK = {level: i for i, level in enumerate(LEVELS)}
RISK_LEVELS = frozenset({"concern", "crisis"})

_KINDS = ("verbal", "nominal", "means", "fixed")
_TENSES = ("state", "event")
_DEFAULTS = ("implicit", "generic", "skip")


@dataclass(frozen=True)
class Finding:
    """One risk pattern that fired: its rule, screening item, the level and decision it led to."""

    rule_id: str
    item: str
    level: str
    decision: str


# --------------------------------------------------------------------------------------
# Grammar: subjects, owners and the shape of a clause (engine, not lexicon)
# --------------------------------------------------------------------------------------

_PLURAL_NOUNS = frozenset({"people", "children", "men", "women", "folks", "persons"})

# Person named inside a pattern (reflexive, possessive or object pronoun).
_PERSON_OF = {
    "i": "first", "me": "first", "my": "first", "myself": "first", "meself": "first", "mine": "first",
    "we": "first", "us": "first", "our": "first", "ourselves": "first",
    "you": "you", "your": "you", "yourself": "you", "yourselves": "you", "oneself": "you", "one's": "you",
    "he": "third", "him": "third", "his": "third", "himself": "third", "she": "third", "her": "third",
    "herself": "third", "they": "third", "them": "third", "their": "third", "themselves": "third",
    "themself": "third",
}

# Where the predicate's local context ends: a conjunction or a new subject. A time in the past
# may follow in a subordinate clause ("I tried to overdose when I was 19"), so for that only a
# conjunction ends the context.
_LOCAL_END = re.compile(r"\b(?:and|but|so|because|though|(?<!\ba )while|which|then|i|he|she|they|my)\b")
# Where the clause of a match ends: a conjunction, or a comma before a new verb ("saved in a drawer,
# stopped taking it a while ago": the time belongs to the stopping).
_CONJUNCTION = re.compile(r"\b(?:and|but|so|because|though|(?<!\ba )while|which|then)\b|,\s+(?=[a-z]+ed\b)")

# Determiners and adjectives allowed between an owner and a nominal predicate
# ("my recent suicide attempt", "a history of chronic suicidal thoughts").
_DETS = (
    r"(?:(?:a|an|the|any|no|some|several|multiple|two|three|many|previous|prior|past|recent|chronic|passive"
    r"|active|acute|severe|constant|frequent|intrusive|bad|dark|these|those|more|real|serious|such|really|very"
    r"|another|one|first|second|new|old|ongoing|persistent|occasional|recurring|recurrent|current|fleeting|strong"
    r"|mild|daily|intense|overwhelming|hanging|overdose|jumping|cutting|drowning|near lethal|failed|recent|last|\d+)\s+)*"
)
# Words that make the person before them the owner of a nominal predicate
# ("I have suicidal thoughts", "my patient endorses SI", "she survived a suicide attempt").
_OWNING = (
    r"have|has|had|having|get|gets|getting|got|experienc\w+|endors\w+|report\w*|disclos\w+|admit\w*"
    r"|struggl\w+ with|deal\w* with|suffer\w* from|battl\w+(?: with)?|start\w*|stop\w*|been|is|am|are|was|were"
    r"|keep|keeps|kept|used to|clean from|free from|free of|history of|after|following|survived|survive"
    r"|surviving|attempted|recover\w* from|relapsed(?: into| on)?|with|who|feel|feels|feeling|felt|deny|denies"
    r"|denied|denying|back to|battling"
)
# A predicate used as a noun ("the wish to die", "her need to end it") has an owner, not a subject.
_NOMINAL_HEADS = frozenset({"wish", "desire", "urge", "need", "plan", "longing", "wishes", "urges", "plans"})
# A gerund after a question word or preposition is a noun ("is wanting to die normal?",
# "treatment for wanting to die"); a bare fragment ("wanting to die again") is still the writer.
_GERUND_AS_NOUN = re.compile(r"\b(?:is|are|was|does|do|can|could|about|of|for|on|regarding)\s+$")
# "why is being really suicidal a reason to go for ECT?": being so, as the subject of a question, is a topic.
_BEING_AS_NOUN = re.compile(r"\b(?:is|are|does|do|can|could|would|will|should)\s+being\s+"
                            r"(?:(?:really|very|so|actively|acutely|severely|highly|seriously|chronically|passively)\s+)?$")
_WRITER = re.compile(r"\b(?:i|me|myself)\b")
# An existential "there is" before a nominal predicate ("if there is active SI"), "has been" included.
_THERE_BEFORE = re.compile(r"\bthere\s+(?:has\s+|have\s+|had\s+)?$")
_NOMINALISED = re.compile(r"\b(?:the|a|an|this|that|such|their|his|her|its|my|your|our|any)\s+(?:\w+\s+)?$")
_FIRST_CUE = re.compile(r"\b(?:i|me|my|myself)\b")

# A clause that opens with an experience verb and no subject ("relapsed on self harm again",
# "struggling with suicidal thoughts", "used to self harm as a teenager") is the writer speaking of themselves.
_PRO_DROP = re.compile(
    r"^\s*(?:(?:just|still|also|really|been|have been|so|now|again)\s+)*(?:relapsed(?: on| into)?|struggling with|used to have|used to get|used to"
    r"|dealing with|battling|fighting|having|getting|experiencing|back to|started|starting|had|got"
    # "had a bad patch with suicidal thoughts couple years back"
    r"|(?:had|having|going through|went through|been through|through)\s+(?:a\s+)?(?:bad|rough|dark|hard|low|long|short)\s+"
    r"(?:patch|spell|time|period|phase|stretch|bout)\s+with)\s+" + _DETS + r"$"
)
_OBJECT_NOUN_BEFORE = re.compile(r"\b(?:for|to|with|at|by|from)\s+(?:the|my|our|his|her)\s+$")
# What someone else may conclude of the writer, then confirmed ("people will think I want to die, and they're right").
_CONFIRMED = re.compile(r"\b(?:right|true|correct|i do|i am|i will|which i am|they would not be wrong)\b")
_SENTENCE_END = re.compile(r"[.!?\n]")
# A frame of dwelling (`cue.dwelling_frame`) governs a hypothetical that opens within this many characters after it
# ("keep thinking that maybe if i ..."), looked for this far back; the frame's own "if" may be the match's first word.
_FRAME_GAP, _FRAME_REACH, _FRAME_IF = 24, 120, len("if ") + 1
# A person named right after a verb of giving or telling (`_OBJECT_VERB`), with the thing given after them, is its
# indirect object: "wrote the wife a letter", "gave my son the keys".
_PERSON_DETERMINER = re.compile(r"\b(?:the|my|our|his|her)\s+$")
_GIVEN_THING = re.compile(r"\s+(?:a|an|the|some|my|his|her|their|all|both)\s+\w+")
_RELATIVE_AFTER = re.compile(r"\s+(?:who|that)\b")
_PREPOSITION_BEFORE = re.compile(r"\b(?:on|for|to|with|about|of|at|by|from|than|like)\s+(?:other\s+|all\s+|most\s+|the\s+|my\s+|our\s+)?$")
# A noun phrase ("the main character", "his brother") right before the predicate, with no verb of the
# writer's between: the predicate is about it.
_NOUN_PHRASE_BEFORE = re.compile(
    r"\b(?:the|a|an|this|that|his|her|their|our|my|your)\s+(?:\w+\s+){0,2}?(?:character|protagonist|hero|heroine"
    r"|narrator|author|actor|singer|celebrity|guy|girl|man|woman|kid|boy|lady|person|one|friend|cousin|neighbou?r)"
    r"\s+(?:\w+\s+){0,4}$"
)
def _named_before(R: Rules, prefix: str) -> bool:
    """Whether someone named right before the predicate is whom it is about (`_NOUN_PHRASE_BEFORE`), not
    someone the writer did something with or to (cue.acted_on_before: "sorted my cat with the neighbour and left
    letters for my brother")."""
    named = _NOUN_PHRASE_BEFORE.search(prefix)
    return bool(named) and not R.cues["acted_on_before"].search(prefix, 0, named.start())


# A plural noun (not a verb, a time word or a pronoun ending in s).
_PLURAL_NOUN = (
    r"\b(?!(?:always|sometimes|is|was|has|does|perhaps|thus|less|unless|yes|this|its|us|his|hers|ours|yours|theirs|"
    r"as|plus|afterwards|towards|besides|cos|pls|plz|thanks|lots|days|nights|times|weeks|months|years|mornings|"
    r"evenings|ages|kinda|sorta|gets|feels|seems|says|keeps|wants|needs|thinks|wishes|tries|makes|lets)\b)[a-z]{2,}[^siu]s")
# ... right before the predicate, with no subject of the writer's found: people in general.
_PLURAL_BEFORE = re.compile(_PLURAL_NOUN + r"\s+$")
# ... or asked how likely a group is to be it: "are gambling addicts more likely to be suicidal than people with
# other addictions", "do gamblers tend to be suicidal" (a plural noun, then a likelihood, right before the predicate).
_PLURAL_LIKELIHOOD = re.compile(
    _PLURAL_NOUN + r"\s+(?:(?:are|were|seem|get)\s+)?(?:(?:more|less|most|least|as|far|much|"
    r"twice|also|often|generally|really|actually)\s+)*(?:likely|prone|tend|at\s+(?:a\s+)?(?:(?:higher|greater|"
    r"increased|high|elevated|more)\s+)?risk)\s+(?:to|of|for)\s+(?:(?:be|being|become|becoming|get|getting|feel|"
    r"feeling)\s+)?$")
_GROUP_PREDICATE = re.compile(r"(?:die|dying|died|dies)\s+(?:by|of|from)\b|commit\w*\b|kill\w*\s+themselves\b|"
                              r"tak\w*\s+their\b|end\w*\s+their\b")
_FICTION = re.compile(r"\b(?:character|protagonist|hero|heroine|narrator|novel|film|movie|book|story|show|series)\b")
# A relative clause right before the predicate ("I have a chap with catatonia and another who is actively
# suicidal"): the predicate is about the noun before "who", not the clause's subject.
_RELATIVE_BEFORE = re.compile(
    r"\b(?P<antecedent>(?!(?:and|but|or|so|then|because|know|wonder|ask|asked|see|tell|told)\b)\w+)\s+who\s+(?:is|are|was|were|has been|have been|had been|seems?|seemed|feels?|"
    r"felt|gets|got|became|becomes|keeps?|kept|remains?|remained)\s+(?:\w+\s+){0,2}$")
_COPULA_I = re.compile(r"\b(?:i|me)\s+(?:am|was|have been|had been|feel like|became|have become|become|remain|"
                       r"turned into|have turned into)\s+(?:\w+\s+){0,6}$")
_AS_BEFORE = re.compile(r"(?:^|\W)as\s+(?:a|an|one|someone|somebody|\w+)?\s*$")
_MYSELF_AFTER = re.compile(r"\s*(?:\w+\s+){0,2}?myself\b")
# A group (lexicon.toml list.group) is named by no one's: "people in prison", not "my patients".
_UNOWNED = r"(?<!\bmy )(?<!\bour )(?<!\bhis )(?<!\bher )(?<!\btheir )"
# "when someone is suicidal", "if a client discloses ...": a person in a condition, anyone at all; with "a",
# only people met at work or in a service (lexicon.toml list.served): "if a friend wants to die" is a friend.
_WHEN = r"\b(?:when|whenever|if|once|where)\s+"
_ASIDE = re.compile(r"\([^()]*\)")
_HOW_HANDLE = (r"\bhow\s+(?:do|does|should|would|can|could|are|is|to|you)\s+(?:[\w-]+\s+){0,4}?(?:handle|handled|manage|managed"
               r"|deal with|dealt with|respond to|approach|support|look after|care for)\s+")
# ... telling it: to "you" or staff; to "me" only for one met at work ("if a client tells me they're cutting"),
# since "if someone tells me they want to die" may be happening to the writer.
_TELLS = r"(?:\s+(?:tells|says|admits|discloses|mentions)(?:\s+(?:{to}))?(?:\s+that)?\s+(?:they|he|she))?"
_ONE_PERSON_BEFORE = re.compile(r"\b(?:he|she|him|her|his|my|our|i|we|me|us)\b")  # "i visited people ... they": met, not a group


def _they_are_people(R: "Rules", sentence: str, clause: str) -> bool:
    """Whether "they" in `clause` refers back to a group named earlier in `sentence` (and to no one person)."""
    at = sentence.find(clause)
    before = sentence[:at] if at > 0 else ""
    return bool(R.group_before.search(before)) and not _ONE_PERSON_BEFORE.search(before)


_THING_SUBJECT = re.compile(
    r"\b(?:topic|subject|theme|focus|question|lecture|talk|session|module|essay|paper|assignment|presentation|chapter"
    r"|article|study|book|novel|film|show|episode|course|class|seminar|debate|title|agenda|training|handout)'?s?\s*$"
)
_COMPANY_BEFORE = re.compile(r"\b(?:with|beside|alongside|next to|behind|near)\s+$")
# A gerund the clause's subject does, after an object pronoun: "i cant even look at her anymore without feeling like
# a burden on her" (the one who feels is the one who looks).
_GERUND_ADJUNCT = re.compile(r"\s+(?:(?:anymore|any more|again|now)\s+)?(?:without|before|after|instead of|rather than)\s+[a-z]+ing\b")
_OBJECT_VERB = re.compile(
    r"\b(?:sent|send|sends|texted|texts|told|tells|showed|shows|gave|gives|handed|messaged|called|asked|emailed"
    r"|wrote|write|writing|written|give|giving|given|hand|bought|buy|owe|owed"
    r"|left|snapped|dm'?d|pinged|tagged|forwarded|warned|promised)\s+$"
)
_COPULA_FIRST = re.compile(r"\b(?:i am|am i|i was|was i)\s+(?:a|an)\s+(?:\w+\s+){0,2}$")
_POSSESSED = re.compile(r"\b(?:my|our|his|her|their|your)\s+(?:\w+\s+){0,3}$")
_DESCRIBED = re.compile(r"\s*(?:with|who has|who have|who had|that has)\b")
_ANY_EVERY = re.compile(r"\b(?:any|every|each)\s+$")
_WITH = re.compile(r"\s*with\b")
_NO_MORE = re.compile(r"\s*(?:anymore|any longer)\b")
# "I haven't felt suicidal since my ECT in 2021": a state denied since a time, in the perfect, was the writer's before it.
_NOT_SINCE = re.compile(r"\s*(?:(?:at all|really|once|even)\s+)?(?:since|in (?:years|months|ages|a long time|over a year)"
                        r"|for (?:years|months|ages|a long time|over a year))\b")
_PERFECT_NOT = re.compile(r"\b(?:have|has|had) not\b")

# "What does kms mean?", "what does 'passive death wish' mean": the term is mentioned, not used.
_MENTION = re.compile(
    r"\bwhat (?:does|do|did|is|are) (?:the )?(?:word |term |phrase |slang |abbreviation |acronym |expression )?"
    r"(?P<term>\"[^\"]{1,40}\"|'[^']{1,40}'|[\w ]{1,40}?) (?:mean|means|stand for|stands for|refer to)\b"
)
# Quotation marks: double quotes anywhere; single quotes only where they open after a space
# and close before punctuation, so apostrophes ("patient's") are not taken for quotes.
_DOUBLE_QUOTE = re.compile(r'"([^"]{1,500})"')
_SINGLE_QUOTE = re.compile(r"(?:(?<=\s)|^|(?<=[:(\[]))'((?:[^']|(?<=\w)'(?=\w)){2,500}?)'(?=[\s.,?!;:)\]]|$)")

# Sentences end at . ! ? ; or a line break (not inside "2.5"); clauses at commas, colons,
# dashes and "but", so "I'm not suicidal, I just want to die" is read as two statements.
# "Bought a rope today!! for the climbing wall": a fragment that opens with "for" or "because" finishes
# the sentence before it.
# A slash between spaces ("hi / quick q / ...") stands for a line break, as people type on phones. A
# full stop after a title or an initial ("Mrs H.", "Dr. Patel") does not end the sentence.
_CLAUSE_SPLIT = re.compile(r"[,;:]")
_SENTENCE_SPLIT = re.compile(r"(?>\.{2,}|(?<!\d)(?<!\s[a-z])(?<!\bmr)(?<!\bmrs)(?<!\bms)(?<!\bdr)(?<!\bprof)[.!?]+(?!\d)"
                             r"|[;\n\r]+|[!?]+|\s+/\s+)(?!\s*(?:for|because|cos|coz|cause)\s)")
_STOP_BETWEEN = re.compile(r"\d\.\s+[a-z]")
# A comma inside brackets does not end the clause around them: "my son (16, haemophilia A) has been cutting" is his.
_CLAUSE_SPLIT = re.compile(r"\s*,\s*(?![^()]{0,60}\))|(?<!\d)\s*:\s*(?!\d)|\s+-+\s+|\s+(?:but|though|although|however|yet)\s+")

# A subject is never hundreds of characters from its predicate. Clauses longer than this
# (a run-on message with no punctuation) are read in overlapping pieces, which keeps the
# cost of a message linear in its length.
_MAX_CLAUSE = 300
_OVERLAP = 100


# --------------------------------------------------------------------------------------
# Rules and idioms, built from the data files
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One risk pattern (an entry of patterns.toml).

    kind:
      verbal   a predicate with a subject ("I want to die"); the person is a pronoun in the
               pattern (group ``who``), else the nearest subject before it, else the writer.
      nominal  a noun phrase ("suicidal thoughts"); it is about someone only when owned
               ("my", "I have", "she survived"), else it is a clinical topic.
      means    asking for a method or a lethal amount: crisis for the writer, concern otherwise.
      fixed    always the given decision.
    tense:
      state    past tense ("I was suicidal") makes it a past mention unless a recent time is named.
      event    an act (self-harm, an overdose, preparation) is taken as recent unless a time
               well in the past is named ("in 2019", "when I was 16").
    default: the person when no pronoun or subject is found ("implicit" writer, "generic", or
             "skip" to drop the finding).
    check: an extra test on (match, clause, sentence) that must pass.
    """

    rule_id: str
    item: str
    pattern: re.Pattern
    kind: str = "verbal"
    tense: str = "state"
    default: str = "implicit"
    fixed: tuple[str, str] | None = None
    check: Callable[[re.Match, str, str], bool] | None = None
    needs_context: bool = False  # a sign (a rope bought, a date set) that is a crisis only in context
    sentence_scope: bool = False  # read over the whole sentence, across its commas
    # The first three letters of the words a match can start with; None when they can't be known. A
    # clause with none of them among its words' beginnings cannot match, so the rule is skipped.
    heads: frozenset[str] | None = None


@dataclass(frozen=True)
class Idiom:
    rule_id: str
    pattern: re.Pattern
    requires: re.Pattern | None = None  # only in a sentence that also matches this
    unless: re.Pattern | None = None  # never in a sentence that also matches this
    replacement: str = " _ "  # what is left in its place (a topic word keeps a clinical topic visible)
    nearby: bool = False  # requires / unless read the sentences either side too ("I'm done. Handed my notice in")
    heads: frozenset[str] | None = None  # word beginnings one of which a match holds (None: not known), to skip it cheaply


@dataclass(frozen=True)
class Rules:
    """Everything the engine reads from the data files, compiled."""

    rules: tuple[Rule, ...]
    idioms: tuple[Idiom, ...]
    cues: dict[str, re.Pattern]
    subject: re.Pattern
    owner: re.Pattern
    pills: re.Pattern
    person_noun: re.Pattern  # a person noun, possessive or not ("girlfriend's", "son")
    group: re.Pattern = re.compile(r"(?!)")  # a group of people in general (list.group): "people", "patients"
    group_before: re.Pattern = re.compile(r"(?!)")  # such a group named by no one's ("people", not "my patients")
    when_anyone: re.Pattern = re.compile(r"(?!)")  # a condition on anyone: "when someone", "if a client" (list.served)
    item_of: dict[str, str] = field(default_factory=dict)  # each rule's and language phrase's C-SSRS item, by id
    # (clause rules always read, clause rules by head, sentence rules always read, sentence rules by head)
    head_index: tuple = ((), {}, (), {})

    def candidates(self, heads: set[str], sentence_heads: set[str] | None) -> list[Rule]:
        """The rules that may match a clause with these word beginnings, in file order: those whose
        heads meet them, the sentence-scope ones by the sentence's (`sentence_heads`, or None to leave
        them out: they are read once per sentence), and those whose heads can't be known."""
        found: set[int] = set(self.head_index[0])
        for head in heads:
            found.update(self.head_index[1].get(head, ()))
        if sentence_heads is not None:
            found.update(self.head_index[2])
            for head in sentence_heads:
                found.update(self.head_index[3].get(head, ()))
        return [self.rules[i] for i in sorted(found)]

    @property
    def date_picked(self) -> re.Pattern:
        """The pattern of the sign "I've picked a date" (read again beside a booking)."""
        return next(rule.pattern for rule in self.rules if rule.rule_id == "context.date_picked")


def _took_pills(cues: dict[str, re.Pattern], pills: re.Pattern):
    def check(match: re.Match, clause: str, sentence: str) -> bool:
        # "Took all my X" is an overdose only when X is medication, and not when said of a normal dose.
        rest = match.group("rest") or ""
        if cues["compliance"].search(sentence):
            return False
        if pills.search(rest) or cues["drug_shape"].search(rest):
            return True  # ... or a drug no list names: "i just took all my pred and a full box of the amitriptyline"
        # ... or named in a second amount joined to the first: "took all my X and a bunch of the codeine".
        second = cues["and_amount"].search(clause, match.end("q"), match.end("q") + 80)
        if second and (pills.fullmatch(second.group("drug")) or cues["drug_shape"].fullmatch(second.group("drug"))):
            return True
        quantity = match.group("q")
        if re.match(r"\s+(?:hers|his|theirs|mine)\b", rest) and quantity.endswith(" of"):
            return True  # "i took a handful of hers": hers, said of medicine, is her medicine
        return bool(re.match(r"\s+of (?:my|her|his|their|them)\b", rest)) and (quantity.isdigit() or quantity == "all")
    return check


def _quantity(cues: dict[str, re.Pattern], pills: re.Pattern):
    def check(match: re.Match, clause: str, sentence: str) -> bool:
        # "Would 30 of my tablets kill me" asks for an amount; "will ECT kill me?" is a fear.
        return bool(cues["quantity"].search(sentence))
    return check


def _group_subject(cues: dict[str, re.Pattern], pills: re.Pattern):
    def check(match: re.Match, clause: str, sentence: str) -> bool:
        # "We'd all be better off without him" is about him; "you'd be better off without him"
        # is relationship advice. Only a group being better off counts.
        before = clause[: match.start()]
        if re.search(r"\b(?:everyone|everybody|we|they|world|family|kids|people|all)\b", before):
            return True
        # "she thinks the baby would be better off without her": the one who thinks it is the one left out.
        who = match.groupdict().get("who")
        return bool(who and _SAYS_OF_SELF[who].search(before))
    return check


# ... or one the writer names ("my ex texted me last night that the kids would be better off without her").
_NAMED_ONE = r"(?:my|our) [a-z]+"
_SAYS_OF_SELF = {pronoun: re.compile(rf"\b{subject}\s+(?:\w+\s+){{0,2}}?(?:thinks?|thought|says?|said|feels?|felt|believes?|believed"
                                     r"|tells|told (?:me|us|her|him|them)|keeps? (?:saying|thinking)|is convinced|was convinced"
                                     r"|worries|worried|texts?(?: me| us)?|texted(?: me| us)?|messaged(?: me| us)?|wrote(?: to)?(?: me| us)?)\b")
                 for pronoun, subject in (("her", f"(?:she|{_NAMED_ONE})"), ("him", f"(?:he|{_NAMED_ONE})"),
                                          ("them", "they"))}


def _method_named(cues: dict[str, re.Pattern], pills: re.Pattern):
    def check(match: re.Match, clause: str, sentence: str) -> bool:
        # "Which is quicker?" asks for means only when a method is named beside it, and not medicines named
        # only as what a treatment is set against ("advantages of procedural treatments over pills - are
        # they quicker?").
        return bool(cues["method_named"].search(cues["treatment_comparison"].sub(" ", sentence)))
    return check


def _sentence_cue(name: str, present: bool = True):
    """A check that the match's sentence holds (or, with present=False, lacks) the lexicon's cue `name`."""
    def make(cues: dict[str, re.Pattern], pills: re.Pattern):
        def check(match: re.Match, clause: str, sentence: str) -> bool:
            return bool(cues[name].search(sentence)) == present
        return check
    return make


_OTHERS_THINGS = re.compile(r"\b(?:his|her|their)\s+(?!own\b)")


def _own_things(cues: dict[str, re.Pattern], pills: re.Pattern):
    def check(match: re.Match, clause: str, sentence: str) -> bool:
        # "I've been giving away her clothes" (hers, after she died) is not the writer's farewell; "she's giving
        # away her things" and "I gave away my guitar" are signs.
        found = match.group(0)
        if re.search(r"\bmy\b", found) or not _OTHERS_THINGS.search(found):
            return True
        before = clause[: match.start()]
        return not (re.search(r"\bi\b", before) and not re.search(r"\b(?:he|she|they)\b", before))
    return check


#: Extra tests a rule may name in its `check` field.
CHECKS = {"took_pills": _took_pills, "quantity": _quantity, "group_subject": _group_subject,
          "method_named": _method_named, "own_things": _own_things,
          # "How much would it take?" asks for a lethal amount only when death is named beside it.
          "death_named": _sentence_cue("death_named"),
          # "Took everything my doctor prescribed, as usual" is taking medicine, not an overdose.
          "not_routine": _sentence_cue("compliance", present=False),
          # "sold the van and cancelled the phone, we move to spain in june": affairs closed for a life that goes on.
          "not_moving_on": _sentence_cue("moving_on", present=False),
          # "i dont want to be here without him" is a wish to die beside a loss the writer names ("my son died in
          # march"), not a wish for company at an appointment.
          "bereaved": _sentence_cue("bereaved"),
          # "been hoping one wont stop" is a bleed let run only where the sentence names bleeding.
          "bleeding_named": _sentence_cue("bleeding_named"),
          # "the spravato clinic moved but ive figured out where": a how or a where worked out for a treatment's logistics.
          "not_logistics": _sentence_cue("logistics", present=False)}


def _rule(entry: Entry, cues: dict[str, re.Pattern], pills: re.Pattern) -> Rule:
    where = f"patterns.toml ({entry.id})"
    kind, tense, default = entry.get("kind", "verbal"), entry.get("tense", "state"), entry.get("default", "implicit")
    for name, value, allowed in (("kind", kind, _KINDS), ("tense", tense, _TENSES), ("default", default, _DEFAULTS)):
        if value not in allowed:
            raise SafetyDataError(f"{where}: {name} must be one of {', '.join(allowed)}, not {value!r}")
    fixed = entry.get("fixed")
    if kind == "fixed":
        if not (isinstance(fixed, list) and len(fixed) == 2 and fixed[0] in LEVELS):
            raise SafetyDataError(f"{where}: a fixed rule needs fixed = [level, decision id]")
        fixed = (fixed[0], fixed[1])
    check = entry.get("check")
    if check is not None and check not in CHECKS:
        raise SafetyDataError(f"{where}: unknown check {check!r}; known: {', '.join(sorted(CHECKS))}")
    needs_context = entry.get("needs_context", False)
    if not isinstance(needs_context, bool):
        raise SafetyDataError(f"{where}: needs_context must be true or false")
    scope = entry.get("scope", "clause")
    if scope not in ("clause", "sentence"):
        raise SafetyDataError(f"{where}: scope must be clause or sentence, not {scope!r}")
    unknown = sorted(set(entry.pattern.groupindex) - set(_WHO_GROUPS) - _OTHER_GROUPS)
    if unknown:
        # A group `_who` does not read names no one: the pattern's person would go unread.
        raise SafetyDataError(f"{where}: unknown group {', '.join(unknown)}; a person is named by "
                              f"{', '.join(_WHO_GROUPS)}")
    return Rule(entry.id, entry.get("item", ""), entry.pattern, kind, tense, default,
                fixed if kind == "fixed" else None, CHECKS[check](cues, pills) if check else None, needs_context,
                scope == "sentence", literal_heads(entry.pattern) or required_heads(entry.pattern))


def _condition(value, lexicon: Lexicon, where: str) -> re.Pattern | None:
    """An idiom's requires/unless: "cue:NAME" or a list of pattern alternatives."""
    if value is None:
        return None
    if isinstance(value, str) and value.startswith("cue:"):
        name = value[4:]
        if name not in lexicon.cues:
            raise SafetyDataError(f"{where}: unknown cue {name!r}")
        return lexicon.cues[name]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        from .data import expand
        return re.compile(expand("|".join(value), lexicon.lists, where))
    raise SafetyDataError(f"{where}: requires/unless must be 'cue:NAME' or a list of patterns")


def build_rules(lexicon: Lexicon, rule_entries: tuple[Entry, ...], idiom_entries: tuple[Entry, ...]) -> Rules:
    """Compile the engine's view of the data. Raises SafetyDataError for a rule the engine cannot use."""
    noun = lexicon.lists["relation_noun"]
    subject = re.compile(
        r"\b(?:(?P<first>i|me|myself|we|us)|(?P<you>you|yourself|yourselves)"
        r"|(?P<third>he|she|they|him|them|her|someone|somebody|themself)"
        r"|(?P<generic>anyone|anybody|people|persons|folks|children|men|women)"
        r"|(?P<noun>" + noun + r"))\b"
    )
    owner = re.compile(
        r"(?:\b(?P<poss>my|his|her|their|our|your)\s+" + _DETS + r"$)"
        r"|(?:\b(?P<possn>" + noun + r")'s\s+" + _DETS + r"$)"
        r"|(?:\b(?P<verb>" + _OWNING + r")\s+" + _DETS + r"$)"
    )
    pills = re.compile(r"\b" + lexicon.lists["pill_words"] + r"\b")
    cues = lexicon.cues
    rules = tuple(_rule(entry, cues, pills) for entry in rule_entries)
    idioms = tuple(
        Idiom(entry.id, entry.pattern, _condition(entry.get("requires"), lexicon, f"idioms.toml ({entry.id})"),
              _condition(entry.get("unless"), lexicon, f"idioms.toml ({entry.id})"),
              " " + entry.get("leaves", "_") + " ", bool(entry.get("requires_nearby", False)),
              literal_heads(entry.pattern) or required_heads(entry.pattern))
        for entry in idiom_entries)
    person_noun = re.compile(noun + r"(?:'s|s)?\b")
    # People in general: the groups listed, and the plural of anyone met at work or in a service ("callers who
    # are suicidal", "inmates who self-harm").
    group = "(?:" + lexicon.lists["group"] + "|" + lexicon.lists["served"] + "s)"
    return Rules(rules=rules, idioms=idioms, cues=cues, subject=subject, owner=owner, pills=pills,
                 item_of={**{phrase.rule_id: phrase.item for phrase in load_phrases()[0]},
                          **{rule.rule_id: rule.item for rule in rules}}, person_noun=person_noun, group=re.compile(group), group_before=re.compile(_UNOWNED + r"\b" + group + r"\b"),
                 # ... and the one they tell of: "what do you say if someone tells you they are suicidal" (not "tells me":
                 # "what do I do if someone tells me they want to die" may be happening to the writer; "if a client tells
                 # me" is work).
                 # ... and so is one a service is asked how it handles: "how do TMS clinics handle a patient who
                 # discloses suicidal thoughts mid course".
                 when_anyone=re.compile(r"(?:" + _WHEN + r"|" + _HOW_HANDLE + r")(?:"
                                        r"(?:someone|somebody|anyone|anybody)" + _TELLS.format(to="you|staff") + "|"
                                        r"(?:a|an|any)\s+(?:new\s+)?(?:" + lexicon.lists["served"] + ")"
                                        + _TELLS.format(to="you|staff|me|us") + r")$"),
                 head_index=_head_index(rules))


def _head_index(rules: tuple[Rule, ...]) -> tuple:
    """Rule positions for Rules.candidates: (clause rules always read, clause rules by head, sentence
    rules always read, sentence rules by head)."""
    clause = head_index((i, rule.heads) for i, rule in enumerate(rules) if not rule.sentence_scope)
    sentence = head_index((i, rule.heads) for i, rule in enumerate(rules) if rule.sentence_scope)
    return (*clause, *sentence)


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """The bundled rules, compiled once. Raises SafetyDataError when a data file is broken."""
    return build_rules(load_lexicon(), load_entries("patterns.toml", "rule", ("pattern",)),
                       load_entries("idioms.toml", "idiom", ("pattern",)))


# --------------------------------------------------------------------------------------
# Mentions, quotations and idioms
# --------------------------------------------------------------------------------------


def _set_aside_mentions(R: Rules, text: str, fired: list[str]) -> str:
    def replace(match: re.Match) -> str:
        if not R.cues["risky_term"].search(match.group("term")):
            return match.group(0)
        fired.append("mention.term_meaning")
        # The term becomes the topic word, so the message is answered as a clinical question.
        return match.group(0).replace(match.group("term"), "suicide")

    # ... and so is a screener's question named by what it asks ("the PHQ-9 question about being better off dead").
    return R.cues["item_mention"].sub(replace, _MENTION.sub(replace, text))


# Words before a quote that make it the writer's own: "what I texted my friend:", "from my notes app:".
# A quotation that is part of the sentence's own grammar ("she's going to 'finish the job'").
# ... and a verb phrase quoted as the second of two things someone means to do ("going to stop going and
# 'let nature take its course'").
_QUOTE_AS_PHRASE = re.compile(r"\b(?:to|will|would|going to|gonna|wants to|might|could)\s*$"
                              r"|\b(?:will|would|going to|gonna|wants to|want to|might|could|planning to|plans to)\s+(?!(?:the|a|an|his|her|their|my|our)\b)"
                              r"(?:[\w']+\s+){1,4}?and\s*$"
                              # ... or the predicate of a reason told of someone: "cos he 'doesnt care what happens anymore'".
                              r"|\b(?:cos|cause|because|since|coz|bc)\s+(?:he|she|they)\s*$")

_INDEFINITE = re.compile(r"(?:a|an|any|some|someone|somebody|anyone|anybody)\b")
_INDEFINITE_BEFORE = re.compile(r"\b(?:a|an|any|some)\s+(?:\w+\s+)?$")
# ... or by their role in a condition, in a question about what is done ("does consent for ECT change if the person is
# acutely suicidal").
_ROLE_NAMED = re.compile(r"\b(?:if|when|where|once|whether) the (?:person|patient|pt|client|individual|service user)$")
# "they" standing for people in general named just before: "turn people away if they have a history of ..."
# ... or one person of a kind, in a question about what is done ("what's the protocol if a patient says they're ...",
# "how should funeral staff respond when a bereaved relative says they want to die too").
_GENERIC_ONE_THEY = re.compile(r"(?:(?<!\bmy )(?<!\bour )(?<!\bhis )(?<!\bher )(?<!\btheir )\b(?:a|an|any)\s+(?:\w+\s+)?"
                               r"(?:patient|client|person|student|child|teenager|teen|kid|resident|service user|pt|relative|"
                               r"family member|member of the public|customer|caller|mourner)|\b(?:someone|somebody|anyone|anybody))"
                               r"\s+(?:who\s+|that\s+)?"
                               r"(?:says|said|tells (?:you|us|staff|the \w+)|reports|admits|discloses|mentions)\s+(?:that\s+)?$")
# ... or told of as one of a kind with some condition, in such a question: "how do ECT teams weigh cardiac risk in a pt
# with stable angina when theyre acutely suicidal".
_GENERIC_ONE_WITH = re.compile(r"(?<!\bmy )(?<!\bour )(?<!\bhis )(?<!\bher )(?<!\btheir )\b(?:a|an|any)\s+(?:\w+\s+)?"
                               r"(?:patient|client|person|pt|service user|adult|teenager|teen|child|man|woman)\s+"
                               r"(?:with|w/|w|who has|who have)\s+(?:[\w-]+\s+){1,4}?"
                               r"(?:when|if|while|once|and|who|but)\s+$")
_GENERIC_THEY = re.compile(r"(?<!\bmy )(?<!\bour )(?<!\bhis )(?<!\bher )(?<!\btheir )(?<!\bthese )(?<!\bthose )"
                           r"\b(?:people|patients|pts|clients|folks|individuals|someone|somebody|anyone|anybody)\b"
                           r"(?:\s+\w+){0,6}?\s+(?:if|when|who|that|because|since|unless|once)\s+$")

# "... and honestly so do i", "... me too": what was said of someone else, said of the writer as well.
_SO_DO_I = re.compile(r"[^.!?]{0,40}?(?:,|\band\b|\bbut\b)\s*(?:(?:honestly|tbh|to be honest|if i am honest|truth be told|lately)\s*,?\s*)?"
                      r"(?:so do i|so am i|so have i|so would i|so will i|me too|i do too|i do as well|same here|same for me"
                      # ... said of what someone will not do or be: "my partner won't be around after this month and
                      # neither will I".
                      r"|(?:neither|nor) (?:will|would|do|am|can|could|shall|have) i|me neither|me either)\b")
_TIME_CLAUSE = re.compile(r"(?:when|once|after|by the time|for when|for after)\s")
_LIST_TAIL = re.compile(r"\s*(?:or|nor|and)\s+$")
# A clause of result, with a tense of its own ("tms did nothing so might as well ..."); not "so much", "so bad".
_RESULT = re.compile(r"\bso\b(?!\s+(?:much|many|long|bad|badly|often|far)\b)"
                     # ... and so is a reason: "i do not see the point of the course because i will be dead by then";
                     # not one denied itself ("not because i want to die").
                     r"|(?<!\bnot )(?<!\bjust )(?<!\bonly )\bbecause\b")
# ... and so is a time or reason the writer gives of themselves ("dont see the point of next weeks tms appt when i
# wont be here for it"); not "as" ("im not nearly as suicidal as i was").
_OWN_REASON = re.compile(r"(?<!\bnot )(?<!\bjust )(?<!\bonly )\b(?:when|since|cos|coz|cause|cuz)\s+(?=i\b)")
_NEGATED_LIST = re.compile(r"\b(?:no|not|never|without|nor)\b[^,.;!?]*\b(?:or|nor)\s+$")
# A fictional character the sentence is about ("the main character has ECT after a suicide attempt").
_FICTION_SUBJECT = re.compile(r"\b(?:the|a|this|that)\s+(?:main\s+|lead\s+|central\s+)?(?:character|protagonist|hero|heroine|narrator|villain)\b")

# "if the urge to end my life ever comes back": the predicate sits in a conditional of its own.
_IF_URGE = re.compile(r"\bif\s+(?:the|my|these|those|that)\s+(?:urges?|thoughts?|feelings?|wish)\s+(?:to|of)\s*$")
# A conditional that opens the matched words themselves: "what should I do if [the suicidal thoughts come back]".
_IF_OPENS = re.compile(r"\b(?:if|in case|what if|should)\s+(?:ever\s+)?(?:(?:my|the|these|those|that)\s+)?$")
# What a conditional opening a state says of it when the state is not had now: it comes back or begins.
_RETURN_OR_ONSET = re.compile(r"\b(?:come|comes|came|coming)\s+back\b|\breturn(?:s|ed|ing)?\b"
                              r"|\b(?:start|starts|begin|begins)\b|\bagain\b")
# A beginning inside a condition that opened earlier in the clause: "if the chemo goes badly and i start wanting to
# die again", "what if during ketamine i start feeling suicidal again" (matched up to the act).
_IF_I_BEGIN = r"\b(?:if|in case)\b[^.!?;]{0,%d}?\bi\s+(?:ever\s+)?(?:start|started|starting|begin|began|get|got)\s+"
_IF_STARTS = re.compile(_IF_I_BEGIN % 60 + r"(?:to\s+)?(?:(?:feel|feeling|want|wanting|getting|having|get|have)\s+(?:(?:like|to)\s+)?)?$")

# What a condition's "i start getting ..." is, named again after a comma: "what if i start getting dark thoughts again,
# like suicidal ones".
_IF_NAMED_AGAIN = re.compile(_IF_I_BEGIN % 80 + r"[^.!?;,]{0,40},\s*(?:like|as in|i mean|ie|e\.g\.)\s+(?:\w+\s+)?$")

# ... and the degree words that only colour it ("back in my 20s i was in a bad way, properly suicidal").
_BARE_WORDS = frozenset({"a", "an", "the", "by", "via", "with", "from", "properly", "really", "very", "so", "pretty", "quite",
                         "totally", "badly", "seriously", "deeply", "completely", "extremely"})
_FRAGMENT_BREAK = re.compile(r"\s*(?:[,;()]|\s[-\u2013\u2014]\s)\s*")


def _apposed_to_dated(distant: re.Pattern, recent: re.Pattern, sentence: str, start: int, end: int) -> bool:
    """True when `sentence[start:end]` stands between commas, brackets or dashes with at most an article or a
    preposition beside it (no subject, no verb of its own), and the fragment just before it names a distant
    time and no recent one: it is what that fragment told."""
    breaks = [(m.start(), m.end()) for m in _FRAGMENT_BREAK.finditer(sentence)]
    before = [b for b in breaks if b[1] <= start]
    after = [b for b in breaks if b[0] >= end]
    if not before:
        return False
    own_start, own_end = before[-1][1], (after[0][0] if after else len(sentence))
    extra = (sentence[own_start:start] + " " + sentence[end:own_end]).split()
    if len(extra) > 1 or (extra and extra[0] not in _BARE_WORDS):
        return False
    previous = sentence[(before[-2][1] if len(before) > 1 else 0):before[-1][0]]
    return bool(distant.search(previous)) and not recent.search(previous)


_AGO = re.compile(r"\b(?:an|one|two|three|a few|\d+)\s+(?:minutes?|mins?|hours?|hrs?)\s+ago\b|\bjust now\b")
# A subjectless clause whose verb has the third-person -s form ("keeps joking about ...", "says she'll ...").
_THIRD_VERB_OPENS = re.compile(r"^\W*(?:keeps|has|is|does|says|talks|wants|goes|thinks|texts|posts|jokes|mentions|reckons|seems|tells|writes|plans)\b"
                               r"(?!\s+(?:it|this|that|there|he|she|they|you|i|we|a|an|the|my|your|his|her|their|anyone|someone)\b)")
_THIRD_SELF = re.compile(r"\b(?:himself|herself|hisself)\b")
# How far after a means question's match its lethal property may stand ("does it take | to be fatal").
_PROPERTY_REACH = len(" to actually be fatal")
# A clause that opens with a verb in the past, its subject left out ("..., came out of hospital after an od").
_DROPPED_PAST = re.compile(r"^\W*(?:(?:and|then|just|only|also|recently|since)\s+)?(?:came|went|ended up|wound up|landed|"
                           r"was|were|got|spent|had to|been|has been|had been|is just|is now)\s+(?:out|back|home|in|into|up|"
                           r"admitted|discharged|released|sent|taken|kept|rushed|off)\b")
# A match that opens with a verb in the past ("back in 2019 i tried to end it, overdosed after my divorce").
_PAST_HEAD = re.compile(r"(?:[a-z]+(?<!e)ed|took|ran|drove|threw|hung|cut)\b")  # not "need", "bleed"
# An example set after a clause, with no subject of its own ("..., like wanting to not exist", "..., like saving
# them"): it says more of that clause, so it is that clause's subject's, at that clause's time.
_ELABORATES = re.compile(r"^\W*(?:like|as in|i mean|such as|kind of like|sort of like)\s+(?:(?:just|really|actually|properly)\s+)?$")
# A match that opens with its own negation ("no longer want to live", "not want to wake up").
_OWN_NEGATION = re.compile(r"(?:not|never|no longer|can not|could not|(?:do|does|did|will|would) not|(?:have |had |just |kind of |kinda )?(?:stopped|quit|given up|gave up))\b")
# "if i have already decided i will not be around": a condition the writer says is met is a premise, not a
# hypothetical.
_ALREADY = re.compile(r"\s*(?:have|has|had|am|is)?\s*already\b")
# "can i get the ECT lot to give me enough anaesthetic that i just dont come round": asking to be given it is a request,
# not a hypothetical.
_GET_GIVEN = re.compile(r"\s*(?:get|have)\s+(?:[\w']+\s+){0,5}?(?:to give me|give me|to prescribe me|prescribe me|to let me have)\b")
# "is there any point starting ECT if im not planning on being around past christmas": a plan the writer holds now,
# told under "if", is a premise too.
_PLANNED = re.compile(r"\s*(?:am|have been)\s+(?:not\s+|already\s+)?(?:planning|intending|set on)\b")

# Quoted terms being explained or compared ("the difference between 'wish to be dead' and ..."): the words
# are mentioned, not said by anyone.
_QUOTE_AS_TERM = re.compile(r"\b(?:difference between|explain(?:ing)?|the terms?|the phrases?|the words?|called|"
                            r"define|defining|definition of|items?|labels?|categor(?:y|ies)|between|means?|meant)\s*$"
                            r"|['\"]\s+(?:and|or|vs\.?|versus)\s*$")

# "'i want to die' on repeat in my head": a thought of the writer's, quoted.
_OWN_THOUGHT_AFTER = re.compile(r"\s*(?:[\w']+\s+){0,4}?(?:in|inside|round|around|through|going round) my (?:head|mind|brain|thoughts)\b")
_OWN_QUOTE = re.compile(
    r"\b(?:i|i have|i had|i am)\s+(?:\w+\s+){0,3}?(?:wrote|written|writing|texted|typed|posted|said|noted|put|messaged|sent)\b"
    r"[^\"]{0,130}$|\b(?:from|in|on)\s+my\s+(?:own\s+)?(?:notes(?: app)?|journal|diary|phone|drafts|note)\b[^\"]{0,250}$"
    r"|\bmy\s+(?:own\s+)?(?:journal|diary|notes app|drafts?)\b[^\"]{0,250}$|\b(?:diary|journal|log|mood log) entr(?:y|ies)\b(?![^\"]{0,60}\b(?:his|her|their|my (?:son|daughter|\w+ year old|friend|sister|brother|partner|wife|husband|mum|mom|dad))\b)[^\"]{0,250}$"
    r"|^\W*(?:journal|diary)\b[^\"]{0,40}$|\b(?:writing|wrote) (?:this|it) (?:like|as) a note\b[^\"]{0,80}$|\b(?:they are|it is|this is|these are) about me\b[^\"]{0,80}$|\babout myself\b[^\"]{0,80}$|\bthis is from (?:last night|yesterday|my|this morning)\b[^\"]{0,40}$"
    r"|\b(?:to send|should i send|i am sending|going to send|want to send|thinking of sending|i drafted|my draft|sound ok|read ok|look ok)\b[^\"]{0,60}$"
)


_PATIENT_ME = re.compile(r"\b(?:pt|patient|client|the patient|subject)\s*\(\s*(?:me|myself|that is me|= me|i)\s*\)")


def _extract_quotes(text: str, reframed: re.Pattern | None = None) -> tuple[str, list[str]]:
    """`text` with quoted words taken out, and those words. A quote the writer says is in their head is
    theirs, unless they say it is a song's, a film's or a book's (`reframed`, cue.reframed)."""
    quotes: list[str] = []
    sung = bool(reframed is not None and reframed.search(text))

    def take(match: re.Match) -> str:
        before = match.string[max(0, match.start() - 60):match.start()]
        if _QUOTE_AS_PHRASE.search(before):
            return " " + match.group(1) + " "  # "going to 'finish the job'": scare quotes inside the sentence
        if _QUOTE_AS_TERM.search(before):
            return " term "
        if len(match.group(1).split()) < 3:
            return " " + match.group(1) + " "  # a term in scare quotes ('death'), not someone's words
        if _OWN_QUOTE.search(match.string, max(0, match.start() - 300), match.start()) or \
                (_OWN_THOUGHT_AFTER.match(match.string, match.end()) and not sung):
            return " " + match.group(1) + " . "  # the writer quoting themselves, or a thought in their head
        quotes.append(match.group(1))
        return " quoted "

    text = _DOUBLE_QUOTE.sub(take, text)
    text = _SINGLE_QUOTE.sub(take, text)
    return text, quotes


def _neutralise_idioms(R: Rules, sentence: str, fired: list[str], around: Sequence[str] = ()) -> str:
    """`sentence` with the idioms blanked out. `around` holds it with the sentences either side, which
    idioms marked `requires_nearby` read for their conditions."""
    nearby = None
    heads = word_heads(sentence)
    for idiom in R.idioms:
        if idiom.heads is not None and idiom.heads.isdisjoint(heads):
            continue
        where = sentence
        if idiom.nearby and around:
            nearby = nearby if nearby is not None else " ".join(s for s in around if s)
            where = nearby
        if idiom.requires is not None and not idiom.requires.search(where):
            continue
        if idiom.unless is not None and idiom.unless.search(where):
            continue
        sentence, n = idiom.pattern.subn(idiom.replacement, sentence)
        if n:
            fired.append(idiom.rule_id)
            heads |= word_heads(idiom.replacement)  # a topic word an idiom leaves ("suicide") may start a later one
    return sentence


# --------------------------------------------------------------------------------------
# Deciding what a match means
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Subject:
    person: str  # "first" | "you" | "third" | "generic"
    start: int
    end: int


# A treatment given or suited to someone: "can it be given in a&e to someone who ...", "is tms safe for someone ...".
_GIVEN_TO = re.compile(r"\b(?:given|give|offered|offer|used|use|prescribed|available|done|recommended|suitable|safe|ok|okay|"
                       r"appropriate)\b(?:\s+[^\s.,;:!?]+){0,4}?\s+(?:to|for)\s+$")
_NEXT_SENTENCE = re.compile(r"[\s.!?]*([^.!?]*)")


def _sentence_after(message: str, sentence: str) -> str:
    """The sentence that follows `sentence` in `message` ("" when there is none or `sentence` is not in it)."""
    at = message.find(sentence) if message else -1
    return _NEXT_SENTENCE.match(message, at + len(sentence)).group(1) if at >= 0 else ""


_ONE_OF = re.compile(r"\bone\s+of\s+(?:(?:the|my|our|his|her|their|your|these|those)\s+)?(?:[\w-]+\s+)?$")
# A person described by a list of what they have ("a pt w severe anorexia, really low mood and v suicidal"): a
# subject-less predicate that ends the list (only degree words before it) is theirs. A kind of person when the
# article is indefinite, as `_noun_person` reads "a patient with ..."; someone in particular otherwise.
_DESCRIBED_LIST = re.compile(r"\b(?P<det>a|an|the|this|that|one|my|our|his|her)\s+(?:[\w-]+\s+)?"
                             r"(?:pt|patient|client|service user|resident|lad|girl|boy|man|woman|guy|bloke|kid|teen|teenager|person)"
                             r"\s+(?:w/?|with)\s+(?![^.!?;]*\b(?:i|i am|me|my|myself)\b)[^.!?;]*$")
_DEGREE_ONLY = re.compile(r"^\W*(?!.*\b(?:i|me|my|he|she|they|we|you|is|am|are|was|were|feel|feels|feeling|felt|says|said|went|got|get|gets|came|ended)\b)"
                          r"(?:(?:[\w-]+\s+){1,5}?(?:and|or|plus)\s+)?"
                          r"(?:(?:v|very|really|quite|pretty|so|acutely|actively|highly|severely|extremely|also)\s+)*$")
# "one of the chefs at our resort has been cutting": a clause that opens with one of a group has that one for
# its subject, whatever the group's noun.
_ONE_OF_OPENS = re.compile(r"^\W*(?:(?:and|but|so|also)\s+)?one of (?:the|my|our|his|her|their|them|those|these)\b(?:\s+[\w'-]+){0,6}\s+$")


def _noun_person(clause: str, match: re.Match) -> str:
    """Return whether a noun subject is the writer, a specific person, or people in general."""
    word = match.group("noun")
    before = clause[: match.start()]
    after = clause[match.end() : match.end() + 24]
    if _COPULA_FIRST.search(before):
        return "first"  # "am I a bad person for ...", "I'm a nurse who ..."
    if _POSSESSED.search(before):
        return "third"  # "my son", "her 15 year old daughter"
    if _ONE_OF.search(before):
        return "third"  # "one of the med students on my firm": one person of a group
    if word in _PLURAL_NOUNS or (word.endswith("s") and word not in ("boss", "bus")):
        return "generic"  # "patients who want to die"
    if _DESCRIBED.match(after):
        return "generic"  # "a patient with suicidal ideation" describes a kind of patient
    if _ANY_EVERY.search(before):
        return "generic"
    return "third"  # "a patient told me", "the client said"


def _walk_back(R: Rules, clause: str, anchor: int) -> _Subject | None:
    """Return the nearest subject before position `anchor` in the clause, or None."""
    matches = list(R.subject.finditer(clause, 0, anchor))
    # An aside in brackets closed before the anchor is not where its subject is: "my best mate from the clinic (we
    # cant meet irl so we just text) sent me a pic of pills lined up".
    asides = [m.span() for m in _ASIDE.finditer(clause, 0, anchor)]
    if asides:
        matches = [m for m in matches if not any(start < m.start() < end for start, end in asides)]
    if not matches:
        return None
    last = matches[-1]
    if (last.group("first") == "i" and len(matches) > 1 and (matches[-2].group("noun") or matches[-2].group("third"))
            and not clause[matches[-2].end():last.start()].strip() and R.cues["contact_clause"].match(clause, last.start())):
        # "the lad i work with took an overdose", "a coworker i think might be suicidal": "i" opens a clause that
        # describes the person named just before (cue.contact_clause), who is the subject.
        return _walk_back(R, clause, last.start())
    # "my bf sent me a snap": an object pronoun after a verb of giving or telling is not the subject.
    # ... nor is one after a preposition of company: "lad on nights with me keeps joking about ...".
    while (last.group("first") in ("me", "us") and len(matches) > 1
           and (_OBJECT_VERB.search(clause, 0, last.start()) or _COMPANY_BEFORE.search(clause, 0, last.start()))):
        matches.pop()
        last = matches[-1]
    if last.group("first"):
        person = "first"
    elif last.group("you"):
        person = "you"
    elif (last.group("third") in ("him", "her", "them") and len(matches) > 1
          and _OBJECT_VERB.search(clause, 0, last.start()) and _GIVEN_THING.match(clause, last.end())):
        # "i wrote her a letter for after": the one written to, not who acts.
        return _walk_back(R, clause, last.start())
    elif (last.group("third") in ("him", "her", "them") and len(matches) > 1
          and _GERUND_ADJUNCT.match(clause, last.end()) and _PREPOSITION_BEFORE.search(clause, 0, last.start())):
        return _walk_back(R, clause, last.start())
    elif last.group("third"):
        # "someone with a history of attempts" describes a kind of person, like "patients".
        # ... and so does "(faster) for someone who is suicidal".
        # ... and "(can esketamine be given in a&e) to someone who's actively suicidal": a treatment given to anyone.
        described = last.group("third") in ("someone", "somebody") and (
            _WITH.match(clause, last.end()) or clause[: last.start()].endswith("for ")
            or bool(_GIVEN_TO.search(clause, 0, last.start())))
        person = "generic" if described else "third"
    elif last.group("generic"):
        # "risk assessments on other people, then I drive home thinking about ...": an object. Not when a
        # relative clause makes them its subject: "it's only for people who want to kill themselves".
        if _PREPOSITION_BEFORE.search(clause, 0, last.start()) and len(matches) > 1 and not _RELATIVE_AFTER.match(clause, last.end()):
            return _walk_back(R, clause, last.start())
        person = "generic"
    else:
        if _OBJECT_NOUN_BEFORE.search(clause, 0, last.start()) or R.cues["people_around"].search(clause, 0, last.end()):
            # "left things for the kids ...", "gave my watch to my nephew, sorted the will": an object, not who acts.
            return _walk_back(R, clause, last.start()) if len(matches) > 1 else None
        determiner = _PERSON_DETERMINER.search(clause, 0, last.start())
        if determiner and _OBJECT_VERB.search(clause, 0, determiner.start()) and _GIVEN_THING.match(clause, last.end()):
            # "wrote the wife a letter and put it where she'll find it": the one written to, not who acts.
            return _walk_back(R, clause, last.start()) if len(matches) > 1 else None
        if R.cues["owned_thing"].match(clause, last.end()) and (
                last.group(0).endswith("s") or clause.startswith("'", last.end())):
            # "cleaned my granddad's rifle and loaded it", "put my mums ring and the house deeds in an envelope for my
            # brother": the owner of the means or the keepsake (cue.owned_thing), not who acts on it.
            return _walk_back(R, clause, last.start()) if len(matches) > 1 else None
        person = _noun_person(clause, last)
    return _Subject(person, last.start(), last.end())


# The groups of a pattern that name its person ("subj" last: a subject pronoun), and the others a pattern may hold.
_WHO_GROUPS = ("who", "who2", "who3", "who4", "who5", "who6", "who7", "who8", "who9", "who10", "who11", "subj")
_OTHER_GROUPS = frozenset({"head", "head2", "act", "q", "rest"})


def _who(match: re.Match, nouns: re.Pattern | None = None,
         owned: re.Pattern | None = None) -> tuple[str | None, str | None]:
    """The person a pronoun inside the pattern names, and that pronoun. A possessive followed by a
    person ("my girlfriend's wrists") names that person, unless what follows is a thing they own (cue.owned_thing):
    "gave my nans ring to my niece" is the writer's act."""
    groups = match.groupdict()
    for name in _WHO_GROUPS[:-1]:
        value = groups.get(name)
        if value:
            noun = nouns.match(match.string, match.end(name) + 1) if nouns is not None and value in ("my", "our") \
                else None
            if noun is not None and owned is not None and owned.match(match.string, noun.end()) and (
                    noun.group(0).endswith("s") or match.string.startswith("'", noun.end())):
                return _PERSON_OF[value], value
            if noun is not None:
                return "third", value
            return _PERSON_OF.get(value, "third"), value
    subj = groups.get("subj")
    if subj:
        return {"i": "first", "you": "you", "one": "you"}.get(subj, "third"), subj
    return None, None


def _group_of(match: re.Match, value: str) -> str:
    """The name of the who-group of `match` that captured `value`."""
    return next(name for name in _WHO_GROUPS
                if match.groupdict().get(name) == value)


# A clause that opens with a reporting verb, its subject left out ("..., said this is my last season"), and the
# clause before it that opens with someone named ("our head chef has been talking weird").
_ELIDED_REPORT = re.compile(r"(?:and\s+|then\s+)?(?:just\s+|even\s+|also\s+)?(?:said|says|keeps saying|kept saying|"
                            r"told (?:me|us|everyone|the team)|tells (?:me|us|everyone)|texted|wrote|goes)\b")
_THIRD_OPENING = re.compile(r"\W*(?:my|our|the|his|her|their|one of (?:my|our|the))\s+(?:[a-z]+\s+){0,2}?"
                            r"(?:has|have|had|is|was|were|keeps|kept|been|started|starts|seems|seemed|went|goes|"
                            r"gave|left|sent|posted|will|would|can|could|does|did)\b")


def _elided_report(sentence: str, at: int) -> bool:
    """Whether the clause of `sentence` holding position `at` reports someone else's words with the subject
    left out: "our head chef has been talking weird, said this is my last season and you'll get my station when
    im gone" (the first person is the chef's)."""
    bounds = list(_CLAUSE_SPLIT.finditer(sentence, 0, at))
    if not bounds or not _ELIDED_REPORT.match(sentence, bounds[-1].end()):
        return False
    opening = bounds[-2].end() if len(bounds) > 1 else 0
    return bool(_THIRD_OPENING.match(sentence, opening, bounds[-1].start()))


def _begins_under_if(sentence: str, clause: str, match: re.Match) -> bool:
    """Whether the act matched in `clause` is something the writer might begin to feel or want, inside a
    condition opened earlier in `sentence` (`_IF_STARTS`), even across "and"."""
    at = sentence.find(clause)
    return at >= 0 and bool(_IF_STARTS.search(sentence, 0, at + match.start()))


def _dwelt_on(cues: dict[str, re.Pattern], whole: str, clause: str, match: re.Match) -> bool:
    """Whether `whole` (the message) says, after the match, that the writer keeps thinking about it
    (`cue.dwelling`), or frames the hypothetical the match is in as what they keep thinking (`cue.dwelling_frame`,
    ending a few words before the match or inside its first ones: "keep thinking if i just took all of them")."""
    at = whole.find(clause)
    if cues["dwelling"].search(whole, at + match.end() if at >= 0 else 0):
        return True
    if at < 0:
        return False
    start = at + match.start()
    frames = list(cues["dwelling_frame"].finditer(whole, max(0, start - _FRAME_REACH), start + _FRAME_IF))
    return bool(frames) and not _SENTENCE_END.search(whole, frames[-1].end(), start) and start - frames[-1].end() <= _FRAME_GAP


def _contrast_between(contrast: re.Pattern, clause: str, start: int, match: re.Match) -> bool:
    """Whether a contrast (`cue.contrast`) begins between `start` (a denial's end) and the start of `match`,
    running into the match or not: "not suicidal or anything just want to disappear"."""
    found = contrast.search(clause, start, match.end())
    return found is not None and found.start() <= match.start()


# A negation of a condition's own verb ("if it does not work[,] that is me done"): it denies the condition,
# not what follows it, when another verb stands between it and the match.
_CONDITION_NOT = re.compile(r"\b(?:if|unless|once|when)\s+(?:it|this|that|they|he|she|you|the\s+\w+|\w+)\s+"
                            r"(?:does|do|did|is|are|was|were|has|have|will|would|can|could)\s*$")
_BARE_ADVERB = re.compile(r"^\s*(?:(?:really|even|actually|truly|just|ever)\s+)*$")


_WITHOUT_GERUND = re.compile(r"\bwithout\s+(?:even\s+|really\s+|once\s+)?[a-z]+ing\b")


def _without_between(clause: str, start: int, match: re.Match) -> bool:
    """Whether "without" and a gerund begin between `start` (a negation's end) and the start of `match`."""
    found = _WITHOUT_GERUND.search(clause, start, match.end())
    return found is not None and found.start() < match.start()


def _denies_condition(clause: str, negation: re.Match, match: re.Match) -> bool:
    """Whether `negation` denies an if-clause's own verb, with that verb between it and `match`."""
    return bool(_CONDITION_NOT.search(clause, 0, negation.start())) \
        and not _BARE_ADVERB.match(clause[negation.end():match.start()])


def _returns_after(cues, text: str, clause: str, match: re.Match) -> bool:
    """Whether `text` says, after the match, that what it tells goes on or has come back (cue.still_so): "i wanted
    to die and i still do"; after a denial, "... i havent wanted to be dead. then it wears off and the wanting is
    back" (the denial held only for a while)."""
    at = text.find(clause)
    return at >= 0 and bool(cues["still_so"].search(text, at + match.end()))


def _taken_as_mine(cues: dict[str, re.Pattern], sentence: str, clause: str, match: re.Match, message: str) -> bool:
    """Whether a topic named with no owner is taken up just after as the writer's own ("... asking cos mine are
    pretty loud rn"): read on from the match to the end of the next sentence of the message."""
    text = message or sentence
    at = text.find(clause)
    if at < 0:
        return False
    rest = text[at + match.end():]
    ends = [m.end() for m in _SENTENCE_END.finditer(rest)]
    return bool(cues["topic_mine"].search(rest[: ends[1] if len(ends) > 1 else len(rest)]))


_IF_CLAUSE_OPEN = re.compile(r"\b(?:if|once|in case)\s+(?P<rest>[^.?!,;]*)$")
# The writer's own state named as what a condition is on ("if my mood ...", "if the depression ..."), or the writer.
_OWN_STATE = re.compile(r"^(?:my|the)\s+(?:\w+\s+)?(?:depression|mood|low|lows|dark patch|dark thoughts|head|"
                        r"mental health|anxiety|illness|episode)\b|\b(?:i|me|my|myself)\b")


def _asked_if_it_comes(cues: dict, sentence: str, clause: str, match: re.Match) -> bool:
    """Whether the risk words `match` names stand in a condition on the writer's own state ("if the depression gets
    to the suicidal point", "if my mood ever turns suicidal") in a sentence that asks what the writer would do then
    (cue.asks_own_if: "what would i actually do", "who do i ring"). Not a condition on someone else or on people
    in general ("what do i do if the ketamine makes the suicide risk worse for my patients")."""
    at = sentence.find(clause)
    before = sentence[: at + match.start()] if at >= 0 else clause[: match.start()]
    opened = _IF_CLAUSE_OPEN.search(before)
    if not (opened and cues["asks_own_if"].search(sentence)):
        return False
    condition = opened.group("rest") + re.split(r"[.?!,;]", clause[match.start():], maxsplit=1)[0]
    return bool(_OWN_STATE.search(condition)) and not (cues["third_person"].search(condition)
                                                       or load_rules().group.search(condition))


def _decide(R: Rules, rule: Rule, match: re.Match, clause: str, previous: str,
            sentence: str, message: str = "") -> tuple[str, str] | None:
    """(level, decision id) for one match, or None when the match does not count. `message` is the
    whole (normalised) message, for what a later sentence says of an earlier one ("not for me")."""
    if rule.fixed is not None:
        return rule.fixed
    cues = R.cues
    prefix = clause[: match.start()]
    kind = rule.kind
    head = match.groupdict().get("head")
    if kind == "verbal" and head in _NOMINAL_HEADS and _NOMINALISED.search(prefix):
        kind = "nominal"  # "the wish to die", "her need to end it"
    if (kind == "verbal" and head and head.endswith("ing") and _GERUND_AS_NOUN.search(prefix)
            and _walk_back(R, clause, match.start()) is None):
        kind = "nominal"  # "is wanting to die a symptom of depression?": a gerund naming a topic
    if kind == "verbal" and _BEING_AS_NOUN.search(prefix) and not _WRITER.search(sentence):
        kind = "nominal"  # "why is being really suicidal a reason for ECT?": "being so" names a topic, as a gerund does

    person, pronoun = _who(match, R.person_noun, R.cues["owned_thing"])
    anchor = match.start()
    owner_text = ""
    if kind == "nominal" and cues["condition_with"].search(prefix):
        return ("clinical", "clinical.topic")  # "how ECT is used for depression with suicidal thinking"
    if kind == "nominal":
        owner = R.owner.search(prefix)
        if owner is None and _taken_as_mine(cues, sentence, clause, match, message):
            # "does ketamine make suicidal thoughts worse at first? asking cos mine are pretty loud rn": the topic
            # named, then taken up as the writer's own.
            return ("crisis", "crisis.first_person")
        if owner is None and _asked_if_it_comes(cues, sentence, clause, match):
            # "what would i actually do if the depression after TMS gets to the suicidal point?": the writer's own
            # "what if", not a topic.
            return ("concern", "concern.hypothetical_self")
        if owner is None:
            return ("clinical", "clinical.topic")
        owner_text = owner.group(0)
        # "the topic is self-harm assessment": a thing, not a person. "do we pause ECT if there's active SI": "there
        # is" says the thing exists, owned by no one named ("we" are the ones deciding, not the ones who have it).
        if owner.group("verb") in ("is", "are", "was", "were", "been") and (
                _THING_SUBJECT.search(prefix, 0, owner.start()) or _THERE_BEFORE.search(prefix, 0, owner.start())):
            return ("clinical", "clinical.topic")
        if owner.group("poss"):
            person, pronoun = _PERSON_OF[owner.group("poss")], owner.group("poss")
        elif owner.group("possn"):
            person = "third"
        anchor = owner.start()

    subject = _walk_back(R, clause, anchor)
    relative = _RELATIVE_BEFORE.search(clause, 0, anchor) if person is None and kind == "verbal" else None
    if relative is not None and relative.group("antecedent") in ("i", "me", "myself", "you"):
        relative = None
    elif relative is not None and (_COPULA_I.search(clause, 0, relative.start("antecedent"))
                                   or _AS_BEFORE.search(clause, 0, relative.start("antecedent"))
                                   or _MYSELF_AFTER.match(clause, match.end())):
        # "I'm someone who is suicidal", "as someone who is suicidal myself": the noun is the writer.
        person, relative = "first", None
    elif relative is not None and relative.group("antecedent") in ("someone", "somebody", "anyone", "anybody"):
        relative = None  # anyone at all, or one person: read as before ("for someone who's acutely suicidal")
    if relative is not None:
        # ... one of a group is one person: "one of our residents who is suicidal".
        person = "generic" if R.group.fullmatch(relative.group("antecedent")) and not _ONE_OF.search(
            clause, 0, relative.start("antecedent")) else "third"
        subject = _Subject(person, relative.start("antecedent"), relative.end("antecedent"))
    elif (person is None and subject is not None and subject.person == "third"
          and R.when_anyone.search(clause, 0, subject.end) and not R.cues["plan"].search(sentence)):
        # "what ECT is for when someone is suicidal", "when a client discloses suicidal thoughts": anyone at all.
        subject = _Subject("generic", subject.start, subject.end)
    elif (person is None and subject is not None and subject.person == "third"
          and clause[subject.start:subject.end] in ("they", "them") and _they_are_people(R, sentence, clause)):
        # "Is ECT given to people in prison, and who consents if they're sectioned and actively suicidal?":
        # "they" refers back to a group named earlier in the sentence, not to one person.
        subject = _Subject("generic", subject.start, subject.end)
    if person is None:
        if subject is not None:
            person = subject.person
        elif kind == "nominal" and owner_text and _PRO_DROP.match(prefix):
            person = "implicit"  # "just relapsed on self harm": a fragment with the writer left out
        elif kind == "nominal" and previous and _DROPPED_PAST.match(clause) and (
                told := getattr(_walk_back(R, previous, len(previous)), "person", None)) in ("first", "third"):
            # "my brother's in the trade too, came out of hospital after an od last month": a clause that opens
            # with its verb goes on with the subject of the clause before it.
            person = told
        elif kind == "nominal":
            return ("clinical", "clinical.topic")  # "is self-harm common": owned by no one
        elif kind == "means":
            person = "first" if _FIRST_CUE.search(sentence) else rule.default
        elif rule.default == "skip":
            return None
        elif rule.default == "implicit" and (cues["record_of_someone"].search(prefix) or (
                previous and cues["record_of_someone"].search(previous))):
            # "found his ipad search history, how to end it and ways that dont hurt": what he searched or wrote.
            person = "third"
        elif rule.default == "implicit" and (_named_before(R, prefix) or _ONE_OF_OPENS.search(prefix)):
            # "the main character ... dies by suicide": someone named, not the writer (in fiction, no one).
            person = "generic" if _FICTION.search(prefix) else "third"
        elif rule.default == "implicit" and previous and _DEGREE_ONLY.match(prefix) \
                and not _FIRST_CUE.search(clause, match.end()) and (listed := _DESCRIBED_LIST.search(previous)) is not None:
            # "thinking of a pt w severe anorexia, really low mood and v suicidal": the list's last item.
            person = "generic" if listed.group("det") in ("a", "an", "one") else "third"
        elif rule.default == "implicit" and _PLURAL_BEFORE.search(prefix) and _GROUP_PREDICATE.match(match.group(0)):
            person = "generic"  # "stats saying rural blokes die by suicide at twice the city rate": a group
        elif rule.default == "implicit" and _PLURAL_LIKELIHOOD.search(prefix):
            person = "generic"  # "are gambling addicts more likely to be suicidal": how likely a group is to be it
        elif rule.default == "implicit" and cues["impersonal_frame"].search(prefix):
            person = "you"  # "is it even possible to OD in a clinic setting": anyone at all, as "can you ..."
        elif rule.default == "implicit" and previous and _THIRD_VERB_OPENS.match(prefix + match.group(0)) \
                and getattr(_walk_back(R, previous, len(previous)), "person", None) == "third":
            # "mate lost his garage, keeps joking about driving off beachy head": a verb in its third-person form
            # opens the clause after one about someone else, so its dropped subject is theirs, not the writer's.
            person = "third"
        elif rule.default == "implicit" and _THIRD_VERB_OPENS.match(prefix + match.group(0)) \
                and _THIRD_SELF.search(clause, match.start()) and not _FIRST_CUE.search(clause):
            # "keeps going on about driving into the river to 'reset' himself": a third-person verb opens the
            # clause, and the act turns back on him or her, so the dropped subject is that person's.
            person = "third"
        elif rule.default == "implicit" and previous and _ELABORATES.match(prefix) and (
                told := getattr(_walk_back(R, previous, len(previous)), "person", None)) in ("first", "third"):
            # "then i found hes been hiding his pills in a sock in the drawer, like saving them": his, not the writer's.
            person = told
        else:
            person = rule.default
    elif subject is not None:
        if pronoun in ("myself", "meself") and subject.person in ("third", "generic"):
            # "my friend keeps saying kill myself": the first person belongs to someone else's words.
            return ("concern", "concern.reported_speech")
        if person == "third" and subject.person == "generic" and pronoun not in ("him", "her"):
            # "why do people kill themselves"; not one person set apart from them: "he said me and the kids would
            # be better off without him".
            person = "generic"

    if (subject is not None and pronoun in ("i", "he", "she", "they", "we")
            and subject.person != _PERSON_OF[pronoun] and match.start() <= match.start(_group_of(match, pronoun))):
        # The pattern names its own subject ("... when I am gone") and someone else was named before
        # it ("my family won't have to deal with bills"): that subject's words are not this one's.
        inner = match.start(_group_of(match, pronoun))
        subject = _Subject(_PERSON_OF[pronoun], inner, inner + len(pronoun))
    sub_start = subject.start if subject else 0
    sub_end = subject.end if subject else 0
    before_subject = clause[:min(sub_start, match.start())]
    window = clause[sub_end : match.start()]
    if person == "first" and subject is not None and cues["reporter"].search(
            (previous + " " + before_subject).strip() + " "):
        return ("concern", "concern.reported_speech")
    if person == "first" and subject is not None and sentence.find(clause) >= 0 \
            and _elided_report(sentence, sentence.find(clause) + match.start()):
        return ("concern", "concern.reported_speech")

    owned = bool(cues["owns_question"].search(message or sentence))
    if person == "you" and (cues["self_as_you"].search(message or sentence) or owned
                            or cues["screen_yes"].search(message or sentence)):
        # "you just get to the point where ... you wish you weren't": the writer, told as "you"; and
        # "can you overdose on ...? i need to be sure it would work", "the form asked about harming
        # yourself ... honest answer is yes": the question is the writer's own.
        person = "first"

    if kind == "means":
        if cues["reporter"].search((previous + " " + clause[:match.start()]).strip() + " "):
            return ("concern", "concern.reported_speech")  # "a patient phoned us asking how many ... it would take"
        if pronoun == "you" and subject is not None and subject.person in ("third", "generic"):
            return ("concern", "concern.generic_means")  # "my 15yo has been searching how many ... would kill you"
        if person in ("third", "generic") and cues["own_way"].search(clause[:match.start()]):
            # "quit eatin ... i just figured its the quietest way for an old man to go": the way the writer judges
            # for what they are doing is theirs, whoever it is said to suit.
            return ("crisis", "crisis.means_seeking")
        # "... a lethal dose for an average adult? not for me": asked of people in general.
        generic = pronoun not in ("i", "me", "my", "myself") and cues["generic_target"].search(message or sentence)
        # "how many mg of donepezil would be fatal": with no subject, what a dose would be is asked of
        # people in general; "how many would it take to not wake up" asks for an outcome.
        # ... and so is "how many paracetamol does it take to be fatal": the property right after the match.
        generic = generic or (person == "implicit" and pronoun is None and bool(
            cues["lethal_property"].search(clause, match.start(), match.end() + _PROPERTY_REACH)))
        # "how many of them would it take. the ones in the drawer": asked of a store the writer keeps.
        if (person in ("first", "implicit", "you") and not generic) or (
                person in ("implicit", "generic") and pronoun is None and cues["own_stash"].search(message or sentence)):
            return ("crisis", "crisis.means_seeking")
        return ("concern", "concern.generic_means")

    # A negation counts when it starts between the subject and the predicate; it is read with what
    # follows, so "can't stop cutting" (an intensifier) is not a denial.
    # ... and within the match's own clause of a sentence-scope rule ("not a big deal, just been sitting ...").
    local_start = max(sub_end, clause.rfind(",", 0, match.start()) + 1)
    # ... and a result after "so" is its own: "it didnt work so whats the point of anything" denies nothing.
    # ... nor does a reason after "because".
    for result in _RESULT.finditer(clause, local_start, match.start()):
        local_start = result.end()
    for reason in _OWN_REASON.finditer(clause, local_start, min(len(clause), match.start() + 2)):
        local_start = max(local_start, min(reason.end(), match.start()))
    # ... but not a match that opens a time clause of its own: "I don't want anything left behind for anyone
    # to deal with when I'm gone" denies nothing about being gone.
    opens_time_clause = bool(_TIME_CLAUSE.match(match.group(0)))
    # ... nor one before words that hold their own ("cant work cant sleep cant do this"): a list of what the
    # writer cannot do, not a denial of it.
    own_negation = bool(_OWN_NEGATION.match(match.group(0)))
    negated = not opens_time_clause and bool(
                   any(m.start() < match.start() and not own_negation
                       and not _contrast_between(cues["contrast"], clause, m.end(), match)
                       and not cues["denial_ended"].search(clause, m.end(), match.end())
                       and not _denies_condition(clause, m, match)
                       # ... nor one undone by "without" and a gerund: "i never go a day without thinking about
                       # killing myself", "i cant look at her without feeling like a burden" say it always is.
                       and not _without_between(clause, m.end(), match)
                       # ... and not across a full stop the sentence split kept ("not getting renewed for sem 2.
                       # keep thinking everyone would be better off without me")
                       and not _STOP_BETWEEN.search(clause, m.end(), match.start())
                       for m in cues["negation"].finditer(clause, local_start, match.end()))
                   # "no thoughts of killing myself or hurting myself": the negation spans the list
                   or (_LIST_TAIL.match(clause[:match.start()]) and cues["negation"].search(previous))
                   or _NEGATED_LIST.search(clause[:match.start()])
                   or cues["negated_lead"].search(before_subject)
                   or (owner_text and cues["denial"].search(owner_text)))
    after = clause[match.end() :]
    cut = _LOCAL_END.search(after)
    local_after = after[: cut.start()] if cut else after
    # "I'm no longer suicidal", "I'm not suicidal anymore": a past state, not a denial.
    no_longer = "no longer" in window or (negated and _NO_MORE.match(after)) \
        or (negated and _PERFECT_NOT.search(window) and _NOT_SINCE.match(local_after))

    if person in ("first", "implicit") and _FICTION.search(sentence) and _FICTION_SUBJECT.search(clause[:match.start()]):
        return ("clinical", "clinical.generic_person")  # about the story's character, not the reader
    if person in ("first", "implicit"):
        if subject is not None and cues["attributed"].search(clause[:sub_start]) \
                and not _CONFIRMED.search(sentence[max(sentence.find(clause), 0) + match.end():]):
            return ("clinical", "clinical.attributed")  # "will it make the assessor assume I'm suicidal?": feared, not told
        at_sentence = max(sentence.find(clause), 0)
        asked_yes = False  # asked, and answered yes: the writer's own statement, not a hypothetical
        if subject is not None and cues["asked_if"].search(clause[:sub_start]):
            # "my GP asked if ive had thoughts of self harm and i genuinely havent": asked, and answered no, in the
            # sentence or the next ("... harming myself. i said no"), and not taken back anywhere after the question.
            answer = sentence[at_sentence + match.end():] + ". " + _sentence_after(message, sentence)
            rest = message[message.find(sentence):] if message and sentence in message else sentence
            if cues["answered_no"].search(answer) and not cues["lied"].search(rest, at_sentence + sub_start):
                return ("clinical", "clinical.attributed")
            asked_yes = bool(cues["answered_yes"].search(answer))
        if (no_longer or negated) and _returns_after(cues, message or sentence, clause, match):
            # denied for a while, and come back since: it is now
            return ("crisis", "crisis.first_person" if person == "first" else "crisis.implicit_first_person")
        if no_longer:
            return ("concern", "concern.past_self")
        if negated:
            return ("clinical", "clinical.negated")
        if subject is not None and not owned and not asked_yes and (cues["hypothetical"].search(before_subject)
                                    or cues["hypothetical_ahead"].search(before_subject)
                                    or _IF_URGE.search(clause, 0, match.start())
                                    or _IF_OPENS.search(clause, 0, match.start())
                                    or _begins_under_if(sentence, clause, match)) \
                and not _AGO.search(clause[sub_start:]) and not _ALREADY.match(clause, sub_end) \
                and not _PLANNED.match(clause, sub_end) and not _GET_GIVEN.match(clause, sub_end) \
                and not cues["own_harm_told"].search(message or sentence) \
                and not _dwelt_on(cues, message or sentence, clause, match):
            # "if I took 40 of my seroquel an hour ago" is no hypothetical; nor one the writer says they keep
            # thinking about ("if i od'd ... maybe someone would look after me. thinking about it more and more").
            return ("concern", "concern.hypothetical_self")
        if subject is None and not _AGO.search(sentence):
            # With no subject, a conditional earlier in the sentence governs it ("if one day the dark
            # thoughts come back, like wanting to die, what should I do?").
            at = sentence.find(clause)
            if cues["hypothetical_ahead"].search(sentence[: at + match.start()] if at >= 0 else clause[: match.start()]):
                return ("concern", "concern.hypothetical_self")
            # ... and so does one that opens the matched words themselves, when they name no one and tell a return
            # or a beginning: "what if [the suicidal thoughts come back once ECT finishes]" (not "wondering if [I
            # tied my cord to it]", nor "what if wanting to die never goes away", which is had now).
            if person != "first" and _IF_OPENS.search(clause, 0, match.start()) \
                    and _RETURN_OR_ONSET.search(clause, match.start(), match.end() + 30) \
                    and not cues["own_harm_told"].search(message or sentence) \
                    and not _dwelt_on(cues, message or sentence, clause, match):
                return ("concern", "concern.hypothetical_self")
            # ... and so does one the clause only names more exactly: "what if ... i start getting dark thoughts
            # again, like suicidal ones".
            if at >= 0 and _IF_NAMED_AGAIN.search(sentence, 0, at + match.start()):
                return ("concern", "concern.hypothetical_self")
        whole = message or sentence
        at_whole = whole.find(clause)
        if at_whole >= 0 and not cues["not_a_joke"].search(whole) and (
                cues["joked_threat"].match(whole, at_whole + match.end())
                or (cues["joked_condition"].search(whole[: at_whole + match.start()])
                    and cues["laughed_off"].match(whole, at_whole + match.end()))):
            # "gonna jump off a bridge if they move the deadline again 😂 jk" (the condition and the joke after the
            # act), or "if one more tourist asks me if the snow is real im gonna throw myself off the magic carpet lol"
            # (an ordinary annoyance coming round again before it, laughed off in the same breath)
            return ("concern", "concern.joked_threat")
        recent = cues["recent"].search(clause[sub_start : match.end()] + local_after)
        joined = _CONJUNCTION.search(after)
        distant = cues["distant"].search(clause[: match.end()] + (after[: joined.start()] if joined else after))
        if distant and subject is not None and distant.end() <= sub_start \
                and _CONJUNCTION.search(clause, distant.end(), sub_start) \
                and not cues["past"].search(clause, sub_start, match.end()):
            # "my husband had his stroke 2 yrs ago and honestly I think about ending it": the time dates the
            # clause before the conjunction; the writer's own is in the present.
            distant = None
        if distant and own_negation and match.start() <= distant.start() and distant.end() <= match.end():
            # "i no longer want to wake up": the words that deny a wish to live are the act, not its time.
            distant = None
        if distant and not recent and distant.end() <= match.start():
            # "14 months clean and tonight I've got enough ...": a time named after the past one is now.
            recent = cues["recent"].search(clause, distant.end(), match.start())
        at = sentence.find(clause)
        if not distant and not recent:
            # "I overdosed after my first was born, 6 yrs ago": a time said aside, between commas.
            distant = at >= 0 and dated_aside(cues["distant"], sentence, at + match.start(), at + match.end(),
                                              unless=cues["recent"])
        if not distant and not recent and at >= 0:
            # "I attempted in 2019 after a layoff, overdose, spent a week inpatient": a bare noun set beside
            # a dated clause names what that clause told.
            distant = _apposed_to_dated(cues["distant"], cues["recent"], sentence, at + match.start(), at + match.end())
        if not distant and not recent and at > 0 and subject is None and (
                cues["past"].search(clause, 0, match.start()) or cues["past"].match(clause, match.start())
                or (rule.tense == "event" and _PAST_HEAD.match(clause, match.start()))):
            # "when my husband first got diagnosed i went through a really dark patch, had the pills counted out":
            # a subjectless clause in the past goes on with the dated clause before it.
            dated = cues["distant"].search(sentence, 0, at)
            distant = dated if dated and not cues["recent"].search(sentence, dated.end(), at + match.end()) else None
        if not distant and not recent and subject is None and previous and _ELABORATES.match(clause[:match.start()]) \
                and not cues["recent"].search(previous):
            # "i had dark thoughts for a few months, like wanting to not exist": the example is of that time.
            distant = cues["past"].search(previous)
        # "for the first time i thought about using one on myself": a first time, with no time long past named, is now.
        if not recent and not distant and subject is not None and cues["first_time"].search(clause[:sub_start]) \
                and not cues["distant"].search(sentence):
            recent = True
        # "i wanted to die and i still do": what was told of the past goes on now.
        if not recent and _returns_after(cues, sentence, clause, match):
            recent = True
        # "... but I stopped last summer and haven't since": read on past the clause, to the sentence's end.
        if not recent and cues["ceased"].search(sentence[at + match.end():] if at >= 0 else after):
            return ("concern", "concern.past_self")
        # "I've wanted to die since September": lasting until now, unless a stop is said after it ("… but since
        # my ECT course I feel much better", "… not anymore though").
        if not recent and cues["ongoing"].search(clause[sub_start:match.end()] + local_after):
            rest = (message or sentence)
            at_message = rest.find(clause)
            recent = not cues["stopped_after"].search(rest[at_message + match.end():] if at_message >= 0 else after)
        # "the nurse asked if i was suicidal and i said yes": the question's past tense is the asking's, not the state's.
        if asked_yes and not distant:
            recent = True
        if rule.tense == "event":
            past = distant and not recent
        else:
            # Only the head verb of the match carries its tense: "wish I was dead" is not past.
            head_word = match.group(0).split(" ", 1)[0]
            # A clause after "so" has its own tense: "tms did nothing so might as well walk into the sea".
            result_clause = None
            for result_clause in _RESULT.finditer(window):
                pass
            own = window[result_clause.end():] if result_clause else window
            past = (distant or cues["past"].search(own.rstrip() + " " + head_word)) and not recent
            # "i stopped wanting to live after the divorce but ECT helped": a stop told in the simple past,
            # with its end told after it ("i have stopped wanting to live" is now).
            if not past and not recent and head_word in ("stopped", "quit", "gave") \
                    and not re.search(r"\bha(?:ve|s|d)\s*$", own) and cues["stopped_after"].search(
                        sentence[at + match.end():] if at >= 0 else after):
                past = True
        if not past and not recent and at >= 0 \
                and (cues["past"].search(sentence, 0, at + match.start()) or cues["distant"].search(sentence)):
            # "last year i had some proper dark thoughts, like wishing i hadnt come round. thats long gone now": told
            # in the past, and said in the next sentence to be over.
            past = bool(cues["over_now"].match(_sentence_after(message, sentence)))
        if past:
            return ("concern", "concern.past_self")
        return ("crisis", "crisis.first_person" if person == "first" else "crisis.implicit_first_person")
    if person == "third" and subject is not None and (cues["generic_question"].search(sentence) and (
            _INDEFINITE.match(clause[sub_start:sub_end]) or _INDEFINITE_BEFORE.search(clause[:sub_start])
            or _ROLE_NAMED.search(clause[:sub_end]))
            or (clause[sub_start:sub_end] == "they" and (_GENERIC_THEY.search(clause[:sub_start]) or (
                cues["generic_question"].search(sentence) and (_GENERIC_ONE_THEY.search(clause[:sub_start])
                                                                 or _GENERIC_ONE_WITH.search(clause[:sub_start])))))):
        return ("clinical", "clinical.generic_person")  # "signs that a teenager might be thinking about ..."
    if person == "third" and cues["fiction"].search(message or sentence):
        return ("clinical", "clinical.fictional")  # "writing a short story where a student considers ending her life"
    if person == "third" and subject is not None and cues["how_to_ask"].search(clause[:sub_start]):
        # "how do i ask a fella straight out if hes thinkin about suicide": how to put the question to anyone.
        return ("clinical", "clinical.how_to_ask")
    if person == "third":
        if negated:
            return ("clinical", "clinical.negated")
        at = sentence.find(clause)
        if at >= 0 and _SO_DO_I.match(sentence, at + match.end()):
            # "she keeps saying she wants to die and honestly so do i": the writer says it of themselves too.
            return ("crisis", "crisis.first_person")
        return ("concern", "concern.third_person")
    if person == "you" and (cues["record_of_someone"].search(prefix) or (
            previous and cues["record_of_someone"].search(previous))):
        return ("concern", "concern.third_person")  # "found stuff in his search history about how to hang yourself"
    if person == "you":
        return ("clinical", "clinical.generic_you")
    return ("clinical", "clinical.generic_person")


# --------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------


def _pieces(clauses: list[str]) -> list[str]:
    """The non-empty clauses, long ones cut at spaces into overlapping pieces."""
    out: list[str] = []
    for clause in clauses:
        clause = clause.strip()
        start = 0
        while start < len(clause):
            end = len(clause) if len(clause) - start <= _MAX_CLAUSE else clause.rfind(" ", start, start + _MAX_CLAUSE)
            if end <= start:
                end = min(len(clause), start + _MAX_CLAUSE)
            out.append(clause[start:end].strip())
            if end >= len(clause):
                break
            back = clause.rfind(" ", start, end - _OVERLAP)
            start = back + 1 if back > start else end
    return [piece for piece in out if piece]


_WRITER_AS_OBJECT = re.compile(r"\b(?:from|of|without|with|on|for|to|about) (?:me|myself)\b")


def _about_writer(R: Rules, sentence: str) -> bool:
    """True unless the sentence opens with someone else as its subject ("my son has been very depressed",
    "she says ...") and never names the writer ("my family deserves a break from me" does)."""
    opening = R.subject.match(sentence.strip()) or re.match(r"(?:my|his|her|their|our)\s+", sentence.strip())
    if opening is None or _WRITER_AS_OBJECT.search(sentence):
        return True
    first = R.subject.search(sentence)
    return bool(first is not None and first.group("first"))


_GROUP_WHO = r"\s+(?:who|that)\s+(?:(?!(?:i|im|we|me|my)\b)[\w']+\s+){0,4}$"
# The writer counted among the group: "i'm one of those people who have nothing to live for".
_ONE_OF_THEM = re.compile(r"\b(?:i am|we are|i was)\s+(?:\w+\s+)?(?:one of|among|amongst|like)\b")


_ME_TOO = re.compile(r"[\s,]*(?:[\w']+\s+){0,3}?(?:like me|like myself|including me|me included|myself included|"
                     r"as i am|as i do)\b")


def _said_of_group(R: Rules, before: str, after: str = "") -> bool:
    """Whether the words just `before` a cue make it part of a relative clause about people in general ("we see a
    lot of pts who end up really depressed"): their hopelessness, not the writer's, unless the words `after` it
    count the writer among them ("people who feel hopeless like me")."""
    return bool(_group_clause(R.group.pattern).search(before)) and not _ME_TOO.match(after) \
        and not _ONE_OF_THEM.search(before)


@lru_cache(maxsize=4)
def _group_clause(group: str) -> re.Pattern:
    """The group (`Rules.group`) followed by the opening of a relative clause about it (`_GROUP_WHO`), compiled once."""
    return re.compile(r"\b(?:" + group + ")" + _GROUP_WHO)


_SOME_OF = re.compile(r"(?:one|some|two|a few|several|a couple) of (?=(?:my|our|his|her|their|the)\s)")


def _clause_at(sentence: str, at: int) -> str:
    """The clause of `sentence` that position `at` falls in, from its start to the end of the sentence, with
    "one of my carriers ..." opened as "my carriers ..." so that `_about_writer` hears whose clause it is:
    "im a supervisor, one of my carriers left a note that read like a goodbye" tells of the carrier."""
    opening = 0
    for boundary in _CLAUSE_SPLIT.finditer(sentence, 0, at):
        opening = boundary.end()
    clause = sentence[opening:]
    some = _SOME_OF.match(clause)
    return clause[some.end():] if some else clause


def _someone_else(R: Rules, text: str) -> bool:
    """Whether `text` opens with someone else or reports their words ("my son keeps saying", "pt endorsed")."""
    return bool(R.cues["reporter"].search(text + " ")) or bool(R.cues["other_opening"].search(text))


def tells_of_someone_else(message: str, in_voice: bool | None = None) -> bool:
    """Whether `message` tells of someone else, not of people in general: it is not in the writer's voice
    (`in_writers_voice`, passed as `in_voice` when already known), or it names someone else ("mom found
    weeks of his pills hidden", "gestern meinte er ...") with no first-person word in any of the six
    languages. What the backstop hears in it is that person's risk."""
    R = load_rules()
    whole = normalise(message, correct=False)
    if R.cues["generic_target"].search(whole):
        return False
    if not (in_writers_voice(message, message) if in_voice is None else in_voice):
        return True
    return bool(R.cues["third_person"].search(whole)) and not R.cues["first_person_any"].search(whole)


def _message_has(cue: str, message: str) -> bool:
    """Whether the lexicon's cue `cue` is found in `message`, normalised as the rules read it (no spelling fixes)."""
    return bool(load_rules().cues[cue].search(normalise(message, correct=False)))


def told_as_recent(message: str) -> bool:
    """Whether `message` names a time that places what it tells now (cue.recent: "an hour ago", "just took")."""
    return _message_has("recent", message)


_ONE_PERSON = re.compile(r"\b(?:he|she|him|her|his|hers|himself|herself|my|our)\b")
_PEOPLE = re.compile(r"\b(?:they|them|themselves|people|patients|pts|clients|callers)\b")


def speaks_of_people_only(message: str) -> bool:
    """Whether `message` tells of people in the plural and of no one person ("how do i get them to stop thinking about
    killing themselves"; not "my daughter told me she wants to die")."""
    norm = normalise(message, correct=False)
    return bool(_PEOPLE.search(norm)) and not _ONE_PERSON.search(norm)


def called_a_joke(message: str) -> bool:
    """Whether `message` calls what came before a joke and says no more of it (cue.called_a_joke: "lol jk jk im fine"),
    not a telling of what it was ("i mean my weekly meds in the dosette box")."""
    return _message_has("called_a_joke", message)


def told_as_fiction(message: str) -> bool:
    """Whether `message` tells of a story, a character or a script (cue.fiction: "my character says ...")."""
    return _message_has("fiction", message)


def measured_before(message: str, earlier: Sequence[str]) -> bool:
    """Whether `message` refers back to a size or weight (cue.measure_referred: "someone that size") that the
    writer gave of themselves in one of the `earlier` messages (cue.own_measure: "im about 58kg")."""
    R = load_rules()
    return bool(R.cues["measure_referred"].search(normalise(message, correct=False))) and any(
        R.cues["own_measure"].search(normalise(m, correct=False)) for m in earlier)


def names_someone_else(message: str) -> bool:
    """Whether `message` names someone other than the writer (a pronoun for them or a person noun)."""
    return bool(load_rules().cues["third_person"].search(normalise(message, correct=False)))


def asks_whom_to_tell(sentence: str) -> bool:
    """Whether `sentence` asks whom to tell or what to do (cue.asks_whom_to_tell): "im just a porter, who
    do i tell??"."""
    return bool(load_rules().cues["asks_whom_to_tell"].search(normalise(sentence, correct=False)))


_IF_WHETHER = re.compile(r"\b(?:if|whether)\s*")


def put_to_writer(text: str) -> bool:
    """Whether `text` tells of a question someone put to the writer (cue.asked_if: "the nurse asked if ive had
    thoughts of ending my life"), as against the writer's own "what if I ever ..."."""
    cue = load_rules().cues["asked_if"]
    norm = normalise(text, correct=False)
    return any(cue.search(norm, 0, m.end()) for m in _IF_WHETHER.finditer(norm))


# A sentence that opens with its verb in the past, the writer left out ("bought a shotgun tuesday", "wrote the letters
# last night"); not "need", "bleed".
_VERB_FIRST = re.compile(r"^\W*(?:(?:just|finally|already|also|and|then|so|anyway|today|yesterday|tonight)\s+)*"
                         r"(?:[a-z]+(?<!e)ed|bought|got|took|wrote|made|found|sold|gave|left|put|kept|sent|hid|paid|"
                         r"went|told|drove|rang|brought|dug|held|hung|built|ran|cut|set|bound)\b")


def speaks_without_subject(sentence: str) -> bool:
    """Whether `sentence` tells of an act with the writer left out ("bought a shotgun tuesday."): it opens with its
    verb in the past, names no one and asks nothing. Whose act it is depends on whom the message names."""
    norm = normalise(sentence, correct=False)
    return bool(_VERB_FIRST.match(norm)) and "?" not in norm and not load_rules().cues["third_person"].search(norm)


def speaks_of_self(sentence: str) -> bool:
    """Whether `sentence` has a first-person word and does not open with someone else or report their
    words: it is the writer's own, whatever the sentences around it."""
    R = load_rules()
    norm = normalise(sentence, correct=False)
    return bool(_FIRST_CUE.search(norm)) and not _someone_else(R, norm) and not R.cues["generic_target"].search(norm)


def in_writers_voice(sentence: str, message: str = "") -> bool:
    """Whether a semantic verdict on `sentence` (of `message`) is about the writer: not when it opens
    with someone else or reports their words ("my son keeps saying ...", "pt endorsed ...", "mi hermano
    ..."), when the message opens that way ("ma pal keeps sayin ... what dae i dae"), when it says it
    is not about the writer ("not about me"), nor, when the sentence names no one, when any sentence of
    the message is about someone else. The backstop reads meaning, not who."""
    R = load_rules()
    norm = normalise(sentence, correct=False)
    whole = normalise(message, correct=False) if message else norm
    parts = [part.strip() for part in _SENTENCE_SPLIT.split(whole) if part.strip()]
    if _someone_else(R, norm) or (parts and _someone_else(R, parts[0])) or R.cues["generic_target"].search(whole):
        return False
    if _FIRST_CUE.search(norm):
        return True
    return not any(_someone_else(R, part) for part in parts)


_UPGRADABLE = frozenset({"cssrs.wish_dead", "cssrs.active_thoughts", "cssrs.method"})


def _item(R: Rules, rule: Rule, decision: str, clause: str, match: re.Match, sentence: str) -> str:
    """The screening item of a finding: the rule's own, raised to intent or plan by what the writer says
    around it ("going to", "tonight", "from the bridge"), and to method when one is named."""
    item = rule.item
    if item not in _UPGRADABLE or not decision.startswith("crisis."):
        return item
    if R.cues["plan"].search(sentence):
        return "cssrs.plan"
    if R.cues["intent"].search(clause[: match.end()]):
        return "cssrs.intent"
    if item == "cssrs.active_thoughts" and R.cues["method_named"].search(clause):
        return "cssrs.method"
    return item


@dataclass
class _Scan:
    """What one pass over a text found."""

    level: str = "none"
    fired: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    signs: list[str] = field(default_factory=list)  # ids of first-person signs that need context
    sign_places: set[tuple[int, int]] = field(default_factory=set)  # (sentence, offset) of each sign
    other_signs: list[str] = field(default_factory=list)  # the same about someone else
    past_signs: list[str] = field(default_factory=list)  # ids of the writer's signs told of the past
    other_means: bool = False  # one of them is preparation: means got, belongings given away
    distress: bool = False
    note: bool = False  # the message is a clinical note about a patient: subjectless clauses are theirs
    implicit_signs: list[tuple[str, tuple[int, int]]] = field(default_factory=list)  # subjectless signs, by place
    third_sentences: set[int] = field(default_factory=set)  # sentences with a finding about someone else
    own_denial: bool = False  # a denial in the writer's own clause ("..., i dont want to die at all")
    you_signs: list[tuple[str, tuple[int, int]]] = field(default_factory=list)  # signs told of "you", by place
    foreign_plan: bool = False  # a sign in one of the five languages with a time ahead after it (read_languages)


def _scan(R: Rules, text: str, scan: _Scan, reported: bool) -> None:
    """Run the rules over every clause of `text`, adding what fires to `scan`."""
    topic = False
    last = ""
    sentences = [s.strip() for s in _SENTENCE_SPLIT.split(text)]
    for number, sentence in enumerate(sentences):
        if not sentence:
            continue
        sentence = _neutralise_idioms(R, sentence, scan.fired, sentences[max(0, number - 1):number + 2])
        if R.cues["topic"].search(sentence):
            topic = True
            if any(_asked_if_it_comes(R.cues, sentence, sentence, m) for m in R.cues["topic"].finditer(sentence)):
                # "what would i actually do if the depression after TMS gets to the suicidal point?"
                scan.fired.extend(("topic.own_if", "concern.hypothetical_self", "cssrs.active_thoughts"))
                scan.findings.append(Finding("topic.own_if", "cssrs.active_thoughts", "concern",
                                             "concern.hypothetical_self"))
                scan.level = max(scan.level, "concern", key=RANK.__getitem__)
        # Read with the sentence before, for what refers back to it ("hope is a skill. I've run out of it").
        joined = f"{last} {sentence}" if last else sentence
        start = len(joined) - len(sentence)
        # Someone else's farewell, quoted, is not the writer's hopelessness ("he texted me 'sorry for everything'").
        quoted = [(m.start() + start, m.end() + start) for m in R.cues["farewell"].finditer(sentence)] if reported else []
        distressed = any(m.end() > start and not any(a < m.end() and m.start() < b for a, b in quoted)
                         and _about_writer(R, _clause_at(sentence, max(0, m.start() - start)))
                         and not _said_of_group(R, joined[:m.start()], joined[m.end():])
                         for m in R.cues["distress"].finditer(joined)) and _about_writer(R, sentence)
        found_before = len(scan.findings)
        last = sentence
        if reported and R.cues["farewell"].search(sentence):
            # Someone else's farewell, quoted ("she texted 'sorry for everything'").
            scan.fired.extend(("farewell.reported", "concern.reported_speech"))
            scan.findings.append(Finding("farewell.reported", "cssrs.preparation", "concern", "concern.reported_speech"))
            if RANK[scan.level] < RANK["concern"]:
                scan.level = "concern"
        previous = ""
        clauses = _pieces(_CLAUSE_SPLIT.split(sentence))
        whole = _pieces([sentence])
        sentence_heads = word_heads(sentence)
        for n, clause in enumerate(clauses):
            context = sentence if len(sentence) <= 2 * _MAX_CLAUSE else clause
            heads = word_heads(clause)
            # Only the rules that can match these words (a sentence-scope rule is read once, at the first clause).
            for rule in R.candidates(heads, None if n else sentence_heads):
                if rule.sentence_scope:
                    matches = [m for text in whole for m in rule.pattern.finditer(text)]
                else:
                    matches = rule.pattern.finditer(clause)
                for match in matches:
                    where = match.string  # the clause, or the whole sentence for a sentence-scope rule
                    if rule.check is not None and not rule.check(match, where, context):
                        continue
                    decision = _decide(R, rule, match, where, "" if rule.sentence_scope else previous, context, text)
                    if decision is None:
                        continue
                    found, decision_id = decision
                    if scan.note and decision_id == "crisis.implicit_first_person":
                        found, decision_id = "concern", "concern.third_person"  # "pt ... endorsed SI w/ plan"
                    if rule.needs_context:
                        # Kept aside: it counts only when the context makes it a crisis or concern
                        # (see read_message).
                        if found == "crisis" and not reported or decision_id == "concern.past_self":
                            # Two rules reading the same words are one sign: count it once, by place.
                            place = (number, max(sentence.find(where), 0) + match.start())
                            if not any(p[0] == place[0] and abs(p[1] - place[1]) < 12 for p in scan.sign_places):
                                scan.sign_places.add(place)
                            if decision_id == "concern.past_self":
                                scan.past_signs.append(rule.rule_id)
                            if found == "crisis":
                                scan.signs.append(rule.rule_id)
                                if decision_id == "crisis.implicit_first_person":
                                    scan.implicit_signs.append((rule.rule_id, place))
                        elif decision_id == "clinical.generic_you" and not reported:
                            # "is TMS any good if youve already got the rope sorted": anyone's, unless the writer
                            # says the question is theirs (read_message).
                            place = (number, max(sentence.find(where), 0) + match.start())
                            scan.you_signs.append((rule.rule_id, place))
                        elif found in RISK_LEVELS:  # someone else's sign, or one in their quoted words
                            scan.other_signs.append(rule.rule_id)
                            if rule.item == "cssrs.preparation":
                                scan.other_means = True
                        continue
                    if reported and found in RISK_LEVELS:
                        found, decision_id = "concern", "concern.reported_speech"
                    if decision_id == "clinical.negated" and not reported and _FIRST_CUE.search(where) \
                            and in_writers_voice(where):
                        scan.own_denial = True
                    item = _item(R, rule, decision_id, where, match, context)
                    scan.fired.extend((rule.rule_id, decision_id))
                    if found in RISK_LEVELS and item:
                        scan.fired.append(item)
                    scan.findings.append(Finding(rule.rule_id, item, found, decision_id))
                    if decision_id in ("concern.third_person", "concern.reported_speech"):
                        scan.third_sentences.add(number)
                    if RANK[found] > RANK[scan.level]:
                        scan.level = found
            previous = clause
        # Hopelessness in a sentence that tells of someone else's risk is theirs, unless the writer's own is
        # told there too: "detainee ... told the FME hed had ECT last year and it didnt work so whats the point".
        if distressed and not (number in scan.third_sentences and not any(
                f.decision.startswith(_SELF_DECISIONS) for f in scan.findings[found_before:])):
            scan.distress = True
    if scan.level == "none" and topic:
        scan.fired.extend(("topic.suicide_or_self_harm", "clinical.topic"))
        scan.level = "clinical"


@dataclass(frozen=True)
class Reading:
    """The rules' verdict on one message, before history.

    `signs` are the ids of first-person signs that are a crisis only in context (a rope bought, a
    date set, "how many would be too many"); `self_risk` is True when the writer states risk of
    their own (now, in the past, or "what if I"); `distress` when they voice hopelessness.
    """

    level: str
    rule_ids: tuple[str, ...]
    findings: tuple[Finding, ...]
    signs: tuple[str, ...]
    self_risk: bool
    distress: bool
    means_talk: bool = False  # speaks of means, places, times or amounts (cue.means_talk)
    means_named: bool = False  # names a method or its means (cue.method_named, the pill words)
    refers_back: bool = False  # refers to someone or something named earlier (cue.refers_back)
    safe_now: bool = False  # says they are safe, were joking, or take it back (cue.safe_now, cue.reframed), or denies risk of their own with no hopelessness beside it
    semantic_risk: bool = False  # the backstop heard the writer's own risk in it (set by assess, for history)
    semantic_other: bool = False  # the backstop heard risk in it, told of someone else (set by assess, for history)
    for_me: bool = False  # says an earlier question about someone else, or a hypothetical, was about them (cue.for_me)
    if_it_comes: bool = False  # asks what to do if what was just spoken of comes to the writer (cue.own_if_back)
    not_a_joke: bool = False  # says an earlier joke was not (only) a joke (cue.not_a_joke)
    retracts: bool = False  # takes earlier words back as not meant, a joke or not literally (cue.retracts); also safe_now
    denies_now: bool = False  # says they do not feel it at present, and no more (cue.denies_now)
    new_subject: bool = False  # turns to something else ("totally different question tho", cue.new_subject)
    screen_yes: bool = False  # answers yes for themselves to a form's or screener's question (cue.screen_yes)
    reframed: bool = False  # says earlier words were a film's, a song's, a book's or an exam's (cue.reframed)
    own_words: bool = False  # names words the writer said or posted themselves (cue.own_words): "what i said in the gc"
    long_ago: bool = False  # names a time long past (cue.distant): "years ago", "in 2019", "when I was 16"
    reattributed: bool = False  # says earlier words were someone else's, a person they know (cue.reattributed)
    acknowledges: bool = False  # opens by acknowledging an answer ("thanks. ...", cue.acknowledged)
    generalises: bool = False  # says words about someone were about people in general (cue.generalised)
    loss_told: bool = False  # names someone else's death (cue.bereaved_other: "my crew chief lost his son in may")
    closes: bool = False  # thanks for an answer, the person spoken of is well again (cue.closing), or earlier words were a film's or an exam's (cue.reframed)

    @property
    def writer_at_risk(self) -> bool:
        """True when the writer stated risk of their own now (a crisis finding, or one the backstop heard)."""
        return self.semantic_risk or any(f.decision.startswith("crisis.") for f in self.findings)

    @property
    def gives_context(self) -> bool:
        """True when this message makes a later sign a crisis."""
        return bool(self.signs) or self.self_risk or self.distress or self.semantic_risk


_SELF_DECISIONS = ("crisis.", "concern.past_self")
_FOR_ME_DECISIONS = frozenset({"concern.third_person", "concern.generic_means", "concern.hypothetical_self",
                               "clinical.generic_person", "clinical.generic_you"})  # "what if I ever ..." gives no context to a sign


def _claim_for_me(scan: _Scan, decisions) -> None:
    """The findings with these decisions made the writer's own: they said the someone else, or the
    hypothetical, is them ("asking for me", "same truck number actually lol")."""
    for n, finding in enumerate(scan.findings):
        if finding.decision in decisions:
            scan.findings[n] = Finding(finding.rule_id, finding.item, "crisis", "crisis.for_me")
            scan.fired.extend((finding.rule_id, "crisis.for_me"))
            scan.level = "crisis"


def _scan_languages(R: Rules, text: str, scan: _Scan) -> None:
    """Add what the Spanish, French, German, Portuguese and Italian phrases find to `scan`. Where an idiom
    was read in the message ("me quiero morir de vergüenza"), they read it with its idioms blanked out."""
    if any(rule_id.startswith("idiom.") for rule_id in scan.fired):
        text = _neutralise_idioms(R, normalise(text, correct=False), [])
    found, topic, distress, planned = read_languages(text)
    scan.distress = scan.distress or distress
    scan.foreign_plan = scan.foreign_plan or planned
    # Someone in a story ("estoy escribiendo un cuento donde la protagonista quiere morir") is a topic, as in English.
    fictional = R.cues["fiction"].search(normalise(text, correct=False))
    for rule_id, item, level, decision, needs_context in found:
        if fictional and decision == "concern.third_person":
            level, decision = "clinical", "clinical.fictional"
        if needs_context:
            if level == "crisis":
                scan.signs.append(rule_id)
                scan.sign_places.add((-1, len(scan.sign_places)))  # each phrase is a sign of its own
            elif level == "concern":
                scan.other_signs.append(rule_id)
            continue
        scan.fired.extend((rule_id, decision))
        if level in RISK_LEVELS:
            scan.fired.append(item)
        scan.findings.append(Finding(rule_id, item, level, decision))
        if RANK[level] > RANK[scan.level]:
            scan.level = level
    if scan.level == "none" and topic:
        scan.fired.extend(("topic.suicide_or_self_harm", "clinical.topic"))
        scan.level = "clinical"


_OWNED = re.compile(r"\b(?:my|our)\s+(?:[\w-]+\s+)?")


def _names_own_person(R: Rules, text: str) -> bool:
    """True when `text` names someone of the writer's own ("my daughter (19)", "our son"): words quoted in it
    are theirs, reported, not an example put in anyone's mouth."""
    return any(R.person_noun.match(text, m.end()) or R.person_noun.match(text, m.start() + len(m.group(0).split()[0]) + 1)
               for m in _OWNED.finditer(text))


# A sentence that asks rather than tells: a treatment named in it is not the date's booking.
_ASKS_OPENS = re.compile(r"^\W*(?:(?:and|but|so|anyway|anyways|also|btw|ok|okay)\W+)*(?:(?:the\s+)?only thing i (?:want|need) to know|i (?:just\s+)?(?:want|need) to know|"
                         r"(?:just\s+)?wondering|does|do|can|could|will|would|is|are|how|what|why)\b")


def _date_booked(R: Rules, norm: str) -> bool:
    """Whether every date the writer says they picked is an appointment: "Finally got the date!! booked for the 14th".
    The booking must be in the date's own clause, after it in that sentence, or in the next: a TMS question elsewhere
    does not make "I've picked a date" one, nor does "bf keeps saying TMS will work, he doesnt know ive picked a date"."""
    sentences = _SENTENCE_SPLIT.split(norm)
    for n, sentence in enumerate(sentences):
        picked = R.date_picked.search(sentence)
        if picked is None:
            continue
        own_clause = _CLAUSE_SPLIT.split(sentence[:picked.start()])[-1] + sentence[picked.start():]
        # The next sentence books it by naming a booking ("booked for the 14th"), or a treatment when it tells rather
        # than asks ("first ECT is on the 14th"): a treatment asked about there ("got the date, got the place. only
        # thing i want to know is if ECT memory loss ...") books nothing.
        after = " ".join(sentences[n + 1:n + 2])
        if not R.cues["booking"].search(own_clause) and not (
                (R.cues["booking"].search(after) and not _ASKS_OPENS.match(after))
                or R.cues["booking_named"].search(after)):
            return False
    return True


def read_message(text: str, context: bool = False, others_context: bool = False) -> Reading:
    """The rules' Reading of one message. `context` is True when earlier messages give context
    (Reading.gives_context): then a sign in this one is a crisis. `others_context` is True when a message just
    before told someone else's loss (Reading.loss_told): then someone else's sign in this one is a concern.

    A conversation's earlier messages are read again at every turn: the last readings are kept (a
    Reading is immutable, and the rules are loaded once per process)."""
    return _read_message(text, bool(context), bool(others_context))


@lru_cache(maxsize=1024)
def _read_message(text: str, context: bool, others_context: bool = False) -> Reading:
    R = load_rules()
    scan = _Scan()
    # Misspelt English risk words are corrected only in English: "suizidal" is German, not a typo.
    norm = normalise(text, correct=not is_foreign(text))
    # A note the writer writes about themselves ("Pt (me) reports ...") is theirs: "pt (me)" is "i".
    norm = _PATIENT_ME.sub("i", norm)
    scan.note = bool(R.cues["clinical_note"].search(norm))
    norm = _set_aside_mentions(R, norm, scan.fired)
    norm, quotes = _extract_quotes(norm, R.cues["reframed"])
    _scan(R, norm, scan, reported=False)
    for quote in quotes:
        _scan(R, quote, scan, reported=True)
    _scan_languages(R, text, scan)
    if any(f.decision == "concern.reported_speech" for f in scan.findings) and R.cues["generic_question"].search(norm) \
            and not _names_own_person(R, norm):
        # Words put in the mouth of anyone at all ("how do you explain that when a patient says 'I want
        # to die' the nurse must ask about a plan?") are an example for teaching, not someone's report.
        scan.findings = [Finding(f.rule_id, f.item, "clinical", "clinical.generic_person")
                         if f.decision == "concern.reported_speech" else f for f in scan.findings]
        scan.fired.append("clinical.generic_person")
        scan.level = max((f.level for f in scan.findings), key=RANK.__getitem__, default="none")
    for_me = bool(R.cues["for_me"].search(norm))
    if for_me:
        # "if someone wanted to ... which floor would do the job. ok not hypothetical, asking for me"
        _claim_for_me(scan, _FOR_ME_DECISIONS)
        # ... and a sign told of "you" is the writer's: "is TMS any good if youve already got the rope sorted in the
        # barn. asking for me not a mate".
        for rule_id, place in scan.you_signs:
            if rule_id not in scan.signs:
                scan.signs.append(rule_id)
                scan.sign_places.add(place)
        if scan.level == "clinical" and not scan.findings and "topic.suicide_or_self_harm" in scan.fired:
            # "anyone know if the life insurance pays out if its suicide. asking for me": suicide named as a
            # topic, and the writer says the question is theirs.
            scan.findings.append(Finding("topic.for_me", "cssrs.active_thoughts", "crisis", "crisis.for_me"))
            scan.fired.extend(("topic.for_me", "crisis.for_me", "cssrs.active_thoughts"))
            scan.level = "crisis"
    if not for_me and R.cues["owned_after"].search(norm):
        # "can ketamine clinics tell if youve been planning to kill yourself? bc i have been": a question put to "you",
        # owned in a word after it, is the writer's (not one about a patient: "... asking because i do").
        _claim_for_me(scan, {"clinical.generic_you"})
    booked = "context.date_picked" in scan.signs and _date_booked(R, norm)
    # A sign of the writer's own: not the means question itself, nor a date that is a booking.
    own_sign = any(R.item_of.get(sign) != "means.seeking"
                   and not (booked and sign == "context.date_picked") for sign in scan.signs)
    if not for_me and (scan.distress or own_sign) and not scan.third_sentences \
            and not R.cues["generic_target"].search(norm) \
            and any(f.decision == "concern.generic_means" for f in scan.findings) \
            and not R.cues["third_person"].search(norm):
        # "whats the dose of ketamine where you just dont wake up. im so tired of all of it": a means question asked
        # of anyone, beside the writer's own hopelessness, is asked for the writer (not "... not for me", nor beside
        # someone else's: "my dad ... told my mum he's 'had enough of it all' ... how many of his heart pills").
        # So is one beside a sign of the writer's own: "what height does a fall need to be to definitely be fatal.
        # theres a footbridge ... i keep going up there on my break and looking down".
        _claim_for_me(scan, {"concern.generic_means"})
    elif not for_me and R.cues["own_measure"].search(norm):
        # "how much ketamine would actually kill someone my size, im 50kg and i have access": a question asked of
        # "someone" measured by the writer is the writer's.
        _claim_for_me(scan, {"concern.generic_means"})
    if RANK[scan.level] < RANK["crisis"] and R.cues["unsafe_answer"].search(norm):
        # "you asked if im safe. no not really": the answer to a question about their safety, across sentences.
        scan.findings.append(Finding("ideation.not_safe", "cssrs.active_thoughts", "crisis", "crisis.first_person"))
        scan.fired.extend(("ideation.not_safe", "crisis.first_person", "cssrs.active_thoughts"))
        scan.level = "crisis"
    if RANK[scan.level] < RANK["crisis"] and R.cues["welcomed_outcome"].search(norm):
        # "is it true ECT can stop your heart?? bc honestly that would be fine by me": a deadly outcome welcomed in the
        # next breath, across the sentence break, is a wish to be dead.
        scan.findings.append(Finding("ideation.accepting_death", "cssrs.wish_dead", "crisis", "crisis.first_person"))
        scan.fired.extend(("ideation.accepting_death", "crisis.first_person", "cssrs.wish_dead"))
        scan.level = "crisis"
    self_risk = any(f.decision.startswith(_SELF_DECISIONS) for f in scan.findings)
    if not self_risk:
        # A sign with no subject of its own, in a sentence about someone else, is theirs: "he'd made a
        # ligature from his bedsheet but took it off".
        for rule_id, place in scan.implicit_signs:
            if place[0] in scan.third_sentences and rule_id in scan.signs:
                scan.signs.remove(rule_id)
                scan.sign_places.discard(place)
                scan.other_signs.append(rule_id)
    if booked:
        scan.signs = [sign for sign in scan.signs if sign != "context.date_picked"]
    signs = tuple(dict.fromkeys(scan.signs))
    # "back in march i was properly planning it, had pills saved. got rid of them, got help ... im ok now": signs
    # of a time the writer dates in the past and says is over are that time's, a concern, not a plan now.
    resolved = bool(R.cues["distant"].search(norm) and R.cues["safe_now"].search(norm)
                    and not R.cues["recent"].search(norm))
    past_signs = list(dict.fromkeys(scan.past_signs))
    if resolved and signs and not self_risk and not scan.distress:
        past_signs += [sign for sign in signs if sign not in past_signs]
        signs = ()
    # ... and signs of that time in more than one place with none now ("last winter i was stood at the quarry edge at
    # 4am ready to go") tell of a past near-attempt: a concern, over or not.
    past_only = not signs and len(scan.sign_places) > 1
    if (resolved or past_only) and past_signs and RANK[scan.level] < RANK["concern"]:
        for sign in past_signs:
            scan.fired.extend((sign, "concern.past_self"))
            scan.findings.append(Finding(sign, "cssrs.preparation", "concern", "concern.past_self"))
        scan.level = "concern"
    # A sign is a crisis beside risk the writer states, hopelessness, a time or place ("for tonight"),
    # a second sign, or earlier context.
    # ... but not the time of something else in a question the writer says is not about them ("how much
    # antifreeze would kill an adult? not me, it was on the news tonight").
    planned = bool(signs) and (bool(R.cues["plan"].search(norm)) or scan.foreign_plan) and not (
        R.cues["generic_target"].search(norm) and not self_risk)
    # Two signs in different words (one may be of the past: "a tin from years back"), or one kept from everyone
    # ("results day is my last day. told nobody").
    several = len(scan.sign_places) > 1 or bool(signs and R.cues["concealed"].search(norm))
    folded = fold(text)
    # The writer's own loss named ("since Margaret passed"): grief is not risk, but it makes a sign beside it
    # (letters written, joining the one who died) a crisis, and someone else's a concern.
    bereaved = bool(R.cues["bereaved"].search(norm) or R.cues["bereaved"].search(folded))
    # ... or the writer saying the question is theirs ("what dose ... would be enough. for me").
    in_message = self_risk or scan.distress or planned or several or for_me  # what this message itself gives
    if signs and (in_message or context or bereaved):
        if bereaved and not (in_message or context):
            scan.fired.append("context.bereaved")
        item = R.item_of.get(signs[0], "cssrs.preparation")
        decision = "crisis.in_context" if in_message or bereaved else "crisis.in_conversation"
        for sign in signs:
            scan.fired.extend((sign, decision))
            scan.findings.append(Finding(sign, item, "crisis", decision))
        scan.fired.append(item)
        scan.level = "crisis"
    # About someone else ("my dad bought a gun"), a sign with distress or another sign is a concern.
    # ... or after their loss told just before (`others_context`: "my crew chief lost his son in may" ... "he said hes
    # been thinkin about joining him").
    if scan.other_signs and RANK[scan.level] < RANK["concern"] and (
            scan.distress or bereaved or len(scan.other_signs) > 1 or scan.findings or signs or scan.other_means
            or others_context
            or R.cues["bereaved_other"].search(norm)
            or R.cues["reporter"].search(norm) or R.cues["disclosed"].search(norm)):
        for sign in dict.fromkeys(scan.other_signs):
            scan.fired.extend((sign, "concern.third_person_in_context"))
            scan.findings.append(Finding(sign, "cssrs.preparation", "concern", "concern.third_person_in_context"))
        scan.level = "concern"
        if for_me:
            # "asking for another driver ... same truck number actually lol. ... the rope's in the side box"
            _claim_for_me(scan, {"concern.third_person_in_context"})
    # The writer denying risk of their own ("not suicidal at all", "I'd never hurt myself") with no sign,
    # risk or hopelessness beside it says they are safe, as the safe_now cue does.
    # A denial in the writer's own clause counts even when the message opens with someone else's words.
    denies_own = scan.level == "clinical" and not (signs or self_risk or scan.distress) and (scan.own_denial or any(
        f.decision == "clinical.negated" for f in scan.findings) and in_writers_voice(text, text))
    # Earlier words said to be a film's, a book's or an exam's ("that's a line from the novel for my
    # seminar") are taken back, and close what was told before them.
    reframed = bool(R.cues["reframed"].search(norm) or R.cues["reframed"].search(folded))
    # ... or a person's they know ("that's what my patient wrote in her sleep diary"): taken back as theirs.
    reattributed = bool(R.cues["reattributed"].search(norm)) and not self_risk and not R.cues["same_as"].search(norm)
    # "lol joking. mostly": a joke said to be only partly one takes nothing back.
    not_a_joke = bool(R.cues["not_a_joke"].search(norm) or R.cues["not_a_joke"].search(folded))
    retracts = bool(R.cues["retracts"].search(norm)) and not not_a_joke
    return Reading(scan.level, tuple(dict.fromkeys(scan.fired)), tuple(scan.findings), signs, self_risk,
                   scan.distress,
                   # Means out of reach ("she's locked my meds in her car") are a safety step, not a plan.
                   means_talk=bool(R.cues["means_talk"].search(norm) or R.cues["means_talk"].search(folded))
                   and not R.cues["means_removed"].search(norm),
                   means_named=bool(R.cues["method_named"].search(norm) or R.cues["method_named"].search(folded)
                                    or R.pills.search(R.cues["treatment_pair"].sub(" ", norm))),
                   refers_back=bool(R.cues["refers_back"].search(norm) or R.cues["refers_back"].search(folded)),
                   # "forget i said that, im fine, dont want it on any record": fine, and hushed (cue.hushed), is not safe.
                   safe_now=(bool(R.cues["safe_now"].search(norm)) and not not_a_joke and not R.cues["hushed"].search(norm))
                   or retracts or denies_own
                   or reframed or reattributed,
                   for_me=for_me, reattributed=reattributed, generalises=bool(R.cues["generalised"].search(norm)),
                   loss_told=bool(R.cues["bereaved_other"].search(norm)),
                   if_it_comes=bool(R.cues["own_if_back"].search(norm)),
                   not_a_joke=not_a_joke, retracts=retracts,
                   denies_now=bool(R.cues["denies_now"].search(norm)),
                   new_subject=bool(R.cues["new_subject"].search(norm) or R.cues["new_subject"].search(folded)),
                   acknowledges=bool(R.cues["acknowledged"].search(norm)),
                   screen_yes=bool(R.cues["screen_yes"].search(norm)),
                   own_words=bool(R.cues["own_words"].search(norm)), reframed=reframed,
                   long_ago=bool(R.cues["distant"].search(norm)),
                   closes=bool(R.cues["closing"].search(norm) or R.cues["closing"].search(text.lower())) or reframed)


def evaluate(text: str) -> tuple[str, tuple[str, ...]]:
    """The level of one message and the ids of the rules that fired, without history."""
    reading = read_message(text)
    return reading.level, reading.rule_ids
