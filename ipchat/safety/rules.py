"""Steps 2 to 5 of the safety layer: mentions and quotations, idioms, risk rules, decisions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .normalise import normalise

#: Levels ordered by severity, lowest first.
LEVELS: tuple[str, ...] = ("none", "clinical", "concern", "crisis")
RANK = {level: i for i, level in enumerate(LEVELS)}
RISK_LEVELS = frozenset({"concern", "crisis"})


# People the writer may talk about. A singular or possessed one ("my son", "a patient told me")
# is a specific person; a bare plural ("patients", "people") is people in general.
_RELATION = (
    "patient|client|friend|son|daughter|kid|child|teen|teenager|brother|sister|sibling|mom|mum|mother|mommy|mama"
    "|dad|father|daddy|papa|parent|husband|wife|spouse|partner|boyfriend|girlfriend|bf|gf|fiance|fiancee|roommate"
    "|flatmate|housemate|coworker|colleague|student|pupil|grandpa|grandma|grandmother|grandfather|granddad|nan|nana"
    "|uncle|aunt|auntie|cousin|nephew|niece|neighbour|neighbor|boss|classmate|mate|buddy|bestie|relative|stepson"
    "|stepdaughter|stepdad|stepmom|stepmum|ex|teammate|person|individual|guy|girl|boy|man|woman|lady|veteran"
    "|adolescent|adult|user|member|therapist|psychiatrist|doctor|nurse|resident|caller|youth|family|grandson"
    "|granddaughter|employee|coach|teacher|soldier|inmate|pt"
)
_NOUN = r"(?:" + _RELATION + r")(?:s|es)?"
_PLURAL_NOUNS = frozenset({"people", "children", "men", "women", "folks", "persons"})

# Tokens that can be the subject a predicate is about, nearest first when walking back.
_SUBJECT = re.compile(
    r"\b(?:(?P<first>i|me|myself|we|us)|(?P<you>you|yourself|yourselves)"
    r"|(?P<third>he|she|they|him|them|her|someone|somebody|themself)"
    r"|(?P<generic>anyone|anybody|people|persons|folks|children|men|women)"
    r"|(?P<noun>" + _NOUN + r"))\b"
)

# Person named inside a pattern (reflexive, possessive or object pronoun).
_PERSON_OF = {
    "i": "first", "me": "first", "my": "first", "myself": "first", "meself": "first", "mine": "first",
    "we": "first", "us": "first", "our": "first", "ourselves": "first",
    "you": "you", "your": "you", "yourself": "you", "yourselves": "you", "oneself": "you", "one's": "you",
    "he": "third", "him": "third", "his": "third", "himself": "third", "she": "third", "her": "third",
    "herself": "third", "they": "third", "them": "third", "their": "third", "themselves": "third",
    "themself": "third",
}

# Negation between the subject and the predicate. "Can't stop thinking about ..." and
# "not just ..." intensify rather than negate, so they do not count.
_NEGATION = re.compile(
    r"\b(?:not|never|no|nor|none)\b(?!\s+(?:stop|help|shake|get (?:rid|over|past|away)|escape|quit|only|just"
    r"|longer|seem to stop|control)\b)"
)
# An owner who denies the noun phrase ("denies SI", "have no suicidal thoughts").
_DENIAL = re.compile(r"\b(?:deny|denies|denied|denying|no)\b")
# "I'm not saying I want to die" negates what follows the subject.
_NEGATED_LEAD = re.compile(r"\b(?:not saying|not that|is not that|is not like)\s*$")

# Past tense between the subject and the predicate, for states ("I was suicidal").
_PAST = re.compile(
    r"\b(?:was|were|had|used to|did|wanted|wished|felt|thought|tried|attempted|survived|hoped|planned"
    r"|considered|contemplated)\b"
)
# Time expressions placing an event well in the past.
_DISTANT = re.compile(
    r"\b(?:(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|few|several|many|some|a couple of"
    r"|couple of|couple)\s+(?:years?|yrs?|months?|decades?)\s+ago"
    r"|last (?:year|summer|winter|spring|fall|autumn|month|decade)"
    r"|in (?:19|20)\d\d|back in (?:19|20)?\d\d"
    r"|as a (?:teen|teenager|kid|child|student|young adult|young person|youth|freshman)"
    r"|when i was (?:younger|young|a teen|a teenager|a kid|a child|little|in \w+|\d+)"
    r"|in (?:college|high school|middle school|school|university|uni|my (?:teens|twenties|thirties|20s|30s|youth))"
    r"|in the past|history of|used to|no longer|survived|surviving"
    r"|(?:\d+|a few|few|several|many|two|three|four|five) (?:years?|months?) clean|clean (?:from|of|since)"
    r"|back then|growing up|previously|prior|at age \d+|at the age of \d+|aged \d+|years? back|a while (?:back|ago)"
    r"|long ago|ages ago"
    r"|(?:after|since) my (?:last |previous )?attempt)\b"
)
# Time expressions placing it now; they win over the past. Habitual words ("every day",
# "always") are left out: "I used to want to die every day" is still the past.
_RECENT = re.compile(
    r"\b(?:tonight|today|right now|now|just now|this (?:morning|afternoon|evening|week|weekend|month)"
    r"|last night|yesterday|an hour ago|(?:\d+|a few|few|couple of|a couple of|some|two|three)"
    r" (?:minutes?|mins?|hours?|hrs?|days?) ago|again|relapsed|currently|these days|lately|recently|still"
    r"|at the moment|anymore|since starting|since i started)\b"
)
# A hypothetical, an inverted question or a side-effect question in front of the subject
# ("what if I ...", "can I overdose on ...", "can it make me ...").
_HYPOTHETICAL = re.compile(
    r"(?:\b(?:what if|if|in case|suppose|supposing|imagine|whether|can|could|will|might|may)\s*$)"
    r"|(?:\b(?:can|could|will|would|might|may|does|do)\b[\w\s]{0,40}\b(?:make|cause|turn|get|leave)\s*$)"
)
# A third person reporting what was said, just before a first-person subject
# ("a patient who said I want to ...", "my friend texted me that I ...").
_REPORTER = re.compile(
    r"\b(?:he|she|they|someone|somebody|" + _NOUN + r")\s+(?:who\s+|that\s+)?(?:\w+\s+){0,2}?"
    r"(?:said|says|say|saying|told|tells|telling|tell|texted|texts|texting|wrote|writes|writing|stated|states"
    r"|reported|reports|reporting|posted|posts|messaged|messages|screamed|yelled|mentioned|mentions|disclosed"
    r"|discloses|admitted|admits|endorsed|endorses|whispered|shouted|typed|types|cried|asked|asks|asking|goes"
    r"|went)(?:\s+(?:me|us|to me|to us|to her|to him))?(?:\s+(?:that|like|this))?\s*$"
)
# Where the predicate's local context ends: a conjunction or a new subject. A time in the past
# may follow in a subordinate clause ("I tried to overdose when I was 19"), so for that only a
# conjunction ends the context.
_LOCAL_END = re.compile(r"\b(?:and|but|so|because|though|(?<!\ba )while|which|then|i|he|she|they|my)\b")
_CONJUNCTION = re.compile(r"\b(?:and|but|so|because|though|(?<!\ba )while|which|then)\b")

# Determiners and adjectives allowed between an owner and a nominal predicate
# ("my recent suicide attempt", "a history of chronic suicidal thoughts").
_DETS = (
    r"(?:(?:a|an|the|any|no|some|several|multiple|two|three|many|previous|prior|past|recent|chronic|passive"
    r"|active|acute|severe|constant|frequent|intrusive|bad|dark|these|those|more|real|serious|such|really|very"
    r"|another|one|first|second|new|old|ongoing|persistent|occasional|recurring|recurrent|current|fleeting|strong"
    r"|mild|daily|intense|overwhelming|\d+)\s+)*"
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
_OWNER = re.compile(
    r"(?:\b(?P<poss>my|his|her|their|our|your)\s+" + _DETS + r"$)"
    r"|(?:\b(?P<possn>" + _NOUN + r")'s\s+" + _DETS + r"$)"
    r"|(?:\b(?P<verb>" + _OWNING + r")\s+" + _DETS + r"$)"
)
# A predicate used as a noun ("the wish to die", "her need to end it") has an owner, not a subject.
_NOMINAL_HEADS = frozenset({"wish", "desire", "urge", "need", "plan", "longing", "wishes", "urges", "plans"})
# A gerund after a question word or preposition is a noun ("is wanting to die normal?",
# "treatment for wanting to die"); a bare fragment ("wanting to die again") is still the writer.
_GERUND_AS_NOUN = re.compile(r"\b(?:is|are|was|does|do|can|could|about|of|for|on|regarding)\s+$")
_NOMINALISED = re.compile(r"\b(?:the|a|an|this|that|such|their|his|her|its|my|your|our|any)\s+(?:\w+\s+)?$")

_PILL_WORDS = (
    r"pills?|meds|medications?|medicines?|tablets?|capsules?|bottle|pack|packet|box|blister|strip|prescription"
    r"|supply|painkillers|antidepressants|sleeping pills|sertraline|zoloft|fluoxetine|prozac|lithium|tylenol"
    r"|paracetamol|acetaminophen|ibuprofen|advil|aspirin|seroquel|quetiapine|trazodone|benzos|xanax|valium"
    r"|klonopin|ativan|lorazepam|diazepam|clonazepam|ambien|zolpidem|oxy|oxycodone|opioids|insulin|ketamine"
    r"|esketamine|venlafaxine|effexor|lamotrigine|lamictal|bupropion|wellbutrin|mirtazapine|citalopram"
    r"|escitalopram|lexapro|amitriptyline|gabapentin|pregabalin|them"
)
# "Would it take" and, in an embedded question, "it would take".
_IT_TAKES = r"(?:(?:would|will|does|do|did) it take|it (?:would|will|does|did) take|it takes)"
_PILLS = re.compile(r"\b(?:" + _PILL_WORDS + r")\b")
# Taking medication as prescribed is not an overdose ("I took all my meds this morning as usual").
_COMPLIANCE = re.compile(
    r"\b(?:as prescribed|like usual|as usual|like always|like normal|as normal|like i am supposed to"
    r"|as i am supposed to|every day|each day|daily|on time|regularly|in the morning|with (?:food|breakfast"
    r"|lunch|dinner)|before bed|at bedtime|like my doctor said)\b"
)
_QUANTITY_CUE = re.compile(
    r"\b(?:enough|\d+|how many|how much|which of my|of my|all (?:of )?my|fastest|quickest|quickly|faster)\b"
)
_FIRST_CUE = re.compile(r"\b(?:i|me|my|myself)\b")
# Laughter, including the tears-of-joy, rolling-laughing and skull emoji.
_LAUGHTER = re.compile(
    r"\b(?:lol|lmao|lmfao|rofl|haha\w*|hilarious|funny|joke|meme)\b|[\U0001F602\U0001F923\U0001F480]"
)
_DESIRE = re.compile(r"\b(?:hope|hoping|wish|wishing|pray|praying|want|wanting|need)\b")


# --------------------------------------------------------------------------------------
# Step 2: mentions and quotations
# --------------------------------------------------------------------------------------

# "What does kms mean?", "what does 'passive death wish' mean": the term is mentioned, not used.
_MENTION = re.compile(
    r"\bwhat (?:does|do|did|is|are) (?:the )?(?:word |term |phrase |slang |abbreviation |acronym |expression )?"
    r"(?P<term>\"[^\"]{1,40}\"|'[^']{1,40}'|[\w ]{1,40}?) (?:mean|means|stand for|stands for|refer to)\b"
)
_RISKY_TERM = re.compile(
    r"\b(?:kill|die|dying|dead|death|suicid\w*|self harm\w*|unalive|overdos\w*|cut\w*|harm|si|sh|kys|ctb|nssi)\b"
)
# Quotation marks: double quotes anywhere; single quotes only where they open after a space
# and close before punctuation, so apostrophes ("patient's") are not taken for quotes.
_DOUBLE_QUOTE = re.compile(r'"([^"]{1,500})"')
_SINGLE_QUOTE = re.compile(r"(?:(?<=\s)|^|(?<=[:(\[]))'([^']{2,500}?)'(?=[\s.,?!;:)\]]|$)")


def _set_aside_mentions(text: str, fired: list[str]) -> str:
    def replace(match: re.Match) -> str:
        if not _RISKY_TERM.search(match.group("term")):
            return match.group(0)
        fired.append("mention.term_meaning")
        # The term becomes the topic word, so the message is answered as a clinical question.
        return match.group(0).replace(match.group("term"), "suicide")

    return _MENTION.sub(replace, text)


def _extract_quotes(text: str) -> tuple[str, list[str]]:
    quotes: list[str] = []

    def take(match: re.Match) -> str:
        quotes.append(match.group(1))
        return " quoted "

    text = _DOUBLE_QUOTE.sub(take, text)
    text = _SINGLE_QUOTE.sub(take, text)
    return text, quotes


# --------------------------------------------------------------------------------------
# Step 3: sentences, clauses and idioms (neutralised before the risk rules run)
# --------------------------------------------------------------------------------------


# Sentences end at . ! ? ; or a line break (not inside "2.5"); clauses at commas, colons,
# dashes and "but", so "I'm not suicidal, I just want to die" is read as two statements.
_SENTENCE_SPLIT = re.compile(r"\.{2,}|(?<!\d)[.!?]+(?!\d)|[;\n\r]+|[!?]+")
_CLAUSE_SPLIT = re.compile(r"\s*[,:]\s*|\s+-+\s+|\s+(?:but|though|although|however|yet)\s+")


@dataclass(frozen=True)
class _Idiom:
    rule_id: str
    pattern: re.Pattern
    requires: re.Pattern | None = None  # only in a sentence that also matches this
    unless: re.Pattern | None = None  # never in a sentence that also matches this


def _idiom(rule_id: str, pattern: str, requires: re.Pattern | None = None, unless: re.Pattern | None = None) -> _Idiom:
    return _Idiom(rule_id, re.compile(pattern), requires, unless)


# What makes an injury an accident. Deliberately narrow: "while" or "at work" would also cover
# "I cut myself while my parents slept".
_ACCIDENT_CONTEXT = (
    r"(?:shaving|cooking|chopping|gardening|slicing|ironing|playing|running|lifting|working out|at the gym"
    r"|in the kitchen|by accident|accidentally|falling|skiing|biking|cycling|climbing|fixing|opening a|baking"
    r"|exercising|at practice|on (?:a|the|some|broken) (?:broken |sharp |hot )?(?:glass|paper|can|tin|edge|nail"
    r"|fence|stairs|door|table|corner|oven|stove|pan|grill|kettle|knife|iron))"
)

_IDIOMS: tuple[_Idiom, ...] = (
    # Compounds where "suicide" means a self-defeating move or a name, not a death.
    _idiom("idiom.suicide_compound",
           r"\b(?:career|political|social|professional|financial|commercial|electoral|academic|dating|fashion)"
           r" suicide\b|\bsuicide (?:squad|sprints?|runs?|drills?|doors?|king|blonde|burn|mission|lane|seat)\b"),
    # "This exam is killing me", "my feet are killing me", "you're killing me".
    _idiom("idiom.killing_me", r"\b(?:is|are|was|were|be|been|keeps?|kept)\s+(?:\w+\s+){0,2}?killing me\b"),
    # "I could kill for a coffee".
    _idiom("idiom.kill_for", r"\b(?:could|would|will)\s+(?:\w+\s+)?kill for\b"),
    _idiom("idiom.drop_dead",
           r"\bdrop dead (?:gorgeous|handsome|beautiful|stunning|sexy|funny|hot|cute|brilliant|good looking"
           r"|amazing)\b"),
    # Computing and other objects that get "killed": processes, tabs, lights, time.
    _idiom("idiom.kill_process",
           r"\bkill(?:s|ed|ing|all)?\s+(?:-\s?\d+\s*)?(?:(?:the|a|an|that|this|all|my|your|its|those|these|stuck"
           r"|zombie|background|running|old|hung|frozen|every|child|parent|orphan|rogue|idle)\s+)*(?:\w+\s+)?"
           r"(?:process(?:es)?|tasks?|jobs?|servers?|apps?|programs?|tabs?|threads?|pids?|containers?|sessions?"
           r"|daemons?|services?|scripts?|terminals?|windows?|query|queries|connections?|workers?|pods?|switch)\b"
           r"|\bkill -\s?\d+\b"),
    _idiom("idiom.kill_object",
           r"\bkill(?:s|ed|ing)? (?:the|a|an|that|this|those|these|my|your|all the|all) (?:\w+ )?(?:lights?|engine"
           r"|music|mood|vibe|buzz|bacteria|germs?|weeds?|bugs?|spiders?|flies|mosquito(?:es)?|conversation|battery"
           r"|deal|joke|idea|momentum|motivation|appetite|audio|sound|motor|fire|flame|noise)\b"),
    _idiom("idiom.kill_time", r"\bkill(?:ing|ed)? (?:some )?time\b"),
    _idiom("idiom.killing_it", r"\b(?:kill(?:ing|ed)?|slay(?:ing|ed)?) it\b(?!\s+(?:all|tonight|for good)\b)"),
    # "I'm dying to know" -- but not "dying to end it".
    _idiom("idiom.dying_to",
           r"\bdying (?:to (?!(?:die|end|kill|be dead|disappear)\b)\w+|for (?:a|an|some|the|my|coffee|food|sleep)\b)"),
    # "Lol I'm dying", "I'm dead, that meme": only with a laugh in the same sentence.
    _idiom("idiom.dying_laughing",
           r"\b(?:died|dying|die|dead) (?:of |from |with |while )?laugh(?:ing|ter)\b"
           r"|\bi am (?:literally |actually |so |just |absolutely |lowkey )?(?:dying|dead|deceased)\b",
           requires=_LAUGHTER),
    _idiom("idiom.dead_adverb",
           r"\bdead (?:tired|serious|wrong|right|set|last|quiet|silent|broke|beat|ahead|center|centre|end|heat"
           r"|weight|lines?|lift|battery|phone|zone|giveaway|ringer|easy|simple|certain|sure|cold|slow|boring"
           r"|asleep|on)\b"),
    _idiom("idiom.to_death",
           r"\b(?:bored|scared|frightened|terrified|worried|sick|tired|freezing|starving|loved?|tickled|embarrassed"
           r"|annoyed|stressed|overworked|nagged|talked|beaten|cooked|worked|hugged|squeezed|laughed)"
           r" (?:\w+ )?to death\b"),
    _idiom("idiom.object_died",
           r"\b(?:phone|battery|batteries|car|laptop|computer|charger|tablet|ipad|iphone|headphones|airpods|plants?"
           r"|flowers?|engine|wifi|internet|signal|conversation|pen|flashlight|torch|remote|app|printer|tv|screen"
           r"|mouse|keyboard|fridge|watch|speaker|bulb|lightbulb|party|chat|thread|meme|trend)s? (?:\w+ ){0,2}?"
           r"(?:died|dies|dead|dying)\b"),
    _idiom("idiom.to_die_for",
           r"\b(?:is|are|was|were|looks?|sounds?|smells?|tastes?|be|something|a \w+|an \w+) (?:\w+ )?to die for\b"),
    _idiom("idiom.die_for",
           r"\b(?:would|will|could) (?:\w+ )?die for (?:my|you|him|her|them|the|a|an|our|this|that|love|it)\b"),
    _idiom("idiom.die_hard", r"\bdie ?hards?\b"),
    _idiom("idiom.dying_of",
           r"\b(?:dying|die|died) (?:of|from) (?:embarrassment|shame|boredom|curiosity|the heat|heat|cold|thirst"
           r"|hunger|laughter|cuteness|jealousy|suspense)\b"),
    # "My mom is going to kill me if I miss it": a person threatening the writer, jokingly.
    _idiom("idiom.will_kill_me",
           r"\b(?:mom|mum|mother|dad|father|parents?|boss|wife|husband|partner|girlfriend|boyfriend|gf|bf|teacher"
           r"|coach|sister|brother|family|doctor|therapist|psychiatrist|nurse|manager|landlord|roommate|grandma"
           r"|grandpa|kids?)\s+(?:is |are |will |would |going to |might |literally |actually |totally )*"
           r"(?:\w+ )?kill me\b|\bkill me (?:if|when|for|because|lol|haha|lmao)\b",
           unless=_DESIRE),
    # Accidents: "I nearly killed myself tripping on the stairs".
    _idiom("idiom.accident",
           r"\b(?:nearly|almost|practically|basically|literally) (?:killed|kill|killing|died|dying|die)(?: myself)?"
           r" (?:\w+ ){0,2}?(?:tripping|tripped|falling|fell|slipping|slipped|on the (?:stairs|ice|road|way)"
           r"|crashing|crashed|in a (?:car|crash|accident)|laughing|choking|when i|by accident|doing|trying to)\b"),
    # "I cut myself shaving", "I burned myself cooking", "I hurt myself at the gym".
    _idiom("idiom.accidental_injury",
           r"\b(?:cut|cuts|cutting|burned|burnt|burn|burning|hurt|hurting|injured|injuring|scratched|nicked|bruised"
           r"|scalded|pinched|stabbed) (?:myself|himself|herself|themselves|(?:my|his|her) (?:\w+ )?(?:finger|thumb"
           r"|hand|foot|leg|knee|back|ankle|wrist|arm|shoulder|toe|lip|face|head|neck|chin)) (?:\w+ ){0,2}?"
           + _ACCIDENT_CONTEXT + r"\b",
           unless=re.compile(r"\b(?:on purpose|deliberately|intentionally|again|relapse\w*|to feel|so i could"
                             r"|because i wanted|self harm)\b")),
    _idiom("idiom.curl_up_and_die",
           r"\bcurl up and die\b(?= (?:when|after|because|of|in|from|at|right there|lol|haha))"
           r"|\bwanted to curl up and die\b"),
    _idiom("idiom.dead_meat", r"\bdead meat\b|\bover my dead body\b|\bkill two birds\b"),
)


def _neutralise_idioms(sentence: str, fired: list[str]) -> str:
    for idiom in _IDIOMS:
        if idiom.requires is not None and not idiom.requires.search(sentence):
            continue
        if idiom.unless is not None and idiom.unless.search(sentence):
            continue
        sentence, n = idiom.pattern.subn(" _ ", sentence)
        if n:
            fired.append(idiom.rule_id)
    return sentence


# --------------------------------------------------------------------------------------
# Step 4: risk rules
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """One risk pattern.

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
    pattern: re.Pattern
    kind: str = "verbal"
    tense: str = "state"
    default: str = "implicit"
    fixed: tuple[str, str] | None = None
    check: Callable[[re.Match, str, str], bool] | None = None


