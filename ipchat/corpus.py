"""The corpus: the manifest (sources.toml) and the loaders that turn files into Documents."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import CorpusError, ManifestError
from .settings import ADDED_MANIFEST, default_added_dir, default_fetched_dir, project_corpus
from .types import Document, Section

log = logging.getLogger(__name__)

MANIFEST = "sources.toml"
TEXT_SUFFIXES = (".md", ".markdown", ".txt")
STATUSES = ("bundled", "fetched", "metadata-only", "failed")
REQUIRED_KEYS = ("id", "kind", "licence", "redistributable", "status")
OPTIONAL_KEYS = (
    "title", "url", "publisher", "authors", "year", "fetch", "file", "pmcid", "citation",
    "reference_positions", "role", "metadata_status", "notes",
)

#: What `ipchat add` reads, by file suffix.
ADDED_KINDS = {
    ".pdf": "pdf", ".html": "html", ".htm": "html", ".xhtml": "html", ".md": "markdown", ".markdown": "markdown",
    ".txt": "text", ".text": "text", ".docx": "docx",
}
ADDED_LICENCE = "added by the user; not redistributed"
ADDED_FORMAT = 1
_ADDED_KEYS = ("id", "title", "url", "kind", "original_name", "sha256", "size", "added_at", "added_from",
               "original", "text", "pages")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True)
class SourceEntry:
    """One validated entry of sources.toml."""

    id: str
    kind: str
    licence: str
    redistributable: bool | str
    status: str
    title: str = ""
    url: str = ""
    file: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def display_title(self) -> str:
        return self.title or self.url or self.id


def load_manifest(corpus_dir: Path) -> list[SourceEntry]:
    """Read and validate `corpus_dir/sources.toml`.

    Raises ManifestError naming the entry for unknown or missing keys, duplicate ids, bad values,
    and a `file` that is missing or outside the corpus directory.
    """
    path = Path(corpus_dir) / MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"No {MANIFEST} in {corpus_dir}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path} is not valid TOML: {exc}") from None
    unknown_top = set(data) - {"source"}
    if unknown_top:
        raise ManifestError(f"{path}: unknown top-level keys {sorted(unknown_top)}; expected only [[source]] tables.")
    entries: list[SourceEntry] = []
    seen: set[str] = set()
    root = Path(corpus_dir).resolve()
    for position, raw in enumerate(data.get("source", []), start=1):
        name = raw.get("id") or f"#{position}"
        where = f"{path}: source {name!r}"
        unknown = set(raw) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
        if unknown:
            raise ManifestError(f"{where} has unknown keys {sorted(unknown)}.")
        missing = [k for k in REQUIRED_KEYS if k not in raw]
        if missing:
            raise ManifestError(f"{where} is missing {', '.join(missing)}.")
        if not isinstance(raw["id"], str) or not _ID.fullmatch(raw["id"]):
            raise ManifestError(f"{where}: id must be letters, digits, '.', '_' or '-'.")
        if raw["id"] in seen:
            raise ManifestError(f"{where}: duplicate id.")
        seen.add(raw["id"])
        if raw["status"] not in STATUSES:
            raise ManifestError(f"{where}: status {raw['status']!r} is not one of {', '.join(STATUSES)}.")
        if raw["redistributable"] not in (True, False, "unknown"):
            raise ManifestError(f"{where}: redistributable must be true, false or \"unknown\".")
        file = raw.get("file", "")
        if file:
            target = (root / file).resolve()
            if not target.is_relative_to(root):
                raise ManifestError(f"{where}: file {file!r} is outside {corpus_dir}.")
            if not target.is_file():
                raise ManifestError(f"{where}: file {file!r} does not exist.")
        elif raw["status"] == "bundled":
            raise ManifestError(f"{where}: status is 'bundled' but no file is given.")
        extra = {k: v for k, v in raw.items() if k not in {"id", "kind", "licence", "redistributable", "status", "title", "url", "file"}}
        entries.append(SourceEntry(
            id=raw["id"], kind=raw["kind"], licence=raw["licence"], redistributable=raw["redistributable"],
            status=raw["status"], title=raw.get("title", ""), url=raw.get("url", ""), file=file, extra=extra,
        ))
    return entries


def read_text_file(path: Path) -> str:
    """The file's text as UTF-8. Raises CorpusError naming the file when it can't be read or is binary."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CorpusError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if b"\x00" in data:
        raise CorpusError(f"{path} looks like a binary file, not text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CorpusError(f"{path} is not UTF-8 text.") from None


def markdown_sections(text: str, default_heading: str) -> tuple[Section, ...]:
    """Sections of a Markdown text: each heading's body runs to the next heading.

    Text before the first heading belongs to `default_heading`. Heading lines are not in any section.
    """
    sections: list[Section] = []
    heading, start = default_heading, 0
    for match in _HEADING.finditer(text):
        if text[start:match.start()].strip():
            sections.append(Section(heading, start, match.start()))
        heading, start = match.group(2).strip(), match.end()
    if text[start:].strip():
        sections.append(Section(heading, start, len(text)))
    return tuple(sections)


def first_heading(text: str) -> str:
    """The text of the first Markdown heading, or "" when there is none."""
    match = _HEADING.search(text)
    return match.group(2).strip() if match else ""


def document_from_file(path: Path, doc_id: str, title: str = "", url: str = "", kind: str = "text",
                       licence: str = "") -> Document:
    """A Document from a .md or .txt file; Markdown headings become sections."""
    text = read_text_file(path)
    if not text.strip():
        raise CorpusError(f"{path} is empty.")
    if path.suffix.lower() in (".md", ".markdown"):
        title = title or first_heading(text) or path.stem
        sections = markdown_sections(text, title)
    else:
        title = title or path.stem
        sections = (Section(title, 0, len(text)),)
    return Document(doc_id=doc_id, title=title, url=url, kind=kind, licence=licence, text=text, sections=sections)


def _own_folder(corpus_dir: Path, given: Path | None, default: Callable[[], Path]) -> Path | None:
    """`given` when there is one; the project's default folder only for the project's own corpus/;
    otherwise None (another corpus never borrows the project's downloads or added documents)."""
    if given is not None:
        return Path(given)
    if Path(corpus_dir).resolve() == project_corpus().resolve():
        return default()
    return None


def resolve_fetched_dir(corpus_dir: Path, fetched_dir: Path | None = None) -> Path | None:
    """The fetched folder that belongs with `corpus_dir` (data/fetched/, $IPCHAT_FETCHED_DIR, for corpus/)."""
    return _own_folder(corpus_dir, fetched_dir, default_fetched_dir)


def read_provenance(fetched_dir: Path, source_id: str) -> dict | None:
    """The provenance record of fetched source `source_id`, or None when `<id>.md` or `<id>.json` is
    missing, unreadable, or the record's id or sha256 does not match the text (a torn or edited copy)."""
    text_path = Path(fetched_dir) / f"{source_id}.md"
    meta_path = Path(fetched_dir) / f"{source_id}.json"
    try:
        data = text_path.read_bytes()
        record = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict) or record.get("id") != source_id:
        return None
    if record.get("sha256") != hashlib.sha256(data).hexdigest():
        log.warning("ignoring fetched %s: its text does not match %s; run ipchat fetch again", text_path, meta_path.name)
        return None
    return record


