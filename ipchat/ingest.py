"""`ipchat add` and `ipchat remove`: the user's own documents, searched and cited like the corpus.

Each added file is copied into the added folder (data/added/, git-ignored; $IPCHAT_ADDED_DIR) with
the text extracted from it — PDF with pypdf (one section per page, so citations carry the page),
HTML with trafilatura (main text only), DOCX, Markdown and plain text — and recorded in the folder's
manifest.json with its sha256. The corpus loader reads them from there, so a full rebuild gives the
same index. Updating the index embeds only the chunks of new or changed documents; removing one
embeds nothing: the other documents' vectors are taken from the current index and the FAISS and
BM25 structures are rebuilt from them. The new index is built in a temporary directory and swapped
in; if that fails, the manifest and the folder are put back as they were. A Milvus store (`--store`)
is changed in place by document id instead: see ipchat/milvus.py.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .corpus import (
    ADDED_FORMAT, ADDED_KINDS, AddedEntry, MANIFEST, first_heading, load_corpus, load_manifest, markdown_sections,
    read_added_manifest, resolve_added_dir,
)
from .embedding import Embedder, encoder_of, load_embedder
from .errors import IndexMismatchError, IndexMissingError, IpchatError, ModelError
from .files import write_atomic
from .index import CHUNKS, META, built_encoder, check_encoder, update_index
from .settings import ADDED_MANIFEST, Settings, committed_index, local_index, project_corpus
from .stores import read_store_meta, store_address, update_store

Progress = Callable[[int, int], None]

SUPPORTED = "PDF, HTML, DOCX, Markdown (.md) and text (.txt)"
MAX_DOCX_XML = 64 * 1024 * 1024  # bytes of word/document.xml; more is a zip bomb, not a document
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_LIGATURES = re.compile("[\ufb00-\ufb06]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class IngestError(IpchatError):
    """A file `ipchat add` cannot use. `path` is the file, `reason` what is wrong with it."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class UnknownDocumentError(IpchatError):
    """`ipchat remove` was given an id that is not a document added with `ipchat add`."""


# ---------------------------------------------------------------------------------------------
# Extraction


@dataclass(frozen=True)
class Extracted:
    """What a file yields: its kind, title, URL (HTML canonical link, else ""), the text to index
    (Markdown for kinds with headings), each page's span in that text (PDF), and the file's bytes."""

    kind: str
    title: str
    url: str
    text: str
    pages: tuple[tuple[int, int], ...]
    data: bytes

    @property
    def sha256(self) -> str:
        """Hex sha256 of the file's bytes: the same content is the same document, whatever its name."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def text_name(self) -> str:
        """File name of the stored text: Markdown keeps its headings as sections, other text is one section
        (or one per page)."""
        return "text.txt" if self.kind in ("pdf", "text") else "text.md"


def extract(path: Path) -> Extracted:
    """Read `path` and extract its text by kind (from the suffix).

    Raises IngestError naming the file when it is missing, not a file, of an unsupported type, empty,
    binary or not UTF-8 under a text name, an encrypted or unreadable PDF, a PDF without a text layer
    (scanned pages), or a page or document with no main text.
    """
    path = Path(path)
    if not path.exists():
        raise IngestError(path, "no such file")
    if not path.is_file():
        raise IngestError(path, "not a file")
    kind = ADDED_KINDS.get(path.suffix.lower())
    if kind is None:
        raise IngestError(path, f"unsupported file type {path.suffix or '(no suffix)'!r}; ipchat add reads {SUPPORTED}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise IngestError(path, "the file is empty")
    if kind == "pdf":
        text, pages, title = _pdf_text(path, data)
        return Extracted(kind, title or path.stem, "", text, pages, data)
    if kind == "docx":
        text = _docx_text(path, data)
        return _with_body(path, Extracted(kind, first_heading(text) or path.stem, "", text, (), data))
    if kind == "html":
        _refuse_binary(path, data)
        from .fetch import html_to_markdown

        try:
            title, text, _ = html_to_markdown(data)
        except IpchatError:
            raise
        except Exception as exc:  # trafilatura's parser fails in many ways on broken markup
            raise IngestError(path, f"cannot be read as HTML ({type(exc).__name__}: {exc})") from None
        if not text.strip():
            raise IngestError(path, "no main text found in the page")
        return _with_body(path, Extracted(kind, title or first_heading(text) or path.stem, _canonical_url(data),
                                          _normalise(text), (), data))
    text = _normalise(_decode(path, data))
    if not text.strip():
        raise IngestError(path, "the file has only whitespace")
    title = (first_heading(text) if kind == "markdown" else "") or path.stem
    return _with_body(path, Extracted(kind, title, "", text, (), data))


def _with_body(path: Path, extracted: Extracted) -> Extracted:
    """`extracted`, once it is known to have text outside its headings (headings alone index nothing)."""
    if extracted.text_name == "text.md" and not markdown_sections(extracted.text, extracted.title):
        raise IngestError(path, "only headings, no text to index")
    return extracted


def _refuse_binary(path: Path, data: bytes) -> None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    controls = len(_CONTROL.findall(data[:65536].decode("latin-1")))
    if b"\x00" in data or controls > max(4, len(data[:65536]) // 200):
        raise IngestError(path, "looks like a binary file, not text")


def _decode(path: Path, data: bytes) -> str:
    _refuse_binary(path, data)
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"), (b"", "utf-8-sig")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    raise IngestError(path, "not UTF-8 text; save it as UTF-8 and add it again")


def _normalise(text: str) -> str:
    """Unix line ends, no byte-order mark, one final newline: what is stored is what is indexed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return text.rstrip() + "\n"


