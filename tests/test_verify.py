import json
from collections import Counter

import pytest

from conftest import ROOT
from ipchat.errors import InputError
from ipchat.types import Citation
from ipchat.verify import (
    DEFAULT_K, MAX_TEXT_CHARS, VERDICTS, ClaimResult, Verification, antonym_conflict, compare_quantities,
    extract_quantities, find_conflict, judge_claims, negation_addressed, negation_conflict, properties_addressed,
    quantities_agree, render_text, split_claims, topics_compatible, topics_of, verify_text,
)

CLAIMS = [json.loads(l) for l in (ROOT / "eval" / "claims" / "claims.jsonl").read_text(encoding="utf-8").splitlines()
          if l.strip()]

ECT_SENTENCE = ("A brief electric current is sent through the electrodes, inducing seizure activity for less than "
                "ninety seconds, and it’s typically administered for six to twelve treatments until a patient’s "
                "symptoms improve.")
TMS_RESULTS = ("About 83% of patients had a significant reduction in their depressive symptoms, while 62% of "
               "patients reported symptom relief after twelve months.")


def one(text):
    found = extract_quantities(text)
    assert len(found) == 1, found
    return found[0]


# -- numbers ---------------------------------------------------------------------------------------------


def test_quantities_read_units_qualifiers_and_ranges():
    seizure, course = extract_quantities(ECT_SENTENCE)
    assert (seizure.kind, seizure.low, seizure.high, seizure.text) == ("duration", 0.0, 90.0, "less than ninety seconds")
    assert (course.kind, course.low, course.high) == ("treatments", 6.0, 12.0)
    assert "seizur" in seizure.context and "seizur" not in course.context
    share, later, months = extract_quantities(TMS_RESULTS)
    assert (share.kind, share.low, share.approx) == ("percent", 83.0, True)
    assert (later.kind, later.low, later.approx) == ("percent", 62.0, False)
    assert months.kind == "duration"


@pytest.mark.parametrize("text, kind, low, high", [
    ("eight sessions", "treatments", 8, 8),
    ("8 sessions", "treatments", 8, 8),
    ("twenty-five infusions", "treatments", 25, 25),
    ("twenty five infusions", "treatments", 25, 25),
    ("6-12 treatments", "treatments", 6, 12),
    ("6–12 ECT treatments", "treatments", 6, 12),
    ("between 6 and 12 sessions", "treatments", 6, 12),
    ("at least 6 sessions", "treatments", 6, float("inf")),
    ("83 percent", "percent", 83, 83),
    ("83 per cent", "percent", 83, 83),
    ("half of patients", "percent", 50, 50),
    ("three times a week", "frequency/week", 3, 3),
    ("twice weekly", "frequency/week", 2, 2),
    ("in 2008", "year", 2008, 2008),
    ("in the 1930s", "year", 1930, 1939),
])
def test_quantity_forms(text, kind, low, high):
    q = one(text)
    assert (q.kind, q.low, q.high) == (kind, low, high)


def test_durations_share_one_scale():
    assert quantities_agree(one("a year later"), one("after twelve months"))
    assert quantities_agree(one("under 90 seconds"), one("less than ninety seconds"))
    assert quantities_agree(one("about a minute"), one("less than ninety seconds"))
    assert not quantities_agree(one("several minutes"), one("less than ninety seconds"))
    assert not quantities_agree(one("one week"), one("four to eight weeks"))
    assert quantities_agree(one("a month"), one("four to eight weeks"))


def test_words_that_are_not_amounts_are_ignored():
    assert extract_quantities("ECT is one of the interventional therapies.") == []
    assert extract_quantities("A first-line treatment; few patients need it.") == []


@pytest.mark.parametrize("claim, source, agree", [
    ("twenty sessions", "six to twelve treatments", False),
    ("8 sessions", "eight treatments", True),
    ("eight sessions", "6-12 treatments", True),
    ("6 to 12 sessions", "six to twelve treatments", True),
    ("10 to 20 sessions", "six to twelve treatments", False),  # overlaps, but says more than the source
    ("between 5 and 15 sessions", "six to twelve treatments", True),  # vaguer, not wrong
    ("about 80%", "About 83%", True),
    ("about 50%", "About 83%", False),
    ("90%", "About 83%", False),
    ("50%", "six to twelve treatments", False),  # different kinds never agree
])
def test_quantities_agree(claim, source, agree):
    assert quantities_agree(one(claim), one(source)) is agree