@dataclass(frozen=True)
class AddedEntry:
    """One document of the added folder's manifest.json. `original` and `text` are paths relative to
    the folder: the copy of the file as added, and the text extracted from it (what is indexed).
    `pages` holds each page's character span in that text (PDFs only); `added_from` is where the file
    was added from, kept only to recognise a later version of the same file."""

    id: str
    title: str
    url: str
    kind: str
    original_name: str
    sha256: str
    size: int
    added_at: str
    added_from: str
    original: str
    text: str
    pages: tuple[tuple[int, int], ...] = ()

    def as_dict(self) -> dict:
        """The entry as manifest.json stores it."""
        row = dataclasses.asdict(self)
        row["pages"] = [list(p) for p in self.pages]
        return row


def resolve_added_dir(corpus_dir: Path, added_dir: Path | None = None) -> Path | None:
    """The added-documents folder that belongs with `corpus_dir` (data/added/, $IPCHAT_ADDED_DIR, for corpus/)."""
    return _own_folder(corpus_dir, added_dir, default_added_dir)


def _inside(root: Path, relative: object, where: str, what: str) -> Path:
    """`root / relative`, refused unless it is a relative path that stays inside `root` (symlinks
    followed) and names an existing file."""
    if not isinstance(relative, str) or not relative or Path(relative).is_absolute():
        raise ManifestError(f"{where}: {what} must be a path relative to {root}, got {relative!r}.")
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ManifestError(f"{where}: {what} {relative!r} is outside {root}; added documents must live in that folder.")
    if not target.is_file():
        raise ManifestError(f"{where}: {what} {relative!r} does not exist.")
    return target