def _canonical_url(data: bytes) -> str:
    match = re.search(rb"<link\b[^>]*\brel=[\"']?canonical\b[^>]*>", data[:200_000], re.I)
    href = re.search(rb"\bhref=[\"']?(https?://[^\"'\s>]+)", match.group(0), re.I) if match else None
    return href.group(1).decode("utf-8", "replace") if href else ""


def _clean_page(text: str) -> str:
    # Ligatures ("ﬁ") split words for keyword search; control characters are extraction debris.
    text = _LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _pdf_title(reader) -> str:
    try:
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except Exception:  # metadata is optional and often malformed; the file name will do
        return ""
    if not title or re.fullmatch(r"(?i)untitled.*|microsoft word - .*|.*\.(docx?|pdf|tex|indd)", title):
        return ""
    return title


def _pdf_text(path: Path, data: bytes) -> tuple[str, tuple[tuple[int, int], ...], str]:
    """(text, page spans, title) of a PDF; pages are joined by a blank line. Raises IngestError."""
    if b"%PDF-" not in data[:1024]:
        raise IngestError(path, "not a PDF (no %PDF- header)")
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    # pypdf logs every repair it makes to a sloppy file; only a failure matters here.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # owner-password-only PDFs open with an empty user password
            except DependencyError:
                raise IngestError(path, "encrypted with AES, which needs the 'cryptography' package to open; "
                                        "save an unprotected copy and add that") from None
            except Exception:
                opened = 0
            if not opened:
                raise IngestError(path, "encrypted (password-protected); save an unprotected copy and add that")
        pages = [_clean_page(page.extract_text() or "") for page in reader.pages]
    except IngestError:
        raise
    except Exception as exc:  # pypdf raises many kinds for damaged files; all mean "can't read it"
        raise IngestError(path, f"cannot be read as a PDF ({type(exc).__name__}: {exc})") from None
    if not any(pages):
        raise IngestError(path, f"no extractable text on any of its {len(pages)} page(s) — a scanned or "
                                "image-only PDF? Run OCR on it and add the result")
    text, spans = "", []
    for page in pages:
        if page:
            if text:
                text += "\n\n"
            spans.append((len(text), len(text) + len(page)))
            text += page
        else:
            spans.append((len(text), len(text)))
    return text + "\n", tuple(spans), _pdf_title(reader)


