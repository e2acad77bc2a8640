import json
import re

import numpy as np
import pytest

from conftest import ROOT
from ipchat.answer import _BARE_LINK, ABSTAIN_TEXT, Answerer, _asking_part, asked_topics, list_block, reply_to_dict
from ipchat.llm import numbers_in

SEED = [json.loads(l) for l in (ROOT / "eval" / "questions" / "seed.jsonl").read_text().splitlines() if l.strip()]
FOLLOWUPS = [json.loads(l) for l in (ROOT / "eval" / "questions" / "followups.jsonl").read_text().splitlines() if l.strip()]


@pytest.fixture(scope="module")
def answerer(store_retriever):
    return Answerer(store_retriever)


@pytest.fixture(scope="module")
def replies(answerer):
    rows = SEED + FOLLOWUPS
    answerer.prepare([(row["question"], row.get("history", ())) for row in rows])
    return [(row, answerer.ask(row["question"], row.get("history", ()))) for row in rows]


def test_a_sentence_that_only_sends_the_reader_on_is_never_quoted(answerer):
    # The guide's "To better understand these rapidly developing treatment tools, keep reading!" says nothing of them.
    for question in ("how are these rapidly developing treatment tools best understood", "to better understand these tools what should i do"):
        assert not any("keep reading" in c.quote for c in answerer.ask(question).citations), question


def test_a_list_of_the_treatments_asked_of_together_is_not_what_is_asked(answerer):
    listing = "Interventional therapies include Electroconvulsive Therapy (ECT)"
    first = lambda q: answerer.ask(q).citations[0].quote
    assert listing not in first("what criteria should a patient meet before i refer them for ect, tms or iv ketamine?")
    assert listing in first("what are ECT, TMS and ketamine")  # nothing asked of them but what they are


def test_prepared_turns_are_asked_from_the_cache_with_the_same_replies(answerer):
    turns = [("how many ECT sessions are usual?", ()),
             ("  and for TMS?  ", ("how many ECT sessions are usual?", " is it painful? "))]
    answerer.forget_queries()
    cold = [answerer.ask(q, h) for q, h in turns]
    answerer.forget_queries()
    assert answerer.prepare(turns) > 0
    calls = []
    embed = answerer.safety_embed._embed
    answerer.safety_embed._embed = lambda texts: calls.append(list(texts)) or embed(texts)
    try:
        warm = [answerer.ask(q, h) for q, h in turns]
    finally:
        answerer.safety_embed._embed = embed
    assert calls == []  # every vector the backstop needed was made beforehand
    assert [(r.answer, r.safety.level) for r in warm] == [(r.answer, r.safety.level) for r in cold]
    assert answerer.prepare(turns) == 0  # nothing left to make


def test_every_marker_resolves_to_a_citation(replies):
    for _row, reply in replies:
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", reply.answer)}
        assert markers == {c.n for c in reply.citations}
        assert [c.n for c in reply.citations] == list(range(1, len(reply.citations) + 1))


def test_every_quote_is_verbatim_at_its_offsets(replies, answerer):
    for _row, reply in replies:
        for c in reply.citations:
            doc = answerer.index.documents[c.doc_id]
            assert doc.text[c.start:c.end] == c.quote
            assert c.quote in reply.answer
            assert (c.title, c.url) == (doc.title, doc.url)


def test_citations_point_only_at_retrieved_passages(replies):
    for _row, reply in replies:
        retrieved = {h.chunk.chunk_id: h.chunk for h in reply.hits}
        for c in reply.citations:
            assert c.chunk_id in retrieved
            chunk = retrieved[c.chunk_id]
            assert chunk.start <= c.start < c.end <= chunk.end
            assert c.section == chunk.section


def test_numbers_in_the_answer_appear_in_the_cited_passage(replies):
    for _row, reply in replies:
        parts = re.findall(r"(.*?)\s*\[(\d+)\]", reply.answer, flags=re.S)
        # A crisis reply quotes no passage (vf10, "and how many times will they do it?" after an ECT
        # question, is read as a means question by the safety rules; the evaluation counts it a miss).
        assert parts or reply.abstained or reply.path == "crisis"
        by_n = {c.n: c for c in reply.citations}
        for text, n in parts:
            assert numbers_in(text) <= numbers_in(by_n[int(n)].quote)


def test_bare_links_are_quoted_only_when_links_are_asked_for(replies, answerer):
    # Without the penalty, "is electroconvulsve therapy really as barbaric as it looks in the movies"
    # quoted a reference URL.
    for row, reply in replies:
        assert not any(_BARE_LINK.match(c.quote) for c in reply.citations), (row["id"], reply.answer)
    asked = answerer.ask("which websites does the guide list as references?")
    assert any(_BARE_LINK.match(line.strip("- ")) for c in asked.citations for line in c.quote.splitlines())


def test_answers_are_short(replies):
    for _row, reply in replies:
        assert len(reply.citations) <= 5


def test_ketamine_side_effects_list_stays_together(answerer):
    reply = answerer.ask("what are the side effects of ketamine infusions?")
    quote = next(c.quote for c in reply.citations if "Nausea and vomiting" in c.quote)
    assert quote.startswith("The potential side effects include:")
    assert quote.endswith("Out-of-body experiences (dissociation)")


def test_answers_a_clear_question_with_its_passage(answerer):
    reply = answerer.ask("How many ECT treatments are usually given?")
    assert not reply.abstained
    assert any("six to twelve treatments" in c.quote for c in reply.citations)
    assert reply.path == "extractive"


def test_abstains_off_topic_and_offers_closest_material(answerer):
    reply = answerer.ask("write a python function that reverses a linked list")
    assert reply.abstained
    assert reply.answer == ABSTAIN_TEXT
    assert reply.citations == ()
    assert len(reply.hits) > 0


def test_followup_is_answered_about_the_earlier_topic(answerer):
    reply = answerer.ask("What are its side effects?", ["How does TMS work?"])
    assert reply.rewritten_query == "What are TMS's side effects?"
    assert any("scalp pain or discomfort" in c.quote for c in reply.citations)


