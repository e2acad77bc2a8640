"""What a question asks for, and whether the sources hold it: figure types and named treatments."""

from __future__ import annotations

import pytest

from ipchat.coverage import TreatmentCoverage, expected_types, named_treatments, states


@pytest.mark.parametrize("question, kinds", [
    ("how many ect sessions", ("count",)),
    # "how many ... per week" asks how often, not how many in all.
    ("How many TMS sessions per week does a course need?", ("frequency:schedule",)),
    ("how many ECT sessions per wk, 2x or 3x", ("frequency:schedule",)),
    ("how many sessions a week for TMS", ("frequency:schedule",)),
    # "n" for "and" ends the clause that asks how long: one session lasts minutes.
    ("how long is each TMS session n how many times a week do they go", ("duration:short", "frequency:schedule")),
    ("how long does the seizure last in ECT", ("duration",)),
    ("how many weeks do antidepressants take to work", ("duration:long",)),
    ("How many minutes does a TMS session take?", ("duration:short",)),
    ("How many infusions, and how many weeks apart?", ("duration:long", "count")),
    ("What proportion of TMS patients still felt better a year later?", ("percentage",)),
    ("tms response rate %", ("percentage",)),
    ("What is the mortality rate of ECT?", ("percentage",)),
    ("how well does it work tho, any numbers?", ("percentage",)),  # how many respond, in figures
    ("how well does ECT work?", ()),
    ("how well does ECT work with the numbers of sessions it needs?", ()),
    ("and how well does it actually work - any numbers i can quote?", ("percentage",)),
    ("and does it actually work, like any numbers on it", ("percentage",)),  # whether it works, in figures
    # ... asked after the question mark, with whom the figures are for and another question after them
    ("does tms actually work?? any numbers i can give the family, and does it last", ("percentage",)),
    ("does it work on the first go, any numbers on the ward yet", ()),  # figures of a ward, not asked of the sources
    # a question embedded after a verb of knowing or asking
    ("a daughter wants to know how many ECT sessions her mum is likely to need. roughly?", ("count",)),
    # ... or after a phrase that sets the scene
    ("after one ketamine infusion how many days/wks does the antidepressant effect last", ("duration:long",)),
    ("for a patient with TRD how many sessions of TMS", ("count",)),
    ("she asked me how long each TMS session takes", ("duration:short",)),
    ("I know how much it means to her to try it", ()),
    ("What ketamine dose in mg/kg is used?", ("dose",)),
    ("how often are TMS sessions given", ("frequency:schedule",)),
    ("rTMS sessions per wk?", ("frequency:schedule",)),  # ward shorthand for the units
    ("I was told it's quick. Sessions of TMS last for minutes?", ("duration:short",)),  # the asking sentence's keyword
    ("ECT session length (minutes). thanks", ("duration:short",)),  # no question mark: the whole message asks
    ("Does the guide give a remission percentage for ketamine?", ("percentage",)),  # asks the sources for it
    # a courtesy after the request is not the question
    ("ECT session length (minutes). Do let me know, thanks", ("duration:short",)),
    ("TMS session length in minutes. Would be grateful for a reply", ("duration:short",)),
    ("ketamine infusion duration in minutes please. will be driving after", ("duration:short",)),
    ("and how many patients get better with it?", ("percentage",)),  # a response rate, not a count
    ("how many sessions before patients improve?", ("count",)),
    # a measured value to act on, which no count answers
    ("BP spike during ketamine infusion - at what reading do we stop it?", ("measurement",)),
    ("what's the cut-off on the PHQ-9 for a referral?", ("measurement",)),
    ("whats the bp cutoff where u hold the ketamine infusion", ("measurement",)),
    ("is there a seizure threshold issue with ECT?", ()),
    ("and how many are still ok after a year?", ("percentage",)),  # still well: a rate too
    ("how many pts still got relief from TMS after a yr", ("percentage",)),  # relief found: a rate as well
    ("how many people are still feeling better a year down the line", ("percentage",)),
    # the people counted named with their treatment ("tms pts"), the kind named too: one percentage, not a number
    ("how many tms pts are still better 1 yr later, percentage", ("percentage",)),
    # the people counted asked alone, after what happens to them: the share of them
    ("does relief still hold up a year later? how many ppl", ("percentage",)),
    ("does relief still hold up a year later? how many ppl (people)", ("percentage",)),
    ("how many sessions and what percentage respond?", ("count", "percentage")),
    ("how many sessions are ok in a week?", ("count",)),
    ("how many wks until ket works", ("duration:long",)),
    ("what frequency in Hz is used for rTMS", ("frequency:hz",)),
    ("How many ECT treatments are needed and what do they cost?", ("count", "cost")),  # in the order asked
    ("Is ECT effective, and how many sessions are needed?", ("count",)),  # a wh-clause after a yes/no one
    ("how much does a course of TMS cost", ("cost",)),
    ("When did the FDA clear TMS for OCD?", ("year",)),
    ("Who invented ECT and in what year?", ("year",)),
    ("whats the mortality risk of ECT in older pts w heart disease", ("percentage",)),  # the risk of dying, as a rate
])
def test_questions_asking_for_a_figure(question, kinds):
    assert sorted(expected_types(question)) == sorted(kinds)


