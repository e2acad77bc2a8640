"""Step 1 of the safety layer: the canonical form the rules read."""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from functools import lru_cache

from .data import word_heads

log = logging.getLogger(__name__)


_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2013": " - ", "\u2014": " - ", "\u2212": "-", "\u2026": "...",
        "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
    }
)

# Words a starred, spaced or repeated-letter token may stand for. Only words the rules need.
_VOCAB = frozenset(
    """
    die dies died dying dead death kill kills killed killing myself self suicide suicidal harm hurt cut cutting
    overdose pills want wanna gonna please help so sleep wake need tired done hate end ending alone gone bye
    goodbye no now more anymore stop forever life living live point okay ok tonight sorry feel good bad why god
    ugh too all well see really hell soo yes lol just me i am im cant dont wont anyone nobody everyone better off
    without miss wish exist existing disappear burden pain sad kms unalive
    """.split()
)

# Letters spelled out with separators ("k.i.l.l", "s-u-i-c-i-d-e") are always joined.
_SPACED_PUNCT = re.compile(r"(?<![a-z0-9])(?:[a-z][.\-_*]){2,}[a-z](?![a-z0-9])")
# Letters spelled out with spaces ("d i e", "k i l l m y s e l f") are joined only when the
# result is a word the rules know, so ordinary single letters ("r u ok") are left alone.
_SPACED_BLANK = re.compile(r"(?<![a-z0-9'])(?:[a-z] ){2,}[a-z](?![a-z0-9'])")
_JOINED_WORDS = re.compile(r"^(?:kill|die|want|i|to|my|self|myself|end|it|me|kms)+$")

# Leetspeak is only undone inside words that mix letters and digits/symbols (k1ll, mys3lf,
# $uicide). A token that is a number with a unit (10km, 5mg, 2nd) is left as it is.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "|": "l"})
_MIXED_TOKEN = re.compile(r"[a-z0-9@$|*]+")
_NUMBER_UNIT = re.compile(r"\d+(?:[.,]\d+)?[a-z]{0,5}")
# Digit-words that are slang, not leetspeak: rewritten before leetspeak is undone.
_DIGIT_SLANG = {
    "2day": "today", "2nite": "tonight", "2night": "tonight", "nite": "night", "nites": "nights", "2moro": "tomorrow",
    "2morrow": "tomorrow", "2mrw": "tomorrow", "4ever": "forever", "b4": "before", "every1": "everyone", "some1": "someone",
    "no1": "no one", "any1": "anyone", "gr8": "great", "l8r": "later", "w8": "wait", "h8": "hate",
}
_RUN = re.compile(r"([a-z])\1{2,}")


def _unstar(token: str) -> str:
    """Resolve a censored word (k*ll, s*icide) against the vocabulary; unchanged if none fits."""
    pattern = re.compile(re.escape(token).replace(r"\*", "[a-z]"))
    for word in sorted(_VOCAB):
        if len(word) == len(token) and pattern.fullmatch(word):
            return word
    return token


def _squeeze(token: str) -> str:
    """Collapse runs of 3+ repeated letters, preferring a known word (diiiie -> die, killll -> kill)."""
    runs = list(_RUN.finditer(token))[:4]
    if not runs:
        return token
    fallback = None
    for lengths in itertools.product((1, 2), repeat=len(runs)):
        out, last = [], 0
        for run, n in zip(runs, lengths):
            out.append(token[last : run.start()])
            out.append(run.group(1) * n)
            last = run.end()
        out.append(token[last:])
        candidate = _RUN.sub(lambda m: m.group(1) * 2, "".join(out))
        if candidate in _VOCAB:
            return candidate
        if all(n == 2 for n in lengths):
            fallback = candidate
    return fallback or token


_ITEM_CODE = re.compile(r"(?:q|item|phq|gad|pcl|bdi|madrs|hamd?|ps|xbox|gta|fifa)-?\d{1,2}")