def test_crisis_message_gets_resources_and_no_corpus_text(answerer):
    reply = answerer.ask("What's the success rate of ECT? honestly I don't see the point of living anymore")
    assert reply.safety.level == "crisis"
    assert reply.citations == () and reply.hits == ()
    assert "988" in reply.answer
    for chunk in answerer.index.chunks:
        assert chunk.text not in reply.answer


def test_clinical_question_about_suicidality_is_answered(answerer):
    reply = answerer.ask("Is ECT indicated for severe suicidality?")
    assert reply.safety.level == "clinical"
    assert not reply.abstained
    assert any("severe suicidality" in c.quote for c in reply.citations)


def test_json_shape_is_stable(answerer):
    data = reply_to_dict(answerer.ask("tms side effects?"), answerer.index)
    assert list(data) == ["question", "rewritten_query", "answer", "abstained", "declined", "notes", "path", "citations", "hits", "safety",
                          "timings_ms"]
    assert list(data["citations"][0]) == ["n", "chunk_id", "doc_id", "title", "url", "section", "quote", "start", "end", "page"]
    assert set(data["safety"]) == {"level", "rule_ids", "message", "semantic", "screened"}
    # The real models: the answers' model heard no risk in the question, so the rules alone read it (the screen).
    assert data["safety"]["screened"] is True and data["safety"]["semantic"] is False
    assert {"safety", "retrieve", "total"} <= set(data["timings_ms"])
    json.dumps(data)


def test_list_block_expands_items_and_lead_in(real_retriever):
    index = real_retriever.index
    chunk = next(c for c in index.chunks if "Blurry vision" in c.text)
    text = index.documents[chunk.doc_id].text
    item = next(s for s in chunk.sentences if text[s[0]:s[1]] == "Blurry vision")
    start, end = list_block(chunk, text, *item)
    assert text[start:end].startswith("The potential side effects include:")
    assert text[start:end].endswith("(dissociation)")
    # A sentence of ordinary prose is quoted on its own.
    prose = next(c for c in index.chunks if "six to twelve treatments" in c.text)
    sentence = next(s for s in prose.sentences if "six to twelve" in text[s[0]:s[1]])
    assert list_block(prose, text, *sentence) == sentence


def test_empty_and_huge_questions_are_refused(answerer):
    from ipchat.errors import InputError

    with pytest.raises(InputError):
        answerer.ask("  ")
    with pytest.raises(InputError):
        answerer.ask("why " * 2000)
    for history in ("what is ECT?", ["what is ECT?", None]):
        with pytest.raises(InputError, match="history"):
            answerer.ask("and TMS?", history=history)


def test_sources_shown_are_k_and_hold_every_cited_passage(replies):
    for _row, reply in replies:
        assert len(reply.hits) <= max(5, len(reply.citations))
        ranks = [h.rank for h in reply.hits]
        assert ranks == sorted(ranks)


