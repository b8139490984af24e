"""Issue 26 in a real browser (Playwright + Debian's Chromium): the user's work survives a reload and a
server restart. Uploads a KG, draws an edge on the canvas with one of that KG's relations, adapts the
default model for 1 s, then reloads the page — and later restarts the server and opens the same link —
and finds the KG, the drawn edge and the adapted model each time (the server accepts every adaptation,
``tests/accepting_server.py``: a 1 s run is rightly refused, and acceptance is tested elsewhere). The server keeps its workspace in a
temporary folder (``$KGVIZ_WORKSPACE``), never in the user's cache.
"""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from streamlit_server import serving

from kgviz.serve import CHROMIUM, free_port, streamlit_command
from test_e2e_browser import choose, go_to, launch, settle

ROOT = Path(__file__).resolve().parents[1]
WAIT = 120_000  # ms: other processes share the two cores
PEOPLE = [
    ("Alice", "knows", "Bob"),
    ("Bob", "knows", "Carol"),
    ("Carol", "knows", "Dan"),
    ("Dan", "knows", "Alice"),
    ("Erin", "knows", "Alice"),
    ("Frank", "knows", "Erin"),
    ("Bob", "knows", "Frank"),
    ("Alice", "lives_in", "Paris"),
    ("Bob", "lives_in", "Paris"),
    ("Carol", "lives_in", "Rome"),
    ("Dan", "lives_in", "Rome"),
    ("Erin", "lives_in", "Oslo"),
    ("Frank", "lives_in", "Oslo"),
]

pytestmark = [pytest.mark.timeout(900), pytest.mark.browser, pytest.mark.slow]


@contextmanager
def serving_workspace(workspace: Path) -> Iterator[str]:
    """``streamlit run app.py`` on a free loopback port with ``workspace`` as its workspace; yields its URL."""
    port = free_port()
    env = {**os.environ, "KGVIZ_WORKSPACE": str(workspace)}
    command = streamlit_command(port)  # [python, -m, streamlit, run, app.py, …]: every adaptation accepted
    command = [command[0], str(ROOT / "tests" / "accepting_server.py"), *command[3:]]
    with serving(command, port, env=env, timeout_s=180) as base:
        yield base


def canvas_labels(page, relation: str) -> int:
    """How many edges on the canvas are labelled ``relation``."""
    frame = page.locator("iframe[src*='streamlit_flow']")
    frame.scroll_into_view_if_needed(timeout=WAIT)
    canvas = page.frame_locator("iframe[src*='streamlit_flow']")
    canvas.locator(".react-flow__node", has_text="Alice").first.wait_for(timeout=WAIT)
    return canvas.locator(".react-flow__edge", has_text=relation).count()


def draw_edge(page, head: str, tail: str) -> None:
    canvas = page.frame_locator("iframe[src*='streamlit_flow']")
    source = canvas.locator(".react-flow__node", has_text=head).locator(".react-flow__handle-bottom")
    target = canvas.locator(".react-flow__node", has_text=tail).locator(".react-flow__handle-top")
    target.wait_for(timeout=WAIT)
    source.hover()
    page.mouse.down()
    box = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=15)
    page.mouse.up()


def find_all_three(page, kg_label: str, n_triples: int, lives_in_edges: int, model_label: str) -> None:
    """The KG (sidebar), the drawn edge (canvas) and the adapted model (selected, named on the page)."""
    from playwright.sync_api import expect

    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(kg_label, exact=False).first).to_be_visible(timeout=WAIT)
    expect(sidebar.get_by_text(f"2 relations, {n_triples} triples", exact=False).first).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(f"model: {model_label}", exact=False).first).to_be_visible(timeout=WAIT)
    go_to(page, "Data")
    assert canvas_labels(page, "lives_in") == lives_in_edges
    expect(page.get_by_text("acted in", exact=True)).to_have_count(0)


def test_browser_upload_edge_and_adapted_model_survive_reload_and_restart(tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package to run the browser test")
    pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")
    from playwright.sync_api import expect, sync_playwright

    workspace = tmp_path / "workspace"
    upload = tmp_path / "people.tsv"
    upload.write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in PEOPLE))
    hosts: dict = {}
    with serving_workspace(workspace) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.on("request", lambda r: hosts.setdefault(urlparse(r.url).hostname, r.url))
            page.goto(f"{base}/?view=Data")
            # the picker as the user left it on the default KG, then an upload
            choose(page, "Relation for new edges", "acted in")
            settle(page)
            uploader = page.locator('[data-testid="stMain"] [data-testid="stFileUploaderDropzoneInput"]').first
            uploader.wait_for(state="attached", timeout=WAIT)
            uploader.set_input_files(str(upload))
            sidebar = page.locator('[data-testid="stSidebar"]')
            expect(sidebar.get_by_text("upload: people.tsv", exact=False).first).to_be_visible(timeout=WAIT)
            settle(page)

            # the canvas offers this KG's relations (and "new relation…"), never the previous KG's
            picker = page.get_by_role("combobox", name="Relation for new edges", exact=True)
            picker.click()
            options = page.get_by_role("option").all_inner_texts()
            page.keyboard.press("Escape")
            assert [o.strip() for o in options] == ["knows", "lives_in", "new relation…"], options
            choose(page, "Relation for new edges", "lives_in")
            settle(page)
            before = canvas_labels(page, "lives_in")
            assert before == sum(r == "lives_in" for _, r, _ in PEOPLE)
            draw_edge(page, "Alice", "Carol")
            n = len(PEOPLE) + 1
            expect(sidebar.get_by_text(f"2 relations, {n} triples", exact=False).first).to_be_visible(timeout=WAIT)
            settle(page)
            assert canvas_labels(page, "lives_in") == before + 1

            # a short adaptation (the smallest budget), then select the adapted model
            go_to(page, "Adapt")
            budget = page.get_by_label("time budget (s)")
            budget.fill("1")
            budget.press("Enter")
            settle(page)
            page.get_by_role("button", name=re.compile("^Adapt .* to this KG$")).click()
            listed = page.get_by_text("adapted to upload: people.tsv (edited): listed with the models", exact=False)
            expect(listed.first).to_be_visible(timeout=WAIT)
            expect(listed.first).to_contain_text("kept in the workspace")
            model_label = re.search(r"(.* adapted to upload: people\.tsv \(edited\)):", listed.first.inner_text())[1]
            settle(page)
            choose(page, "Model", "adapted to upload")
            expect(page.get_by_text(f"model: {model_label}", exact=False).first).to_be_visible(timeout=WAIT)
            settle(page)
            assert "kg=" in page.url and "model=" in page.url, page.url

            # a reload: all three are there
            page.reload()
            find_all_three(page, "upload: people.tsv (edited)", n, before + 1, model_label)
            link = page.url
        finally:
            browser.close()
    assert len(list((workspace / "kgs").glob("*.json"))) == 2  # the upload, the drawn edit
    assert len([m for m in (workspace / "models").iterdir() if (m / "model.ckpt").is_file()]) == 1

    # a server restart (a new port): the same link finds them again
    with serving_workspace(workspace) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.on("request", lambda r: hosts.setdefault(urlparse(r.url).hostname, r.url))
            path = urlparse(link)
            page.goto(f"{base}{path.path}?{path.query}")
            find_all_three(page, "upload: people.tsv (edited)", n, before + 1, model_label)
        finally:
            browser.close()
    outside = {h: u for h, u in hosts.items() if h not in (None, "", "127.0.0.1", "localhost")}
    assert not outside, f"hosts other than loopback contacted: {outside}"