def _rule(rule_id: str, pattern: str, **kwargs) -> _Rule:
    return _Rule(rule_id, re.compile(pattern), **kwargs)


def _took_pills_check(match: re.Match, clause: str, sentence: str) -> bool:
    # "Took all my X" is an overdose only when X is medication, and not when said of a normal dose.
    rest = match.group("rest") or ""
    if _COMPLIANCE.search(sentence):
        return False
    if _PILLS.search(rest):
        return True
    quantity = match.group("q")
    return bool(re.match(r"\s+of (?:my|her|his|their|them)\b", rest)) and (quantity.isdigit() or quantity in ("all",))


def _quantity_check(match: re.Match, clause: str, sentence: str) -> bool:
    # "Would 30 of my tablets kill me" asks for an amount; "will ECT kill me?" is a fear.
    return bool(_QUANTITY_CUE.search(sentence))


def _group_subject_check(match: re.Match, clause: str, sentence: str) -> bool:
    # "We'd all be better off without him" is about him; "you'd be better off without him"
    # is relationship advice. Only a group being better off counts.
    return bool(re.search(r"\b(?:everyone|everybody|we|they|world|family|kids|people|all)\b", clause[: match.start()]))


_LIFE_OBJECT = (
    r"(?:living|life|going on|me|existing|being alive|being here|anything|carrying on|it all|any of (?:it|this)"
    r"|continuing|waking up|staying alive|my life|my existence|being me|staying|trying anymore|keeping going"
    r"|getting up|even trying)"
)
_DIE = (
    r"(?:die|be dead|not exist|not be alive|not be here|not wake up|stop existing|stop living|stop being alive"
    r"|cease to exist|be gone forever|go to sleep forever|sleep forever)"
)