@pytest.mark.parametrize(("question", "history", "quote_has"), [
    # the answering passage ranks sixth for this wording: the pool reads past the top five
    ("How many ECT treatments does a course usually involve?", (), "six to twelve treatments"),
    # "put to sleep" shares no word with "anesthesia": the lexicon's lay words bridge it
    ("Is the patient put to sleep for ECT?", (), "anesthesia"),
    # a follow-up with no pronoun is read in the conversation's topic
    ("How many does a patient usually start with?", ("Tell me about ketamine infusions.",), "one to three infusions"),
    # A lay word in the background ("that scene from One Flew Over ...") is what worries the writer; the lay
    # word of the question proper ("awake while") says what is asked.
    ("My dad is booked in for shock treatment on Tuesday and all I keep picturing is that scene from One Flew "
     "Over the Cuckoo's Nest. My brother says it's nothing like that now. Will he be awake while they do it?", (),
     "anesthesia"),
    # ... unless the question points back at the background ("Is this something that's known to happen?").
    ("Since she started ECT she keeps forgetting conversations and her muscles ache. I don't want to worry the "
     "team over nothing. Is this something that's known to happen?", (), "memory loss"),
    # "shorter overall" is the sources' "reduce the overall duration of treatment".
    ("because these work faster, does that mean the whole treatment ends up shorter overall?", (), "overall duration"),
    # A list is scored as one: an item found by its words ("tolerate", "pregnancy") and the lead-in by the lay
    # word for criteria ("qualify") put the criteria before the sentence on who is offered the treatments.
    ("I'm the junior on tonight and was asked to write up a referral for interventional tx for a pt who's had "
     "2 SSRIs and an SNRI, not actively suicidal, tolerated meds ok apart from some nausea - what does a pt "
     "need to have to qualify", (), "Have a history of treatment resistance"),
    # "SE" is side effects and "htn" hypertension, the sources' "High blood pressure" (quoted with its list)
    ("pt mid ketamine drip bp climbing - is htn a listed SE", (), "High blood pressure"),
    # "gentler" asks how mild
    ("which is gentler on SE, TMS or ECT? pt choosing between the two", (), "generally mild"),
    # "started as 1st line" asks what the treatments are intended as
    ("can ECT TMS or ketamine be started as 1st line or do they have to fail meds first", (), "Not intended as a first-line"),
    # asked again for a later time, with the figure the earlier question asked for
    ("and a yr later?", ("what % of pts respond to TMS",), "62%"),
    ("and does that last?", ("what share of people respond to TMS?",), "62%"),
    # a treatment described by what it does; an ellipsis after an ellipsis asks what the earlier one stood for
    ("and the shock one?", ("what are the side effects of ketamine infusions?", "what about TMS?"), "memory loss"),
    # "knock her out" is anesthesia; the people counted, asked alone after what happens to them, are a share
    ("my mum has the seizure treatment on friday - do they knock her out for it?", (), "anesthesia"),
    ("does the benefit of the coil-on-the-head one last a year? how many people", (), "62%"),
    # "what kind of drug" asks for the drug's kind, though it holds the sources' word already
    ("special K - what kind of drug is it when they use it for depression?", (), "dissociative anesthetic drug"),
    # "diffs" are differences; "total length" is the overall duration; "keep getting it" after a course is maintenance
    ("quick diffs between first-line and procedural therapies?", (), "The key differences"),
    ("since these act quicker, might they cut the total length of treatment?", (), "overall duration"),
    ("after someone completes their ECT course, do they keep getting it?", (), "maintenance therapy"),
    ("when a person finishes ECT is that the end or do they keep getting it", (), "maintenance therapy"),
    # "is that permanent" after a response rate asks whether the response lasts, not whether a side effect does
    ("is that permanent or does it wear off?", ("what share of people respond to TMS?",), "62%"),
    # a sentence about the treatment asked before an overview naming all three
    ("so how do they actually do tms, what goes where", (), "electromagnetic coil"),
    ("once it works do they just stop", ("what does ECT get used for",), "maintenance therapy"),
    # the treatments named together and asked of as a class: the sentence listing them answers nothing asked of them
    ("are ECT/TMS/ketamine considered first line?", (), "Not intended as a first-line"),
    ("r these interventional things meant as first line", (), "Not intended as a first-line"),
    # "oral" asks for the route
    ("ketamine for depression - oral or iv?", (), "administered intravenously"),
    # how it works is answered by what is done and what that does ("stimulates ... by placing"), not by its side effects
    ("how does TMS work - plain english pls, need to explain to a client", (), "electromagnetic coil"),
    # examples asked for are answered by the sentence that lists them ("include yoga, ...")
    ("which alternative therapies does it mention for mental health", (), "include yoga"),
    # ... and so is a class asked of after a word on it, with "examples?" on the end
    ("what are they then, examples?", ("which pts do the alternative therapies help most",), "include yoga"),
    # a term asked to be defined is answered by the sentence that defines it, not one on the "MDT" beside it
    ("quick one whats 'interventional psychiatry' actually mean, consultant keeps sayin it in MDT", (),
     "emerging psychiatric subspecialty"),
    ("whats 'interventional psychiatry' actualy supposed to mean, the new reg keeps dropping it in MDT", (),
     "emerging psychiatric subspecialty"),
    # what clinicians must "get their heads round" is what they must understand; "round" there counts no sessions
    ("what does it say clinicians need to get their heads round to use these procedural therapies", (),
     "need to understand the neural circuits"),
    # the field asked of after it was named is the subspecialty, not its treatments
    ("is it an official specialty yet or not", ("what does the article say about interventional psychiatry",),
     "official subspecialty"),
    # relief still found after a year is a rate: the sentence stating it answers, not a decline for want of a count
    ("how many pts still got relief from TMS after a yr", (), "62% of patients"),
    # a lay word in what follows the question ("films") says why the writer asks, not what is asked
    ("is ECT done under a GA? family r freaking out bc of what theyve seen in films", (), "performed under anesthesia"),
    # the kind of drug asked is its definition, "exactly" and a comma after the name
    ("what class of drug is ketamine exactly, we see it more in the recreational side tbh", (),
     "dissociative anesthetic drug"),
    # "it" asked to be defined is the term quoted before it
    ("keep hearing 'interventional psychiatry' on the ward rounds.. whats it actually mean in one line", (),
     "emerging psychiatric subspecialty"),
    # ... a word of emphasis between "what" and its verb, and the term cut short ("interventional psych"); a sentence that
    # only sends the reader on ("keep reading!") is never quoted
    ("new locum here, just started on a UK ward. consultant keeps saying 'interventional psych' like its a thing of its "
     "own?? what actually is it", (), "emerging psychiatric subspecialty"),
    # the question's words said in its order ("clinicians need to understand") before the same words apart
    ("what do clinicians need to understand to do this well, according to them", (), "need to understand the neural"),
    # "when" asking in what circumstances: the sentence that opens with them ("When traditional psychotherapy ...")
    ("when do they say u should even start thinking about the procedural stuff vs just therapy + meds", (),
     "When traditional psychotherapy"),
    ("school nurse q - when would someone even get pushed toward these procedure type treatments instead of just the usual stuff?",
     (), "When traditional psychotherapy"),
    # shorthand for the sources' word: "antidep" is antidepressant, not the side effects' "effect"
    ("do we actually know how ketamine gets the antidep effect so fast or nah", (), "researchers are still figuring out"),
    # ... "when" with the asker's subject before the modal; "instead of just" asks for the alternative
    ("social prescriber here, pt asking when docs would even think about these brain treatments instead of just tablets "
     "and talking therapy?? whats the trigger", (), "When traditional psychotherapy"),
    # a definition asked as what the sources say the term is
    ("pt heard ketamine is a horse tranq lol, what does the guide actually say ketamine is", (),
     "dissociative anesthetic drug"),
    # who asks, said after the question, is not searched for ("the neuro side" is not what is asked)
    ("what fields does interventional mh pull together? im a pharmacologist so the neuro side is a bit outside my lane",
     (), "combining neurophysiology"),
])
def test_reworded_questions_are_answered_from_the_right_sentence(answerer, question, history, quote_has):
    reply = answerer.ask(question, history)
    assert not reply.abstained
    assert quote_has in reply.citations[0].quote