def _fix_token(match: re.Match) -> str:
    token = match.group(0)
    if token in _DIGIT_SLANG:
        return _DIGIT_SLANG[token]
    has_letter = any(c.isalpha() for c in token)
    if _ITEM_CODE.fullmatch(token):
        return token  # "q4", "phq9", "item9": a questionnaire item, not leetspeak
    if has_letter and not _NUMBER_UNIT.fullmatch(token) and any(c in "0123457@$|" for c in token):
        # "want2die" reads "want to die"; otherwise digits stand for letters.
        token = re.sub(r"(?<=[a-z])2(?=[a-z])", " to ", token)
        token = " ".join(part.translate(_LEET) for part in token.split(" "))
    if "*" in token and has_letter:
        token = _unstar(token)
    if _RUN.search(token):
        token = " ".join(_squeeze(part) for part in token.split(" "))
    return token


def _join_spaced(match: re.Match) -> str:
    joined = match.group(0).replace(" ", "")
    if joined in _VOCAB or _JOINED_WORDS.match(joined):
        return joined
    return match.group(0)


_REFLEXIVES = r"(?:myself|meself|me|himself|herself|themselves|themself|yourself|oneself)"

# Words after which "shed" is the noun: "the shed", "his garden shed".
_NOT_A_SHED = "".join(rf"(?<!\b{word} )" for word in "the a my his her our their your garden tool old this that in".split())