_RULES: tuple[_Rule, ...] = (
    # ---- ideation: wanting to be dead, in the many ways people say it ---------------------------------
    _rule("ideation.want_to_die",
          r"\b(?P<head>want|wants|wanted|wanting|wish|wishes|wished|wishing|hope|hopes|hoping|need|needs|ready|deserve"
          r"|deserves|deserved|plan|plans|planned|planning|decided|decide|choose|chose|rather|prefer|tempted|longing"
          r"|long|yearn|yearning|desire|urge)\s+(?:to\s+)?(?:(?:just|really|finally|simply|honestly|actually|already"
          r"|so|badly|literally|kind of|kinda|sort of)\s+)*" + _DIE + r"\b"),
    _rule("ideation.feel_like_dying",
          r"\bfeel(?:s|ing)? like (?:dying|i want to die|i should die|i should just die|death|ending it|killing myself"
          r"|giving up on life|i do not want to live|disappearing forever)\b"),
    _rule("ideation.kill_self",
          r"\b(?:kill|kills|killing|killed)\s+(?P<who>myself|meself|himself|herself|themselves|themself|yourself"
          r"|oneself|ourselves)\b"),
    _rule("ideation.end_life",
          r"\b(?:end|ends|ending|ended)\s+(?:(?P<who>my|his|her|their|your|one's)\s+(?:own\s+)?life\b|it all\b"
          r"|everything\b|things(?=\s*$|\s+(?:tonight|today|now|for good|forever|soon)\b)|it(?=\s*$|\s+(?:tonight"
          r"|today|now|for good|forever|soon|right now|this (?:week|weekend)|already|and|i|please|lol|tbh"
          r"|honestly)\b))"),
    _rule("ideation.take_life", r"\btak(?:e|es|ing|en)\s+(?P<who>my|his|her|their|your|one's)\s+(?:own\s+)?life\b"),
    _rule("ideation.commit_suicide",
          r"\b(?:commit|commits|committing|committed|attempt|attempts|attempted|attempting|tried|try|trying)\s+"
          r"(?:to\s+)?(?:commit\s+)?suicide\b(?!\s+(?:prevention|risk|rates?|research|attempts?|screening)\b)"
          r"|\bdie(?:s|d)?\s+by\s+suicide\b"
          # "I attempted once in 2015": "attempted" with no object is an attempt on one's life.
          r"|\battempted\s+(?:once|twice|before|several times|multiple times|a few times|\d+ times)\b(?!\s+to\b)"),
    _rule("ideation.think_about",
          r"\b(?:think|thinks|thinking|thought|considering|considered|contemplating|contemplated|obsessing"
          r"|fantasi[sz]ing|dreaming)\s+(?:about|of|over)\s+(?:suicide(?!\s+(?:prevention|risk|rates?|research"
          r"|screening|assessment|statistics|awareness|attempts?|in|among|and|as a|scales?|severity|data|stud(?:y|ies)"
          r"|trends|questions?)\b)|dying|death|killing (?P<who>myself|himself|herself|themselves)|ending (?:it|it all"
          r"|my life|things)|not being (?:here|alive|around)|not existing|overdosing|how to die|how i would die"
          r"|taking my (?:own )?life)\b"),
    # "I'm suicidal", "she is suicidal" -- but not "suicidal thoughts", "suicidal patients".
    _rule("ideation.suicidal",
          r"(?<!\bnon )(?<!\banti )\bsuicidal\b(?!\s+(?:thoughts?|ideations?|ideas?|feelings?|thinking|behaviou?rs?"
          r"|tendenc(?:y|ies)|urges?|patients?|people|persons?|individuals?|adolescents?|teens?|teenagers?|youth"
          r"|veterans?|depression|crisis|crises|intent|intention|risk|acts?|gestures?|attempts?|effects?|impulses?"
          r"|plans?|symptoms?|states?|episodes?|clients?|callers?|men|women|children|kids|students?|mind|mood|self"
          r"|desires?|wish|preoccupation|rumination|cases?|presentations?|subjects?|populations?|groups?"
          r"|inpatients?|outpatients?|admissions?|emergenc(?:y|ies)|ideators?|deaths?|remarks?|comments?"
          r"|statements?|talk|language|content|posts?|messages?|or homicidal|and homicidal|or self|and self"
          r"|person|patient|behavior|ideation)\b)"),
    # "Everyone would be better off / happier without me", "... if I wasn't around".
    _rule("ideation.better_off",
          r"\b(?:better off|happier|better|easier)\s+(?:dead|without\s+(?P<who>me|us)(?=\s*$|\s+(?:and|anyway"
          r"|around|here|in it|honestly|tbh|lol|i)\b)|if\s+(?P<who2>i|he|she|they)\s+(?:was|were|am|is|are"
          r"|died|disappeared|left|killed (?:myself|himself|herself|themselves)|never existed|was never born"
          r"|were never born|did not exist|was not here|were not here|was not around|were not around)"
          r"(?:\s+(?:dead|gone|not around|not here))?)\b"),
    _rule("ideation.better_off_without_them", r"\bbetter off without (?P<who>him|her|them)\b",
          check=_group_subject_check),
    _rule("ideation.no_one_would_miss",
          r"\b(?:no one|nobody|no one else|nobody else)\s+(?:would|will|is going to)\s+(?:(?:even|really|ever|actually)"
          r"\s+)?(?:notice|care|mind)\s+(?:if|when)\s+(?P<who>i|he|she|they)\b"
          r"|\b(?:no one|nobody|nobody else|no one else)\s+(?:would|will|is going to)\s+(?:\w+\s+)?miss"
          r"\s+(?P<who2>me|him|her|them)\b"),
    # "I'm such a burden to everyone": needs a named subject, so "ECT is a burden" does not count.
    _rule("ideation.burden",
          r"\b(?:am|are|is|feel like|feels like|feel|feels|become|became|been)\s+(?:(?:such|just|only|nothing but"
          r"|a|an|the|huge|big|total|massive|constant)\s+)*burden\b(?!\s+of proof)",
          default="skip"),
    _rule("ideation.no_point",
          r"\b(?:no|not see (?:the|any|much)|not see a|no longer see (?:the|any)|what is (?:even |really |actually )?"
          r"the|there is no|there is not any|is there (?:even |really )?(?:a|any)|lost the|what even is the"
          r"|can not see (?:the|any))\s+point\s+(?:of|in)\s+" + _LIFE_OBJECT + r"\b"
          r"|\b(?:what is (?:even |really )?the|there is no|not see the|not see any|no)\s+point\s+(?:anymore"
          r"|any longer|in anything|of anything|of it all|in it all|to anything|in trying)\b"
          r"|\bwhat is even the point\s*$"),
    _rule("ideation.not_worth_living",
          r"\b(?:life|living|my life|it all|existence|everything)\s+(?:is|was|feels|seems|has become)\s+"
          r"(?:not|no longer|never)\s+worth\s+(?:living|it)\b|\bnot worth living\b|\bnothing (?:left )?to live for\b"
          r"|\bno (?:reason|point) (?:for (?P<who>me|him|her|them) |left )?to (?:live|keep going|go on|keep living"
          r"|be here|stay alive|carry on|stay)\b"
          r"|\b(?:life|living|my life|existence|everything|it all)\s+(?:is|feels|seems)\s+(?:so\s+|just\s+"
          r"|completely\s+|totally\s+)?(?:pointless|meaningless|hopeless)\b"),
    _rule("ideation.tired_of_living",
          r"\b(?:tired|sick|exhausted|weary|done|finished)\s+(?:of|with)\s+(?:living|life|existing|being alive"
          r"|being here|waking up|it all|this life|my life|breathing|being me|everything|this world"
          r"|this existence|existence)\b|\b(?:tired|sick|exhausted|weary) of (?:fighting|trying|struggling"
          r"|going on|surviving)\s*$"),
    # "I can't do this anymore", "I can't go on like this" -- with no object ("this heat") after it.
    _rule("ideation.cannot_go_on",
          r"\bcan not\s+(?:go on|keep going|carry on|do this|do it|take it|take this|handle this|handle it|cope"
          r"|bear it|bear this|live like this|keep living|keep doing this|survive this|stand it|stand this"
          r"|face (?:another day|tomorrow|it))(?:\s+(?:anymore|any longer|like this|much longer|now|either|alone))*"
          r"(?=\s*$|\s+(?:i|and|so|honestly|lol|please)\b)"),
    # "I don't want to live anymore" -- but not "live with these side effects" or "be here at 7am".
    _rule("ideation.not_want_to_live",
          r"\b(?:not|never|no longer)\s+(?:really\s+|even\s+|truly\s+)?(?:want|wanting|wish|wishing|feel like"
          r"|care to)\s+(?:to\s+)?(?:live|be alive|exist|wake up|go on|keep going|keep living|continue living"
          r"|be on this earth|be in this world|be here anymore|be here any longer|be around anymore"
          r"|be around any longer)\b(?!\s+(?:with|in|at|near|there|on|like that|for|without|alone|through|until"
          r"|till|here|abroad|past|to see)\b)"),
    _rule("ideation.unsure_about_living",
          r"\b(?:not|never)\s+(?:sure|know|certain)(?:\s+(?:if|whether|why|that))?\s+(?P<who>i)\s+(?:still\s+|even\s+"
          r"|really\s+)?want\s+to\s+(?:live|be alive|exist|be here|go on|keep going|keep living)\b"
          r"|\bunsure (?:if|whether) (?P<who2>i) (?:still )?want to (?:live|be alive|exist|go on)\b"),
    _rule("ideation.no_future_self",
          r"\bnot\s+see\s+(?P<who>myself)\s+(?:being\s+)?(?:here|alive|around)\s+(?:next|in|by|for|much)\b"),
    _rule("ideation.hate_being_alive", r"\bhate (?:being alive|existing|living|waking up every (?:day|morning))\b"),
    _rule("ideation.own_funeral",
          r"\b(?:picturing|imagining|planning|thinking about|dreaming about|daydreaming about)\s+(?P<who>my)\s+"
          r"(?:own\s+)?funeral\b"),
    # "I just want it all to stop": everything, not one symptom, made to end.
    _rule("ideation.make_it_all_stop",
          r"\b(?:want|wants|wanted|wish|wishes|need|needs)\s+(?:it all|everything|all of it|all this|life|my life"
          r"|the world)\s+to\s+(?:just\s+)?(?:stop|end|be over)\b"
          r"|\b(?:want|wants|wanted|wish|wishes|need|needs)\s+(?:the|this|my)\s+pain\s+to\s+(?:just\s+)?(?:stop|end)"
          r"\s+(?:forever|for good|permanently)\b"),
    _rule("ideation.stop_existing",
          r"\b(?:stop|quit)\s+(?:existing|living|being alive|breathing|waking up)\b(?!\s+(?:with|in|at|like|near"
          r"|here|for|on)\b)"),
    _rule("ideation.disappear",
          r"\b(?:(?:want|wants|wanted|wish|wishes|wishing|need)\s+to|(?:wish|wishes|wished|wishing)\s+(?:that\s+)?"
          r"(?P<who>i|he|she|they)\s+could)\s+(?:just\s+)?(?:disappear|vanish|cease to exist"
          r"|evaporate|fade away|fade out|not exist)(?:\s+(?:forever|for good|and never come back|and never return"
          r"|completely|from (?:this|the) (?:world|earth|planet)|permanently))*(?=\s*$|\s+(?:and|i|forever"
          r"|honestly|tbh|lol)\b)"),
    _rule("ideation.wish_dead",
          r"\b(?:wish|wishes|wished|wishing)\s+(?:that\s+)?(?P<who>i|he|she|they)\s+(?:was|were|could be|would be"
          r"|could just be|had been)\s+(?:dead|gone|never born)\b"
          r"|\b(?:wish|wishes|wished|wishing)\s+(?:that\s+)?(?P<who2>i|he|she|they)\s+(?:had\s+)?(?:never been born"
          r"|was never born|were never born|never existed|did not exist|died)\b"
          r"|\b(?:wish|wishes|wished|wishing)\s+(?:that\s+)?(?P<who3>i|he|she|they)\s+(?:would|could)\s+(?:just\s+)?"
          r"(?:die|not exist|stop existing|cease to exist|not wake up|never wake up|be dead|disappear forever"
          r"|disappear for good|vanish forever)\b"),
    _rule("ideation.hope_to_die",
          r"\b(?:hope|hoping|wish|wishing|pray|praying)\s+(?:that\s+)?(?P<who>i)\s+(?:just\s+|would\s+|will\s+"
          r"|could\s+)?(?:die|get hit|get run over|crash|do not wake up|never wake up|will not wake up|get killed"
          r"|drop dead|stop breathing|do not make it|never come back|never have to wake up|do not survive)\b"),
    _rule("ideation.someone_kill_me",
          r"\b(?:hope|hoping|hoped|wish|wishing|want|wanting|pray|praying|need)\b(?:\s+[\w']+){0,6}?\s+(?:kill|kills"
          r"|killed|end|ends) (?P<who>me)\b"),
    _rule("ideation.let_me_die", r"\blet (?P<who>me) (?:just |finally )?(?:die|be dead|go for good)\b"),
    _rule("ideation.never_wake_up",
          r"\b(?:wish|want|hope|pray|wanted|wishing|hoping|praying|like)\b(?:\s+[\w']+){0,8}?\s+(?:never|not|do not"
          r"|will not) wake up\b"
          r"|\b(?:want|wish|need|like|hope|wanted)\b(?:\s+[\w']+){0,5}?\s+(?:go to sleep|sleep|fall asleep)\s+"
          r"(?:forever|for ever|permanently|and never wake up|and not wake up|and never have to wake up)\b"),
    _rule("ideation.lost_to_suicide", r"\blost (?:my|a|our|his|her|their) (?:\w+ ){0,3}?to suicide\b",
          kind="fixed", fixed=("concern", "concern.bereavement")),
    # "My suicidal thoughts are back", "sh urges are really bad tonight".
    _rule("ideation.urges_now",
          r"\b(?:(?P<who>my|his|her|their)\s+)?(?:\w+\s+)?(?:suicidal (?:thoughts|urges|feelings|ideation)"
          r"|(?:self harm|cutting) urges?|urges? to (?:cut|self harm|die|kill myself)|thoughts of (?:suicide|dying"
          r"|death|killing myself|self harm))\s+(?:are|is|have been|has been|keep|keeps|feel|feels|are getting"
          r"|have gotten|got|came|come|coming)\s+(?:\w+\s+){0,2}?(?:bad|strong|back|worse|intense|overwhelming"
          r"|unbearable|loud|louder|constant|stronger|returning)\b"),
    # Owned noun phrases: "I have suicidal thoughts", "his suicide attempt", "she is self harming".
    _rule("ideation.suicidal_thoughts",
          r"\b(?:suicidal\s+(?:thoughts?|ideation|ideas?|feelings?|thinking|urges?|impulses?|tendencies|plans?"
          r"|intent|behaviou?rs?)|suicidality|(?:thoughts?|ideas?)\s+(?:of|about)\s+(?:suicide|dying|death|ending it"
          r"|self harm|ending my life)|death wish|(?:wish|desire|urge)\s+to\s+die)\b",
          kind="nominal"),
    _rule("attempt.suicide_attempt", r"\bsuicide\s+attempts?\b", kind="nominal", tense="event"),
    # ---- self-harm --------------------------------------------------------------------------------------
    _rule("selfharm.reflexive",
          r"\b(?:cut|cuts|cutting|burn|burns|burned|burnt|burning|hurt|hurts|hurting|harm|harms|harming|harmed"
          r"|scratch|scratching|scratched|hit|hitting|punch|punching|punched|starve|starving|starved|injure|injuring"
          r"|injured|bruise|bruising)\s+(?P<who>myself|himself|herself|themselves|themself|yourself|oneself)\b",
          tense="event"),
    _rule("selfharm.body",
          r"\b(?:cut|cuts|cutting|slit|slitting|slash|slashing|carve|carving|burn|burning|burned)\s+"
          r"(?P<who>my|his|her|their)\s+(?:\w+\s+)?(?:wrists?|arms?|thighs?|legs?|skin|stomach)\b",
          tense="event"),
    # "I've been cutting again", "I relapsed and cut last night" -- cutting with no object.
    # "She has cuts on her wrists": fresh wounds on the body, owned by whoever has them.
    _rule("selfharm.wounds",
          r"\b(?:cuts|fresh cuts|burns|scars|fresh scars|wounds|marks)\s+(?:all\s+)?(?:on|over|up)\s+(?P<who>my|his|her"
          r"|their)\s+(?:\w+\s+)?(?:wrists?|arms?|thighs?|legs?|stomach|skin)\b",
          tense="event"),
    _rule("selfharm.cutting",
          r"\b(?:been|started|start|starting|keep|keeps|kept|stop|stopped|quit|relapsed and|relapse and|urges? to"
          r"|want to|going to|tempted to|thinking about|think about|used to|is|am|are|was|were|still|i|he|she|they"
          r"|again)"
          r"\s+(?:cutting|cut)\b(?!\s+(?:back|down|out|off|up|in|through|into|across|along|carbs|sugar|gluten"
          r"|caffeine|alcohol|dairy|meat|the|a|an|my|his|her|their|your|our|hair|class|classes|corners|ties|costs"
          r"|it|them|that|this|ahead|short|loose|open|and paste|him|me|you|us|calories|fat|weight|wood|paper|grass"
          r"|lines?|school|work|myself|himself|herself|themselves|yourself)\b)|\bcut (?:too |so |really |very )?deep\b",
          tense="event"),
    _rule("selfharm.self_harm",
          r"\bself\s+(?:harm|harming|harmed|harms|injury|injuries|injure|injuring|injured|mutilation|mutilating"
          r"|mutilate)\b|\bnssi\b",
          kind="nominal", tense="event"),
    # ---- attempts under way -----------------------------------------------------------------------------
    _rule("attempt.overdose",
          r"\b(?:(?:took|taken|take|taking|had)\s+(?:an?\s+)?overdose|overdos(?:ed|ing)\b|overdose(?=\s*$|\s+(?:on"
          r"|again|tonight|today|now|last|yesterday|this|in|with|and|so|because|when)\b))",
          tense="event"),
    _rule("attempt.an_overdose", r"\b(?:an|a|after|following|from|his|her|my|their)\s+overdoses?\b",
          kind="nominal", tense="event"),
    _rule("attempt.took_pills",
          r"\b(?:took|taken|swallowed|downed|chugged)\s+(?P<q>all|the whole|a whole|an entire|the entire|the rest of"
          r"|a bunch of|a handful of|handfuls of|way too many|too many|double|triple|\d{2,}|twenty|thirty|forty"
          r"|fifty|sixty|a hundred|hundreds of)\b(?P<rest>(?:\s+[\w']+){0,5})",
          tense="event", check=_took_pills_check),
    # "I'm going to take every pill in the cabinet": intent, not a normal dose ("do I take all my pills?").
    _rule("attempt.take_all_pills",
          r"\b(?:going to|want to|plan to|planning to|about to|will|should just|could just|thinking about"
          r"|thinking of|tempted to|ready to)\s+(?:just\s+)?(?:take|taking|swallow|swallowing)\s+(?:every|all"
          r"(?: of)?(?: my| the| the rest of my)?|the whole|a whole|the rest of)\s+(?:\w+\s+)?(?:" + _PILL_WORDS
          + r")\b"),
    _rule("attempt.location",
          r"\b(?:standing|sitting|stood|sat|am|i am)\s+(?:on|at)\s+(?:the\s+)?(?:edge of\s+(?:the|a)\s+)?(?:bridge"
          r"|ledge|roof|rooftop|cliff|tracks|railway)\b"
          r"|\bjump(?:ing)?\s+(?:off|from|in front of)\s+(?:the|a|this|my)\s+(?:\w+\s+)?(?:bridge|roof|building"
          r"|ledge|cliff|balcony|train|car|bus|window|overpass|tower)\b"),
    # ---- preparation and farewells ---------------------------------------------------------------------------
    _rule("prep.stockpiling",
          r"\b(?:saving|saved|save|stockpiling|stockpiled|stockpile|hoarding|hoarded|hoard|collecting|collected"
          r"|stashing|stashed)(?:\s+up)?\s+(?:all\s+)?(?:of\s+)?(?:(?P<who>my|her|his|their)\s+)?(?:\w+\s+)?(?:"
          + _PILL_WORDS + r")\b",
          tense="event"),
    _rule("prep.pills_ready",
          r"\b(?:pills|meds|tablets|medication)\s+(?:are\s+|is\s+)?(?:all\s+)?(?:ready|lined up|counted out"
          r"|laid out|set out|in front of me)\b",
          tense="event"),
    _rule("prep.knows_how",
          r"\b(?:know|knows|knowing|thinking|thought|planned|planning|worked out|figured out|decided|picturing"
          r"|imagining)\s+(?:a lot\s+)?(?:about\s+)?(?:exactly\s+|already\s+)?how\s+(?P<who>i|he|she)\s+(?:would"
          r"|will|could|might|am going to|is going to|plan to|want to)\s+do it\b",
          tense="event"),
    _rule("prep.letters",
          r"\b(?:wrote|written|writing|write|left|leaving)\s+(?:(?P<who>my|his|her|their)\s+|the\s+|a\s+|some\s+)?"
          r"(?:(?:suicide|goodbye|farewell)\s+(?:letters?|notes?)\b|(?:last\s+)?letters?(?=\s*$|\s+(?:to|for)"
          r"\s+(?:everyone|my family|my kids|my parents|them|all)\b|\s+(?:already|and)\b))",
          tense="event"),
    _rule("prep.giving_away",
          r"\b(?:gave|giving|given|give|gives)\s+away\s+(?:all\s+)?(?:of\s+)?(?P<who>my|her|his|their)\s+(?:\w+\s+)?"
          r"(?:things|stuff|belongings|possessions|cat|dog|pets?|cats|dogs)\b"
          r"|\b(?:gave|giving|given|give|gives)\s+(?:all\s+)?(?P<who2>my|her|his|their)\s+(?:\w+\s+)?(?:things|stuff"
          r"|belongings|possessions)\s+away\b",
          tense="event"),
    _rule("farewell.goodbye",
          r"\bthis is (?:my )?goodbye\b|\b(?P<who>my) goodbye (?:message|note|letter|post)\b"
          r"|\b(?:goodbye|bye|farewell) (?:everyone|everybody|all|world|forever|cruel world)\b"
          r"|\bsaid (?:my )?goodbyes\b|\bsaying (?:my )?goodbyes?(?: to (?:everyone|everybody|my family|all|the world"
          r"|my loved ones))\b|\bby the time (?:anyone|someone|you|they) (?:reads?|sees?|finds?) this\b",
          tense="event"),
    # Finding someone's note: the writer is worried about the person who wrote it.
    _rule("farewell.found_note",
          r"\b(?:found|find|discovered|saw|read|came across)\s+(?:a|an|the|his|her|their)\s+(?:suicide|goodbye"
          r"|farewell)\s+(?:notes?|letters?|messages?)\b",
          kind="fixed", fixed=("concern", "concern.third_person")),
    _rule("farewell.not_around",
          r"\b(?:will not|not going to) be (?:around|here|alive) (?:much longer|for (?:much )?longer|for long|tomorrow"
          r"|next week|by (?:tomorrow|morning|the weekend)|anymore|much more)\b",
          tense="event"),
    # ---- asking for means -------------------------------------------------------------------------------------
    _rule("means.way_to_die",
          r"\b(?:(?:easiest|easy|best|quickest|quick|fastest|fast|painless|most painless|least painful|surest|sure"
          r"|simplest|cleanest|peaceful|most peaceful|good|effective|reliable|gentle|quiet|nicest|safest)\s+)*"
          r"(?:way|ways|method|methods)\s+(?:to|of|for)\s+(?:(?:just|finally)\s+)?(?:die|dying|kill (?P<who>myself"
          r"|yourself|oneself|me)|killing (?P<who2>myself|yourself|oneself)|end (?:it|it all|things|(?P<who3>my"
          r"|your) life)|ending (?:it|my life)|commit(?:ting)? suicide|not wake up|never wake up|overdose)\b",
          kind="means"),
    _rule("means.methods_of_suicide",
          r"\b(?:methods?|ways?|means) (?:of|for) (?:suicide|killing (?P<who>yourself|oneself|myself|themselves)"
          r"|self harm)\b",
          kind="means", default="generic"),
    _rule("means.how_to",
          r"\bhow (?:do|does|did|can|could|would|should|to|might|will) (?:(?P<subj>i|you|one|someone|people|a person"
          r"|they) )?(?:\w+ )?(?:kill (?P<who>myself|yourself|oneself|themselves|himself|herself|themself)"
          r"|commit suicide|end (?P<who2>my|your|one's|their|his|her) life|overdose)\b",
          kind="means"),
    _rule("means.take_to_die",
          r"\b(?:what|which|how much|how many)\b(?:\s+[\w']+){0,6}?\s+(?:can|could|should|would|do|must|to|might)\s+"
          r"(?:i\s+)?(?:take|use|swallow|drink|mix|inject|buy|get)\s+to\s+(?:die|not wake up|never wake up|end it"
          r"|end my life|kill myself|go to sleep forever|sleep forever|overdose|go (?:the way|out like)"
          r"|make it stop forever)\b",
          kind="means"),
    _rule("means.how_many_to_die",
          r"\bhow (?:many|much)\b(?:\s+[\w']+){0,8}?\s+(?:would|will|does|do|did|is|are|to|it|should|could|can"
          r"|must)\b(?:\s+[\w']+){0,3}?\s+(?:take to (?:die|not wake up|never wake up|kill|overdose|be lethal"
          r"|be fatal)|kill (?P<who>me|you|someone|somebody|a person|a human|an adult|people|a man|a woman"
          r"|a child|him|her|them|myself)\b|be (?:lethal|fatal|deadly|enough to (?:kill|die))|to (?:die|overdose)\b"
          r"|(?:is|be) (?:a )?(?:lethal|fatal|deadly|an overdose))",
          kind="means"),
    _rule("means.how_many_of_mine",
          r"\bhow (?:many|much) (?:of )?(?P<who>my|her|his|their) (?:\w+ )?(?:" + _PILL_WORDS + r") " + _IT_TAKES
          + r"\b(?!\s+to (?:work|kick in|start|feel|help|get|see|notice)\b)",
          kind="means"),
    _rule("means.lethal_amount",
          r"\b(?:lethal|fatal|deadly) (?:dose|doses|amount|amounts|quantity|level|number|combination|mix)\b",
          kind="means", default="generic"),
    _rule("means.die_if_i_take",
          r"\b(?:die|kill me|be (?:fatal|lethal|deadly))\s+if\s+(?P<who>i)\s+(?:took|take|swallow|swallowed)\s+"
          r"(?:too many|all|the whole|a whole|\d{2,}|a lot of|a bunch of|the rest of)\b",
          kind="means"),
    _rule("means.before_it_is_lethal",
          r"\b(?:max|maximum|highest|most|how much|how many)\b(?:\s+[\w']+){0,8}?\s+(?:before|until)\s+(?:it|they)"
          r"\s+(?:becomes?|gets?|is|are|turns?)\s+(?:deadly|lethal|fatal)\b",
          kind="means", default="generic"),
    # "What would happen if I took my whole month of lithium at once?"
    _rule("means.what_if_i_took",
          r"\bwhat (?:would|will|could|might) happen if (?P<who>i) (?:took|take|swallowed|swallow|downed)\s+(?:all|every"
          r"|my whole|the whole|a whole|my entire|the entire|the rest of|\d{2,})\b",
          kind="means"),
    _rule("means.enough_to_kill_me",
          r"\b(?:enough|would|will|could|might|can)\b(?:\s+\w+){0,3}?\s+(?:to\s+)?kill (?P<who>me)\b"
          r"|\benough\s+(?:\w+\s+){0,2}?to\s+(?:die|not wake up|never wake up|end it)\b",
          kind="means", check=_quantity_check),
)

