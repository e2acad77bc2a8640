import json

import pytest

from conftest import ROOT
from ipchat.conversation import rewrite_followup, topics_in
from ipchat.lexicon import load_lexicon

FOLLOWUPS = [json.loads(l) for l in (ROOT / "eval" / "questions" / "followups.jsonl").read_text().splitlines() if l.strip()]


@pytest.mark.parametrize("history, question, expected", [
    (["How does TMS work?"], "What are its side effects?", "What are TMS's side effects?"),
    (["What are the side effects of TMS?"], "and for ECT?", "What are the side effects of ECT?"),
    (["Which disorders does ECT treat?"], "what about TMS?", "Which disorders does TMS treat?"),
    # texting's "and": "n", "&"
    (["TMS s/e?"], "n ketamine?", "ketamine s/e?"),
    (["Which disorders does ECT treat?"], "& TMS?", "Which disorders does TMS treat?"),
    # a tail comparing the new subject with what was answered adds nothing to search with
    (["what conditions does ECT treat?"], "and ketamine - same list or narrower?", "what conditions does ketamine treat?"),
    (["what are the side effects of ECT?"], "what about TMS, any different?", "what are the side effects of TMS?"),
    # a question of its own after the new subject is not a comparing tail
    (["what are the side effects of ECT?"], "and for ketamine, are the sessions longer?", "and for ketamine, are the sessions longer?"),
    (["what kind of drug is ketamine?"], "how long does it last?", "how long does ketamine last?"),
    (["What is ECT used for?"], "how many sessions?", "how many sessions (ECT)?"),
    # set beside another topic, "these procedures" points back to the procedural therapies; alone it names nothing
    (["how fast do antidepressants kick in vs these procedures"], "so whats the upside of them being quicker overall",
     "so whats the upside of interventional therapies being quicker overall"),
    (["tell me about ECT", "are these procedures painful"], "how long does it take?", "how long does ECT take?"),
    (["ketamine side effects", "ok, and how does TMS work?"], "does it hurt?", "does TMS hurt?"),
    (["what are tms side effects?"], "Is ketamine addictive?", "Is ketamine addictive?"),
    ([], "What are its side effects?", "What are its side effects?"),
    (["hello"], "what are the side effects?", "what are the side effects?"),
    # the old topic named twice in a row ("a ketamine infusion") becomes the new one once
    (["what SE should i watch for during a ketamine infusion"], "and for ECT?", "what SE should i watch for during a ECT"),
    # "why?" and "and a yr later?" ask the earlier question again: its words, not only its topic
    (["is ketamine ok for someone w/ hx of opioid use d/o"], "why tho?",
     "is ketamine ok for someone w/ hx of opioid use d/o - why tho?"),
    (["what % of pts respond to TMS"], "and a yr later?", "what % of pts respond to TMS - and a yr later?"),
    # "anything else given w it?" asks for more of what the earlier question asked; "what else is it used for?" asks anew
    (["is ECT done under general anesthesia?"], "anything else given w it?",
     "is ECT done under general anesthesia? - anything else given w it?"),
    (["how does ketamine work?"], "what else is it used for?", "what else is ketamine used for?"),
    # "that" is what the earlier answer told of: whether it lasts asks the earlier question again ...
    (["what % of patients improve with TMS?"], "and does that last?", "what % of patients improve with TMS? - and does that last?"),
    (["how many people get better with TMS?"], "will those results hold up?",
     "how many people get better with TMS? - will those results hold up?"),
    # ... "it" is the treatment
    (["what is TMS?"], "does it last?", "does TMS last?"),
    # a treatment described by what it does opens its topic
    (["how many ECT treatments is typical?"], "and the IV one?", "how many ketamine treatments is typical?"),
    # an ellipsis after an ellipsis asks what the earlier one stood for
    (["what are the side effects of ketamine infusions?", "what about TMS?"], "and the shock one?",
     "what are the side effects of ECT?"),
    (["what does ketamine treat?", "and TMS?", "and for ECT?"], "what about the IV one?", "what does ketamine treat?"),
    (["how well does ECT work"], "long term?", "how well does ECT work - long term?"),
    # "is that permanent?", "does that wear off?": whether what the earlier answer told of lasts; after a
    # question on side effects, "that" is the side effect
    (["what % of patients respond to ECT?"], "is that permanent?", "what % of patients respond to ECT? - is that permanent?"),
    (["what share of people respond to TMS?"], "does that wear off?", "what share of people respond to TMS? - does that wear off?"),
    (["ECT side effects?"], "is that permanent?", "ECT side effects? - is that permanent?"),
    (["what is ECT?"], "is it permanent?", "is ECT permanent?"),
    # "r-TMS" names TMS as "rTMS" does
    (["how many sessions of r-TMS are usual?"], "and for ECT?", "how many sessions of ECT are usual?"),
    # a pointer at the other treatment, then its name in apposition, is an ellipsis as short as the name alone
    (["what does ketamine treat?"], "and the other one, the magnet treatment?", "what does TMS treat?"),
    (["what does ketamine treat?"], "and that one - TMS?", "what does TMS treat?"),
    # ... but a question with words of its own is read in the topic only
    (["what % of pts respond to TMS"], "and the side effects?", "and the side effects (TMS)?"),
    (["ketamine for TRD"], "why does it work so fast?", "why does ketamine work so fast?"),
    # "they" before what patients do are the patients: kept, with the topic added
    (["ketamine infusions - how many do pts usually start w?"], "and if they respond? then what",
     "and if they respond? then what (ketamine)?"),
    (["how is ECT done?"], "how do they give it", "how do they give ECT"),
    # case-sensitive shorthand for a topic ("ADs") names it, in the earlier turn and in the question
    (["how long do ADs take to reach full effect per the article"], "and therapy?",
     "how long do psychotherapy take to reach full effect per the article"),
    (["how long does therapy take to work"], "and ADs?", "how long does antidepressants take to work"),
    (["what alt therapies does it recommend"], "who are they best for", "who are alternative therapies best for"),
])
def test_rewrites(history, question, expected):
    assert rewrite_followup(question, history).query == expected