def _docx_text(path: Path, data: bytes) -> str:
    """The paragraphs of a .docx as Markdown: Title and Heading N styles become headings, numbered or
    bulleted paragraphs list items. Raises IngestError."""
    import xml.etree.ElementTree as ET
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo("word/document.xml")
        if info.file_size > MAX_DOCX_XML:
            raise IngestError(path, f"its text part is {info.file_size} bytes, more than ipchat reads")
        root = ET.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError):
        raise IngestError(path, "not a Word .docx document (a password-protected one is not readable either)") from None
    except ET.ParseError as exc:
        raise IngestError(path, f"its document.xml is malformed ({exc})") from None
    except (RuntimeError, NotImplementedError, OSError, EOFError) as exc:  # encrypted or exotic zip entries
        raise IngestError(path, f"cannot be read as a .docx ({type(exc).__name__}: {exc})") from None
    blocks = []
    for paragraph in root.iter(f"{_W}p"):
        parts = []
        for node in paragraph.iter():
            if node.tag == f"{_W}t":
                parts.append(node.text or "")
            elif node.tag == f"{_W}tab":
                parts.append("\t")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
        line = _CONTROL.sub("", "".join(parts)).strip()
        if not line:
            continue
        style = paragraph.find(f"{_W}pPr/{_W}pStyle")
        style = (style.get(f"{_W}val") or "") if style is not None else ""
        heading = re.fullmatch(r"(?i)heading\s*([1-6])", style)
        if style.lower() == "title":
            line = "# " + line.replace("\n", " ")
        elif heading:
            line = "#" * int(heading.group(1)) + " " + line.replace("\n", " ")
        elif paragraph.find(f"{_W}pPr/{_W}numPr") is not None:
            line = "- " + line
        blocks.append(line)
    if not blocks:
        raise IngestError(path, "the document has no text")
    return "\n\n".join(blocks) + "\n"


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class AddResult:
    """The outcome for one file: status "added", "updated" (a new version of a file added before),
    "unchanged" (its content is already added) or "failed" (with the reason); for added and updated
    files the chunk count and the seconds spent embedding them."""

    path: Path
    status: str
    doc_id: str = ""
    chunks: int = 0
    seconds: float = 0.0
    reason: str = ""

    def line(self) -> str:
        """The line `ipchat add` prints for this file."""
        if self.status == "failed":
            return f"error: {self.path}: {self.reason}"
        if self.status == "unchanged":
            return f"unchanged {self.doc_id}"
        return f"{self.status} {self.doc_id} ({self.chunks} chunks, embedded in {self.seconds:.1f} s)"


@dataclass(frozen=True)
class RemoveResult:
    """A removed document: its id and title, how many chunks left the index, the index updated and
    the seconds the update took."""

    doc_id: str
    title: str
    chunks: int
    index: Path | str
    seconds: float

    def line(self) -> str:
        """The line `ipchat remove` prints."""
        return f"removed {self.doc_id} ({self.chunks} chunks; index {self.index} updated in {self.seconds:.1f} s)"


# ---------------------------------------------------------------------------------------------
# The added folder


def added_folder(settings: Settings, added_dir: Path | None = None) -> Path:
    """The folder of added documents for `settings.corpus`: `added_dir`, else data/added/
    ($IPCHAT_ADDED_DIR) for the project corpus. Raises IpchatError for another corpus without `added_dir`."""
    folder = resolve_added_dir(settings.corpus, added_dir)
    if folder is None:
        raise IpchatError(f"Documents are added to the project corpus; for the corpus {settings.corpus} "
                          "name a folder to keep them in with --added-dir.")
    return folder


def target_index(settings: Settings) -> Path | str:
    """The index that holds added documents: `settings.index`, except that the bundled index (index/,
    bundled text only) is never written — the workspace's data/index/ is used instead; or the Milvus
    store `settings.store` names (its address)."""
    address = store_address(settings)
    if address.is_milvus:
        return str(address)
    index = Path(settings.index)
    return local_index() if index.resolve() == committed_index().resolve() else index