# Suicide or self-harm named as a topic: with no finding, the message is clinical.
_TOPIC = re.compile(
    r"\bsuicid\w*|\bself (?:harm\w*|injur\w*|mutilat\w*)|\bnssi\b|\bc ?ssrs\b|\bcolumbia (?:suicide )?"
    r"(?:severity|protocol)|\b988\b|\blifeline\b|\bcrisis (?:line|text line|hotline|team)\b|\bsamaritans\b"
    r"|\bsafety plan\w*|\boverdos\w*|\blethal means\b|\bdeath wish\b|\bwish to die\b"
    r"|\bkill (?:myself|himself|herself|themselves|yourself|oneself)\b|\bpassive death\b"
)


# --------------------------------------------------------------------------------------
# Step 5: deciding what a match means
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Subject:
    person: str  # "first" | "you" | "third" | "generic"
    start: int
    end: int


_COPULA_FIRST = re.compile(r"\b(?:i am|am i|i was|was i)\s+(?:a|an)\s+(?:\w+\s+){0,2}$")
_POSSESSED = re.compile(r"\b(?:my|our|his|her|their|your)\s+(?:\w+\s+){0,3}$")
_DESCRIBED = re.compile(r"\s*(?:with|who has|who have|who had|that has)\b")
_ANY_EVERY = re.compile(r"\b(?:any|every|each)\s+$")
_WITH = re.compile(r"\s*with\b")
_NO_MORE = re.compile(r"\s*(?:anymore|any longer)\b")


