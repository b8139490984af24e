"""In a real browser (Playwright + Debian's Chromium): the per-KG leaderboard on the Self-check page —
leaderboard table, half-link scenario bars, reliability diagram — on movies and on an uploaded KG, and
Predictions showing the recommended ranking with InGram's beside it (issue 29)."""

from urllib.parse import urlencode

import numpy as np
import pytest

from kg_factory import typed_graph
from kgviz.catalog import discover_presets
from test_e2e_browser import choose, go_to, launch, server, settle  # noqa: F401  (server: the fixture)

pytestmark = [pytest.mark.timeout(900), pytest.mark.browser, pytest.mark.slow]


def _run_leaderboard(page, budget: str = "5") -> None:
    from playwright.sync_api import expect

    box = page.get_by_label("training budget (seconds, all trained models over all folds)", exact=True)
    box.fill(budget)
    box.press("Enter")
    settle(page)
    page.get_by_role("button", name="Run the leaderboard").click(timeout=90_000)
    expect(page.get_by_text("Leaderboard:", exact=False).first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    page.get_by_text("held-out validation facts of this KG", exact=False).first.wait_for(timeout=300_000)
    settle(page)
    expect(page.get_by_text("Trained on this KG:", exact=False).first).to_be_visible()
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible()
    # the grid draws on a canvas; its accessible table holds the headers of the columns in view
    for header in ("method", "chose: MRR", "reports: MRR"):
        expect(table.locator("th", has_text=header).first).to_be_attached(timeout=30_000)
    expect(page.locator("svg text", has_text="MRR per half-link scenario").first).to_be_attached(timeout=30_000)
    expect(page.locator("svg text", has_text="Reliability of recommended").first).to_be_attached()


def _recommended_in_predictions(page, anchor: str, relation: str) -> None:
    from playwright.sync_api import expect

    go_to(page, "Predictions")
    choose(page, "head", anchor)
    choose(page, "relation", relation)
    settle(page)
    expect(page.get_by_text("Recommended ranking for this KG").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Recommended: ", exact=False).first).to_be_visible()
    expect(page.get_by_text("its own ranking, in full below", exact=False).first).to_be_visible()
    assert page.locator('[data-testid="stDataFrame"]').count() >= 3  # recommended, InGram beside, InGram in full


def test_browser_leaderboard_on_movies_and_an_upload(server, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    presets = {p.key: p for p in discover_presets()}
    if "sample:movies" not in presets:
        pytest.skip("the movies sample is not installed")
    label = presets["sample:movies"].label
    rows = typed_graph("", np.random.default_rng(0), people=80)[:300]
    upload = tmp_path / "mine.tsv"
    upload.write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in rows))
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(f"{server}/?{urlencode({'preset': label, 'view': 'Self-check'})}")
            _run_leaderboard(page)
            _recommended_in_predictions(page, "Ryan Gosling", "profession")

            page.goto(f"{server}/?{urlencode({'preset': label, 'view': 'Data'})}")
            uploader = page.locator('[data-testid="stMain"] [data-testid="stFileUploaderDropzoneInput"]').first
            uploader.wait_for(state="attached", timeout=90_000)
            uploader.set_input_files(str(upload))
            page.locator('[data-testid="stSidebar"]').get_by_text("upload: mine.tsv", exact=False).first.wait_for(
                timeout=60_000
            )
            settle(page)
            go_to(page, "Self-check")
            _run_leaderboard(page)
            h, r, _ = rows[0]
            _recommended_in_predictions(page, h, r)
        finally:
            browser.close()