@pytest.mark.parametrize(("question", "aspect"), [
    ("Can I drive after ECT?", "driving"),
    ("Does insurance cover TMS?", "cost or insurance"),
    ("Is there an age limit for ECT?", "age"),
    ("Can I have ketamine infusions while breastfeeding?", "breastfeeding"),
    ("Can you have TMS with a metal implant?", "devices or implants"),
    ("which trimester is safest for TMS?", "the stage of pregnancy"),
    # asked in the question proper and named again in the background that follows
    ("what's the oldest age someone can have TMS? my 80 year old gran was offered it", "age"),
    ("Is ketamine licensed or FDA approved for depression, or used off-label?", "licensing or regulatory approval"),
    ("how soon after an ECT session can I get back to the gym?", "exercise or physical activity"),
    ("is ECT done as an outpatient or will dad have to stay in hospital?", "inpatient or outpatient care"),
    # a procedure asked of someone with a heart history
    ("can you do ECT in someone who had an MI a few months ago", "contraindications"),
    # ... or with dementia, asked as whether it makes it worse
    ("is ECT ok for someone with moderate alzheimers, will it make the dementia worse", "contraindications"),
    # ... or asked of people with it, whether the treatment speeds it up
    ("in pts with established dementia does ECT speed up cognitive decline long term?", "contraindications"),
    # a medicine "washed out" first is an interaction
    ("does an MAOI need washing out before ketamine infusions", "interactions"),
    # ... and so is one kept going through a course, or medicines adjusted for it, or asked of anyone on them
    ("is it ok to keep lithium going during ECT", "interactions"),
    ("LD pt with epilepsy on antiepileptics - does ECT still work / need to adjust meds?", "interactions"),
    ("can you do ect on someone on clozapine or lithium, any issues", "interactions"),
    # epilepsy asked of "a pt w", with its shorthand
    ("can a pt w epilepsy/seizure hx get TMS safely", "contraindications"),
    # how the body handles a drug: half-life, metabolism
    ("ketamine half life and is it CYP3A4 metabolised? worried about interactions w some HIV meds",
     "how a drug is handled by the body"),
    # a condition the sources never name, asked as what a treatment is for ("helps w")
    ("is ECT ever used for delirium tremens or severe alcohol withdrawal", "alcohol withdrawal"),
    ("any evidence TMS helps w meth or cocaine cravings? heard its being trialled for addiction", "stimulant use"),
    # safety asked of someone who already has a condition
    ("is ECT safe for someone who already has dementia? will it make their dementia worse", "contraindications"),
    # the observations nurses make, asked as what and how often
    ("what obs should nurses do during a ketamine infusion, like how often bp and sats", "monitoring"),
    # breastfeeding in a mother's own words, and genetic testing by its names
    ("mom getting ect under general anesthesia - does she need to pump and dump after each session or can she nurse "
     "right away", "breastfeeding"),
    ("can pharmacogenomic testing (cyp2d6/cyp2c19) predict which pts will fail antidepressants and need tms? GC here",
     "genetic testing"),
    # a condition the sources never name, asked as what a treatment brings about
    ("does having ect raise the chance of developing epilepsy later on", "epilepsy"),
    # what may be done how soon after a session, and how long a session lasts or how often
    ("music therapist - how soon after an ect session can my client safely join group drumming? is same day ok",
     "activities after a session"),
    ("how long is each tms appt and how many days a week do they go? tryin to schedule art sessions around it",
     "session length or schedule"),
])
def test_declines_what_the_sources_never_discuss_and_offers_closest_material(answerer, question, aspect):
    reply = answerer.ask(question)
    assert reply.abstained and reply.declined
    assert f"No indexed passage discusses {aspect}." in reply.notes
    assert reply.hits  # the closest material is still shown


def test_a_sentence_taking_up_where_the_first_ends_is_kept_with_it(answerer):
    # "... and increase the amount of glutamate." → "Increasing glutamate activates AMPA receptors, ...": the
    # explanation goes on in the next sentence, which scores a little under the keep margin.
    reply = answerer.ask("what does ketamine do in the brain?")
    assert "NDMA" in reply.citations[0].quote
    assert any("AMPA" in c.quote for c in reply.citations[1:])


def test_two_sentences_of_one_chain_that_score_alike_are_quoted_in_reading_order(answerer):
    # The AMPA sentence, which takes up the NDMA sentence's last words, scores a hair above it for this wording.
    reply = answerer.ask("how does ketamine actually work, the receptor thing")
    assert "NDMA" in reply.citations[0].quote and "AMPA" in reply.citations[1].quote
    # ... while a question about what the glutamate does still puts the AMPA sentence first.
    reply = answerer.ask("what does the extra glutamate do then", ("how does ketamine work",))
    assert "AMPA" in reply.citations[0].quote


def test_a_when_asking_for_a_time_is_not_read_as_asking_for_circumstances(answerer):
    # "when do ketamine infusions start working" asks for a time: no sentence is lifted for opening with a condition.
    # Lifted, "If they see an improvement in symptoms, more infusions are an option." would come first.
    reply = answerer.ask("when do ketamine infusions start working")
    assert not reply.citations[0].quote.startswith(("When ", "If "))


def test_advice_asked_in_the_plural_keeps_the_next_piece_of_it(answerer):
    # "... requires a collaborative approach ..." is first; "Make sure to discuss your patient's needs ..." right after
    # it scores under the keep margin, and is the rest of the advice asked for.
    reply = answerer.ask("any tips on how we shld be working with pts and the team around this kind of care")
    assert "collaborative approach" in reply.citations[0].quote
    assert any("heard and respected" in c.quote for c in reply.citations[1:])


def test_a_part_asked_in_lay_words_is_measured_with_its_bonus(answerer):
    # "and what if it works" is "If they see an improvement in symptoms, more infusions are an option", beside the
    # sentence on how infusions are given and how many come first.
    reply = answerer.ask("how's the ketamine given and how many infusions do ppl usually start w, and what if it works")
    assert "intravenously" in reply.citations[0].quote
    assert any("more infusions are an option" in c.quote for c in reply.citations[1:])


@pytest.mark.parametrize(("question", "expected"), [
    ("can u mix treatments or is it one or the other", "combining treatments"),
    ("which treatments actually come under the interventional heading", "Interventional therapies include"),
    ("so when wld someone even get offered these procedure type treatments rather than just talking therapy n tablets?",
     "When traditional psychotherapy or medications are ineffective"),
])
def test_lay_and_shorthand_wordings_of_this_round_cite_their_sentence_first(answerer, question, expected):
    assert expected in answerer.ask(question).citations[0].quote


def test_a_drug_history_is_answered_with_what_to_do_and_why(answerer):
    reply = answerer.ask("what abt someone with a drug hx, is that gonna be an issue")
    assert "history of substance use disorder" in reply.citations[0].quote
    assert any("addictive properties" in c.quote for c in reply.citations)