def _noun_person(clause: str, match: re.Match) -> str:
    """Return whether a noun subject is the writer, a specific person, or people in general."""
    word = match.group("noun")
    before = clause[: match.start()]
    after = clause[match.end() : match.end() + 24]
    if _COPULA_FIRST.search(before):
        return "first"  # "am I a bad person for ...", "I'm a nurse who ..."
    if _POSSESSED.search(before):
        return "third"  # "my son", "her 15 year old daughter"
    if word in _PLURAL_NOUNS or (word.endswith("s") and word not in ("boss", "bus")):
        return "generic"  # "patients who want to die"
    if _DESCRIBED.match(after):
        return "generic"  # "a patient with suicidal ideation" describes a kind of patient
    if _ANY_EVERY.search(before):
        return "generic"
    return "third"  # "a patient told me", "the client said"


def _walk_back(clause: str, anchor: int) -> _Subject | None:
    """Return the nearest subject before position `anchor` in the clause, or None."""
    matches = list(_SUBJECT.finditer(clause, 0, anchor))
    if not matches:
        return None
    last = matches[-1]
    if last.group("first"):
        person = "first"
    elif last.group("you"):
        person = "you"
    elif last.group("third"):
        # "someone with a history of attempts" describes a kind of person, like "patients".
        described = last.group("third") in ("someone", "somebody") and _WITH.match(clause, last.end())
        person = "generic" if described else "third"
    elif last.group("generic"):
        person = "generic"
    else:
        person = _noun_person(clause, last)
    return _Subject(person, last.start(), last.end())