def test_number_conflicts_pair_the_numbers_on_the_same_point():
    check = compare_quantities("ECT is usually given for twenty sessions.", ECT_SENTENCE)
    assert [(q.text, [s.text for s in aligned]) for q, aligned in check.conflicts] == \
        [("twenty sessions", ["six to twelve treatments"])]
    # 83% is the source's share with a significant reduction; relief after twelve months is 62%.
    swapped = compare_quantities("83% of TMS patients reported symptom relief after twelve months.", TMS_RESULTS)
    assert [q.text for q, _ in swapped.conflicts] == ["83%"]
    right = compare_quantities("Around 83% of patients had a significant drop in depressive symptoms.", TMS_RESULTS)
    assert not right.conflicts and [s.text for _, s in right.agreements] == ["About 83%"]


def test_a_duration_on_another_point_is_unaddressed_not_contradicted():
    check = compare_quantities("A TMS session usually lasts about 40 minutes.", TMS_RESULTS)
    assert not check.conflicts and [q.text for q in check.unaddressed] == ["about 40 minutes"]
    check = compare_quantities("ECT is usually given three times a week.", ECT_SENTENCE)
    assert not check.conflicts and [q.kind for q in check.unaddressed] == ["frequency/week"]


# -- antonyms and negation -------------------------------------------------------------------------------


@pytest.mark.parametrize("claim, source, conflict", [
    ("TMS is an invasive procedure.", "TMS, a type of noninvasive therapy", True),
    ("TMS is an invasive procedure.", "TMS, a type of non-invasive therapy", True),
    ("TMS is not invasive.", "TMS, a type of noninvasive therapy", False),
    ("TMS is a non-invasive therapy.", "TMS, a type of noninvasive therapy", False),
    ("Patients are awake during ECT.", "It’s performed under anesthesia along with a muscle relaxant.", True),
    ("Patients are asleep during ECT.", "It’s performed under anesthesia along with a muscle relaxant.", False),
    ("The side effects of TMS are usually severe.", "The side effects of TMS are generally mild.", True),
    ("Procedural therapies are slow-acting.", "they’re rapid-acting, long-lasting", True),
    ("Ketamine has no addictive properties.", "ketamine has addictive properties.", True),
    ("Ketamine is not addictive.", "ketamine has addictive properties.", True),
    ("Ketamine is non-addictive.", "ketamine has addictive properties.", True),
    ("Ketamine can be addictive.", "ketamine has addictive properties.", False),
    ("Ketamine is taken orally as a pill.", "Treatment is administered intravenously (IV).", True),
    ("Interventional therapies are the first-line treatment.", "Not intended as a first-line treatment, they are", True),
    ("They are not meant to be a first-line treatment.", "Not intended as a first-line treatment, they are", False),
    ("TMS passes an electric current through the head.", "an electromagnetic coil that sends magnetic pulses", True),
    # A text using both sides of a pair takes neither.
    ("Ketamine lowers glutamate.", "Increasing glutamate activates AMPA receptors while reducing glutamate at other synapses.",
     False),
])
def test_antonym_pairs(claim, source, conflict):
    assert (antonym_conflict(claim, source) is not None) is conflict


def test_negation_of_a_stated_fact_conflicts():
    assert negation_conflict("ECT has no side effects.", "it also has side effects to consider (memory loss)") is not None
    assert negation_conflict("ECT does not cause memory loss.", "side effects to consider (memory loss, confusion)")
    assert negation_conflict("ECT causes memory loss.", "side effects to consider (memory loss, confusion)") is None
    # The treatment is the subject of the claim, not what it denies.
    assert negation_conflict("Patients must not eat or drink after midnight before ECT.",
                             "ECT therapy is beneficial for patients with severe depression.") is None
    # "not only ... but also" is not a negation.
    assert negation_conflict("It needs not only the clinician but also the team.", "It needs the clinician.") is None


def test_a_negated_claim_needs_a_negated_source():
    source = "Not intended as a first-line treatment, interventional therapies are offered to patients."
    assert negation_addressed("Interventional therapies are not meant to be a first-line treatment.", source)
    assert not negation_addressed("TMS does not require anesthesia.", "TMS is a type of noninvasive therapy.")
    assert negation_addressed("TMS is not invasive.", "TMS is a type of noninvasive therapy.")
    assert negation_addressed("TMS is effective.", "anything at all")  # nothing negated, nothing to address
    assert not negation_addressed("TMS is noninvasive.", "anything at all")  # "non-" is a negation too


