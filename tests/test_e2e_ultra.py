"""Issue 28, in a real browser: switch the model to ULTRA 3g on movies, open Predictions with the default InGram side
by side and "Why this answer?", and check what is shown (ULTRA's first answer, the comparison line, the best path
as triples, the KG figure with the path). Skips like tests/test_e2e_browser.py without Chromium or Playwright.
``KGVIZ_SCREENSHOTS=<folder>`` also saves the page there (``ultra_predictions.png``)."""

import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
from test_e2e_browser import choose, launch, server, settle  # noqa: F401  (server: the module's streamlit fixture)

from kgviz.catalog import discover_presets
from kgviz.defaults import DEFAULT_MODEL
from kgviz.models.pretrained import pretrained_dir

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not (pretrained_dir() / "ultra-3g" / "weights.pt").is_file(), reason="no pretrained/ultra-3g"),
]


def test_browser_ultra_side_by_side_and_why_this_answer(server):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    presets = {p.key: p for p in discover_presets()}
    if "sample:movies" not in presets:
        pytest.skip("the movies sample is not installed")
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(f"{server}/?{urlencode({'preset': presets['sample:movies'].label, 'view': 'Predictions'})}")
            page.locator("h1", has_text="Predictions").first.wait_for(timeout=120_000)
            settle(page)
            choose(page, "Model", "ULTRA 3g")  # the switch, in the sidebar's model picker
            settle(page)
            expect(page.get_by_text("model: ULTRA 3g", exact=False).first).to_be_visible(timeout=90_000)
            expect(page.get_by_text("ULTRA has no random draws", exact=False).first).to_be_visible()
            expect(page.get_by_role("spinbutton", name="first seed")).to_have_count(0)  # no draws: no seed widget
            choose(page, "head", "Ryan Gosling")
            settle(page)
            choose(page, "relation", "profession")
            settle(page)
            compare = page.get_by_role("combobox", name="Compare with:", exact=True)
            expect(compare).to_have_value(f"{DEFAULT_MODEL} (trained)", timeout=60_000)  # the default InGram
            side = page.locator('[data-testid="stMarkdownContainer"]', has_text="Side by side").first
            expect(side).to_be_visible(timeout=60_000)
            assert "the first answer (actor /" in side.inner_text()
            expect(page.get_by_text("Why this answer? (ULTRA 3g)")).to_be_visible(timeout=60_000)
            candidate = page.get_by_role("combobox", name="candidate", exact=True)
            expect(candidate).to_have_value("1. actor")  # ULTRA's first answer, picked
            caption = page.locator('[data-testid="stCaptionContainer"]', has_text="paths from Ryan Gosling to actor")
            expect(caption.first).to_be_visible(timeout=60_000)
            figure = page.locator('[data-testid="stPlotlyChart"]').last
            figure.scroll_into_view_if_needed()
            expect(figure.locator("text", has_text="Emma Stone").first).to_be_attached(timeout=60_000)
            expect(page.get_by_text("The KG with the paths' triples drawn thick", exact=False)).to_be_visible()
            shots = os.environ.get("KGVIZ_SCREENSHOTS")
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(shots) / "ultra_predictions.png"), full_page=True)
        finally:
            browser.close()