def read_added_manifest(added_dir: Path) -> list[AddedEntry]:
    """The entries of `added_dir/manifest.json`, in the order they were added; [] when there is none.

    Raises ManifestError naming the entry for malformed JSON, missing or unknown keys, a bad or
    duplicate id, an unknown kind, or a file that is missing or outside `added_dir`.
    """
    root = Path(added_dir)
    path = root / ADDED_MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} cannot be read ({exc}); fix it or remove the folder and add the files again.") from None
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise ManifestError(f"{path}: expected {{\"format\": {ADDED_FORMAT}, \"documents\": [...]}}.")
    if data.get("format") != ADDED_FORMAT:
        raise ManifestError(f"{path}: format {data.get('format')!r} is not {ADDED_FORMAT}.")
    entries: list[AddedEntry] = []
    seen: set[str] = set()
    for position, raw in enumerate(data["documents"], start=1):
        name = raw.get("id") if isinstance(raw, dict) else None
        where = f"{path}: document {name or f'#{position}'!r}"
        if not isinstance(raw, dict):
            raise ManifestError(f"{where} is not an object.")
        missing = [k for k in _ADDED_KEYS if k not in raw]
        unknown = sorted(set(raw) - set(_ADDED_KEYS))
        if missing or unknown:
            raise ManifestError(f"{where}: " + "; ".join(
                part for part in (missing and f"missing {', '.join(missing)}", unknown and f"unknown keys {unknown}") if part) + ".")
        if not isinstance(name, str) or not _ID.fullmatch(name):
            raise ManifestError(f"{where}: id must be letters, digits, '.', '_' or '-'.")
        if name in seen:
            raise ManifestError(f"{where}: duplicate id.")
        seen.add(name)
        if raw["kind"] not in set(ADDED_KINDS.values()):
            raise ManifestError(f"{where}: kind {raw['kind']!r} is not one of {', '.join(sorted(set(ADDED_KINDS.values())))}.")
        _inside(root, raw["original"], where, "original")
        _inside(root, raw["text"], where, "text")
        pages = raw["pages"]
        if not isinstance(pages, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, int) for x in p) and 0 <= p[0] <= p[1] for p in pages):
            raise ManifestError(f"{where}: pages must be a list of [start, end] character offsets.")
        if any(b[0] < a[1] for a, b in zip(pages, pages[1:])):
            raise ManifestError(f"{where}: pages overlap or are out of order.")
        entries.append(AddedEntry(**{**{k: raw[k] for k in _ADDED_KEYS}, "pages": tuple(tuple(p) for p in pages)}))
    return entries


def page_sections(pages: tuple[tuple[int, int], ...], text: str) -> tuple[Section, ...]:
    """One section per page that has text, headed "Page N", so no chunk runs across a page break."""
    return tuple(Section(f"Page {n}", start, end) for n, (start, end) in enumerate(pages, start=1)
                 if text[start:end].strip())


def added_document(added_dir: Path, entry: AddedEntry) -> Document:
    """The Document of an added entry, read from its extracted text.

    Raises CorpusError naming the file when the text can't be read or its page spans don't fit it.
    """
    path = Path(added_dir) / entry.text
    if entry.pages:
        text = read_text_file(path)
        if entry.pages[-1][1] > len(text):
            raise CorpusError(f"{path}: the page offsets of {entry.id!r} run past the end of its text; add the file again.")
        return Document(doc_id=entry.id, title=entry.title, url=entry.url, kind=entry.kind, licence=ADDED_LICENCE,
                        text=text, sections=page_sections(entry.pages, text), pages=entry.pages)
    return document_from_file(path, entry.id, entry.title, entry.url, entry.kind, ADDED_LICENCE)


def added_documents(added_dir: Path) -> list[Document]:
    """Every document of the added folder, in the order they were added; [] when there are none.

    Raises ManifestError for a bad manifest.json, CorpusError for an unreadable text.
    """
    return [added_document(added_dir, entry) for entry in read_added_manifest(added_dir)]