def test_a_graded_claim_needs_the_source_to_grade_it():
    assert properties_addressed("Ketamine side effects are mild.", "The side effects of TMS are generally mild.")
    assert properties_addressed("TMS side effects are severe.", "The side effects of TMS are generally mild.")
    assert not properties_addressed("Ketamine side effects are mild.", "The potential side effects include: Nausea")
    assert properties_addressed("Ketamine causes nausea.", "The potential side effects include: Nausea")


def test_find_conflict_reasons_quote_both_sides():
    assert find_conflict("ECT is usually given for twenty sessions.", ECT_SENTENCE) == \
        "source: six to twelve treatments; claim: twenty sessions"
    assert find_conflict("TMS is an invasive procedure.", "TMS, a type of noninvasive therapy") == \
        "source: noninvasive; claim: invasive"
    assert find_conflict("The seizure lasts under 90 seconds.", ECT_SENTENCE) is None


def test_topics():
    assert topics_of("Electroconvulsive therapy and rTMS") == {"ECT", "TMS"}
    assert topics_compatible(frozenset({"TMS"}), frozenset({"TMS", "ECT"}))
    assert not topics_compatible(frozenset({"TMS"}), frozenset({"ECT"}))
    assert topics_compatible(frozenset(), frozenset({"ECT"}))


# -- claims ----------------------------------------------------------------------------------------------


def test_split_claims_sentences_and_bullets():
    text = """## Answer
ECT is given under anesthesia. The seizure lasts under 90 seconds! Dr. Smith, e.g. at the clinic, uses it.

Ketamine side effects include:
- nausea
* TMS is noninvasive and safe.
1. TMS treats OCD.
2) Ketamine is given IV

Finally, ketamine is addictive."""
    assert split_claims(text) == [
        "ECT is given under anesthesia.",
        "The seizure lasts under 90 seconds!",
        "Dr. Smith, e.g. at the clinic, uses it.",
        "Ketamine side effects include nausea",
        "TMS is noninvasive and safe.",  # another list style: the lead-in doesn't carry over
        "TMS treats OCD.",
        "Ketamine is given IV",
        "Finally, ketamine is addictive.",
    ]


def test_split_claims_lead_ins():
    assert split_claims("Side effects:\n- Nausea\n- IV pain\n\n- Blurry vision") == [
        "Side effects nausea", "Side effects IV pain", "Side effects blurry vision"]
    assert split_claims("Notes:\n- ECT is given under anesthesia.\n- TMS is noninvasive.") == [
        "ECT is given under anesthesia.", "TMS is noninvasive."]
    assert split_claims("The options are:\n\nAnd more text.") == ["The options are:", "And more text."]
    assert split_claims("A claim that runs\nover two lines") == ["A claim that runs over two lines"]


def test_split_claims_skips_blank_and_symbol_only_text():
    assert split_claims("") == []
    assert split_claims("  \n\n ") == []
    assert split_claims("- \n- ***\n# Heading only") == []


