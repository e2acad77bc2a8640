"""Many sessions at once: the library is stateless over a read-only index, so answers asked from ten
threads together are the answers asked one by one."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ROOT
from ipchat.answer import Answerer
from ipchat.embedding import QUERY_THREADS_ENV, query_threads
from ipchat.errors import ModelError

pytestmark = pytest.mark.model


def _questions() -> list[tuple[str, list[str]]]:
    rows = [json.loads(line) for name in ("heldout", "followups")
            for line in (ROOT / "eval" / "questions" / f"{name}.jsonl").read_text().splitlines() if line.strip()]
    return [(row["question"], row.get("history", [])) for row in rows][:60]


def _shape(reply) -> tuple:
    return (reply.answer, reply.abstained, reply.declined, reply.notes, reply.rewritten_query,
            tuple((c.chunk_id, c.start, c.end) for c in reply.citations),
            tuple(h.chunk.chunk_id for h in reply.hits), reply.safety.level)


def test_ten_concurrent_sessions_get_the_serial_answers(real_retriever):
    questions = _questions()
    serial = Answerer(real_retriever)
    expected = [_shape(serial.ask(q, h)) for q, h in questions]
    shared = Answerer(real_retriever)
    real_retriever.forget_queries()  # every concurrent call embeds afresh
    with ThreadPoolExecutor(max_workers=10) as pool:
        got = list(pool.map(lambda qh: _shape(shared.ask(*qh)), questions))
    assert got == expected


def test_query_threads_setting():
    assert query_threads({}) == 1
    assert query_threads({QUERY_THREADS_ENV: "2"}) == 2
    for bad in ("0", "two"):
        with pytest.raises(ModelError, match=QUERY_THREADS_ENV):
            query_threads({QUERY_THREADS_ENV: bad})
