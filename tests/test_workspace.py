"""The workspace: one folder for everything ipchat writes, chosen from IPCHAT_HOME, the current folder
or the user data folder; the bundled corpus and index read from the project or the package."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import ROOT
from ipchat.settings import default_added_dir, default_fetched_dir, default_index, load_settings
from ipchat.workspace import bundled_root, is_project, workspace


@pytest.fixture
def project_copy(tmp_path):
    """A copy of the project's corpus/ and index/, as a second clone would have."""
    copy = tmp_path / "copy"
    for name in ("corpus", "index"):
        shutil.copytree(ROOT / name, copy / name)
    return copy


def test_ipchat_home_wins_and_a_plain_folder_uses_the_bundled_corpus(tmp_path):
    space = workspace({"IPCHAT_HOME": str(tmp_path / "home")}, cwd=ROOT)
    assert space.home == (tmp_path / "home").resolve() and not space.project
    assert space.corpus == bundled_root() / "corpus" and space.committed_index == bundled_root() / "index"
    assert space.added_dir == space.home / "data" / "added"
    assert space.local_index == space.home / "data" / "index"
    assert space.feedback_file == space.home / "feedback" / "feedback.jsonl"


def test_a_project_folder_is_its_own_workspace(project_copy):
    space = workspace({}, cwd=project_copy)
    assert space.project and space.home == project_copy.resolve()
    assert space.corpus == project_copy.resolve() / "corpus"
    assert space.committed_index == project_copy.resolve() / "index"


def test_anywhere_else_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    space = workspace({}, cwd=tmp_path)
    assert not space.project and space.home.is_relative_to(tmp_path)
    assert space.home.name == "ipchat"
    assert not is_project(tmp_path)


def test_a_copy_of_the_project_never_writes_into_the_original(project_copy):
    # `ipchat add` in a copy must not write into (or change the index of) the original checkout.
    environ = {"IPCHAT_HOME": str(project_copy)}
    settings = load_settings(environ=environ)
    assert settings.corpus == project_copy.resolve() / "corpus"
    assert settings.index == project_copy.resolve() / "index"
    assert default_added_dir(environ) == project_copy.resolve() / "data" / "added"
    assert default_fetched_dir(environ) == project_copy.resolve() / "data" / "fetched"
    added = project_copy / "data" / "added"
    added.mkdir(parents=True)
    (added / "manifest.json").write_text(json.dumps({"documents": [{"id": "x"}]}))
    assert default_index(environ) == project_copy.resolve() / "data" / "index"
    assert default_index({"IPCHAT_HOME": str(ROOT)}) == ROOT / "index"  # the original is untouched


def test_the_copied_index_checks_against_its_own_corpus(project_copy):
    from ipchat.chat import index_status

    settings = load_settings(environ={"IPCHAT_HOME": str(project_copy)})
    assert index_status(settings) is None
    article = next((project_copy / "corpus" / "documents").glob("*.md"))
    article.write_text(article.read_text() + "\nA new closing line.\n")
    assert "changed since the index" in index_status(settings)


def test_info_names_the_workspace_and_the_index(tmp_path, capsys, monkeypatch):
    from ipchat.cli import main

    monkeypatch.setenv("IPCHAT_HOME", "restored after the test")  # --home sets it for the process
    monkeypatch.delenv("IPCHAT_ADDED_DIR")

    assert main(["--home", str(tmp_path / "ws"), "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["workspace"] == str((tmp_path / "ws").resolve()) and info["project"] is False
    assert info["index_kind"] == "bundled" and info["index_status"] == "ready"
    assert info["passages"] > 0 and len(info["index_digest"]) == 12
    assert info["added_dir"] == str((tmp_path / "ws" / "data" / "added").resolve())
    assert not (tmp_path / "ws").exists()  # reading creates nothing