@pytest.mark.parametrize("question", [
    "what is ECT?",
    "When is it time to look beyond talk therapy?",  # "when" as a condition, not a date
    "Could procedural therapies shorten how long treatment takes overall?",  # a yes/no question
    "how quickly does ketamine work",  # answered by "so quickly", without a figure
    # Yes/no questions with a figure word in them ask for no figure.
    "Is ECT 100% safe?",
    "Is ketamine a dissociative anesthetic at high doses?",
    "Does ECT improve symptoms at the cost of memory loss?",
    # "frequency" and "costs" here are not amounts.
    "What frequency of side effects does TMS have?",
    "What are the costs and risks of ECT?",
    "what are the side effects of TMS",
    # A figure word in the story told before the question is not asked for.
    "my son's OCD is awful, hand washing for hours. can the magnetic coil thing help with that?",
    "she was in recovery for hours. what does TMS treat?",
    "hand washing for hours. can the magnetic coil thing help with that or is it only for depression",
])
def test_questions_asking_for_no_figure(question):
    assert expected_types(question) == ()


@pytest.mark.parametrize("text, kind", [
    ("it’s typically administered for six to twelve treatments", "count"),
    ("most patients start with one to three infusions", "count"),
    ("About 83% of patients had a significant reduction", "percentage"),
    ("inducing seizure activity for less than ninety seconds", "duration"),
    ("can take four to eight weeks to reach their full therapeutic effect", "duration"),
    ("62% of patients reported symptom relief after twelve months", "duration"),
    ("even after thousands of years of study", "duration"),
    ("0.5 mg/kg over 40 minutes", "dose"),
    ("sessions are given five times a week", "frequency"),
    ("sessions are given five times a week", "frequency:schedule"),
    ("10 Hz stimulation", "frequency"),
    ("10 Hz stimulation", "frequency:hz"),
    ("inducing seizure activity for less than ninety seconds", "duration:short"),
    ("can take four to eight weeks", "duration:long"),
    ("a course costs about $6,000", "cost"),
    ("first used in 1938", "year"),
    ("stop the infusion if blood pressure rises above 180/110 mmHg", "measurement"),
])
def test_sentences_stating_a_figure(text, kind):
    assert states(text, kind)


@pytest.mark.parametrize("text, kind", [
    ("About 83% of patients had a significant reduction", "count"),
    ("ECT is a humane and effective treatment", "count"),
    ("Ketamine infusions produce antidepressant effects so quickly", "duration"),
    ("a course of six to twelve treatments", "percentage"),
    ("Treatment is administered intravenously (IV)", "dose"),
    ("inducing seizure activity for less than ninety seconds", "frequency"),
    ("62% of patients reported symptom relief after twelve months", "duration:short"),  # minutes asked, months stated
    ("inducing seizure activity for less than ninety seconds", "duration:long"),
    ("sessions are given five times a week", "frequency:hz"),
    ("there are thousands of patients", "year"),
    ("most patients start with one to three infusions", "measurement"),
    ("High blood pressure", "measurement"),
])
def test_sentences_stating_no_figure_of_that_kind(text, kind):
    assert not states(text, kind)