def _who(match: re.Match) -> tuple[str | None, str | None]:
    """The person a pronoun inside the pattern names, and that pronoun."""
    groups = match.groupdict()
    for name in ("who", "who2", "who3"):
        value = groups.get(name)
        if value:
            return _PERSON_OF.get(value, "third"), value
    subj = groups.get("subj")
    if subj:
        return {"i": "first", "you": "you", "one": "you"}.get(subj, "third"), subj
    return None, None


def _decide(rule: _Rule, match: re.Match, clause: str, previous: str, sentence: str) -> tuple[str, str] | None:
    """(level, decision id) for one match, or None when the match does not count."""
    if rule.fixed is not None:
        return rule.fixed
    prefix = clause[: match.start()]
    kind = rule.kind
    head = match.groupdict().get("head")
    if kind == "verbal" and head in _NOMINAL_HEADS and _NOMINALISED.search(prefix):
        kind = "nominal"  # "the wish to die", "her need to end it"
    if (kind == "verbal" and head and head.endswith("ing") and _GERUND_AS_NOUN.search(prefix)
            and _walk_back(clause, match.start()) is None):
        kind = "nominal"  # "is wanting to die a symptom of depression?": a gerund naming a topic

    person, pronoun = _who(match)
    anchor = match.start()
    owner_text = ""
    if kind == "nominal":
        owner = _OWNER.search(prefix)
        if owner is None:
            return ("clinical", "clinical.topic")
        owner_text = owner.group(0)
        if owner.group("poss"):
            person, pronoun = _PERSON_OF[owner.group("poss")], owner.group("poss")
        elif owner.group("possn"):
            person = "third"
        anchor = owner.start()

    subject = _walk_back(clause, anchor)
    if person is None:
        if subject is not None:
            person = subject.person
        elif kind == "nominal":
            return ("clinical", "clinical.topic")  # "is self-harm common": owned by no one
        elif kind == "means":
            person = "first" if _FIRST_CUE.search(sentence) else rule.default
        elif rule.default == "skip":
            return None
        else:
            person = rule.default
    elif subject is not None:
        if pronoun in ("myself", "meself", "my") and subject.person in ("third", "generic"):
            # "my friend keeps saying kill myself": the first person belongs to someone else's words.
            return ("concern", "concern.reported_speech")
        if person == "third" and subject.person == "generic":
            person = "generic"  # "why do people kill themselves"

    sub_start = subject.start if subject else 0
    sub_end = subject.end if subject else 0
    before_subject = clause[:sub_start]
    window = clause[sub_end : match.start()]
    if person == "first" and subject is not None and _REPORTER.search((previous + " " + before_subject).strip() + " "):
        return ("concern", "concern.reported_speech")

    if kind == "means":
        if person in ("first", "implicit", "you"):
            return ("crisis", "crisis.means_seeking")
        return ("concern", "concern.generic_means")

    negated = bool(_NEGATION.search(window) or _NEGATED_LEAD.search(before_subject)
                   or (owner_text and _DENIAL.search(owner_text)))
    after = clause[match.end() :]
    cut = _LOCAL_END.search(after)
    local_after = after[: cut.start()] if cut else after
    # "I'm no longer suicidal", "I'm not suicidal anymore": a past state, not a denial.
    no_longer = "no longer" in window or (negated and _NO_MORE.match(after))

    if person in ("first", "implicit"):
        if no_longer:
            return ("concern", "concern.past_self")
        if negated:
            return ("clinical", "clinical.negated")
        if subject is not None and _HYPOTHETICAL.search(before_subject):
            return ("concern", "concern.hypothetical_self")
        recent = _RECENT.search(clause[sub_start : match.end()] + local_after)
        joined = _CONJUNCTION.search(after)
        distant = _DISTANT.search(clause[: match.end()] + (after[: joined.start()] if joined else after))
        if rule.tense == "event":
            past = distant and not recent
        else:
            # Only the head verb of the match carries its tense: "wish I was dead" is not past.
            head_word = match.group(0).split(" ", 1)[0]
            past = (distant or _PAST.search(window + " " + head_word)) and not recent
        if past:
            return ("concern", "concern.past_self")
        return ("crisis", "crisis.first_person" if person == "first" else "crisis.implicit_first_person")
    if person == "third":
        if negated:
            return ("clinical", "clinical.negated")
        return ("concern", "concern.third_person")
    if person == "you":
        return ("clinical", "clinical.generic_you")
    return ("clinical", "clinical.generic_person")