def test_an_aspect_the_sources_do_discuss_is_answered(answerer):
    reply = answerer.ask("Is ketamine addictive?")
    assert not reply.abstained and "addictive" in reply.answer


def test_an_aspect_asked_in_a_later_question_is_a_note_not_a_refusal(answerer):
    reply = answerer.ask("What is ECT, and can I drive home after it?")
    assert not reply.declined and reply.citations
    assert "No indexed passage discusses driving." in reply.notes
    # Asked first, the same aspect decides.
    assert answerer.ask("Can I drive home after ECT, and what is it?").declined


def test_people_named_as_who_is_told_are_not_what_is_asked(answerer):
    # The effects are asked; the elderly patient is who hears them.
    reply = answerer.ask("ECT adverse effects to counsel elderly pt + daughter on?")
    assert not reply.declined and "memory loss" in reply.citations[0].quote
    assert "No indexed passage discusses age." in reply.notes
    # Asked of them, it is what is asked.
    assert answerer.ask("is ECT ok for elderly patients?").declined


def test_an_aspect_naming_the_writers_role_is_not_what_is_asked(answerer):
    # "sports med doc" says who asks; what is asked is what the field combines.
    reply = answerer.ask("sports med doc, not my area lol - what fields does interventional mental health combine?")
    assert not reply.declined and "neurophysiology" in reply.citations[0].quote
    # Asked of the sport itself, it is what is asked.
    assert answerer.ask("sports physio here, when can a pt return to sport after ECT").declined


def test_a_question_about_what_the_sources_list_asks_only_that(answerer):
    # The side effects the guide lists are asked; the patient's age and the consent are who it is for.
    reply = answerer.ask("consenting a 20yo for ECT, what SEs does it list")
    assert not reply.declined and "memory loss" in reply.citations[0].quote
    assert "No indexed passage discusses age." in reply.notes
    # Asked inside that clause, the age is what is asked.
    assert answerer.ask("does the guide mention an age limit for ECT?").declined


def test_a_persons_past_is_not_a_treatments_history(answerer):
    reply = answerer.ask("is ketamine addictive though? he had a drinking problem back in the 90s")
    assert not reply.declined and any("addictive properties" in c.quote for c in reply.citations)
    assert answerer.ask("was ECT very different in the 1950s?").declined


def test_a_condition_the_sources_never_name_asked_as_what_a_treatment_is_for_is_declined(answerer):
    reply = answerer.ask("Does TMS work for tinnitus or migraines?")
    assert reply.declined and "No indexed passage discusses tinnitus or migraine." in reply.notes
    assert reply.hits  # the closest material is still shown
    pain = answerer.ask("can ketamine also help with cancer pain?")
    assert pain.declined and "No indexed passage discusses chronic pain." in pain.notes
    # asked in a later clause, it is a note
    later = answerer.ask("what is TMS, and does it help with tinnitus?")
    assert not later.declined and "No indexed passage discusses tinnitus." in later.notes
    # a condition the sources name (PTSD, as trauma) leaves no note
    assert not any("post-traumatic" in note for note in answerer.ask("does ketamine help with PTSD?").notes)
    # a condition the sources name is answered; named beside an unnamed one, the unnamed one is a note
    assert not answerer.ask("does TMS work for OCD?").abstained
    mixed = answerer.ask("does ketamine work for depression and tinnitus?")
    assert not mixed.declined and "No indexed passage discusses tinnitus." in mixed.notes
    # a condition named as the patient's background is not what is asked
    assert not answerer.ask("my mum has dementia, is ECT used for depression in older people?").notes
    # one no lexicon entry lists, by a name the sources never use, is declined as well
    eye = answerer.ask("could TMS be used to help lazy eye / amblyopia in adults, heard something about brain stim for vision")
    assert eye.declined and "No indexed passage discusses amblyopia." in eye.notes
    # "help" takes the condition as its object too
    nerve = answerer.ask("diabetic pt w painful neuropathy in feet, would ketamine infusions help the nerve pain too?")
    assert nerve.declined and "No indexed passage discusses chronic pain." in nerve.notes


def test_what_a_treatment_is_asked_to_do_to_something_the_sources_never_name_is_declined(answerer):
    eye = answerer.ask("ophtho nurse here, does ketamine raise intraocular pressure? worried about my glaucoma pt")
    assert eye.declined and "No indexed passage discusses intraocular pressure." in eye.notes
    # ... and so is a comparison with a drug the sources never name
    assert answerer.ask("whats the diff between spravato nasal spray and the IV ketamine, is one better").declined
    # a harm the sources list is answered, and so is one misspelt or in a lay word
    pressure = answerer.ask("does ketamine raise blood pressure")
    assert not pressure.declined and "High blood pressure" in pressure.citations[0].quote
    for asked in ("can ECT cause memroy loss", "can ECT cause forgetfulness", "can ECT cause confusion afterwards"):
        assert not answerer.ask(asked).declined, asked


def test_a_sentence_that_only_refers_back_is_quoted_with_the_one_it_refers_to(answerer):
    reply = answerer.ask("whats the point of 'evidence based practice' in this context, what does it help providers do")
    quotes = [c.quote for c in reply.citations]
    assert quotes[0].startswith("It also helps providers"), quotes
    assert quotes[1].startswith("Evidence-based practices allow clinicians"), quotes


def test_a_condition_named_only_as_a_history_does_not_answer_what_a_treatment_is_for(answerer):
    reply = answerer.ask("can ketamine infusions be used to treat alcohol use disorder")
    assert reply.declined and reply.hits
    assert any("only as a history or a caution" in note for note in reply.notes)
    # the same condition asked as a caution is answered from the caution
    caution = answerer.ask("is ketamine risky for someone with a history of substance use disorder?")
    assert not caution.declined and any("substance use disorder" in c.quote for c in caution.citations)


def test_a_medicine_the_patient_takes_asked_beside_a_treatment_is_an_interaction(answerer):
    for question in ("pt on methadone 80mg / bupe - any issue giving ketamine infusion",
                     "pt on lorazepam 2mg tds - does that blunt ketamine response? should we hold benzos"):
        reply = answerer.ask(question)
        assert reply.declined and "No indexed passage discusses interactions." in reply.notes, question


