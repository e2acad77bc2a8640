"""ipchat fetch against a local HTTP server on 127.0.0.1: no real host is ever contacted."""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import ROOT
from ipchat import fetch as fetch_module
from ipchat.cli import add_fetch_arguments, cmd_fetch
from ipchat.corpus import load_corpus, read_provenance
from ipchat.errors import IpchatError
from ipchat.fetch import (
    HttpClient, OfflineError, fetch_sources, jats_to_markdown, read_status,
)

CHROME_WORDS = ("Accept all cookies", "Privacy policy", "Subscribe to our newsletter", "Find a doctor")


def page(title: str, sections: dict[str, str]) -> str:
    """An HTML page with navigation, a cookie banner, a sidebar and a footer around an article."""
    body = "".join(f"<h2>{h}</h2><p>{p}</p>" for h, p in sections.items())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Example Health</title>
<meta property="og:title" content="{title}"></head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/doctors">Find a doctor</a></li>
<li><a href="/about">About us</a></li></ul></nav></header>
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept all cookies</button></div>
<main><article><h1>{title}</h1>
<p>This page explains {title.lower()} for patients and families. It describes what happens before, during and
after treatment, and what the evidence says about how well it works for people with depression.</p>
{body}</article>
<aside><h3>Newsletter</h3><p>Subscribe to our newsletter for monthly updates.</p></aside></main>
<footer><p>Copyright Example Health. <a href="/privacy">Privacy policy</a> | <a href="/terms">Terms</a></p></footer>
</body></html>"""


TMS_PAGE = page("Transcranial magnetic stimulation", {
    "How it works": "A magnetic coil placed against the scalp sends painless pulses that stimulate nerve cells "
                    "in the region of the brain involved in mood control and depression.",
    "Side effects": "Side effects are generally mild to moderate and improve shortly after each session. "
                    "They include headache, scalp discomfort and tingling of the facial muscles.",
})
ECT_PAGE = page("Electroconvulsive therapy", {
    "What happens": "ECT is done under general anaesthesia. Small electric currents are passed through the brain, "
                    "intentionally triggering a brief seizure that changes brain chemistry.",
    "Risks": "Some people have confusion or memory loss right after treatment, which usually improves within "
             "days to weeks.",
})
KETAMINE_PAGE = page("Ketamine for depression", {
    "Evidence": "Ketamine infusions can relieve symptoms of severe depression within hours, and the effect "
                "usually lasts from several days to a couple of weeks.",
    "Questions": "Long-term safety and the best schedule of repeated infusions are still being studied.",
})
NAV_ONLY_PAGE = """<!doctype html><html><head><title>Home</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About</a></li></ul></nav>
<footer><a href="/privacy">Privacy policy</a></footer></body></html>"""

ROBOTS = "User-agent: *\nDisallow: /private/\n"

JATS = """<?xml version="1.0" encoding="UTF-8"?>
<article xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML" article-type="review-article">
<front><article-meta>
<title-group><article-title>Interventional Mental Health: A Transdisciplinary Approach</article-title></title-group>
<abstract><p>Interventional psychiatry uses procedures such as <italic>ECT</italic>, TMS and ketamine to treat
refractory illness.</p></abstract>
<abstract abstract-type="graphical"><p>Graphical abstract text that is not wanted.</p></abstract>
</article-meta></front>
<body>
<sec id="s1"><title>Introduction</title>
<p>Treatment-resistant depression affects about a third of patients with major depressive disorder [<xref ref-type="bibr" rid="r1">1</xref>].</p>
<p>Care models include:<list list-type="bullet"><list-item><p>outpatient clinics</p></list-item><list-item><p>inpatient services</p></list-item></list></p>
</sec>
<sec id="s2"><title>Methods</title>
<sec id="s2a"><title>Search strategy</title>
<p>We searched PubMed for interventional psychiatry and the dose <inline-formula><mml:math><mml:mi>x</mml:mi></mml:math></inline-formula> was fixed.</p>
<table-wrap id="t1"><caption><p>Table caption text</p></caption><table><tr><td>cell text</td></tr></table></table-wrap>
</sec>
</sec>
</body>
<back><ref-list><ref id="r1"><mixed-citation>Reference one text.</mixed-citation></ref></ref-list></back>
</article>"""


def epmc_record(pmcid: str, title: str, open_access: bool, abstract: str = "", licence: str = "") -> dict:
    return {"hitCount": 1, "resultList": {"result": [{
        "id": "1", "source": "MED", "pmid": "123" + pmcid[-3:], "pmcid": pmcid, "doi": f"10.1000/{pmcid.lower()}",
        "title": title + ".", "authorString": "Kuo J, Block T.",
        "authorList": {"author": [{"fullName": "Kuo J"}, {"fullName": "Block T"}]},
        "journalInfo": {"journal": {"title": "Cureus"}}, "pubYear": "2023",
        "isOpenAccess": "Y" if open_access else "N", "license": licence, "abstractText": abstract,
    }]}}


class Route:
    """A scripted answer: statuses are used in turn (the last one repeats)."""

    def __init__(self, body: bytes | str = b"", statuses=(200,), content_type="text/html; charset=utf-8",
                 etag: str | None = None, delay: float = 0.0, truncate: bool = False):
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.statuses = list(statuses)
        self.content_type = content_type
        self.etag = etag
        self.delay = delay
        self.truncate = truncate


class Server:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, dict]] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.log.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                status = route.statuses.pop(0) if len(route.statuses) > 1 else route.statuses[0]
                if route.delay:
                    server.stop.wait(route.delay)
                    if server.stop.is_set():
                        return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.end_headers()
                    return
                if status != 200:
                    self.send_error(status)
                    return
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                if route.etag:
                    self.send_header("ETag", route.etag)
                # A truncated answer promises more bytes than it sends, as a dropped download does.
                self.send_header("Content-Length", str(len(route.body) * (3 if route.truncate else 1)))
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def requests_for(self, path: str) -> list[dict]:
        return [headers for p, headers in self.log if p == path]

    def close(self):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    # A proxy from the environment would send the loopback requests elsewhere.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


def epmc_search_path(pmcid: str) -> str:
    query = urllib.parse.urlencode({"query": f"PMCID:{pmcid}", "format": "json", "resultType": "core"})
    return f"/europepmc/search?{query}"


def serve_everything(srv: Server) -> None:
    srv.routes.update({
        "/robots.txt": Route(ROBOTS, content_type="text/plain"),
        "/tms.html": Route(TMS_PAGE),
        "/ect.html": Route(ECT_PAGE),
        "/flaky.html": Route(KETAMINE_PAGE, statuses=(503, 200)),
        "/private/secret.html": Route(TMS_PAGE),
        "/slow.html": Route(ECT_PAGE, delay=SLOW),
        epmc_search_path("PMC111"): Route(json.dumps(epmc_record(
            "PMC111", "Interventional Mental Health: A Transdisciplinary Approach", True, licence="cc by")),
            content_type="application/json"),
        "/europepmc/PMC111/fullTextXML": Route(JATS, content_type="application/xml"),
        epmc_search_path("PMC222"): Route(json.dumps(epmc_record(
            "PMC222", "Interventional psychiatry: why now?", False,
            abstract="<h4>Background</h4>Psychiatry is developing procedural treatments.<h4>Conclusion</h4>"
                     "A subspecialty of interventional psychiatry is emerging and needs <i>training</i> standards.")),
            content_type="application/json"),
        epmc_search_path("PMC333"): Route(json.dumps({"hitCount": 0, "resultList": {"result": []}}),
                                          content_type="application/json"),
    })


def source(id, kind="web-page", url="", **extra) -> str:
    lines = [f'id = "{id}"', f'kind = "{kind}"', 'licence = "(c) Example; all rights reserved"',
             "redistributable = false", 'status = "metadata-only"']
    if url:
        lines.append(f'url = "{url}"')
    for key, value in extra.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "[[source]]\n" + "\n".join(lines) + "\n"


def write_corpus(tmp_path: Path, base: str) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    (corpus / "documents" / "article.md").write_text("# Article\n\n## Intro\n\nThe bundled article.\n", encoding="utf-8")
    body = "\n".join([
        source("article", file="documents/article.md", title="The article", url=f"{base}/article").replace(
            'status = "metadata-only"', 'status = "bundled"'),
        source("tms", url=f"{base}/tms.html#tab=2", title="TMS (manifest title)"),
        source("ect", url=f"{base}/ect.html"),
        source("flaky", url=f"{base}/flaky.html", title="Ketamine"),
        source("secret", url=f"{base}/private/secret.html", title="Secret"),
        source("gone", url=f"{base}/gone.html", title="Gone"),
        source("slow", url=f"{base}/slow.html", title="Slow"),
        source("book", kind="book", title="A Book"),
        source("pmc-open", kind="journal-article", url="https://pmc.ncbi.nlm.nih.gov/articles/PMC111/#sec3",
               pmcid="PMC111").replace("(c) Example; all rights reserved", "unknown (resolve at ingest)"),
        source("pmc-closed", kind="journal-article", url="https://pmc.ncbi.nlm.nih.gov/articles/PMC222/",
               pmcid="PMC222"),
        source("pmc-missing", kind="journal-article", url="https://pmc.ncbi.nlm.nih.gov/articles/PMC333/",
               pmcid="PMC333"),
    ])
    (corpus / "sources.toml").write_text(body, encoding="utf-8")
    return corpus


# A busy 2-core machine can take well over half a second to answer a local request, and a timed-out
# request is (rightly) retried; so the client waits generously and the slow route sleeps far longer.
TIMEOUT = 2.5
SLOW = 60.0  # ended early when the server stops


def run(corpus: Path, fetched: Path, base: str, **kwargs):
    options = dict(fetched_dir=fetched, europepmc_base=f"{base}/europepmc", timeout=TIMEOUT, retries=2,
                   backoff=0.0, min_interval=0.0)
    options.update(kwargs)
    return {r.id: r for r in fetch_sources(corpus, **options)}


def snapshot(directory: Path) -> dict[str, bytes]:
    if not directory.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def test_fetch_every_kind_of_source(tmp_path, server, monkeypatch):
    serve_everything(server)
    corpus, fetched = write_corpus(tmp_path, server.base), tmp_path / "fetched"
    asked: list[str] = []  # what the fetcher hands its HTTP client (urllib would drop a fragment itself)
    original_get = fetch_module.HttpClient.get

    def recording_get(self, url, *args, **kwargs):
        asked.append(url)
        return original_get(self, url, *args, **kwargs)

    monkeypatch.setattr(fetch_module.HttpClient, "get", recording_get)
    results = run(corpus, fetched, server.base)

    status = {i: (r.status, r.reason) for i, r in results.items()}
    assert status["article"][0] == "bundled"
    assert status["book"] == ("metadata-only", "citation only (book)")
    assert status["secret"] == ("failed", "robots.txt disallows")
    assert not server.requests_for("/private/secret.html")
    assert status["gone"][0] == "failed" and "404" in status["gone"][1]
    assert len(server.requests_for("/gone.html")) == 1  # a 404 is final, not retried
    assert status["flaky"][0] == "fetched" and len(server.requests_for("/flaky.html")) == 2
    assert status["slow"][0] == "failed" and "timed out" in status["slow"][1]
    assert status["tms"][0] == status["ect"][0] == "fetched"
    assert status["pmc-open"][0] == "fetched" and "full text" in status["pmc-open"][1]
    assert status["pmc-closed"][0] == "fetched" and "abstract only" in status["pmc-closed"][1]
    assert status["pmc-missing"] == ("failed", "Europe PMC has no record of PMC333")

    # The fragment is not sent; every request names the client.
    assert len(server.requests_for("/tms.html")) == 1
    assert any(url.endswith("/tms.html") for url in asked) and not any("#" in url for url in asked)
    assert all(h["User-Agent"].startswith("ipchat/") for _, h in server.log)
    assert len(server.requests_for("/robots.txt")) == 1  # read once per host

    tms = (fetched / "tms.md").read_text(encoding="utf-8")
    assert "## Side effects" in tms and "tingling of the facial muscles" in tms
    for chrome in CHROME_WORDS:
        assert chrome not in tms
    assert results["tms"].title == "TMS (manifest title)"
    assert results["ect"].title == "Electroconvulsive therapy"  # from the page when the manifest has none
    assert results["pmc-open"].title == "Interventional Mental Health: A Transdisciplinary Approach"
    assert results["pmc-closed"].title == "Interventional psychiatry: why now?"

    provenance = json.loads((fetched / "tms.json").read_text(encoding="utf-8"))
    assert provenance["url"] == f"{server.base}/tms.html#tab=2"
    assert provenance["sha256"] == hashlib.sha256((fetched / "tms.md").read_bytes()).hexdigest()
    assert provenance["licence"] == "(c) Example; all rights reserved" and provenance["retrieved_at"]
    assert provenance["redistributable"] is False
    pmc = json.loads((fetched / "pmc-open.json").read_text(encoding="utf-8"))
    assert (pmc["licence"], pmc["doi"], pmc["pmid"], pmc["open_access"]) == ("cc by", "10.1000/pmc111", "123111", True)
    assert pmc["authors"] == ["Kuo J", "Block T"]

    recorded = read_status(fetched)
    assert set(recorded) == set(results)
    assert recorded["secret"]["status"] == "failed" and recorded["secret"]["reason"] == "robots.txt disallows"
    assert recorded["pmc-closed"]["metadata"]["title"] == "Interventional psychiatry: why now?"
    assert recorded["article"]["status"] == "bundled"
    assert (fetched / ".gitignore").read_text().splitlines()[-1] == "*"
    assert not list(fetched.glob(".*.tmp"))


def test_jats_becomes_markdown_with_section_headings():
    title, text = jats_to_markdown(JATS.encode())
    assert title == "Interventional Mental Health: A Transdisciplinary Approach"
    assert text.startswith(f"# {title}\n\n## Abstract\n\nInterventional psychiatry uses procedures such as ECT, TMS")
    assert "\n## Introduction\n" in text and "\n## Methods\n" in text and "\n### Search strategy\n" in text
    assert "major depressive disorder [1]." in text
    assert "Care models include:\n\n- outpatient clinics\n- inpatient services" in text
    for unwanted in ("Graphical abstract", "Table caption", "cell text", "Reference one", "mml"):
        assert unwanted not in text


def test_fetched_documents_load_with_title_url_and_sections(tmp_path, server):
    serve_everything(server)
    server.routes["/slow.html"].delay = 0.0
    corpus, fetched = write_corpus(tmp_path, server.base), tmp_path / "fetched"
    run(corpus, fetched, server.base)

    assert [d.doc_id for d in load_corpus(corpus)] == ["article"]  # another corpus: only when told
    docs = {d.doc_id: d for d in load_corpus(corpus, fetched_dir=fetched)}
    assert set(docs) == {"article", "tms", "ect", "flaky", "slow", "pmc-open", "pmc-closed"}
    tms = docs["tms"]
    assert (tms.title, tms.url, tms.kind) == ("TMS (manifest title)", f"{server.base}/tms.html#tab=2", "web-page")
    assert [s.heading for s in tms.sections] == ["Transcranial magnetic stimulation", "How it works", "Side effects"]
    side = next(s for s in tms.sections if s.heading == "Side effects")
    assert "headache, scalp discomfort" in tms.text[side.start:side.end]
    pmc = docs["pmc-open"]
    assert pmc.title == "Interventional Mental Health: A Transdisciplinary Approach"
    assert pmc.url == "https://pmc.ncbi.nlm.nih.gov/articles/PMC111/#sec3"
    assert pmc.licence == "cc by"  # the manifest said unknown
    assert [s.heading for s in pmc.sections] == ["Abstract", "Introduction", "Search strategy"]
    assert [s.heading for s in docs["pmc-closed"].sections] == ["Background", "Conclusion"]

    # A copy whose text no longer matches its provenance is not trusted.
    (fetched / "ect.md").write_text("# Edited\n\nSomething else entirely.\n", encoding="utf-8")
    assert "ect" not in {d.doc_id for d in load_corpus(corpus, fetched_dir=fetched)}


def test_project_corpus_reads_the_default_fetched_folder(tmp_path, monkeypatch):
    fetched = tmp_path / "fetched"
    fetched.mkdir()
    text = "# Brain Stimulation Therapies\n\n## ECT\n\nECT is the most researched brain stimulation therapy.\n"
    (fetched / "nimh-brain-stimulation.md").write_text(text, encoding="utf-8")
    (fetched / "nimh-brain-stimulation.json").write_text(json.dumps({
        "id": "nimh-brain-stimulation", "sha256": hashlib.sha256(text.encode()).hexdigest(), "title": "Fetched title",
    }), encoding="utf-8")
    monkeypatch.setenv("IPCHAT_FETCHED_DIR", str(fetched))
    docs = {d.doc_id: d for d in load_corpus(ROOT / "corpus")}
    assert set(docs) == {"osmosis-interventional-guide", "nimh-brain-stimulation"}
    doc = docs["nimh-brain-stimulation"]
    assert doc.title == "Brain Stimulation Therapies"  # the manifest's title wins
    assert doc.url.startswith("https://www.nimh.nih.gov/")
    assert [s.heading for s in doc.sections] == ["ECT"]


def test_rerun_fetches_only_what_changed(tmp_path, server):
    serve_everything(server)
    server.routes["/tms.html"].etag = '"v1"'
    corpus, fetched = write_corpus(tmp_path, server.base), tmp_path / "fetched"
    only = ["tms", "ect", "pmc-open"]
    run(corpus, fetched, server.base, only=only)
    before = snapshot(fetched)
    mtimes = {p.name: p.stat().st_mtime_ns for p in fetched.glob("*.md")}

    results = run(corpus, fetched, server.base, only=only)
    assert results["tms"].reason == "unchanged (not modified)"
    assert server.requests_for("/tms.html")[-1]["If-None-Match"] == '"v1"'
    assert results["ect"].reason == "unchanged (same text)"  # no validators: compared by content hash
    assert results["pmc-open"].reason == "unchanged (same text)"
    assert all(r.status == "fetched" for r in results.values())
    after = snapshot(fetched)
    assert {k: v for k, v in after.items() if k != "status.json"} == {k: v for k, v in before.items() if k != "status.json"}
    assert mtimes == {p.name: p.stat().st_mtime_ns for p in fetched.glob("*.md")}

    # A changed page is replaced; --force downloads again without a conditional request.
    server.routes["/ect.html"].body = ECT_PAGE.replace("days to weeks", "a few weeks").encode()
    results = run(corpus, fetched, server.base, only=["ect", "tms"], force=True)
    assert results["ect"].reason.startswith("updated")
    assert "a few weeks" in (fetched / "ect.md").read_text(encoding="utf-8")
    assert "If-None-Match" not in server.requests_for("/tms.html")[-1]
    assert read_provenance(fetched, "ect") is not None


@pytest.mark.parametrize("breakage", ["truncated", "server error", "no text", "timeout"])
def test_failed_download_keeps_the_good_copy(tmp_path, server, breakage):
    serve_everything(server)
    corpus, fetched = write_corpus(tmp_path, server.base), tmp_path / "fetched"
    run(corpus, fetched, server.base, only=["ect"])
    good = snapshot(fetched)
    assert "ect.md" in good

    changed = ECT_PAGE.replace("ECT is done", "ECT is now done").encode()
    server.routes["/ect.html"] = {
        "truncated": Route(changed, truncate=True),
        "server error": Route(changed, statuses=(500,)),
        "no text": Route(NAV_ONLY_PAGE),
        "timeout": Route(changed, delay=SLOW),
    }[breakage]
    [result] = fetch_sources(corpus, only=["ect"], fetched_dir=fetched, europepmc_base=server.base,
                             timeout=TIMEOUT, retries=1, backoff=0.0, min_interval=0.0)
    assert result.status == "failed" and "kept the copy retrieved" in result.reason
    assert result.path == fetched / "ect.md"
    now = snapshot(fetched)
    assert {k: v for k, v in now.items() if k != "status.json"} == {k: v for k, v in good.items() if k != "status.json"}
    assert read_status(fetched)["ect"]["status"] == "failed"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_offline_says_so_once_and_changes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fetch_module, "MIN_INTERVAL", 0.0)
    base = f"http://127.0.0.1:{closed_port()}"
    corpus, fetched = write_corpus(tmp_path, base), tmp_path / "fetched"
    fetched.mkdir()
    (fetched / "ect.md").write_text("# ECT\n\nOld good text.\n", encoding="utf-8")
    (fetched / "status.json").write_text('{"sources": {}}', encoding="utf-8")
    before = snapshot(fetched)

    with pytest.raises(OfflineError, match="offline: no source could be reached; nothing changed"):
        run(corpus, fetched, base)

    parser = add_fetch_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--corpus", str(corpus), "--fetched-dir", str(fetched), "--europepmc-base", base,
                              "--timeout", "0.5"])
    assert cmd_fetch(args) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "ipchat: offline: no source could be reached; nothing changed\n"
    assert snapshot(fetched) == before

    # With a single source the one failed request is enough to tell.
    with pytest.raises(OfflineError):
        run(corpus, tmp_path / "new", base, only=["tms"])
    assert not (tmp_path / "new").exists()


def test_cli_prints_a_line_per_source_and_a_summary(tmp_path, server, capsys, monkeypatch):
    serve_everything(server)
    monkeypatch.setattr(fetch_module, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(fetch_module, "BACKOFF", 0.0)
    corpus, fetched = write_corpus(tmp_path, server.base), tmp_path / "fetched"
    parser = add_fetch_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--corpus", str(corpus), "--fetched-dir", str(fetched), "--only", "tms", "book",
                              "--only", "gone", "--europepmc-base", f"{server.base}/europepmc"])
    assert cmd_fetch(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("fetched") and " tms: " in lines[0]
    assert lines[1].startswith("failed") and " gone: " in lines[1] and "404" in lines[1]
    assert lines[2].startswith("metadata-only") and "citation only (book)" in lines[2]
    assert lines[3].startswith("3 source(s): 1 fetched, 1 metadata-only, 1 failed.")

    args = parser.parse_args(["--corpus", str(corpus), "--fetched-dir", str(fetched), "--only", "gone", "secret"])
    assert cmd_fetch(args) == 1  # everything that needed the network failed


def test_unknown_only_id_and_foreign_corpus_need_to_be_explicit(tmp_path, server):
    corpus = write_corpus(tmp_path, server.base)
    with pytest.raises(IpchatError, match="Unknown source id"):
        fetch_sources(corpus, only=["nope"], fetched_dir=tmp_path / "f")
    with pytest.raises(IpchatError, match="--fetched-dir"):
        fetch_sources(corpus)
    assert not server.log


def test_requests_to_one_host_are_spaced_and_retries_back_off(server):
    server.routes["/a"] = Route("a", content_type="text/plain")
    server.routes["/busy"] = Route("b", statuses=(429, 503, 200), content_type="text/plain")
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    client = HttpClient(timeout=2, retries=2, backoff=0.5, min_interval=1.0, sleep=sleep, clock=lambda: now[0])
    sent: list[float] = []
    once = client._once
    client._once = lambda *a: (sent.append(now[0]), once(*a))[1]

    assert client.get(f"{server.base}/a").status == 200
    response = client.get(f"{server.base}/busy")
    assert (response.status, response.attempts) == (200, 3)
    assert len(sent) == 4 and all(b - a >= 1.0 for a, b in zip(sent, sent[1:]))  # at most one request a second
    assert sleeps[0] == 1.0  # the second request waits for the host's interval
    assert 0.5 <= sleeps[1] <= 0.55 and 1.0 <= sleeps[-1] <= 1.1  # backoff 0.5 s, then 1 s, with a little jitter


def test_robots_txt_missing_allows_and_forbidden_disallows(server):
    client = HttpClient(timeout=2, retries=0, backoff=0.0, min_interval=0.0)
    assert client.allowed(f"{server.base}/anything")  # robots.txt 404: no rules
    other = Server()
    try:
        other.routes["/robots.txt"] = Route("", statuses=(403,))
        assert not client.allowed(f"{other.base}/page")
        other.routes["/robots.txt"] = Route("User-agent: ipchat\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
                                            content_type="text/plain")
        assert not HttpClient(min_interval=0.0).allowed(f"{other.base}/page")  # rules for ipchat by name
    finally:
        other.close()