def reuse_sources(settings: Settings, target: Path) -> list[Path]:
    """Indexes whose vectors may be reused when updating `target`, best first: the target, the one
    the settings name, and for the project corpus the committed index (it holds the bundled article).
    Empty for a Milvus store, which keeps the vectors of unchanged documents where they are."""
    if store_address(settings).is_milvus:
        return []
    sources = [target, Path(settings.index)]
    if Path(settings.corpus).resolve() == project_corpus().resolve():
        sources.append(committed_index())
    unique: list[Path] = []
    for source in sources:
        if all(source.resolve() != u.resolve() for u in unique):
            unique.append(source)
    return unique


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the folder's lock: two adds or removes at once would each drop the other's change."""
    folder.mkdir(parents=True, exist_ok=True)
    gitignore = folder / ".gitignore"
    if not gitignore.exists():  # keeps the copies out of any repository the folder ends up in
        gitignore.write_text("*\n", encoding="utf-8")
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform; a single user rarely races themselves
        yield
        return
    with open(folder / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise IpchatError(f"Another ipchat add or remove is working on {folder}; try again when it has finished.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_manifest(folder: Path, entries: Sequence[AddedEntry]) -> None:
    """Replace manifest.json in one rename, so a reader sees the old list or the new one."""
    body = json.dumps({"format": ADDED_FORMAT, "documents": [e.as_dict() for e in entries]}, indent=2, ensure_ascii=False)
    # A page span on one line; JSON strings hold no raw newline, so only the structure matches.
    body = re.sub(r"\[\n\s*(\d+),\n\s*(\d+)\n\s*\]", r"[\1, \2]", body)
    write_atomic(folder / ADDED_MANIFEST, (body + "\n").encode("utf-8"))


def _restore_manifest(folder: Path, previous: bytes | None) -> None:
    if previous is None:
        with contextlib.suppress(FileNotFoundError):
            (folder / ADDED_MANIFEST).unlink()
    else:
        write_atomic(folder / ADDED_MANIFEST, previous)


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-")
    return slug or "document"


def _new_id(name: str, taken: set[str]) -> str:
    base = _slug(name)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _safe_name(name: str, avoid: str) -> str:
    """The original file name, reduced to characters safe in any file system."""
    safe = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip(" .") or "original"
    if len(safe) > 120:
        stem, suffix = os.path.splitext(safe)
        safe = stem[:120 - len(suffix)] + suffix
    return f"original-{safe}" if safe == avoid else safe


def _store(folder: Path, doc_id: str, path: Path, extracted: Extracted, source: str) -> AddedEntry:
    """Write the copy and its text under `folder/doc_id/<hash>/`; returns the manifest entry."""
    version = Path(doc_id) / extracted.sha256[:16]
    original = version / _safe_name(path.name, extracted.text_name)
    text = version / extracted.text_name
    staging = Path(tempfile.mkdtemp(prefix=".adding-", dir=folder))
    try:
        (staging / original.name).write_bytes(extracted.data)
        (staging / text.name).write_text(extracted.text, encoding="utf-8", newline="")
        staging.chmod(0o755)
        (folder / doc_id).mkdir(exist_ok=True)
        shutil.rmtree(folder / version, ignore_errors=True)  # a leftover of an interrupted add
        os.rename(staging, folder / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return AddedEntry(
        id=doc_id, title=extracted.title, url=extracted.url, kind=extracted.kind, original_name=path.name,
        sha256=extracted.sha256, size=len(extracted.data), added_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        added_from=source, original=original.as_posix(), text=text.as_posix(), pages=extracted.pages,
    )


def _discard(folder: Path, entry: AddedEntry) -> None:
    """Delete the stored version of `entry`, and its document folder once empty."""
    version = folder / Path(entry.text).parent
    shutil.rmtree(version, ignore_errors=True)
    with contextlib.suppress(OSError):
        (folder / entry.id).rmdir()


def _corpus_ids(settings: Settings, folder: Path) -> set[str]:
    """Every id the corpus uses or may use (manifest entries not fetched yet included), added ones too."""
    ids = {d.doc_id for d in load_corpus(settings.corpus, added_dir=folder)}
    if (Path(settings.corpus) / MANIFEST).is_file():
        ids |= {e.id for e in load_manifest(settings.corpus)}
    return ids


# ---------------------------------------------------------------------------------------------
# Add and remove


def add_documents(paths: Iterable[Path | str], settings: Settings, embedder: Embedder, progress: Progress | None = None,
                  *, added_dir: Path | None = None, sources: Sequence[str] | None = None) -> list[AddResult]:
    """Add the files to the corpus and update the index; returns one AddResult per path, in order.

    Each file is copied into the added folder (`added_dir`, default data/added/ for the project corpus)
    with its extracted text. A file whose content is already there is "unchanged"; a changed file added
    again from the same place replaces its earlier version under the same id. "The same place" is the
    file's resolved path, or its entry in `sources` when given (the app's uploads, which arrive through
    a temporary folder, pass "upload:<name>"). A file that can't be used
    is "failed" with the reason and the others are still added. Only the chunks of added or updated
    documents are embedded; the index is `target_index(settings)`, swapped in whole.

    Raises ManifestError / CorpusError when the corpus or the added folder is broken, IpchatError when
    another add or remove holds the folder or the corpus takes no added documents. When updating the
    index fails with an IpchatError every new file is "failed" with that reason; any other exception
    propagates. Either way the folder, its manifest and the index are left as they were.
    """
    paths = [Path(p) for p in paths]
    if sources is not None and len(sources) != len(paths):
        raise IpchatError(f"{len(sources)} sources given for {len(paths)} files.")
    folder = added_folder(settings, added_dir)
    target = target_index(settings)
    check_target_encoder(settings, target)
    results: dict[int, AddResult] = {}
    with _locked(folder):
        entries = read_added_manifest(folder)
        taken = _corpus_ids(settings, folder)
        by_hash = {e.sha256: e for e in entries}
        new: dict[int, AddedEntry] = {}  # position in `paths` -> the entry stored for it
        replaced: list[AddedEntry] = []
        previous, written = None, False
        try:
            for position, path in enumerate(paths):
                try:
                    extracted = extract(path)
                except IngestError as exc:
                    results[position] = AddResult(path, "failed", reason=exc.reason)
                    continue
                same = by_hash.get(extracted.sha256)
                if same is not None:
                    results[position] = AddResult(path, "unchanged", same.id)
                    continue
                source = sources[position] if sources is not None else str(path.resolve())
                earlier = next((e for e in entries if e.added_from == source), None)
                doc_id = earlier.id if earlier is not None else _new_id(path.stem, taken)
                taken.add(doc_id)
                entry = _store(folder, doc_id, path, extracted, source)
                if earlier is not None:
                    entries[entries.index(earlier)] = entry
                    replaced.append(earlier)
                else:
                    entries.append(entry)
                by_hash[entry.sha256] = entry
                new[position] = entry
            if not new:
                return [results[i] for i in range(len(paths))]
            manifest = folder / ADDED_MANIFEST
            previous = manifest.read_bytes() if manifest.exists() else None
            _write_manifest(folder, entries)
            written = True
            documents = load_corpus(settings.corpus, added_dir=folder)
            report = _update(settings, target, embedder, progress, documents, folder)
        except BaseException as exc:
            if written:
                _restore_manifest(folder, previous)
            for entry in new.values():
                _discard(folder, entry)
            if not isinstance(exc, IpchatError) or not new:
                raise
            for position in new:
                results[position] = AddResult(paths[position], "failed", reason=f"not added: {exc}")
            return [results[i] for i in range(len(paths))]
        for entry in replaced:
            _discard(folder, entry)
        updated = {e.id for e in replaced}
        for position, entry in new.items():
            chunks, seconds = report.embedded.get(entry.id, (report.chunk_counts.get(entry.id, 0), 0.0))
            results[position] = AddResult(paths[position], "updated" if entry.id in updated else "added",
                                          entry.id, chunks, seconds)
    return [results[i] for i in range(len(paths))]


def remove_document(doc_id: str, settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None,
                    *, added_dir: Path | None = None) -> RemoveResult:
    """Remove the added document `doc_id`: its entry, its stored copy and text, and its chunks from the
    index (`target_index(settings)`). The other documents' vectors are reused, so nothing is embedded
    unless the index is missing or stale; then `embedder` (default: the index's model, loaded only if
    needed) embeds what is missing.

    Returns a RemoveResult. Raises UnknownDocumentError when `doc_id` is not an added document (naming
    the ones there are), ManifestError / CorpusError for a broken corpus or folder, IpchatError when
    another add or remove holds the folder. On failure the folder, its manifest and the index are left
    as they were.
    """
    started = time.perf_counter()
    folder = added_folder(settings, added_dir)
    target = target_index(settings)
    check_target_encoder(settings, target)
    with _locked(folder):
        entries = read_added_manifest(folder)
        entry = next((e for e in entries if e.id == doc_id), None)
        if entry is None:
            known = ", ".join(e.id for e in entries) or "none"
            if doc_id in _corpus_ids(settings, folder):
                raise UnknownDocumentError(f"{doc_id!r} is part of the corpus, not a document added with ipchat add; "
                                           f"only added documents can be removed (added: {known}).")
            raise UnknownDocumentError(f"No added document {doc_id!r} (added: {known}).")
        before = _chunks_in_store(settings, target, doc_id)
        manifest = folder / ADDED_MANIFEST
        previous = manifest.read_bytes()
        remaining = [e for e in entries if e.id != doc_id]
        _write_manifest(folder, remaining)
        try:
            documents = load_corpus(settings.corpus, added_dir=folder)
            sources = reuse_sources(settings, target)
            _update(settings, target, embedder or index_embedder(settings, sources), progress, documents, folder)
        except BaseException:
            _restore_manifest(folder, previous)
            raise
        shutil.rmtree(folder / doc_id, ignore_errors=True)
    return RemoveResult(doc_id, entry.title, before, target, time.perf_counter() - started)


def _update(settings: Settings, target: Path | str, embedder: Embedder, progress: Progress | None, documents, folder: Path):
    """Bring the target index (a folder, or the Milvus store) to `documents`, embedding only what changed."""
    if store_address(settings).is_milvus:
        return update_store(settings, embedder, progress, documents, added_dir=folder)
    return update_index(settings.replace(index=target), embedder, progress, documents,
                        reuse_from=reuse_sources(settings, target), added_dir=folder)


def _chunks_in_store(settings: Settings, target: Path | str, doc_id: str) -> int:
    address = store_address(settings)
    if address.is_milvus:
        from .milvus import count_chunks

        return count_chunks(address, doc_id)
    return _chunks_in_index(Path(target), doc_id)


def _chunks_in_index(directory: Path, doc_id: str) -> int:
    try:
        with open(Path(directory) / CHUNKS, encoding="utf-8") as handle:
            return sum(json.loads(line).get("doc_id") == doc_id for line in handle if line.strip())
    except (OSError, ValueError):
        return 0


class _DeferredEmbedder:
    """The model an index was built with, loaded only when something has to be embedded or chunked:
    its name, encoder, dimension and sequence length are known from meta.json, which is all that
    deciding what to reuse needs — so an add of unchanged files or a removal never loads the model."""

    def __init__(self, name: str, dimension: int, max_tokens: int | None, batch_size: int,
                 encoder: str = "fp32", encoder_sha256: str | None = None):
        self.name, self.dimension, self.max_tokens = name, dimension, max_tokens
        self.encoder, self.encoder_sha256 = encoder, encoder_sha256
        self._batch_size = batch_size
        self._model: Embedder | None = None

    def _load(self) -> Embedder:
        if self._model is None:
            model = load_embedder(self.name, self._batch_size, self.encoder)
            if (model.dimension, model.max_tokens) != (self.dimension, self.max_tokens):
                raise ModelError(f"Model {self.name!r} gives {model.dimension}-d vectors of up to {model.max_tokens} "
                                 f"tokens, but the index says {self.dimension}-d and {self.max_tokens}; rebuild it: ipchat build")
            sha256 = encoder_of(model)[1]
            if self.encoder_sha256 and sha256 != self.encoder_sha256:
                raise IndexMismatchError(f"The index was built with another {self.encoder} export ({self.encoder_sha256[:12]}, "
                                         f"this one is {sha256[:12]}); rebuild it: ipchat build --encoder {self.encoder}")
            self._model = model
        return self._model

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self._load().embed(texts, progress=progress)

    def count_tokens(self, text: str) -> int:
        return self._load().count_tokens(text)


def _metas(settings: Settings, sources: Sequence[Path]) -> Iterator[dict]:
    """What built the Milvus store the settings name, or each index folder in `sources` that has a meta.json."""
    if store_address(settings).is_milvus:
        try:
            yield read_store_meta(settings)
        except (IndexMissingError, IndexMismatchError):
            pass
        return
    for source in sources:
        try:
            meta = json.loads((Path(source) / META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict):
            yield meta


def index_embedder(settings: Settings, sources: Sequence[Path]) -> Embedder:
    """The embedder to update an index with: `settings.model` when set, else the model of the first
    index in `sources` that has a meta.json (loaded only when needed), else the default model.

    Raises ModelError when the model can't be loaded.
    """
    for meta in _metas(settings, sources):
        try:
            name, dimension, max_tokens = meta["model"], int(meta["dimension"]), meta.get("model_max_tokens")
        except (ValueError, KeyError, TypeError):
            continue
        encoder, sha256 = built_encoder(meta)
        if settings.model in (None, name) and encoder == settings.encoder:
            return _DeferredEmbedder(name, dimension, max_tokens, settings.batch_size, encoder, sha256)
        break
    return load_embedder(settings.model_name, settings.batch_size, settings.encoder, settings.query_runtime)


def check_target_encoder(settings: Settings, target: Path | str) -> None:
    """Raise IndexMismatchError when the index documents are added to (or removed from) was built by
    another encoder than the settings': mixing their vectors would make neither's answers."""
    address = store_address(settings)
    for meta in _metas(settings, [] if address.is_milvus else [Path(target)]):
        check_encoder(meta, settings.encoder, target,
                      rebuild=f"ipchat build --store {address}" if address.is_milvus else None)
