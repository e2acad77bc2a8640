"""End to end in a real browser: `ipchat app` on 127.0.0.1, driven by Playwright in Debian's chromium.

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
    """`ipchat app` with its own workspace (uploads land there, not in the checkout), file watching off."""
    port = free_port()
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPCHAT_")}
    env.update(IPCHAT_HOME=str(home), IPCHAT_FEEDBACK=str(home / "feedback.jsonl"))
    ipchat = shutil.which("ipchat", path=str(Path(sys.executable).parent)) or "ipchat"
    proc = subprocess.Popen([ipchat, "app", "--headless", "--port", str(port)],
                            cwd=tmp_path_factory.mktemp("cwd"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
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

    download = page.get_by_test_id("stDownloadButton").filter(has_text="Download conversation").locator("button")
    download.wait_for(timeout=60_000)
    assert download.is_disabled()

    send(page, "How many ECT treatments are usually given?")
    page.get_by_text("six to twelve treatments").first.wait_for(timeout=120_000)
    # The sidebar is drawn after the answer: the download holds it at once, not one question later.
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid=stDownloadButton] button')]
        .some(b => b.innerText.includes('Download conversation') && !b.disabled)""", timeout=60_000)
    expander = page.get_by_test_id("stExpander").filter(has_text="[1]").first
    expander.wait_for(timeout=30_000)
    expander.locator("summary").click()
    page.get_by_test_id("stExpander").filter(has_text="[1]").first.locator("strong").first.wait_for(timeout=10_000)
    page.wait_for_timeout(600)  # let the expander finish opening before the picture
    page.screenshot(path=str(ARTIFACTS / "02-answer.png"), full_page=True)

    send(page, "What is deep brain stimulation?")
    page.get_by_text("never mention deep brain stimulation").first.wait_for(timeout=120_000)
    declined = page.get_by_test_id("stChatMessage").last
    assert "The indexed sources don't cover this." in declined.inner_text()  # not an ECT answer
    assert download.is_enabled()
    # The input stays docked at the bottom of the window, below the newest answer once scrolled to the end.
    page.evaluate("""() => document.querySelectorAll('*').forEach(e => {
        if (e.scrollHeight > e.clientHeight + 1) e.scrollTop = e.scrollHeight; })""")
    page.wait_for_timeout(500)
    box = page.get_by_test_id("stChatInputTextArea").bounding_box()
    newest = declined.bounding_box()
    assert box["y"] + box["height"] > 1000 - 120, box  # docked: near the bottom of the 1000 px window
    assert box["y"] >= newest["y"] + newest["height"] - 1, (box, newest)
    declined.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    declined.screenshot(path=str(ARTIFACTS / "02-declined.png"))

    send(page, "i dont see the point of living anymore")
    page.get_by_text("988").first.wait_for(timeout=120_000)
    page.get_by_text("741741").first.wait_for(timeout=10_000)
    button = page.get_by_role("button", name="I'm asking about a patient / for teaching")
    button.wait_for(timeout=10_000)
    last = page.get_by_test_id("stChatMessage").last
    last.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "03-crisis.png"))
    last.screenshot(path=str(ARTIFACTS / "03-crisis-message.png"))
    page.close()


def test_pdf_uploaded_in_the_sidebar_is_cited_with_its_page(server, browser, tmp_path):
    from test_ingest import PAGE_1, PAGE_2, make_pdf

    pdf = tmp_path / "riverside-clinic.pdf"
    pdf.write_bytes(make_pdf([PAGE_1, PAGE_2]))
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(server)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=120_000)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.locator("input[type=file]").set_input_files(str(pdf))
    sidebar.get_by_role("button", name="Add to the index").click(timeout=60_000)
    sidebar.get_by_text("Added riverside-clinic.pdf").wait_for(timeout=300_000)  # embeds the corpus into the workspace
    sidebar.get_by_role("button", name="Remove Riverside", exact=False).or_(
        sidebar.get_by_text("riverside-clinic.pdf")).first.wait_for(timeout=30_000)
    send(page, "Is parking free at the Riverside clinic for ECT patients?")
    source = page.get_by_test_id("stExpander").filter(has_text="Page 2").first
    source.wait_for(timeout=120_000)
    assert "Parking at the Riverside clinic is free" in page.get_by_test_id("stChatMessage").last.inner_text()
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "05-upload-cited.png"), full_page=True)
    page.close()


def test_evaluate_page_runs_an_uploaded_set(server, browser, tmp_path):
    rows = [
        {"id": "a", "question": "how many ECT sessions?", "gold": ["six to twelve treatments"], "facts": ["six to twelve"], "scope": "in"},
        {"id": "b", "question": "write a python function that reverses a linked list", "gold": [], "facts": [], "scope": "out"},
    ]
    upload = tmp_path / "mini.jsonl"
    upload.write_text("".join(json.dumps(r) + "\n" for r in rows))
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(server)
    page.get_by_test_id("stSidebarNav").get_by_text("Evaluate").click(timeout=120_000)
    page.get_by_test_id("stMainBlockContainer").locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Run evaluation").click(timeout=30_000)
    page.get_by_text("citation_validity").first.wait_for(timeout=120_000)
    page.get_by_role("button", name="Download the report (zip: Markdown, JSON, charts)").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "04-evaluate.png"), full_page=True)
    page.close()


def test_stopping_the_app_stops_its_server(tmp_path):
    """`ipchat app` is the server: terminating it (as a service manager would) leaves nothing listening."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPCHAT_")}
    env.update(IPCHAT_HOME=str(tmp_path / "home"))
    ipchat = shutil.which("ipchat", path=str(Path(sys.executable).parent)) or "ipchat"
    proc = subprocess.Popen([ipchat, "app", "--headless", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/_stcore/health"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert proc.poll() is None, "ipchat app exited before serving"
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start within 120 s")
        proc.terminate()
        proc.wait(timeout=30)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2)
            except OSError:
                return  # nothing answers on the port any more
            time.sleep(0.5)
        pytest.fail("the server still answers after ipchat app was terminated")
    finally:
        if proc.poll() is None:
            proc.kill()