def test_minor_as_small_is_not_an_age(answerer):
    reply = answerer.ask("TMS SEs - anything serious or mostly minor? pt gets migraines already")
    assert not reply.declined and any("generally mild" in c.quote for c in reply.citations)
    assert answerer.ask("can a minor consent to ECT?").declined


def test_a_treatment_the_sources_know_only_by_its_class_is_answered_with_a_note(answerer):
    reply = answerer.ask("how long do SSRIs take to kick in fully")
    assert not reply.declined and any("four to eight weeks" in c.quote for c in reply.citations)
    assert reply.notes == ("The indexed sources never mention SSRIs; they speak of antidepressants in general.",)


@pytest.mark.parametrize("question", [
    "ECT vs vagus nerve stimulation for TRD, which is better?",
    "which induction agent is preferred for ECT, propofol or methohexital?",
    "Pt is on lithium and we're planning ECT next week. Should we hold the lithium beforehand?",
    "does ketamine interact with clonazepam",
    # held or carried on, said with a pronoun for the drug or a pharmacist's gerund
    "pt on lithium starting ECT tmrw - hold it or continue? interaction risk?",
    "pt on lorazepam nocte - does it need holding b4 ECT, affect seizure threshold?",
    # a choice among agents the sources never name, listed without "or"; and a drug taken at the same time
    "which anaesthetic agent is used for ECT - propofol, etomidate?",
    "safe to do ECT while pt is on lithium or clozapine?",
])
def test_compared_or_combined_with_what_the_sources_never_mention_declines(answerer, question):
    reply = answerer.ask(question)
    assert reply.declined and any("never mention" in note for note in reply.notes)


def test_fetal_heart_rate_monitoring_is_an_aspect_the_sources_do_not_discuss(answerer):
    # The sources speak of pregnancy, not of monitoring the fetus during a procedure.
    reply = answerer.ask("pregnant pt 2nd trimester booked for ECT - do we need fetal HR monitoring during the procedure?")
    assert reply.declined and "No indexed passage discusses monitoring." in reply.notes


def test_fasting_before_a_procedure_is_an_aspect_the_sources_do_not_discuss(answerer):
    reply = answerer.ask("how long do i have to fast before shock therapy")
    assert reply.declined and "No indexed passage discusses fasting." in reply.notes


def test_the_backstop_also_hears_the_earlier_questions_from_the_vector_cache(answerer, monkeypatch):
    real, heard = answerer.backstop, []

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def judge_message(self, vector, sentence_vectors=(), several=None):
            heard.append(np.asarray(vector))
            return real.judge_message(vector, sentence_vectors, several)

        @property
        def for_history(self):  # earlier questions are heard through the same spy
            return self

    monkeypatch.setattr(answerer, "backstop", Spy())
    earlier = "my exams went badly this term and everything feels flat"
    answerer.ask(earlier)
    remembered = answerer.safety_embed([earlier])[0]  # the safety model's cache (the retriever's when it is the same model)
    heard.clear()
    answerer.ask("How does TMS work?", [earlier])
    assert any(np.allclose(vector, remembered) for vector in heard)  # the earlier question, as it was embedded


@pytest.mark.parametrize(("question", "topics"), [
    # The asking sentence points back at the subject of the background, not at what it is compared with.
    ("A caller is scared TMS will wipe their memory the way they heard shock treatment can. How bad are its side effects?",
     {"transcranial magnetic stimulation"}),
    # The asking sentence names its own treatment.
    ("My mother had ECT years ago. Is TMS much gentler?", {"transcranial magnetic stimulation"}),
    # One sentence: every treatment it names.
    ("ECT vs TMS side effects?", {"electroconvulsive therapy", "transcranial magnetic stimulation"}),
])
def test_the_treatments_asked_about_are_read_from_the_asking_sentence(question, topics):
    assert asked_topics(question) == topics


@pytest.mark.parametrize(("question", "asking"), [
    # A statement, then a question with its own subject: the question is what is asked.
    ("My wife starts ECT on Monday. How many treatments will she have?", "How many treatments will she have?"),
    # "any X?" leaves out what it asks about: it is asked of the statement before it.
    ("pt has hx of alcohol use disorder, asking abt ketamine for his TRD. any cautions mentioned?", None),
    ("Dad is 82 and frail. Anything to watch for with ECT?", None),
    # Statements after the question say why it is asked.
    ("is ECT done under a GA? family r freaking out bc of what theyve seen in films", "is ECT done under a GA?"),
    # "anything else" asks, with no question mark.
    ("shock tx - pt put under for it? GA + anything else given", None),
])
def test_the_asking_part_leaves_out_the_background_unless_the_question_leans_on_it(question, asking):
    assert _asking_part(question) == asking


def test_a_paragraph_set_against_the_kept_sentence_is_quoted_with_it(answerer):
    # "The key differences are that first-line therapies ..." ends its paragraph; "In contrast, procedural
    # therapies ..." opens the next one and says the other half of the difference.
    reply = answerer.ask("key diff between first line tx and procedural therapies?")
    assert "key differences" in reply.answer and "In contrast, procedural therapies" in reply.answer
    # ... kept within the wider margin when a difference is asked, though it scores well below the first
    reply = answerer.ask("first line vs procedural therapies, whats the key difference")
    assert "key differences" in reply.answer and "In contrast, procedural therapies" in reply.answer


def test_a_neighbour_holding_another_part_of_what_is_asked_is_kept(answerer):
    # "substance misuse" stands for "substance use disorder" and "addictive": the sentence quoting the first
    # outscores its neighbour holding the second by more than the usual margin, and both are kept.
    reply = answerer.ask("is it ok for someone w hx of substance misuse", ["tell me about ketamine infusions"])
    assert "substance use disorder" in reply.answer and "addictive properties" in reply.answer


