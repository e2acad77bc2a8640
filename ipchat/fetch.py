"""`ipchat fetch`: download the sources the manifest cites into a git-ignored folder, with provenance.

PMC articles come from Europe PMC: metadata (title, authors, DOI, PMID, licence, open-access status)
from its search service, the full text as JATS XML when open access, otherwise the abstract. Web
pages are fetched with an identifying User-Agent, honouring robots.txt and at most one request per
second per host, and their main text is extracted with trafilatura. Books are citation-only.

Each source's text lands in `<fetched>/<id>.md` (Markdown, `## ` headings for its sections) next to
`<id>.json` (provenance: URL, retrieval time, licence, validators, sha256 of the text), and every
source's outcome (bundled, fetched, metadata-only, failed with the reason) in `status.json`.
A new copy replaces an old one only once it is complete and has text; files are written to a
temporary name and renamed. The folder carries a `.gitignore` of `*`, so the text never enters the
repository wherever the folder is placed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import http.client
import json
import logging
import os
import random
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Iterable

from . import __version__
from .corpus import SourceEntry, load_manifest, read_provenance, resolve_fetched_dir
from .errors import IpchatError
from .files import stage_file, write_atomic

log = logging.getLogger(__name__)

#: The public home of the project, named in the User-Agent so site operators can see who is asking.
PROJECT_URL = ""
USER_AGENT = f"ipchat/{__version__} ({'+' + PROJECT_URL + '; ' if PROJECT_URL else ''}research use; corpus fetch)"
EUROPEPMC_BASE = "https://www.ebi.ac.uk/europepmc/webservices/rest"

TIMEOUT = 20.0          # seconds per connect or read
RETRIES = 2             # further attempts after the first, on 429, 5xx, timeouts and dropped connections
BACKOFF = 1.0           # seconds before the first retry; doubles each time
MIN_INTERVAL = 1.0      # seconds between requests to one host
OFFLINE_AFTER = 3       # this many unreachable requests before any success means the machine is offline
MIN_TEXT_CHARS = 200    # less extracted text than this is a failed extraction, not a document
MAX_BYTES = 20_000_000  # a larger response is not an article
MAX_RETRY_AFTER = 60.0  # cap on a server's Retry-After, so one host cannot stall the run

STATUS_FILE = "status.json"
CITATION_ONLY = "citation only (book)"
NOTHING_TO_FETCH = "no URL or PMC id to fetch"
OFFLINE_MESSAGE = "offline: no source could be reached; nothing changed"


@dataclass(frozen=True)
class FetchResult:
    """What happened to one source: `status` is bundled, fetched, metadata-only or failed; `path` is
    its text file when there is one (a kept earlier copy included); `title` the best title known."""

    id: str
    status: str
    reason: str
    path: Path | None = None
    title: str = ""


class OfflineError(IpchatError):
    """No source could be reached at all; nothing was written."""


class _Failed(Exception):
    """The source cannot be fetched this time; the message is the reason shown to the user."""


class _Unreachable(_Failed):
    """No connection could be made (DNS, refused, unreachable): the mark of an offline machine."""


class _Transient(Exception):
    """A failure worth retrying: timeout, dropped connection, truncated body."""


@dataclass
class _Response:
    status: int
    reason: str
    headers: Message
    body: bytes
    url: str
    attempts: int = 1

    def describe(self) -> str:
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"HTTP {self.status} {self.reason}".rstrip() + tries


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _host(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _retry_after(headers: Message) -> float:
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return 0.0
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        return min(max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)
    except (TypeError, ValueError):
        return 0.0


class HttpClient:
    """GET with retries, per-host spacing and robots.txt, counting whether any host answered.

    `sleep` and `clock` are injectable so spacing and backoff can be checked without waiting.
    """

    def __init__(self, user_agent: str = USER_AGENT, timeout: float = TIMEOUT, retries: int = RETRIES,
                 backoff: float = BACKOFF, min_interval: float = MIN_INTERVAL,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.user_agent = user_agent
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.min_interval = min_interval
        self.sleep = sleep
        self.clock = clock
        self.reached = False    # some server answered during this run
        self.unreachable = 0    # requests that ended without any connection
        self._last: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._opener = urllib.request.build_opener()

    def _wait_turn(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            wait = last + self.min_interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last[host] = self.clock()

    def get(self, url: str, headers: dict[str, str] | None = None, accept: str = "*/*") -> _Response:
        """The final response to GET `url` (any HTTP status, 304 included), after retrying 429 and 5xx.

        Raises _Unreachable when no connection could be made, _Failed when every attempt timed out or
        was cut short.
        """
        host = _host(url)
        attempts = self.retries + 1
        for attempt in range(attempts):
            self._wait_turn(host)
            try:
                response = self._once(url, headers or {}, accept)
            except _Transient as exc:
                if attempt + 1 < attempts:
                    log.info("retrying %s: %s", url, exc)
                    self._pause(attempt, 0.0)
                    continue
                raise _Failed(f"{exc}" + (f" after {attempts} attempts" if attempts > 1 else "")) from None
            except _Unreachable:
                self.unreachable += 1
                raise
            response.attempts = attempt + 1
            if (response.status == 429 or response.status >= 500) and attempt + 1 < attempts:
                log.info("retrying %s: HTTP %s", url, response.status)
                self._pause(attempt, _retry_after(response.headers))
                continue
            return response
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _pause(self, attempt: int, at_least: float) -> None:
        # Exponential backoff with a little jitter, so parallel clients do not retry in step.
        delay = self.backoff * (2 ** attempt) * (1 + random.random() * 0.1)
        delay = max(delay, at_least)
        if delay > 0:
            self.sleep(delay)

    def _once(self, url: str, headers: dict[str, str], accept: str) -> _Response:
        request = urllib.request.Request(url, headers={
            "User-Agent": self.user_agent, "Accept": accept, "Accept-Encoding": "gzip", **headers,
        })
        try:
            response = self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            # Error statuses (and 304) arrive as exceptions; they are still answers from the server.
            self.reached = True
            with exc:
                return _Response(exc.code, exc.reason or "", exc.headers, b"", exc.geturl() or url)
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise _Transient("connection timed out") from None
            if isinstance(reason, ConnectionResetError):
                raise _Transient("connection reset") from None
            if isinstance(reason, ssl.SSLError):
                self.reached = True
                raise _Failed(f"TLS error: {reason}") from None
            if isinstance(reason, str):
                raise _Failed(reason) from None  # e.g. an unsupported URL scheme
            raise _Unreachable(f"cannot connect: {getattr(reason, 'strerror', None) or reason}") from None
        except (TimeoutError, socket.timeout):
            self.reached = True
            raise _Transient("timed out waiting for the response") from None
        except (http.client.HTTPException, ConnectionError) as exc:
            self.reached = True
            raise _Transient(f"connection dropped ({type(exc).__name__})") from None
        self.reached = True
        with response:
            body = self._read(response)
            return _Response(response.status, response.reason or "", response.headers, body, response.geturl() or url)

    def _read(self, response) -> bytes:
        # The socket timeout bounds each read; the deadline bounds a server that trickles bytes.
        deadline = self.clock() + max(self.timeout * 6, 30.0)
        chunks, total = [], 0
        try:
            while True:
                chunk = response.read(65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_BYTES:
                    raise _Failed(f"response larger than {MAX_BYTES // 1_000_000} MB")
                if self.clock() > deadline:
                    raise _Transient("timed out reading the response")
                chunks.append(chunk)
        except (TimeoutError, socket.timeout):
            raise _Transient("timed out reading the response") from None
        except (http.client.HTTPException, ConnectionError) as exc:
            raise _Transient(f"download cut short ({type(exc).__name__})") from None
        body = b"".join(chunks)
        # http.client returns short reads quietly when the peer closes early; a body shorter than
        # its Content-Length is a cut-off download, never a page.
        expected = (response.headers.get("Content-Length") or "").strip()
        if expected.isdigit() and len(body) < int(expected):
            raise _Transient(f"download cut short ({len(body)} of {expected} bytes)")
        if (response.headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                body = inflater.decompress(body, MAX_BYTES + 1)
            except zlib.error:
                raise _Transient("corrupt gzip body") from None
            if len(body) > MAX_BYTES or inflater.unconsumed_tail:
                raise _Failed(f"response larger than {MAX_BYTES // 1_000_000} MB")
        return body

    def allowed(self, url: str) -> bool:
        """Whether robots.txt of `url`'s host lets this client fetch it (fetched once per host).

        A missing robots.txt (4xx) allows everything, 401/403 forbid everything. Raises _Failed when
        robots.txt cannot be read for another reason: then the site's wishes are unknown, and
        RFC 9309 says to assume the whole site is disallowed.
        """
        origin = _host(url)
        parser = self._robots.get(origin)
        if parser is None:
            try:
                response = self.get(origin + "/robots.txt", accept="text/plain")
            except _Unreachable:
                raise
            except _Failed as exc:
                raise _Failed(f"robots.txt unavailable: {exc}") from None
            parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
            if response.status == 200:
                parser.parse(response.body.decode("utf-8", "replace").splitlines())
            elif response.status in (401, 403):
                parser.disallow_all = True
            elif 400 <= response.status < 500:
                parser.allow_all = True
            else:
                raise _Failed(f"robots.txt unavailable: {response.describe()}")
            self._robots[origin] = parser
        return parser.can_fetch(self.user_agent, url)


# ---------------------------------------------------------------------------------------------
# Text: Europe PMC JATS XML and web pages to Markdown

_BLOCK_SKIP = {"table-wrap", "fig", "disp-formula", "table-wrap-group", "fig-group", "graphic", "media",
               "alternatives", "supplementary-material", "object-id", "label"}
_INLINE_SKIP = _BLOCK_SKIP | {"inline-formula", "tex-math"}
_MATHML = "{http://www.w3.org/1998/Math/MathML}"
_SPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    text = _SPACE.sub(" ", text).strip()
    # A paragraph that starts with '#' would read as a heading and split the section.
    return "\\" + text if text.startswith("#") else text


def _inline(element: ET.Element, skip: Iterable[str] = _INLINE_SKIP) -> str:
    parts = [element.text or ""]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag not in skip and not tag.startswith(_MATHML):
            parts.append(_inline(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def _blocks(container: ET.Element, level: int, out: list[str]) -> None:
    """Append the Markdown of a JATS container's paragraphs, lists and subsections to `out`."""
    for child in container:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in ("title", "label") or tag in _BLOCK_SKIP:
            continue
        if tag == "sec":
            _section(child, level, out)
        elif tag == "p":
            # Lists and quotes nested in a paragraph become their own blocks after it.
            text = _clean(_inline(child, _INLINE_SKIP | {"list", "disp-quote"}))
            if text:
                out.append(text)
            for nested in child:
                if nested.tag in ("list", "disp-quote"):
                    _blocks_of(nested, level, out)
        elif tag in ("list", "disp-quote", "boxed-text", "statement", "def-list"):
            _blocks_of(child, level, out)
        elif tag in ("list-item", "def-item"):
            _blocks(child, level, out)