# --------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------


# A subject is never hundreds of characters from its predicate. Clauses longer than this
# (a run-on message with no punctuation) are read in overlapping pieces, which keeps the
# cost of a message linear in its length.
_MAX_CLAUSE = 300
_OVERLAP = 100


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


def _assess_sentences(text: str, fired: list[str], reported: bool) -> str:
    """Run the rules over every clause of `text`; append rule ids to `fired`; return the level."""
    level = "none"
    topic = False
    for sentence in _SENTENCE_SPLIT.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        sentence = _neutralise_idioms(sentence, fired)
        if _TOPIC.search(sentence):
            topic = True
        previous = ""
        for clause in _pieces(_CLAUSE_SPLIT.split(sentence)):
            context = sentence if len(sentence) <= 2 * _MAX_CLAUSE else clause
            for rule in _RULES:
                for match in rule.pattern.finditer(clause):
                    if rule.check is not None and not rule.check(match, clause, context):
                        continue
                    decision = _decide(rule, match, clause, previous, context)
                    if decision is None:
                        continue
                    found, decision_id = decision
                    if reported and found in RISK_LEVELS:
                        found, decision_id = "concern", "concern.reported_speech"
                    fired.append(rule.rule_id)
                    fired.append(decision_id)
                    if RANK[found] > RANK[level]:
                        level = found
            previous = clause
    if level == "none" and topic:
        fired.append("topic.suicide_or_self_harm")
        fired.append("clinical.topic")
        level = "clinical"
    return level


def evaluate(text: str) -> tuple[str, tuple[str, ...]]:
    """The level of one message and the ids of the rules that fired, without history."""
    fired: list[str] = []
    norm = normalise(text)
    norm = _set_aside_mentions(norm, fired)
    norm, quotes = _extract_quotes(norm)
    level = _assess_sentences(norm, fired, reported=False)
    for quote in quotes:
        found = _assess_sentences(quote, fired, reported=True)
        if RANK[found] > RANK[level]:
            level = found
    return level, tuple(dict.fromkeys(fired))