def test_named_treatments_keep_the_longest_mention():
    names = [n for n, _s, _e in named_treatments("Does transcranial direct current stimulation (tDCS) beat rTMS?")]
    assert names == ["transcranial direct current stimulation", "transcranial direct current stimulation",
                     "transcranial magnetic stimulation"]
    assert [n for n, _s, _e in named_treatments("esketamine or ketamine?")] == ["esketamine", "ketamine"]
    assert named_treatments("a vague question about the brain") == []


def test_coverage_is_read_from_the_sources_and_remembered():
    asked: list[str] = []

    def mentions(phrase: str) -> bool:
        asked.append(phrase)
        return phrase in {"ect", "lithium"}

    coverage = TreatmentCoverage(mentions)
    assert coverage.uncovered("ECT with lithium, or DBS?") == ["deep brain stimulation"]
    assert coverage.uncovered("Lithium or DBS or ECT") == ["deep brain stimulation"]
    assert asked.count("dbs") == 1  # each treatment is looked up once


@pytest.fixture(scope="module")
def answerer(real_retriever):
    from ipchat.answer import Answerer

    return Answerer(real_retriever)


@pytest.mark.parametrize("question, note", [
    ("What is deep brain stimulation?", "never mention deep brain stimulation"),
    ("Is psilocybin-assisted therapy effective for depression?", "never mention psilocybin"),
    ("Does tDCS help with depression?", "never mention transcranial direct current stimulation"),
    ("How many TMS sessions per week are needed?", "on transcranial magnetic stimulation states how many times a"),
    ("How many minutes does each TMS session take?", "on transcranial magnetic stimulation states a duration in seconds"),
    ("What ketamine dose in mg/kg is used?", "on ketamine states a dose"),
    # The long form added for retrieval names antidepressants, a covered topic; the question does not.
    ("Which SSRI has the fewest sexual side effects?", "never mention SSRIs"),
    # The article's only percentages are about TMS: they do not answer an ECT question.
    ("What percentage of ECT patients relapse?", "on electroconvulsive therapy states a percentage"),
    # What the sources never give: the trial behind a figure, waiting lists, carrying on with a drug through ECT.
    ("which trial did the 83% TMS figure come from and what was the sample size?", "discusses the studies behind a figure"),
    ("how long is the waiting list for TMS at this hospital?", "discusses waiting lists"),
    ("Can she keep taking her lithium while she is having ECT or does she have to stop it?", "never mention lithium"),
    # Pregnancy is spoken of for the procedures ("certain medications can be harmful to a developing fetus"):
    # it is no answer for a drug.
    ("can you have ketamine infusions when pregnant?", "discusses pregnancy for ketamine"),
    # Whether a treatment the sources never mention belongs to the field they cover: nothing in them says.
    ("are psilocybin/magic mushroom treatments used in interventional psychiatry for depression yet?",
     "never mention psilocybin"),
    # Safety in someone with a condition, in ward shorthand ("w" for "with").
    ("is TMS safe in someone w epilepsy? had a seizure 2 yrs ago", "discusses contraindications"),
])
def test_declines_what_the_sources_do_not_hold(answerer, question, note):
    reply = answerer.ask(question)
    assert reply.abstained and reply.declined and not reply.citations
    assert any(note in n for n in reply.notes), reply.notes