# Slang, shorthand and contractions, applied in order. Contractions are expanded whether or
# not the apostrophe was typed ("im", "dont", "cant"), so the rules see one canonical form.
_REWRITES: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # Words run together by spacing tricks ("k i l l m y s e l f").
        (r"\bkillmyself\b", "kill myself"),
        (r"\bwanttodie\b", "want to die"),
        # "kms" is "kill myself", except as kilometres: "10 kms", "how many kms", "kms away".
        (r"(?<![a-z])(\d[\d.,]*|a few|few|several|many|couple of|hundreds? of|thousands? of|ten|five|twenty"
         r"|some|more|extra|of|the)\s*kms\b", r"\1 kilometres"),
        (r"\bkms\s+(?=(?:away|from|to|per|an hour|a day|a week|long|north|south|east|west|run|walk|drive|each"
         r"|one way|round trip|there)\b)", "kilometres "),
        (r"\bkms\b", "kill myself"),
        (r"\bkys\b", "kill yourself"),
        (r"\bctb\b", "kill myself"),
        # "unalive" and other platform-safe euphemisms.
        (r"\bunalive\s+(?=(?:thoughts|urges|ideation|feelings)\b)", "suicidal "),
        (r"\buninstall(?:ing|ed)?\s+(?:myself|me)\b(?:\s+irl)?", "killing myself"),
        (r"\bunalive(s?)\s+(?=" + _REFLEXIVES + r"\b)", r"kill\1 "),
        (r"\bunalived\s+(?=" + _REFLEXIVES + r"\b)", "killed "),
        (r"\bunaliving\s+(?=" + _REFLEXIVES + r"\b)", "killing "),
        (r"\bunalived\b", "died"),
        (r"\bunaliving\b", "dying"),
        (r"\bunalive\b", "die"),
        (r"\bkermit\b(?=\s+(?:sewer|suicide|sui))", "commit"),
        (r"\bsewer ?slides?\b|\bsewercide\b|\bsui ?side\b|\bsooicide\b|\bsuey ?cide\b|\bsuicid\b", "suicide"),
        (r"\bcommit sudoku\b", "commit suicide"),
        (r"\bself[- ]?(?:delete|terminate|destruct)\b", "kill myself"),
        (r"\blog(?:ging|ged)? off (?:permanently|forever|for good|for ever|from life)\b", "die"),
        (r"\b(?:wknd|wkend|weeknd)\b", "weekend"),
        (r"\babt\b", "about"),
        (r"\bppl\b", "people"),
        (r"\b(nobody|no one|noone|everybody|everyone|somebody|someone)'d\b", r"\1 would"),
        # Dialect spellings: Scots, Irish and northern English, Jamaican Patois, Nigerian Pidgin.
        (r"\bgonnae\b", "going to"),
        (r"\bwannae\b", "want to"),
        (r"\bno tae\b", "not to"),
        (r"\btae\b", "to"),
        (r"\bwi\b(?!\s*-?\s*fi\b)", "with"),
        (r"\baff\b", "off"),
        (r"\bdae\b", "do"),
        (r"\b(can|would|did|could|should|is|was|does|do|have|has|had)nae\b", r"\1 not"),
        (r"\bdinnae\b|\bdinna\b", "do not"),
        (r"\b(will|would|can|could|should|shall|ll)\s+no\s+(?=be\b|need|get|see|make|last)", r"\1 not "),
        (r"\bawa\b", "away"),
        (r"\baw\b(?=\s+(?:his|her|my|ma|their|the|o|of)\b)", "all"),
        (r"\bgiein\b|\bgien\b", "giving"),
        (r"\bgaun\b", "going"),
        (r"\bme (?=(?:mam|mum|ma|nan|nana|gran|granny|da|dad|brother|sister|missus|mates?|kids|bairns?)\b)", "my "),
        (r"\b(?:mi|ma) (?=(?:little |likkle |lil |wee |big |baby |best |older |younger )?(?:mam|mum|ma|mother|nan|gran|da|dad|father|"
         r"brother|sister|pal|mate|friend|son|daughter|bairn|kids?|wife|husband|man|woman|bredren|cousin|auntie|uncle)\b)", "my "),
        (r"\bmi (?=(?:just|a|did|cyaan|cya|can|waan|want|wan|feel|tired|done|nah|nuh|neva|never|don|dun|haffi|gone|go|ago|ready|know|tink|think)\b)", "i "),
        (r"\bwaan\b", "want to"),
        (r"\bcyaan\b|\bcyah\b", "can not"),
        (r"\binna\b", "into"),
        (r"\bdi\b(?=\s+(?:sea|river|bridge|road|car|rope|pills|gun|end|way|pain|world|night|house|room|water|tracks|train)\b)", "the"),
        (r"\bnutten\b", "nothing"),
        (r"\blikkle\b", "little"),
        (r"\bhar\b", "her"),
        (r"\bgo fit\b", "would"),
        (r"\b(it|e|they|dem|them|these|those|tablets|pills|drugs)\s+go\s+(?=(?:do|kill|finish|work|end)\b)", r"\1 will "),
        (r"\b(?:i|i am|i'm|am)\s+don\s+tire\b", "i am so tired"),
        (r"\bwan\b(?=\s+(?:sleep|die|kill|end|go|rest|disappear|leave|stop|jump|drink|take)\b)", "want to"),
        # Dropped g's: "sayin", "kiddin", "takin", "bein".
        (r"\b(say|do|go|be|walk|hunt|feel|try|look|talk|think|wait|drink|jump|keep|hang|bleed|kill|end|dy|know|want|need"
         r"|wish|pray|stay|stand|fight|sleep|eat|cry|lie|read|work|watch|tell|ask|wonder|reach|pick|pack|check|count"
         r"|mean|start|plann|kidd|cutt|gett|sitt|putt|runn|stopp|dropp|sett)in\b", r"\1ing"),
        (r"\b(tak|mak|leav|giv|liv|lov|hop|com|us|writ|driv|los|clos|ignor)in\b", r"\1ing"),
        (r"\bself[- ]?(?:deleting|terminating)\b", "killing myself"),
        # Hyphenated words become two words so "self-harm" and "self harm" read the same.
        (r"(?<=[a-z])[-_](?=[a-z])", " "),
        # "kill my self" is "kill myself"; "my self esteem" and "my self harm" are not.
        (r"\bmy self\b(?!\s+(?:harm\w*|esteem|worth|care|confidence|image|respect|control|doubt|talk|destructive"
         r"|injur\w*|love|awareness|help|medicat\w*|isolation|diagnos\w*))", "myself"),
        # "sh" is shorthand for self-harm only next to words that say so ("sh urges", "been sh'ing").
        (r"\bsh(?=\s+(?:urges?|again|scars?|relapse|relapsed|free|clean|thoughts|wounds?|cuts?)\b)", "self harm"),
        (r"\b(been|started|start|stop|stopped|keep|kept|relapsed and)\s+sh(?:'?ing|'?ed)?\b", r"\1 self harm"),
        (r"\b(want|wanted|wants|urge|need|needed|going) to sh\b", r"\1 to self harm"),
        (r"\bsh'd\b", "self harmed"),
        # "SI" is clinical shorthand for suicidal ideation; only rewritten where it reads that way.
        (r"\b(passive|active|chronic|acute|current|recent|intermittent|endorses?|endorsed|endorsing|denies|denied"
         r"|denying|reports?|reported|reporting|having|has|had|have|with|no|any|of|for|without|positive|negative"
         r"|fleeting|discloses|disclosed|disclosing|admits|admitted|expresses|expressed|voices|voiced)\s+si\b",
         r"\1 suicidal ideation"),
        (r"\bsi(?=\s+(?:scores?|rates?|severity|items?|ratings?|symptoms?|outcomes?|reduction)\b)", "suicidal ideation"),
        # Text-speak adverbs and pronouns: "ill probs be dead by then", "wont need em where im going".
        (r"\b(?:probs|probz|prolly|probly)\b", "probably"),
        (r"\b(need|needs|needed|want|wants|keep|kept|take|took|give|gave|use|used|sell|sold|have|had|got) em\b",
         r"\1 them"),
        (r"\bod(?:'d|'?ed)\b", "overdosed"),  # not "odd"
        (r"\bod'?ing\b", "overdosing"),
        (r"\bod\b", "overdose"),
        # Contractions and their apostrophe-less spellings.
        (r"\bcan'?t\b|\bcannot\b", "can not"),
        (r"\bwon'?t\b", "will not"),
        (r"\bshan'?t\b", "shall not"),
        (r"\bain'?t\b", "am not"),
        (r"\b(do|does|did|is|are|was|were|have|has|had|would|should|could|must|need|might)n'?t\b", r"\1 not"),
        (r"\bi'?m\b", "i am"),
        (r"\bi'?ve\b", "i have"),
        (r"\bi'll\b", "i will"),  # "ill" without the apostrophe means unwell and is left alone
        (r"\bi'd\b", "i would"),
        # Text-speak "b" for "be" after a modal or "to" ("prob wont b around", "gonna b gone"); "plan b",
        # "vitamin b" and "b12" are left alone.
        (r"\b(not|will|would|could|should|might|must|may|to|gonna|wanna|never|ill)\s+b\b(?![-']\w)", r"\1 be"),
        # "I don't think I'll be around for the whole course" says "I think I will not be around": the negation of
        # a verb of belief belongs to what is believed.
        (r"\bi (?:do|did) not (think|reckon|expect|imagine|believe|suppose) (?:that )?i (will|would|am going to|am gonna) "
         r"(?=(?:still )?(?:be (?:around|here|alive)|last (?:much )?long(?:er)?|survive|see (?:christmas|another|next|the end))\b)",
         r"i \1 i \2 not "),
        (r"\bid(?= (?:be|rather|never|just|love|kill|like|want|do|die|have|go|sooner|really|probably)\b)", "i would"),
        # "ill use it" is "I'll use it"; "ill" before anything else means unwell and is left alone.
        (r"\bill(?= (?:use|do|go|be|still be|take|kill|end|jump|just|never|make|get|try|finish|drink|hang|shoot|walk|drive|see"
         r"|tell|call|probably|definitely|finally|actually|really|never|swallow|overdose|cut)\b)", "i will"),
        # "hed", "shed", "theyd" without the apostrophe: "she said shed rather be dead". A shed after a word that
        # makes it a noun ("the shed", "garden shed") is left alone.
        (_NOT_A_SHED + r"\b(he|she|they)d(?= (?:walk|jump|kill|end|do|be|go|drive|take|rather|never|just|sooner)\b)",
         r"\1 would"),
        # "found him in the stockroom, hed been cutting": before a past participle it is "he had".
        (_NOT_A_SHED + r"\b(he|she|they)d(?= (?:been|had|gone|done|got|said|told|left|tried|taken|cut|written|given|made"
         r"|bought|started|stopped)\b)", r"\1 had"),
        # "hes got a rope in his van", "hes stopped eating": before a past participle it is "he has" ...
        (r"\b(he|she)s(?= (?:got|been|had|gone|done|said|told|left|tried|taken|written|given|made|bought|started"
         r"|stopped|thought|talked|saved|hidden|hid|found|lost|decided|planned|never|always|just|already|finally)\b)",
         r"\1 has"),
        (r"\b(he|she)s(?= \w+ing\b)", r"\1 is"),  # ... and before a present participle "he is"
        # "said wed be better off": before "be", "rather", "never" it is "we would", not a wedding.
        (r"\bwed(?= (?:be|rather|never|all|probably|just|have|do)\b)", "we would"),
        (r"\b(you|we|they)'re\b", r"\1 are"),
        (r"\b(you|they)re\b", r"\1 are"),
        (r"\b(you|we|they|who|would|should|could|might|must)'?ve\b", r"\1 have"),
        (r"\b(you|we|they|he|she|it|that|there|who)'ll\b", r"\1 will"),
        (r"\b(you|they)ll\b", r"\1 will"),
        (r"\b(you|we|they|he|she|it|that|there|who)'d\b", r"\1 would"),
        (r"\b(he|she|it|that|there|here|what|who|where|how|when|why|everything|everyone|nobody|nothing|life|tonight|today|tomorrow|plan)'s\b",
         r"\1 is"),
        (r"\b(what|that|there|here|where|how|tonight|today)s\b", r"\1 is"),
        (r"\bitll\b", "it will"),
        (r"\b(it|that|there)d(?= (?:take|be|work|kill|do|hurt|happen|stop|matter|help|have|need)\b)", r"\1 would"),  # "how many itd take"
        (r"\b(he|she)s(?= (?:been|going|gonna|not|so|always|never|just|really|self|cutting|suicidal|a|an|the|such|still|on|in|off"
         r"|starting|started|talking|saying|feeling|doing|having|taking|trying|planning|thinking|fine|ok|okay|better|worse"
         r"|depressed|low|down|struggling|scared|afraid|gone|dead|home|back|done)\b)", r"\1 is"),
        # "when someones suicidal": someone is, not someone's (a possessive is followed by its thing: "someones pills").
        (r"\b(someone|somebody|everyone|everybody|nobody)s(?= (?:been|going|gonna|not|so|always|never|just|really|actively|"
         r"suicidal|self|cutting|in crisis|at risk|feeling|having|trying|planning|thinking|depressed|low|struggling|"
         r"unwell|ill|sick|acutely|severely|very|too|already|still)\b)", r"\1 is"),
        (r"\blet'?s\b", "let us"),
        # Spoken forms.
        (r"\bwann?a\b", "want to"),
        (r"\b(?:gonna|gunna|finna)\b", "going to"),
        (r"\bgotta\b", "got to"),
        (r"\btryna\b", "trying to"),
        (r"\bhafta\b", "have to"),
        (r"\b(want|wanted|wants|going|need|needs|trying|try|plan|planning|ready|about|have|deserve|way|ways|how)\s+2\s+"
         r"(?=(?:die|kill|end|hurt|cut|live|be|sleep|disappear|exist|stop|overdose)\b)", r"\1 to "),
        (r"\brn\b", "right now"),
        (r"\btonite\b|\btonigh?t\b", "tonight"),
        (r"\b(?:tmrw|tmr|tmw|tomoz|tomorow|tommorow|tommorrow)\b", "tomorrow"),
        # Three-letter misspellings are too short for the spelling step.
        (r"\bkil\b", "kill"),
        (r"\bwnt\b", "want"),
        (r"\bded\b", "dead"),
        (r"\bidk\b", "i do not know"),
        (r"\bidc\b", "i do not care"),
        # "w/o" is "without" ("theyd all be better off w/o me"); "w" and "w/" between words are "with" ("a bad
        # episode w suicidal thoughts").
        (r"\bw/o\b", "without"),
        (r"(?<=[a-z] )w/?(?= [a-z])", "with"),
        (r"\bw/(?=[a-z])", "with "),
        (r"\bu\b", "you"),
        # A word of address opening a sentence is not its subject: "mate im done. rope's up in the barn" ("mate i
        # work with ..." keeps it: what follows is no statement of the writer's own).
        (r"(?:^|(?<=[.!?] ))(?:mate|bro|bruv|dude|man|pal|buddy|guys|lads|hun|babe)\s*,?\s+(?=i (?:am|have|was|can not|"
         r"cannot|just|really|need|want|feel|think|do not|will|would|keep|already|wish)\b)", ""),
        # "suicide thoughts", "suicide urges": the noun used as the adjective ("suicide thoughts are way louder since ...").
        (r"\bsuicide (?=(?:thoughts?|ideation|feelings?|urges?|impulses?)\b)", "suicidal "),
        # "ur" before a state is "you are" ("do they check if ur suicidal"), else "your".
        (r"\bur\b(?=\s+(?:not|so|really|very|still|feeling|going|gonna|thinking|suicidal|depressed|ok|okay|fine|safe|sure"
         r"|allowed|meant|supposed|able|at risk|a|an)\b)", "you are"),
        (r"\bur\b", "your"),
        (r"\b(?:pls|plz)\b", "please"),
        (r"\b(?:bc|cuz|coz|bcuz|becuz)\b", "because"),
        (r"\bany more\b", "anymore"),
        (r"\bnoone\b", "no one"),
        (r"&", " and "),
        # A weight or height put beside "my size" says no more than it does ("someone my size (90kg) could take",
        # "a man my weight, about 80 kilos, to"): dropped, so what is asked reads on.
        (r"\b(my (?:size|weight|build|height))\s*(?:\(\s*(?:about |around |like |roughly |approx\.? |~)?\d+(?:[.,]\d+)?\s*"
         r"(?:kg|kgs|kilos?|lbs?|pounds|stone|st|cm)?\s*\)|,\s*(?:about |around |like |roughly )?\d+(?:[.,]\d+)?\s*"
         r"(?:kg|kgs|kilos?|lbs?|pounds|stone|st)?\s*(?:,|(?=[.?!]|$)))", r"\1"),
        # "n" between words is "and" ("the wife n kids", "rock n roll").
        (r"(?<=[a-z] )n(?= [a-z])", "and"),
        # The writer spoken of at one remove: "someone like me", "a person in my situation", "someone with my
        # back, my meds and my debt" (the writer's own life, listed) is the writer.
        (r"\b(?:some ?one|some ?body|a (?:person|guy|girl|man|woman))\s+(?:like me|in my (?:situation|position|shoes|state)"
         r"|with my\s+[a-z' ]{1,25}?(?:,\s*my\s+[a-z' ]{1,25}?)*(?:,?\s+and\s+my\s+[a-z' ]{1,25}?)?(?=\s+(?:just|simply|quietly"
         r"|would|were|was|did|went|stopped|ended|took|jumped|killed|died|disappeared|vanished)\b))", "i"),
    )
)
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _rewrites() -> tuple[tuple[re.Pattern, str, frozenset[str] | None], ...]:
    """The rewrites with the word beginnings each needs (skipped cheaply when the text has none).

    Earlier rewrites may create words later ones need ("kms" -> "kill myself"), so the text's words
    are read once before all rewrites: a rewrite whose words only an earlier rewrite creates must
    not be skipped, which is why such rewrites (and any whose words can't be known) have None."""
    from .data import literal_heads

    created = set().union(*(word_heads(replacement.lower()) for _, replacement in _REWRITES))
    out = []
    for pattern, replacement in _REWRITES:
        heads = literal_heads(pattern)
        out.append((pattern, replacement, None if heads is None or heads & created else heads))
    return tuple(out)