@pytest.mark.parametrize("row", FOLLOWUPS, ids=[r["id"] for r in FOLLOWUPS])
def test_followup_set_topics(row):
    # The topic may be written by its lexicon name or one of its aliases ("procedural therapies" is the topic
    # named "interventional therapies").
    rewrite = rewrite_followup(row["question"], row["history"])
    expected = row["expect_topic"].lower()
    names = {expected}
    for topic in load_lexicon().topics:
        if expected in {topic.name.lower(), *(alias.lower() for alias in topic.aliases)}:
            names |= {topic.name.lower(), *(alias.lower() for alias in topic.aliases)}
    assert any(name in rewrite.query.lower() for name in names)


def test_topics_in_order_and_word_bounded():
    assert topics_in("Compare rTMS with electroconvulsive therapy and ketamine") == ["TMS", "ECT", "ketamine"]
    assert topics_in("a perfect ending") == []  # "ect" inside a word is not ECT


def test_a_question_naming_no_topic_is_read_in_the_conversations_whatever_its_length():
    history = ["Tell me about ketamine infusions."]
    assert rewrite_followup("How many does a patient usually start with?", history).query == \
        "How many does a patient usually start with (ketamine)?"
    assert rewrite_followup("any risk of getting hooked", history).query == "any risk of getting hooked (ketamine)?"
    # a question naming its own topic, or another treatment, keeps it
    assert rewrite_followup("How long is a TMS session?", history).query == "How long is a TMS session?"
    assert rewrite_followup("What is deep brain stimulation?", history).query == "What is deep brain stimulation?"


def test_a_verdict_asked_on_a_statement_is_read_with_the_statement():
    history = ["she had her second infusion this morning and now the room looks tilted"]
    assert rewrite_followup("normal?", history).query == \
        "she had her second infusion this morning and now the room looks tilted - normal (ketamine)?"
    assert rewrite_followup("is that a worry", ["my patient on the magnet sessions has a headache after"]).query == \
        "my patient on the magnet sessions has a headache after - is that a worry (TMS)?"
    # a question about the treatment, or after a question, keeps the topic rewrite
    assert rewrite_followup("does it hurt?", ["my patient on the magnet sessions has a headache after"]).query == \
        "does TMS hurt?"
    assert rewrite_followup("normal?", ["what does ketamine do to perception?"]).query == "normal (ketamine)?"
    # a closing "there" points at what was stated too; "is there?" asks whether something exists
    assert rewrite_followup("any risk there?", ["my patient on the magnet sessions drinks heavily"]).query == \
        "my patient on the magnet sessions drinks heavily - any risk there (TMS)?"
    assert rewrite_followup("is there?", ["my patient on the magnet sessions drinks heavily"]).query == "is there (TMS)?"
    assert rewrite_followup("any risk there?", ["what is TMS?"]).query == "any risk there (TMS)?"


@pytest.mark.parametrize("question, expected", [
    ("would u ever go straight to these as first line or nah",
     "would u ever go straight to interventional therapies as first line or nah"),
    ("which pts are these offered to then?", "which pts are interventional therapies offered to then?"),
    ("are these treatments better than antidepressants", "are interventional therapies better than antidepressants"),
    # Not when something named is what "these" points to, nor before a noun of its own.
    ("are antidepressants better than these", "are antidepressants better than these"),
    ("are these normal after ECT", "are these normal after ECT"),
    ("what are these side effects", "what are these side effects"),
])
def test_a_first_question_pointing_at_nothing_named_asks_about_the_sources_subject(question, expected):
    assert rewrite_followup(question).query == expected