@pytest.mark.parametrize("question, quoted", [
    ("how many ECT sessions", "six to twelve treatments"),
    ("tms response rate %", "83%"),
    ("how long does the seizure last in ECT", "ninety seconds"),
    ("how many ketamine infusions do patients start with", "one to three infusions"),
    ("does tms actually work?? any numbers i can give the family, and does it last", "83%"),
])
def test_answers_figures_the_sources_state(answerer, question, quoted):
    reply = answerer.ask(question)
    assert not reply.abstained and reply.notes == ()
    assert quoted in reply.citations[0].quote


def test_pregnancy_asked_of_a_drug_after_the_drug_declines_and_of_a_procedure_answers(answerer):
    after_ketamine = answerer.ask("ok in pregnancy?", history=["what are the side effects of ketamine?"])
    assert after_ketamine.declined and "No indexed passage discusses pregnancy for ketamine." in after_ketamine.notes
    after_ect = answerer.ask("ok in pregnancy?", history=["what is ECT used for?"])
    assert not after_ect.abstained and any("pregnan" in c.quote for c in after_ect.citations)


def test_uncovered_treatment_beside_a_covered_subject_is_a_note(answerer):
    reply = answerer.ask("my pt on sertraline is pregnant, is she a candidate for procedural therapy?")
    assert not reply.abstained
    assert reply.notes == ("The indexed sources never mention sertraline; they speak of antidepressants in general.",)
    assert any("pregnan" in c.quote for c in reply.citations)


def test_a_corpus_that_mentions_the_treatment_covers_it(tmp_path):
    from ipchat.answer import Answerer
    from ipchat.embedding import HashingEmbedder
    from ipchat.index import build_index
    from ipchat.settings import load_settings

    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    (corpus / "documents" / "dbs.md").write_text(
        "# Deep brain stimulation\n\nDeep brain stimulation (DBS) places electrodes in the brain. "
        "It is used for some patients with obsessive-compulsive disorder.\n", encoding="utf-8")
    (corpus / "sources.toml").write_text(
        '[[source]]\nid = "dbs"\ntitle = "DBS"\nurl = "https://example.org/dbs"\nkind = "web-page"\n'
        'licence = "CC0"\nredistributable = true\nstatus = "bundled"\nfile = "documents/dbs.md"\n', encoding="utf-8")
    settings = load_settings(environ={}, corpus=corpus, index=tmp_path / "index", model="hashing-64")
    build_index(settings, HashingEmbedder(64))
    answerer = Answerer.from_settings(settings, HashingEmbedder(64))
    assert answerer.gaps("What is deep brain stimulation?", []) == (False, [])
    assert answerer.gaps("What is vagus nerve stimulation?", [])[0] is True


def test_figure_on_another_topic_does_not_count(answerer):
    # Candidates from the TMS paragraph that states "83%": they answer a TMS percentage question, not an ECT one.
    hits = answerer.retriever.search("About 83% of patients had a significant reduction", k=1)
    assert "83%" in hits[0].chunk.text
    tms = answerer.score_sentences("What percentage of TMS patients respond?", hits)
    assert answerer.gaps("What percentage of TMS patients respond?", tms) == (False, [])
    ect = answerer.score_sentences("What percentage of ECT patients respond?", hits)
    declined, notes = answerer.gaps("What percentage of ECT patients respond?", ect)
    assert declined and notes == ["No retrieved passage on electroconvulsive therapy states a percentage."]


def test_links_state_no_figure_and_name_no_treatment():
    assert not states("https://med.uth.edu/psychiatry/2024/04/22/interventional-psychiatry/", "year")
    assert states("First Aid for the Psychiatry Clerkship, 2018", "year")
    assert not states("after twelve months", "count")  # a span of time, not a count of things
    assert not states("About 83% of patients", "count")


def test_overlapping_mentions_keep_the_longer_one():
    # "psychedelic" alone names psychedelics; inside "psychedelic mushrooms" it names psilocybin only.
    assert [n for n, _s, _e in named_treatments("are psychedelic mushrooms safe?")] == ["psilocybin"]
    assert [n for n, _s, _e in named_treatments("saint tms vs rTMS")] == [
        "Stanford neuromodulation therapy", "transcranial magnetic stimulation"]


