"""Clinical shorthand in questions: "ketamine for TRD?", "is rTMS invasive", "criteria for referring a pt".

Clinicians type abbreviations that a source may only ever spell out. Before retrieval, each known
abbreviation that the index has never seen gets its long form added after it in parentheses, so
both the keyword and the dense side can match the source's wording ("TRD" → "TRD
(treatment-resistant depression)"). An abbreviation the index already knows is left alone: the
sources use it, so it matches as it is. Pure string work; the question shown to the user is unchanged.
"""

from __future__ import annotations

import re
from typing import Callable

# (abbreviation, long form, case-sensitive). Two-letter forms that are also ordinary words or
# numerals in lower case ("iv", "si") only count in capitals.
_TABLE: tuple[tuple[str, str, bool], ...] = (
    ("rTMS", "repetitive transcranial magnetic stimulation", False),
    ("dTMS", "deep transcranial magnetic stimulation", False),
    ("TMS", "transcranial magnetic stimulation", False),
    ("ECT", "electroconvulsive therapy", False),
    ("tDCS", "transcranial direct current stimulation", False),
    ("DBS", "deep brain stimulation", False),
    ("VNS", "vagus nerve stimulation", False),
    ("TRD", "treatment-resistant depression", False),
    ("MDD", "major depressive disorder", False),
    ("GAD", "generalized anxiety disorder", True),
    ("OCD", "obsessive-compulsive disorder", False),
    ("PTSD", "post-traumatic stress disorder", False),
    ("SUD", "substance use disorder", False),
    ("AUD", "alcohol use disorder", True),
    ("OUD", "opioid use disorder", False),
    ("CBT", "cognitive behavioral therapy", False),
    ("DBT", "dialectical behavior therapy", False),
    ("SSRI", "selective serotonin reuptake inhibitor antidepressant", False),
    ("SSRIs", "selective serotonin reuptake inhibitor antidepressants", False),
    ("SNRI", "serotonin-norepinephrine reuptake inhibitor antidepressant", False),
    ("IV", "intravenous", True),
    ("IM", "intramuscular", True),
    ("SI", "suicidal ideation", True),
    ("pt", "patient", True),  # "PT" in capitals is physical therapy
    ("Pt", "patient", True),
    ("pts", "patients", True),
    ("Pts", "patients", True),
    ("ppl", "people", False),
    ("meds", "medications", False),
    ("tx", "treatment", False),
    ("dx", "diagnosis", False),
    ("sx", "symptoms", False),
    ("hx", "history", False),
    ("AEs", "adverse effects", True),
    ("SEs", "side effects", True),
)

_PATTERNS = [(short, long_, re.compile(r"(?<![\w-])" + re.escape(short) + r"(?![\w-])", 0 if sensitive else re.I))
             for short, long_, sensitive in _TABLE]


def expand(query: str, known: Callable[[str], bool] = lambda _word: False) -> str:
    """`query` with the long form added after each abbreviation for which `known(abbreviation)` is false.

    `known` is asked with the lower-cased abbreviation; pass the index's vocabulary test so that only
    shorthand the sources never use is expanded. Idempotent: a long form already in the query is not
    added again.
    """
    lowered = query.lower()
    additions: list[tuple[int, str]] = []
    for short, long_, pattern in _PATTERNS:
        if long_.lower() in lowered or known(short.lower()):
            continue
        for match in pattern.finditer(query):
            additions.append((match.end(), long_))
            break  # one expansion per abbreviation is enough for matching
    for end, long_ in sorted(additions, reverse=True):
        query = f"{query[:end]} ({long_}){query[end:]}"
    return query