@lru_cache(maxsize=1)
def english_words():
    """pyspellchecker's English word list (supports ``in``), or None when it is not installed."""
    try:
        from spellchecker import SpellChecker
    except ImportError:
        log.warning("pyspellchecker is not installed: misspelt risk words are not corrected")
        return None
    return SpellChecker(language="en", distance=1).word_frequency


@lru_cache(maxsize=1)
def _risk_speller():
    from ipchat.keywords import SpellingMap

    from .data import load_lexicon

    words = load_lexicon().spelling
    return SpellingMap(words), frozenset(words)


_LONG_WORD = re.compile(r"[a-z]{4,}")
# Contractions typed without the apostrophe ("wasnt") are rewritten later, never "corrected" ("want").
_CONTRACTION = re.compile(r"(?:was|is|do|does|did|are|were|has|have|had|should|would|could|must|ca|wo|ai|need|might)nt"
                          r"|youre|theyre|thats|whats|youll|theyll|youve|theyve|weve|hes|shes|lets|wheres|theres")


def correct_spelling(text: str) -> str:
    """`text` with each misspelt risk word ("wnat", "myslef", "gona") replaced by the word of the
    lexicon's [spelling] list one edit away. English words and ambiguous tokens are left alone."""
    english = english_words()
    if english is None:
        return text
    speller, known = _risk_speller()

    def fix(match: re.Match) -> str:
        word = match.group(0)
        if word in known or word in english or _CONTRACTION.fullmatch(word):
            return word
        candidates = speller.candidates(word)
        if len(candidates) > 1:  # "sucide" is nearer "suicide" than anything else sharing its first letter
            candidates = [c for c in candidates if c[0] == word[0]]
        return candidates[0] if len(candidates) == 1 else word

    return _LONG_WORD.sub(fix, text)


