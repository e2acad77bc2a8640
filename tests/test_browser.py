"""End to end in a real browser: `streamlit run app.py` on 127.0.0.1, driven by Playwright in Debian's chromium.

Screenshots go to artifacts/ (git-ignored) for a person to look at.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = os.environ.get("IPCHAT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = dict(os.environ, IPCHAT_FEEDBACK=str(tmp_path_factory.mktemp("fb") / "feedback.jsonl"))
    streamlit = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    proc = subprocess.Popen(
        [streamlit, "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode(errors="replace"))
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("streamlit did not start within 120 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def send(page, text):
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")


def test_question_answer_and_crisis(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(server)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "01-start.png"), full_page=True)

    send(page, "How many ECT treatments are usually given?")
    page.get_by_text("six to twelve treatments").first.wait_for(timeout=60_000)
    expander = page.get_by_test_id("stExpander").filter(has_text="[1]").first
    expander.wait_for(timeout=30_000)
    expander.locator("summary").click()
    page.get_by_test_id("stExpander").filter(has_text="[1]").first.locator("strong").first.wait_for(timeout=10_000)
    page.wait_for_timeout(600)  # let the expander finish opening before the picture
    page.screenshot(path=str(ARTIFACTS / "02-answer.png"), full_page=True)

    send(page, "What is deep brain stimulation?")
    page.get_by_text("never mention deep brain stimulation").first.wait_for(timeout=60_000)
    declined = page.get_by_test_id("stChatMessage").last
    assert "The indexed sources don't cover this." in declined.inner_text()  # not an ECT answer
    declined.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    declined.screenshot(path=str(ARTIFACTS / "02-declined.png"))

    send(page, "i dont see the point of living anymore")
    page.get_by_text("988").first.wait_for(timeout=60_000)
    page.get_by_text("741741").first.wait_for(timeout=10_000)
    button = page.get_by_role("button", name="I'm asking about a patient / for teaching")
    button.wait_for(timeout=10_000)
    last = page.get_by_test_id("stChatMessage").last
    last.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "03-crisis.png"))
    last.screenshot(path=str(ARTIFACTS / "03-crisis-message.png"))
    page.close()


def test_evaluate_tab_runs_an_uploaded_set(server, browser, tmp_path):
    rows = [
        {"id": "a", "question": "how many ECT sessions?", "gold": ["six to twelve treatments"], "facts": ["six to twelve"], "scope": "in"},
        {"id": "b", "question": "write a python function that reverses a linked list", "gold": [], "facts": [], "scope": "out"},
    ]
    upload = tmp_path / "mini.jsonl"
    upload.write_text("".join(json.dumps(r) + "\n" for r in rows))
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(server)
    page.get_by_role("tab", name="Evaluate").click(timeout=120_000)
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Run evaluation").click(timeout=30_000)
    page.get_by_text("citation_validity").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Download the report (zip: Markdown, JSON, charts)").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "04-evaluate.png"), full_page=True)
    page.close()