def _blocks_of(element: ET.Element, level: int, out: list[str]) -> None:
    if element.tag == "list":
        items = [_clean(_inline(item)) for item in element.findall("list-item")]
        items = [item for item in items if item]
        if items:
            out.append("\n".join(f"- {item}" for item in items))
    else:
        _blocks(element, level, out)


def _section(sec: ET.Element, level: int, out: list[str]) -> None:
    title = sec.find("title")
    heading = _SPACE.sub(" ", _inline(title)).strip() if title is not None else ""
    if heading:
        out.append(f"{'#' * min(level, 6)} {heading}")
    _blocks(sec, level + 1 if heading else level, out)


def jats_to_markdown(xml: bytes, title: str = "") -> tuple[str, str]:
    """(title, Markdown) of a JATS article: `# title`, `## Abstract`, then a `## ` heading per body
    section (`###` and deeper for subsections). Tables, figures, formulas and references are left out.

    Raises _Failed when the XML cannot be parsed.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise _Failed(f"full text is not valid XML ({exc})") from None
    article = root if root.tag == "article" else root.find(".//article")
    if article is None:
        raise _Failed("full text has no <article> element")
    if not title:
        node = article.find("front/article-meta/title-group/article-title")
        title = _SPACE.sub(" ", _inline(node)).strip() if node is not None else ""
    out = [f"# {title}"] if title else []
    abstracts = article.findall("front/article-meta/abstract")
    plain = [a for a in abstracts if a.get("abstract-type") in (None, "abstract", "summary")] or abstracts[:1]
    for abstract in plain[:1]:
        out.append("## Abstract")
        _blocks(abstract, 3, out)
    body = article.find("body")
    if body is not None:
        _blocks(body, 2, out)
    return title, "\n\n".join(out) + "\n"


def _abstract_markdown(abstract_html: str) -> str:
    """Markdown of a Europe PMC `abstractText` (HTML-ish: <h4> headings, <i>, <sup>, <p>)."""
    text = re.sub(r"(?is)<h\d[^>]*>(.*?)</h\d>", lambda m: f"\n\n### {m.group(1).strip()}\n\n", abstract_html)
    text = re.sub(r"(?i)</?(p|br)\b[^>]*>", "\n\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if block.startswith("### "):
            blocks.append("### " + _SPACE.sub(" ", block[4:]).strip())
        elif block:
            blocks.append(_clean(block))
    return "\n\n".join(blocks)


def _plain(text: str) -> str:
    return _SPACE.sub(" ", html.unescape(re.sub(r"<[^>]+>", "", text or ""))).strip()


def _trafilatura():
    try:
        import trafilatura
    except ImportError:
        raise IpchatError("Fetching web pages needs trafilatura: pip install 'trafilatura>=2.0'.") from None

    # trafilatura logs every page it finds thin; the reason is reported per source instead.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    return trafilatura


def html_to_markdown(page: str | bytes, url: str = "") -> tuple[str, str, str]:
    """(title, Markdown, licence) of a web page's main text, extracted by trafilatura: navigation,
    footers and comments dropped, headings kept as `#`/`##`. Markdown is "" when nothing is found."""
    trafilatura = _trafilatura()
    text = trafilatura.extract(
        page, url=url or None, output_format="markdown", include_formatting=True, include_comments=False,
        include_tables=True, include_images=False, include_links=False, with_metadata=False,
    ) or ""
    try:
        meta = trafilatura.extract_metadata(page if isinstance(page, str) else page.decode("utf-8", "replace"),
                                            default_url=url or None)
    except Exception:  # metadata is a nicety; a page that defeats it still has its text
        meta = None
    title = (getattr(meta, "title", None) or "").strip()
    licence = (getattr(meta, "license", None) or "").strip()
    text = text.strip()
    if text and title and not text.startswith("#"):
        text = f"# {title}\n\n{text}"
    return title, text + "\n" if text else "", licence


def _decode(response: _Response) -> str | bytes:
    charset = response.headers.get_content_charset()
    if charset:
        try:
            return response.body.decode(charset, "replace")
        except LookupError:
            pass
    return response.body  # trafilatura guesses the encoding from the bytes


# ---------------------------------------------------------------------------------------------
# Storage

def _prepare_dir(fetched_dir: Path) -> None:
    fetched_dir.mkdir(parents=True, exist_ok=True)
    ignore = fetched_dir / ".gitignore"
    if not ignore.exists():
        # Whatever the folder is called or wherever it sits, git never picks up what is in it.
        ignore.write_text("# Fetched text; may not be redistributed. Never commit.\n*\n", encoding="utf-8")


def _store(fetched_dir: Path, source_id: str, text: str, provenance: dict) -> None:
    """Replace `<id>.md` and `<id>.json` by the new text and its provenance, each by rename."""
    _prepare_dir(fetched_dir)
    data = text.encode("utf-8")
    provenance = {**provenance, "id": source_id, "sha256": hashlib.sha256(data).hexdigest(), "chars": len(text)}
    meta = (json.dumps(provenance, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    tmp_text = stage_file(fetched_dir / f"{source_id}.md", data)
    try:
        tmp_meta = stage_file(fetched_dir / f"{source_id}.json", meta)
    except BaseException:
        tmp_text.unlink(missing_ok=True)
        raise
    os.replace(tmp_text, fetched_dir / f"{source_id}.md")
    os.replace(tmp_meta, fetched_dir / f"{source_id}.json")


def _update_provenance(fetched_dir: Path, source_id: str, provenance: dict, changes: dict) -> None:
    changed = {k: v for k, v in changes.items() if v and provenance.get(k) != v}
    if changed:
        meta = (json.dumps({**provenance, **changed}, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        write_atomic(fetched_dir / f"{source_id}.json", meta)


def read_status(fetched_dir: Path) -> dict[str, dict]:
    """Each source's last recorded outcome, `{id: {"status", "reason", "title", "url", "checked_at", …}}`,
    from `<fetched_dir>/status.json`; {} when there is none yet.

    Raises IpchatError when the file exists but is not a valid status file.
    """
    path = Path(fetched_dir) / STATUS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IpchatError(f"{path} is unreadable ({exc}); delete it and run ipchat fetch again.") from None
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        raise IpchatError(f"{path} is not a status file; delete it and run ipchat fetch again.")
    return sources


def _write_status(fetched_dir: Path, records: dict[str, dict]) -> None:
    _prepare_dir(fetched_dir)
    blob = {"updated_at": _now(), "user_agent": USER_AGENT, "sources": records}
    path = fetched_dir / STATUS_FILE
    write_atomic(path, (json.dumps(blob, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Sources

@dataclass
class _Outcome:
    status: str
    reason: str
    title: str = ""
    text: str | None = None           # new text to store, when there is some
    provenance: dict = dataclasses.field(default_factory=dict)
    unchanged: bool = False           # the stored copy is current
    metadata: dict = dataclasses.field(default_factory=dict)


def _relative(path: Path | None, fetched_dir: Path) -> str | None:
    if path is None:
        return None
    return path.name if path.parent == fetched_dir else str(path)


def _conditional(previous: dict | None, force: bool, method: str | None = None) -> dict[str, str]:
    if not previous or force or (method and previous.get("method") != method):
        return {}
    headers = {}
    if previous.get("etag"):
        headers["If-None-Match"] = previous["etag"]
    if previous.get("last_modified"):
        headers["If-Modified-Since"] = previous["last_modified"]
    return headers


def _validators(response: _Response) -> dict:
    found = {"etag": response.headers.get("ETag"), "last_modified": response.headers.get("Last-Modified")}
    return {k: v for k, v in found.items() if v}


class _Fetcher:
    def __init__(self, client: HttpClient, europepmc_base: str, min_chars: int, force: bool):
        self.client = client
        self.europepmc_base = europepmc_base.rstrip("/")
        self.min_chars = min_chars
        self.force = force

    def web_page(self, entry: SourceEntry, previous: dict | None) -> _Outcome:
        """The page's main text, or `unchanged` when the server says the stored copy is current.

        Raises _Failed (robots.txt, HTTP error, timeout, no text) and _Unreachable.
        """
        url = urllib.parse.urldefrag(entry.url).url  # the fragment only matters to a browser
        if not self.client.allowed(url):
            raise _Failed("robots.txt disallows")
        response = self.client.get(url, _conditional(previous, self.force, "web"),
                                   accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
        if response.status == 304 and previous:
            return _Outcome("fetched", "unchanged (not modified)", previous.get("title", ""), unchanged=True,
                            provenance=_validators(response))
        if response.status != 200:
            raise _Failed(response.describe())
        ctype = response.headers.get_content_type()
        if ctype not in ("text/html", "application/xhtml+xml"):
            raise _Failed(f"not an HTML page ({ctype})")
        title, text, licence = html_to_markdown(_decode(response), response.url)
        if len(text.strip()) < self.min_chars:
            raise _Failed(f"no main text extracted ({len(text.strip())} characters)")
        provenance = {
            "url": entry.url, "fetched_url": url, "final_url": response.url, "method": "web",
            "extractor": f"trafilatura {_trafilatura().__version__}", "title": title,
            "licence": licence or entry.licence, "licence_source": "page" if licence else "manifest",
            "raw_sha256": hashlib.sha256(response.body).hexdigest(), **_validators(response),
        }
        return _Outcome("fetched", f"{len(text):,} characters", title, text=text, provenance=provenance)

    def pmc(self, entry: SourceEntry, previous: dict | None) -> _Outcome:
        """Europe PMC metadata plus the open-access full text, else the abstract, else metadata only.

        Raises _Failed (no record, HTTP error, timeout) and _Unreachable.
        """
        pmcid = str(entry.extra.get("pmcid", "")).upper()
        if not re.fullmatch(r"PMC\d+", pmcid):
            raise _Failed(f"pmcid {pmcid!r} is not of the form PMC123")
        query = urllib.parse.urlencode({"query": f"PMCID:{pmcid}", "format": "json", "resultType": "core"})
        response = self.client.get(f"{self.europepmc_base}/search?{query}", accept="application/json")
        if response.status != 200:
            raise _Failed(f"Europe PMC search: {response.describe()}")
        try:
            results = json.loads(response.body)["resultList"]["result"]
        except (ValueError, KeyError, TypeError):
            raise _Failed("Europe PMC search returned an unexpected answer") from None
        record = next((r for r in results if str(r.get("pmcid", "")).upper() == pmcid), None)
        if record is None:
            raise _Failed(f"Europe PMC has no record of {pmcid}")
        meta = _pmc_metadata(record)
        title = meta["title"]
        base = {
            "url": entry.url, "title": title, "authors": meta["authors"], "doi": meta["doi"], "pmid": meta["pmid"],
            "pmcid": pmcid, "journal": meta["journal"], "year": meta["year"], "open_access": meta["open_access"],
            "licence": meta["licence"] or entry.licence, "licence_source": "Europe PMC" if meta["licence"] else "manifest",
        }
        note = "not open access"
        if meta["open_access"]:
            full_url = f"{self.europepmc_base}/{pmcid}/fullTextXML"
            full = self.client.get(full_url, _conditional(previous, self.force, "europepmc-fulltext"),
                                   accept="application/xml")
            if full.status == 304 and previous:
                return _Outcome("fetched", "unchanged (not modified)", title, unchanged=True, metadata=base,
                                provenance=_validators(full))
            if full.status == 200:
                _, text = jats_to_markdown(full.body, title)
                if len(text.strip()) >= self.min_chars:
                    provenance = {**base, "fetched_url": full_url, "method": "europepmc-fulltext",
                                  "raw_sha256": hashlib.sha256(full.body).hexdigest(), **_validators(full)}
                    return _Outcome("fetched", f"open-access full text, {len(text):,} characters", title,
                                    text=text, provenance=provenance, metadata=base)
                note = "full text empty"
            elif full.status == 404:
                note = "open access but no full text at Europe PMC"
            else:
                raise _Failed(f"Europe PMC full text: {full.describe()}")
        if meta["abstract"]:
            text = (f"# {title}\n\n" if title else "") + "## Abstract\n\n" + _abstract_markdown(meta["abstract"]) + "\n"
            provenance = {**base, "fetched_url": response.url, "method": "europepmc-abstract"}
            return _Outcome("fetched", f"abstract only ({note})", title, text=text, provenance=provenance, metadata=base)
        return _Outcome("metadata-only", f"{note}; no abstract", title, metadata=base)


def _pmc_metadata(record: dict) -> dict:
    title = _plain(record.get("title", ""))
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]  # Europe PMC ends every title with a full stop
    authors = [_plain(a.get("fullName", "")) for a in (record.get("authorList") or {}).get("author", [])
               if isinstance(a, dict) and a.get("fullName")]
    if not authors and record.get("authorString"):
        authors = [a.strip() for a in record["authorString"].rstrip(".").split(",") if a.strip()]
    journal = ((record.get("journalInfo") or {}).get("journal") or {}).get("title", "")
    return {
        "title": title, "authors": authors, "doi": record.get("doi", ""), "pmid": record.get("pmid", ""),
        "journal": journal, "year": record.get("pubYear", ""), "licence": record.get("license", ""),
        "open_access": record.get("isOpenAccess") == "Y", "abstract": record.get("abstractText", ""),
    }


def fetch_sources(corpus_dir: Path, only: Iterable[str] | None = None, fetched_dir: Path | None = None,
                  europepmc_base: str = EUROPEPMC_BASE, timeout: float = TIMEOUT, force: bool = False,
                  progress: Callable[[FetchResult], None] | None = None, *, retries: int | None = None,
                  backoff: float | None = None, min_interval: float | None = None, offline_after: int = OFFLINE_AFTER,
                  min_chars: int = MIN_TEXT_CHARS, client: HttpClient | None = None) -> list[FetchResult]:
    """Fetch every source of `corpus_dir`'s manifest (or those named in `only`) into `fetched_dir`;
    returns one FetchResult per source, in manifest order, and records them in status.json.

    `fetched_dir` defaults to data/fetched/ ($IPCHAT_FETCHED_DIR) for the project's corpus. A source
    already fetched is re-checked with a conditional GET and rewritten only when its text changed;
    `force` fetches unconditionally and rewrites. `progress` is called with each result; while no
    server has answered yet, results are held back so that an offline run reports nothing but the error.

    Raises ManifestError for a bad manifest, IpchatError for an unknown id in `only` or a corpus
    without a fetched folder, and OfflineError when the first requests all fail to connect (then
    nothing has been written).
    """
    corpus_dir = Path(corpus_dir)
    target = resolve_fetched_dir(corpus_dir, fetched_dir)
    if target is None:
        raise IpchatError(f"{corpus_dir} is not the project's corpus; say where fetched text goes (--fetched-dir).")
    entries = load_manifest(corpus_dir)
    if only:
        wanted = list(dict.fromkeys(only))
        known = {e.id for e in entries}
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise IpchatError(f"Unknown source id(s) {', '.join(unknown)}; see {corpus_dir / 'sources.toml'}.")
        entries = [e for e in entries if e.id in wanted]
    if any(not e.file and e.kind != "book" and e.url and not e.extra.get("pmcid") for e in entries):
        _trafilatura()  # a missing extractor should stop the run before anything is fetched
    # Retry and spacing defaults are read now, not when this function was defined.
    client = client or HttpClient(timeout=timeout, retries=RETRIES if retries is None else retries,
                                  backoff=BACKOFF if backoff is None else backoff,
                                  min_interval=MIN_INTERVAL if min_interval is None else min_interval)
    fetcher = _Fetcher(client, europepmc_base, min_chars, force)
    try:
        records = read_status(target)
    except IpchatError as exc:
        log.warning("%s; starting a new one", exc)
        records = {}

    results: list[FetchResult] = []
    held: list[FetchResult] = []
    network_failures = network_attempts = 0

    def report(result: FetchResult) -> None:
        results.append(result)
        if progress is None:
            return
        held.append(result)
        if client.reached:
            while held:
                progress(held.pop(0))

    for entry in entries:
        record = {"url": entry.url, "checked_at": _now(), "title": entry.title}
        if entry.file:
            path = corpus_dir / entry.file
            result = FetchResult(entry.id, "bundled", "bundled in the corpus", path, entry.display_title)
        elif entry.kind == "book":
            result = FetchResult(entry.id, "metadata-only", CITATION_ONLY, None, entry.display_title)
        elif not entry.url and not entry.extra.get("pmcid"):
            result = FetchResult(entry.id, "metadata-only", NOTHING_TO_FETCH, None, entry.display_title)
        else:
            network_attempts += 1
            previous = read_provenance(target, entry.id)
            if previous is not None and previous.get("url") != entry.url:
                previous = None  # the manifest now points elsewhere: this copy is of another page
            try:
                outcome = fetcher.pmc(entry, previous) if entry.extra.get("pmcid") else fetcher.web_page(entry, previous)
            except _Failed as exc:
                network_failures += 1
                reason = str(exc)
                path = None
                if previous is not None:
                    path = target / f"{entry.id}.md"
                    reason += f"; kept the copy retrieved {previous.get('retrieved_at', '')}".rstrip()
                title = entry.title or (previous or {}).get("title", "") or entry.display_title
                result = FetchResult(entry.id, "failed", reason, path, title)
                if not client.reached and client.unreachable >= offline_after:
                    raise OfflineError(OFFLINE_MESSAGE) from None
            else:
                path = None
                if outcome.unchanged:
                    path = target / f"{entry.id}.md"
                    _update_provenance(target, entry.id, previous, outcome.provenance)
                elif outcome.text is not None:
                    same = previous is not None and previous.get("sha256") == hashlib.sha256(outcome.text.encode("utf-8")).hexdigest()
                    path = target / f"{entry.id}.md"
                    if same and not force:
                        outcome.reason = "unchanged (same text)"
                        _update_provenance(target, entry.id, previous, {k: outcome.provenance.get(k) for k in ("etag", "last_modified")})
                    else:
                        reason = ("updated, " if previous is not None else "") + outcome.reason
                        _store(target, entry.id, outcome.text, {**outcome.provenance, "retrieved_at": _now(),
                                                                "redistributable": entry.redistributable,
                                                                "manifest_licence": entry.licence,
                                                                "client": USER_AGENT})
                        outcome.reason = reason
                elif previous is not None:
                    path = target / f"{entry.id}.md"  # metadata only now; the earlier text stays usable
                title = entry.title or outcome.title or entry.display_title
                record["metadata"] = outcome.metadata or None
                result = FetchResult(entry.id, outcome.status, outcome.reason, path, title)
        record.update({"status": result.status, "reason": result.reason, "title": result.title,
                       "path": _relative(result.path, target)})
        records[entry.id] = {k: v for k, v in record.items() if v is not None}
        report(result)

    if network_attempts and network_failures == network_attempts and not client.reached and client.unreachable:
        raise OfflineError(OFFLINE_MESSAGE)
    if progress is not None:
        for result in held:
            progress(result)
    _write_status(target, records)
    return results
