"""The installed tool: a real wheel carries the bundled corpus and index, installs into a fresh virtual
environment, answers from an empty folder, and writes only into its workspace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.model

SKIP_DIRS = {".venv", ".git", ".pytest_cache", "__pycache__", "artifacts", "build", "dist"}


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True).stdout
        return [Path(p) for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: everything but the usual clutter
        return [p.relative_to(ROOT) for p in ROOT.rglob("*")
                if p.is_file() and not SKIP_DIRS & set(p.relative_to(ROOT).parts) and not p.match("data/*")]


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` (but the virtual environment and caches) with its size and mtime."""
    listing = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in names:
            if name.endswith(".pyc"):
                continue
            path = Path(folder) / name
            stat = path.stat()
            listing[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return listing


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the tracked files (building in the checkout would write build/ there)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    for relative in _tracked_files():
        if (ROOT / relative).is_file():
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, source / relative)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(work / "dist"), str(source)], check=True, capture_output=True)
    [built] = (work / "dist").glob("ipchat-*.whl")
    return built


def test_the_wheel_carries_the_bundled_corpus_and_index_as_they_are_in_the_repository(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for folder in ("corpus", "index"):
            files = [p for p in (ROOT / folder).rglob("*") if p.is_file()]
            assert files
            for path in files:
                inside = "ipchat/bundled/" + path.relative_to(ROOT).as_posix()
                assert inside in names, f"{inside} missing from the wheel"
                assert zf.read(inside) == path.read_bytes(), f"{inside} differs from {path.relative_to(ROOT)}"
        bundled = {n for n in names if n.startswith("ipchat/bundled/")}
        expected = {"ipchat/bundled/" + p.relative_to(ROOT).as_posix()
                    for folder in ("corpus", "index") for p in (ROOT / folder).rglob("*") if p.is_file()}
        assert bundled == expected  # nothing else: no added or fetched text, no local index
        assert "ipchat/webapp.py" in names and "ipchat/data/lexicon.toml" in names


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed (its dependencies seen from this one's)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies (torch, the model package, ...) come from this environment's site-packages; a .pth
    # entry adds the folder without running its .pth files, so the checkout's editable ipchat stays out.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    return venv


def _outside_env() -> dict[str, str]:
    """This environment without ipchat's settings and without a PYTHONPATH, which could put a checkout
    before the installed copy."""
    return {k: v for k, v in os.environ.items() if not k.startswith("IPCHAT_") and k != "PYTHONPATH"}


def _run(venv: Path, cwd: Path, home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = _outside_env()
    env.update({"IPCHAT_HOME": str(home), "HOME": str(cwd / "user-home"), "HF_HUB_OFFLINE": "1"})
    result = subprocess.run([str(venv / "bin" / "ipchat"), *args], cwd=cwd, env=env, input=stdin,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def test_installed_ipchat_answers_from_an_empty_folder_and_writes_only_into_its_workspace(installed, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    home = tmp_path / "home"
    package = Path(subprocess.run([str(installed / "bin" / "python"), "-c", "import ipchat; print(ipchat.__file__)"],
                                  cwd=folder, env=_outside_env(), capture_output=True, text=True,
                                  check=True).stdout.strip()).parent
    assert ROOT not in package.parents  # the wheel's copy, not the checkout
    before_source, before_package = _listing(ROOT), _listing(package)

    info = json.loads(_run(installed, folder, home, "info", "--json").stdout)
    assert info["workspace"] == str(home.resolve()) and info["index_kind"] == "bundled"
    assert Path(info["index"]).is_relative_to(package) and info["index_status"] == "ready"

    reply = json.loads(_run(installed, folder, home, "ask", "How many ECT treatments does a course usually involve?",
                            "--json").stdout)
    assert not reply["abstained"] and reply["citations"]
    assert any("six to twelve" in c["quote"] for c in reply["citations"])

    hits = json.loads(_run(installed, folder, home, "search", "ketamine infusion side effects", "--json").stdout)
    assert hits and all(h["doc_id"] for h in (hits if isinstance(hits, list) else hits["hits"]))

    crisis = json.loads(_run(installed, folder, home, "safety", "I want to kill myself tonight", "--json").stdout)
    assert crisis["level"] == "crisis"

    notes = folder / "clinic-notes.md"
    notes.write_text("# Clinic protocol\n\nOur clinic schedules TMS sessions at 8 am on weekdays.\n", encoding="utf-8")
    _run(installed, folder, home, "add", str(notes))
    assert (home / "data" / "added" / "manifest.json").is_file() and (home / "data" / "index" / "meta.json").is_file()
    reply = json.loads(_run(installed, folder, home, "ask", "When does the clinic schedule TMS sessions?", "--json").stdout)
    assert any(c["doc_id"] == "clinic-notes" for c in reply["citations"])
    _run(installed, folder, home, "remove", "clinic-notes")
    info = json.loads(_run(installed, folder, home, "info", "--json").stdout)
    assert info["added_documents"] == 0

    assert _listing(ROOT) == before_source, "the source tree changed"
    assert _listing(package) == before_package, "the installed package changed"
    written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*") if p.is_file()}
    assert written <= {"empty", "home"}
    assert not (folder / "user-home").exists()  # the user data folder is not used when IPCHAT_HOME is set
