"""Generated phrasing against a local OpenAI-compatible server returning canned completions."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ipchat.answer import Answerer
from ipchat.llm import ChatClient, LLMUnavailable, check_generated, numbers_in


class CannedServer:
    def __init__(self):
        self.reply = ""
        self.delay = 0.0
        self.status = 200
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, body))
                time.sleep(server.delay)
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": server.reply}}]}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = CannedServer()
    yield s
    s.close()


@pytest.fixture
def llm_answerer(real_retriever, server):
    settings = real_retriever.settings.replace(llm_url=server.url, llm_model="canned", llm_timeout=1.0)
    return Answerer(real_retriever, settings)


QUESTION = "What are the side effects of TMS?"


def test_faithful_completion_is_used(llm_answerer, server):
    server.reply = ("TMS side effects are generally mild [1]. They include scalp pain, headache and lightheadedness [1].")
    reply = llm_answerer.ask(QUESTION)
    assert reply.path == "llm"
    assert reply.answer.count("[1]") == 2
    assert [c.n for c in reply.citations] == [1]
    assert reply.citations[0].chunk_id == reply.hits[0].chunk.chunk_id
    path, body = server.requests[-1]
    assert path == "/v1/chat/completions" and body["model"] == "canned"
    assert "[1]" in body["messages"][1]["content"] and QUESTION in body["messages"][1]["content"]


def test_hallucinated_markers_fall_back_to_extractive(llm_answerer, server):
    server.reply = "TMS causes seizures in most patients [9]. It is painful [12]."
    reply = llm_answerer.ask(QUESTION)
    assert reply.path == "extractive (llm fallback)"
    assert "scalp pain or discomfort" in reply.answer


def test_invented_numbers_are_dropped(llm_answerer, server):
    server.reply = "About 95% of patients respond to TMS [1]. Side effects are generally mild [1]."
    reply = llm_answerer.ask(QUESTION)
    assert reply.path == "llm"
    assert "95%" not in reply.answer
    assert "generally mild" in reply.answer


def test_unmarked_sentences_are_dropped(llm_answerer, server):
    server.reply = "TMS is great. Side effects are generally mild [1]."
    reply = llm_answerer.ask(QUESTION)
    assert reply.answer == "Side effects are generally mild. [1]"


def test_timeout_falls_back(llm_answerer, server):
    server.delay = 2.0
    server.reply = "Side effects are generally mild [1]."
    reply = llm_answerer.ask(QUESTION)
    assert reply.path == "extractive (llm fallback)"
    assert reply.citations and "[1]" in reply.answer


def test_server_error_falls_back(llm_answerer, server):
    server.status = 500
    reply = llm_answerer.ask(QUESTION)
    assert reply.path == "extractive (llm fallback)"


def test_unreachable_endpoint_raises_unavailable():
    client = ChatClient("http://127.0.0.1:9", "m", timeout=0.5)
    with pytest.raises(LLMUnavailable):
        client.complete("q", {1: "p"})


def test_check_generated_rules():
    passages = {1: "About 83% of patients improved after twelve months.", 2: "ECT takes six to twelve treatments."}
    kept, dropped = check_generated(
        "83% improved [1]. ECT takes six to twelve treatments [2]. It takes 20 treatments [2]. No marker here. Bad [3].",
        passages,
    )
    assert [(k.text, k.markers) for k in kept] == [("83% improved.", (1,)), ("ECT takes six to twelve treatments.", (2,))]
    assert sorted(dropped) == ["marker points at no passage", "no marker", "number not in the cited passage"]


def test_numbers_in_reads_digits_and_words():
    assert numbers_in("About 83% of 1,200 patients, six to twelve") == {"83", "1200", "six", "twelve"}


def test_decimals_and_abbreviations_do_not_split_a_sentence():
    passages = {1: "Ketamine is given at 0.5 mg/kg over 40 minutes, e.g. in a clinic."}
    kept, dropped = check_generated("Ketamine is given at 0.5 mg/kg [1]. It is given e.g. in a clinic [1].", passages)
    assert [s.text for s in kept] == ["Ketamine is given at 0.5 mg/kg.", "It is given e.g. in a clinic."]
    assert dropped == []