def test_a_percentage_asked_for_a_condition_must_be_stated_of_it(answerer):
    reply = answerer.ask("What percentage of people with OCD respond to TMS?")
    assert reply.declined and any("obsessive-compulsive disorder" in note for note in reply.notes)
    assert not answerer.ask("what % of depressed pts respond to TMS").abstained


def test_a_reference_list_entry_is_not_quoted_unless_sources_are_asked_for(answerer):
    reply = answerer.ask("For my psych essay: what exactly is this new branch of psychiatry aiming at inside the brain?")
    assert reply.citations and reply.citations[0].section != "References"


def test_a_resource_list_title_is_not_quoted_unless_resources_are_asked_for(answerer):
    # "course" in the question would find "ECT Virtual Course" in the list of resources.
    reply = answerer.ask("what comes after the course of ECT finishes?")
    assert reply.citations and reply.citations[0].section != "Additional Resources"
    assert "maintenance therapy" in reply.citations[0].quote
    reply = answerer.ask("is there any training listed for learning ECT?")
    assert any("ECT Virtual Course" in c.quote for c in reply.citations)


def test_an_organisation_asked_for_is_answered_from_the_resource_list_not_the_reference_list(answerer):
    # "magnetic stimulation" in a link's path (".../transcranial-magnetic-stimulation/...") put the reference
    # list first; an organisation is named by the list of resources, and answers before what is said of TMS.
    for question in ("Is there a professional society for magnetic stimulation I could look into?",
                     "any professional body for magnetic stimulation I could send a trainee to?"):
        reply = answerer.ask(question)
        assert reply.citations[0].section == "Additional Resources", reply.answer
        assert not any(c.section == "References" for c in reply.citations)


def test_each_part_a_lay_word_asks_for_gets_its_sentence(answerer):
    # "habit forming" asks whether ketamine is addictive; the history ("opioid misuse") is why it matters. The
    # history's words favour the substance-use sentence; the addictive one is kept beside it.
    for question in ("is ketamine habit-forming? my pt has a history of substance misuse",
                     "any chance of getting hooked on ketamine, the pt has a hx of drug abuse"):
        reply = answerer.ask(question)
        assert any("addictive properties" in c.quote for c in reply.citations), reply.answer
        assert any("substance use disorder" in c.quote for c in reply.citations), reply.answer


def test_one_lay_word_the_best_sentence_lacks_gets_its_sentence_beside_it(answerer):
    # "addiction" is the one lay word ("addictive"); the history's words favour the substance-use sentence.
    reply = answerer.ask("any addiction risk? he's got a hx of alcohol use d/o", ["ketamine side effect profile?"])
    assert any("addictive properties" in c.quote for c in reply.citations), reply.answer
    assert any("substance use disorder" in c.quote for c in reply.citations), reply.answer


def test_whether_a_side_effect_is_permanent_is_still_an_aspect_the_sources_do_not_discuss(answerer):
    for question, history in (("is the memory loss from ECT permanent?", ()), ("is that permanent?", ("ECT side effects?",))):
        reply = answerer.ask(question, history)
        assert reply.declined and "No indexed passage discusses whether side effects last." in reply.notes


def test_shorthand_spelt_out_counts_as_the_sources_word_asked(answerer):
    # "SUD" and "GA" are spelt out to the sources' own words ("substance use disorder", "general anesthesia"),
    # which say what is asked as a lay word does: the sentence holding each leads or is kept beside the other.
    for question in ("pt w/ SUD hx wants IV ket for depression - any concerns?", "hx of SUD, is ketamine infusion a concern?"):
        reply = answerer.ask(question)
        assert any("addictive properties" in c.quote for c in reply.citations), reply.answer
        assert any("substance use disorder" in c.quote for c in reply.citations), reply.answer
    reply = answerer.ask("post seizure tx pt asks was she put to sleep, is GA used")
    assert "under anesthesia" in reply.citations[0].quote, reply.answer


def test_a_treatment_described_in_ward_shorthand_is_answered_for_it(answerer):
    # "coil session" with no article names TMS; "face spasms" are the facial muscles twitching
    for question in ("muscles in the face jumping after coil session - normal?", "face spasms during each coil tx, is that known"):
        reply = answerer.ask(question)
        assert "twitching of the facial muscles" in reply.citations[0].quote, reply.answer


def test_the_history_of_a_treatment_and_deep_brain_stim_are_not_covered(answerer):
    for question in ("who pioneered TMS and when was it first developed?", "what are the origins of shock therapy?",
                     "deep brain stim vs ECT for severe depression"):
        reply = answerer.ask(question)
        assert reply.declined, (question, reply.answer)


def test_a_part_asked_is_not_taken_from_a_sentence_on_another_treatment(answerer):
    # "SE" spelt out is "side effects", and "session" reads as "treatments": two parts, but the sentence holding
    # "ongoing ECT treatments" is about ECT, not the TMS now asked about, and is not kept for its part
    reply = answerer.ask("and TMS?", ["which SE are common with ECT, pt very confused after this morning's session"])
    assert reply.citations and all("ECT" not in c.quote for c in reply.citations), reply.answer


def test_forget_queries_empties_the_retrievers_and_the_safety_models_caches(answerer):
    # A message that asks nothing is read by the safety model (a question the screen clears is not).
    question = "My patient starts TMS next week, sessions every weekday."
    answerer.ask(question)
    assert answerer.safety_embedder is not None and answerer.safety_embedder is not answerer.retriever.embedder
    assert answerer.safety_embed.get(question) is not None and len(answerer.retriever._vectors) > 0
    answerer.forget_queries()
    assert answerer.safety_embed.get(question) is None and len(answerer.retriever._vectors) == 0


@pytest.mark.parametrize(("question", "note"), [
    # a detail in brackets is an aside: the stage of pregnancy is not what is asked
    ("one of our pregnant pts (2nd trimester) said her psych wants her to do a procedure instead of meds for her "
     "depression, why would pregnancy push them that way", "No indexed passage discusses the stage of pregnancy."),
    # a statement clause before the comma, the question after it with its own subject: who says it is an aside
    ("kid says sertraline 'isnt working' after 10 days, how long do antidepressants take to fully kick in again",
     "No indexed passage discusses age."),
])
def test_an_aside_in_brackets_or_a_statement_clause_before_the_question_is_a_note(answerer, question, note):
    reply = answerer.ask(question)
    assert not reply.abstained and note in reply.notes