_ADVERB_FRAGMENT = re.compile(r"\s*[.!]+\s+(permanently|forever|for ever|for good|probably|maybe|prob|\d{1,3}(?:st|nd|rd|th) (?:floor|storey|story))(?=\s*(?:[.!?]|$))")

# A trailing-off pause after a word that cannot end a sentence ("can ketamine be used to just.. not wake up") is a
# pause inside the sentence, not its end.
_PAUSE_INSIDE = re.compile(r"\b(just|to|the|a|an|and|or|of|my|your|his|her|really|so|be|would|could|want|wanna|gonna|"
                           r"like|kind of|kinda|sort of|i|i am|i will|never|not|ever|maybe|about|into|off)\s*\.{2,}\s*(?=[a-z])")


def normalise(text: str, correct: bool = True) -> str:
    """Return `text` in the canonical form the rules read: lower case, plain quotes, slang and
    contractions expanded, leetspeak, repeated letters and (with `correct`) misspelt risk words
    undone, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_CHAR_MAP).lower()
    # "k!ll": an exclamation mark between letters stands for an i.
    text = re.sub(r"(?<=[a-z])!(?=[a-z])", "i", text)
    text = _SPACED_PUNCT.sub(lambda m: re.sub(r"[.\-_*]", "", m.group(0)), text)
    text = _SPACED_BLANK.sub(_join_spaced, text)
    text = _MIXED_TOKEN.sub(_fix_token, text)
    if correct:
        text = correct_spelling(text)
    heads = word_heads(text)
    for pattern, replacement, first in _rewrites():
        if first is None or not first.isdisjoint(heads):
            text = pattern.sub(replacement, text)
    # A lone "Permanently." or "11th floor." after a sentence finishes it ("wish i could switch off. permanently.").
    text = _ADVERB_FRAGMENT.sub(r" \1", text)
    text = _PAUSE_INSIDE.sub(r"\1 ", text)
    return _SPACES.sub(" ", text).strip()