def test_verify_text_rejects_bad_input_before_searching():
    for text in ("", "   \n", None):
        with pytest.raises(InputError):
            verify_text(text, retriever=None)
    with pytest.raises(InputError, match="limit"):
        verify_text("ECT is safe. " * (MAX_TEXT_CHARS // 10), retriever=None)
    with pytest.raises(InputError):
        verify_text("*** ---", retriever=None)


def test_to_dict_shape():
    citation = Citation(n=1, chunk_id="d:0", doc_id="d", title="T", url="u", section="S", quote="q", start=0, end=1)
    result = Verification((ClaimResult("c", "supported", "r", (citation,)), ClaimResult("x", "not_found", "r2")))
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert list(data) == ["claims"]
    assert list(data["claims"][0]) == ["claim", "verdict", "reason", "evidence"]
    assert data["claims"][0]["evidence"][0] == {"n": 1, "chunk_id": "d:0", "doc_id": "d", "title": "T", "url": "u",
                                                "section": "S", "quote": "q", "start": 0, "end": 1, "page": None}
    assert data["claims"][1]["evidence"] == []
    assert result.counts() == {"supported": 1, "contradicted": 0, "not_found": 1}


def test_render_text():
    citation = Citation(n=1, chunk_id="d:0", doc_id="d", title="Guide", url="https://x", section="ECT",
                        quote="Lead:\n\n- item", start=5, end=19)
    text = render_text(Verification((ClaimResult("ECT is humane.", "supported", "the passage states it", (citation,)),
                                     ClaimResult("ECT is old.", "not_found", "no passage addresses it"))))
    assert text.splitlines()[0] == "1. [SUPPORTED] ECT is humane."
    assert '   [1] "Lead:' in text and "      - item\"" in text and "Guide, ECT (https://x) chars 5-19" in text
    assert "2. [NOT FOUND] ECT is old." in text
    assert text.endswith("1 supported, 0 contradicted, 1 not found")
    assert all(line == line.rstrip() for line in text.splitlines())


# -- the claim set ---------------------------------------------------------------------------------------


def test_claim_set_is_well_formed():
    assert len(CLAIMS) >= 40
    assert len({row["id"] for row in CLAIMS}) == len(CLAIMS)
    for row in CLAIMS:
        assert set(row) == {"id", "claim", "verdict", "note"} and row["verdict"] in VERDICTS and row["claim"].strip()
    shares = {v: n / len(CLAIMS) for v, n in Counter(row["verdict"] for row in CLAIMS).items()}
    assert 0.3 <= shares["supported"] <= 0.5 and 0.25 <= shares["contradicted"] <= 0.45 and 0.15 <= shares["not_found"] <= 0.35


# -- with the real model ---------------------------------------------------------------------------------

CLEAR = {
    "ECT is performed under anesthesia with a muscle relaxant.": "supported",
    "Most ketamine patients start with one to three infusions.": "supported",
    "ECT is usually given for twenty sessions.": "contradicted",
    "TMS is an invasive procedure.": "contradicted",
    "Ketamine has no addictive properties.": "contradicted",
    "Antidepressants take one week to work.": "contradicted",
    "The FDA approved TMS for depression in 2008.": "not_found",
    "Psilocybin therapy shows promise for depression.": "not_found",
}


@pytest.fixture(scope="module")
def clear_result(real_retriever):
    return verify_text("\n".join(f"- {claim}" for claim in CLEAR), real_retriever)


def test_clear_claims_get_the_right_verdict(clear_result):
    assert {c.claim: c.verdict for c in clear_result.claims} == CLEAR


def test_reasons_name_both_numbers(clear_result):
    by_claim = {c.claim: c for c in clear_result.claims}
    assert by_claim["ECT is usually given for twenty sessions."].reason == \
        "source: six to twelve treatments; claim: twenty sessions"
    assert "four to eight weeks" in by_claim["Antidepressants take one week to work."].reason


def test_evidence_is_verbatim_and_from_a_retrieved_chunk(clear_result, real_retriever):
    index = real_retriever.index
    for result in clear_result.claims:
        assert bool(result.evidence) is (result.verdict != "not_found")
        retrieved = {h.chunk.chunk_id: h.chunk for h in real_retriever.search(result.claim, DEFAULT_K)}
        for n, c in enumerate(result.evidence, start=1):
            doc = index.documents[c.doc_id]
            assert c.n == n
            assert doc.text[c.start:c.end] == c.quote
            assert (c.title, c.url) == (doc.title, doc.url)
            assert c.chunk_id in retrieved
            chunk = retrieved[c.chunk_id]
            assert chunk.start <= c.start < c.end <= chunk.end and c.section == chunk.section


def test_a_list_item_is_quoted_with_its_whole_list(real_retriever):
    result = verify_text("Ketamine side effects include:\n- nausea and vomiting\n- hair loss", real_retriever)
    nausea, hair = result.claims
    assert nausea.verdict == "supported"
    quote = nausea.evidence[0].quote
    assert quote.startswith("The potential side effects include:") and "- Nausea and vomiting" in quote \
        and quote.endswith("Out-of-body experiences (dissociation)")
    assert hair.verdict == "not_found" and hair.evidence == ()


@pytest.fixture(scope="module")
def claim_set_results(real_retriever):
    judgements = judge_claims([row["claim"] for row in CLAIMS], real_retriever)
    return [(row, j) for row, j in zip(CLAIMS, judgements)]


# Reached on eval/claims/claims.jsonl (53 claims) with the default thresholds: supported 20/21 (0.952),
# contradicted 18/19 (0.947), not_found 13/13 (1.000), overall 51/53 (0.962). The floors allow about
# one more miss per verdict before the test fails.
FLOORS = {"supported": 0.90, "contradicted": 0.89, "not_found": 0.92}


def test_claim_set_accuracy_per_verdict(claim_set_results):
    totals, correct = Counter(), Counter()
    misses = []
    for row, j in claim_set_results:
        totals[row["verdict"]] += 1
        correct[row["verdict"]] += j.verdict == row["verdict"]
        if j.verdict != row["verdict"]:
            misses.append((row["id"], row["verdict"], j.verdict, j.reason))
    accuracy = {v: correct[v] / totals[v] for v in VERDICTS}
    assert all(accuracy[v] >= FLOORS[v] for v in VERDICTS), (accuracy, misses)