def test_an_aside_is_asked_when_the_question_after_it_points_back_or_asks_it_outside_the_brackets(answerer):
    # the question after the comma leans on the clause before it: the age is asked
    reply = answerer.ask("my 15 year old, can he have ECT")
    assert reply.declined and "No indexed passage discusses age." in reply.notes
    # named in brackets and asked outside them, it is asked
    assert answerer.ask("ECT for my son (15), is there an age limit?").declined


def test_the_sources_word_asked_beside_its_lay_phrase_keeps_the_sentence_saying_it(answerer):
    reply = answerer.ask("pt in recovery from alcohol/drugs asked if ketamine is safe for her, can it be addictive")
    assert "substance use disorder" in reply.answer and "addictive properties" in reply.answer


def test_words_the_sources_never_use_in_a_background_do_not_make_the_question_unanswerable(answerer):
    # The film, the family and their horror say why the writer asks; the question after them is answered.
    reply = answerer.ask("family saw one flew over the cuckoos nest and r horrified. how does the article describe ECT tbh")
    assert not reply.abstained
    assert "humane and effective" in reply.citations[0].quote
    # A question with no words of its own asks the background; words told after the question say what it asks.
    assert answerer.ask("A family asked whether psilocybin / magic mushroom therapy is offered the same way ketamine "
                        "is. Is it?").abstained
    assert answerer.ask("Will ECT change my mum's personality? She's worried she won't be 'herself' afterwards.").abstained


def test_safety_asked_after_a_history_the_sources_never_discuss_is_declined(answerer):
    # A heart attack some months ago, and lithium stopped before ECT: nothing in the sources speaks to either.
    assert answerer.ask("is ECT safe for someone who had an MI a couple months back").abstained
    assert answerer.ask("shld lithium be stopped before ect? pt on lithium for bipolar").abstained
    # What the sources recommend, asked after a background that names medicines, is what they list.
    reply = answerer.ask("wellbeing team wants to run some non drug stuff alongside meds in the prison, what "
                         "alternative therapies does it actually recommend")
    assert not reply.abstained and "acupuncture" in reply.citations[0].quote
    # ... but a clause that names nothing besides the asking asks about what came before it: a dose.
    assert answerer.ask("ketamine dose for TRD - 0.5mg/kg over 40 min? what does the guide recommend").abstained


def test_it_asked_to_be_defined_is_the_one_treatment_named_before_it(answerer):
    reply = answerer.ask("wait ketamine as in the party drug?? what actually is it, we see loads of chemsex pts "
                         "using it")
    assert "dissociative anesthetic" in reply.citations[0].quote


def test_questions_typed_without_apostrophes_and_in_lay_words_are_answered(answerer):
    # "whats", "theres" are function words however typed; "nothing shifts it" and "talk therapy" say, in lay words,
    # what the sources put as ineffective psychotherapy.
    assert not answerer.ask("who do they actually get offered to then, whats the criteria roughly").abstained
    reply = answerer.ask("im an ASL interpreter at a mh clinic. client keeps asking me after appts why the dr is now "
                         "talking about procedures instead of his usual pills and talk therapy, when do they normally "
                         "move to that stuff")
    assert not reply.abstained and "ineffective" in reply.citations[0].quote
    # ... but not in a question that names nothing the sources cover.
    assert answerer.ask("my eczema cream does nothing, what else is there").abstained
    assert answerer.ask("nothing helps my insomnia, is melatonin safe to take long term").abstained


def test_who_asks_told_at_length_before_the_question_is_not_what_is_asked(answerer):
    reply = answerer.ask("as a lactation consultant im not a psych provider but i see these moms a lot, who's supposed to "
                         "be involved in their care per the guide")
    assert not reply.abstained and not reply.notes
    assert any("collaborative approach" in c.quote for c in reply.citations)
    # a role told with no words of the writer's own about it stays part of the question
    team = answerer.ask("As a social worker on a care team, does the guide say anything about who should be working "
                        "together when treating these patients?")
    assert team.citations and "collaborative approach" in team.citations[0].quote
    # a condition the sources name, asked as what a treatment brings about, is answered
    assert not answerer.ask("can ECT cause memory loss").declined


@pytest.mark.parametrize(("question", "quoted"), [
    # the kinds of treatment, asked as "buckets"
    ("broad q - what are the main buckets of mental health tx out there? trying to give a client the big picture of her "
     "options",
     "the expansive umbrella of mental health treatment"),
    # the brain side of things, and "stim" for stimulated
    ("for the drs doing these procedures what do they need to know about the brain side of things, like what r they "
     "looking at before they stim someone", "neural circuits associated with different mental health disorders"),
])
def test_lay_words_find_the_passage_first(answerer, question, quoted):
    reply = answerer.ask(question)
    assert reply.citations and quoted in reply.citations[0].quote


def test_what_the_new_aspects_and_roles_leave_alone(answerer):
    # a role told with what is asked inside it keeps it
    pregnant = answerer.ask("as a nurse working with pregnant women, is ketamine safe")
    assert pregnant.declined and "No indexed passage discusses pregnancy for ketamine." in pregnant.notes
    # nursing a patient is no breastfeeding, and when a treatment starts to help is no activity after a session
    assert not any("breastfeeding" in note for note in answerer.ask("should i nurse him in a side room after ect").notes)
    better = answerer.ask("how soon after my first infusion should i start to feel better")
    assert not any("activities" in note for note in better.notes)
    assert not any("schedule" in note for note in answerer.ask("how long does the treatment last").notes)
    # a condition asked both as what a treatment is for and what it brings about is noted once
    both = answerer.ask("does tms work for depression and can it cause epilepsy")
    assert both.notes.count("No indexed passage discusses epilepsy.") == 1