def _load_manifest_corpus(corpus_dir: Path, fetched_dir: Path | None = None) -> list[Document]:
    documents = []
    for entry in load_manifest(corpus_dir):
        if entry.file:
            if entry.status in ("bundled", "fetched"):
                documents.append(document_from_file(
                    Path(corpus_dir) / entry.file, entry.id, entry.title, entry.url, entry.kind, entry.licence,
                ))
            continue
        provenance = read_provenance(fetched_dir, entry.id) if fetched_dir is not None else None
        if provenance is None:
            continue
        # A manifest that could not name the licence defers to the one the source declared when fetched.
        licence = entry.licence
        if licence.lower().startswith("unknown") and provenance.get("licence"):
            licence = str(provenance["licence"])
        documents.append(document_from_file(
            Path(fetched_dir) / f"{entry.id}.md", entry.id, entry.title or str(provenance.get("title") or ""),
            entry.url or str(provenance.get("url") or ""), entry.kind, licence,
        ))
    return documents


def _load_directory(corpus_dir: Path) -> list[Document]:
    documents = []
    for path in sorted(Path(corpus_dir).rglob("*")):
        if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES and not path.name.startswith("."):
            rel = path.relative_to(corpus_dir).with_suffix("").as_posix()
            documents.append(document_from_file(path, rel.replace("/", "--")))
    return documents


def load_beir(path: Path) -> list[Document]:
    """Documents from a BEIR-style corpus.jsonl (`_id`, `title`, `text`): the title heads the text.

    Raises CorpusError naming the line for malformed JSON or a missing `_id`/`text`.
    """
    documents = []
    seen = set()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                doc_id, body = str(row["_id"]), str(row["text"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise CorpusError(f"{path}:{number}: expected a JSON object with _id and text.") from None
            if doc_id in seen:
                raise CorpusError(f"{path}:{number}: duplicate _id {doc_id!r}.")
            seen.add(doc_id)
            title = str(row.get("title") or "").strip()
            text = f"{title}\n\n{body}" if title else body
            url = str((row.get("metadata") or {}).get("url", ""))
            documents.append(Document(doc_id, title or doc_id, url, "beir", "", text, (Section(title or doc_id, 0, len(text)),)))
    return documents


def load_corpus(path: Path, fetched_dir: Path | None = None, added_dir: Path | None = None) -> list[Document]:
    """All documents of a corpus: a directory with sources.toml, a directory of .md/.txt files,
    or a BEIR corpus.jsonl (or a directory holding one); then the documents added with `ipchat add`.

    For a manifest corpus, entries without a bundled file are read from the fetched folder when it
    holds `<id>.md` with a matching `<id>.json` (see `ipchat fetch`). That folder is `fetched_dir`, or
    by default data/fetched/ ($IPCHAT_FETCHED_DIR) for the project's own corpus/ only. The added
    documents come from `added_dir`, or by default data/added/ ($IPCHAT_ADDED_DIR) for corpus/ only.

    Raises CorpusError when the path is missing, yields no documents or two documents share an id,
    ManifestError for a bad manifest.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"Corpus {path} does not exist.")
    if path.is_file():
        if path.suffix == ".jsonl":
            documents = load_beir(path)
        elif path.suffix.lower() in TEXT_SUFFIXES:
            documents = [document_from_file(path, path.stem)]
        else:
            raise CorpusError(f"{path}: expected a directory, a .jsonl, .md or .txt file.")
    elif (path / MANIFEST).exists():
        documents = _load_manifest_corpus(path, resolve_fetched_dir(path, fetched_dir))
    elif (path / "corpus.jsonl").exists():
        documents = load_beir(path / "corpus.jsonl")
    else:
        documents = _load_directory(path)
    added = resolve_added_dir(path, added_dir)
    if added is not None:
        documents += added_documents(added)
        clash = sorted(i for i, n in Counter(d.doc_id for d in documents).items() if n > 1)
        if clash:
            raise CorpusError(f"Corpus {path} and the added documents in {added} share ids {clash}; remove the added copy.")
    if not documents:
        raise CorpusError(f"Corpus {path} has no documents (.md, .txt, or corpus.jsonl).")
    return documents


def corpus_digest(documents: list[Document]) -> str:
    """A sha256 over every document's id, title, url, text and page spans, independent of load order."""
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.doc_id):
        parts = [doc.doc_id, doc.title, doc.url, doc.text]
        if doc.pages:  # only documents with pages add this part, so digests of other corpora stay as they were
            parts.append(json.dumps(doc.pages))
        for part in parts:
            digest.update(part.encode("utf-8"))
            digest.update(b"\x1f")
    return digest.hexdigest()