def test_a_treatment_described_by_what_it_does_is_named():
    def names(text):
        return [n for n, _s, _e in named_treatments(text)]
    assert names("my dad is getting the seizure treatment tomorrow") == ["electroconvulsive therapy"]
    assert names("does relief from the coil-on-the-head treatment hold up?") == ["transcranial magnetic stimulation"]
    assert names("is the shock one worse than the IV one?") == ["electroconvulsive therapy", "ketamine"]
    # a name as long as a description is the one meant; a word for the treatment must follow the description
    assert names("is the magnetic seizure therapy newer?") == ["magnetic seizure therapy"]
    assert names("does the seizure last long?") == []
    assert names("what is the risk of a seizure with TMS treatment?") == ["transcranial magnetic stimulation"]
    # a description alone covers nothing: whether the sources cover a treatment is read from its names
    coverage = TreatmentCoverage(lambda alias: alias == "seizure")
    assert not coverage.covered("electroconvulsive therapy")


def test_treatments_named_as_history_are_context():
    from ipchat.coverage import in_passing

    assert in_passing("My patient failed sertraline and bupropion; what now?") == [True, True]
    assert in_passing("she cannot continue her Zoloft") == [True]
    assert in_passing("Is psilocybin effective for depression?") == [False]
    assert in_passing("lithium, SSRIs or ECT?") == [False, False, False]
    # taken at the same time as what is asked about, a drug is asked about with it
    assert in_passing("safe to do ECT while pt is on lithium or clozapine?") == [False, False, False]
    assert in_passing("my pt on sertraline is pregnant, is she a candidate?") == [True]


def test_history_mention_is_a_note_not_a_refusal(answerer):
    reply = answerer.ask("My patient failed sertraline and bupropion; what options are there for treatment-resistant depression?")
    assert not reply.declined and reply.citations
    assert reply.notes == ("The indexed sources never mention sertraline or bupropion; they speak of antidepressants "
                           "in general.",)


def test_first_figure_asked_decides(answerer):
    reply = answerer.ask("How many ECT treatments are needed and what do they cost?")
    assert not reply.abstained
    assert any("six to twelve treatments" in c.quote for c in reply.citations)
    assert reply.notes == ("No indexed passage discusses cost or insurance.",)
    assert answerer.ask("When was ketamine approved for depression?").declined  # a link's "/2024/" is no year
    assert answerer.ask("How many TMS sessions are needed?").declined  # "twelve months" counts no sessions


def test_followup_naming_an_uncovered_treatment_does_not_borrow_the_topic(answerer):
    # A short question naming its own treatment is not a follow-up on the earlier topic.
    reply = answerer.ask("What is deep brain stimulation?", ["How many ECT treatments are usually given?"])
    assert reply.rewritten_query == "What is deep brain stimulation?"
    assert reply.declined
    reply = answerer.ask("What about esketamine?", ["What are the side effects of ketamine?"])
    assert reply.rewritten_query == "What are the side effects of esketamine?"
    assert reply.declined and reply.notes == ("The indexed sources never mention esketamine.",)
    reply = answerer.ask("and is it safe with lithium?", ["what is ECT"])
    assert reply.rewritten_query == "and is ECT safe with lithium?"
    # Safe with what the sources never mention: nothing in them can say.
    assert reply.declined and "The indexed sources never mention lithium." in reply.notes


@pytest.mark.parametrize(("question", "kinds"), [
    # a yes/no question, then a clause that asks what: the figure that clause names is asked
    ("does tms even work tho, whats the % who get better", ("percentage",)),
    ("does ECT hurt, what dose of anaesthetic do they use", ("dose",)),
    # a figure named in the yes/no clause is still not asked
    ("is ketamine an anesthetic at high doses, what else is it used for", ()),
    ("is ECT 100% safe?", ()),
])
def test_a_clause_asking_what_after_a_yes_no_question_asks_for_its_figure(question, kinds):
    assert expected_types(question) == kinds
