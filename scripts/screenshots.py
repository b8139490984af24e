"""Screenshots of every view of the explorer on the NL-100 inference graph, for docs/.

Starts ``streamlit run app.py`` on 127.0.0.1 (a free port) with ``$KGVIZ_DATA`` set, drives
Debian's Chromium with Playwright (as ``tests/test_e2e_browser.py`` does) and writes

- ``<out>/<view>.png`` for every view on the NL-100 inference graph (1,709 entities, 106
  relations), with a relation, an entity and a relation pair selected;
- ``<out>/presenter/step<k>.png`` for the eight classroom steps in presenter mode at 1280×720 on
  the movies sample (the lecture's KG), the layout a teacher projects, as small palette PNGs.

    KGVIZ_DATA=../shared/ingram-data .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from urllib.parse import urlencode

from kgviz.catalog import discover_presets
from kgviz.graph.data import read_kg
from kgviz.graph.relgraph import relation_graph, relation_label, strongest_pairs
from kgviz.serve import CHROMIUM, CHROMIUM_ARGS, free_port, serving, streamlit_command

ROOT = Path(__file__).resolve().parents[1]

VIEWS = ("Data", "KG", "Relation graph", "Attention", "Predictions", "What-if", "Classroom")
BENCHMARK = "NL-100"
LECTURE_KEY = "sample:movies"  # the lecture KG with its sample header (query, expected answer actor)
RELATION = "concept:athleteplaysinleague"
ENTITY = "concept_athlete_jorge_garbajosa"


def settle(page, rounds: int = 3) -> None:
    """Wait until the app has finished its reruns (no "Running…" status for a moment)."""
    status = page.locator('[data-testid="stStatusWidget"]')
    for _ in range(rounds):
        page.wait_for_timeout(800)
        status.wait_for(state="hidden", timeout=180_000)


def strongest_pair_label(kg) -> str:
    """The pair picker's label of the strongest pair of two different relations (not r and r⁻¹)
    of the exact relation graph."""
    R = kg.num_relations
    i, j = next(
        (i, j) for i, j in strongest_pairs(relation_graph(kg.triples, kg.num_entities, R), 50) if i % R != j % R
    )
    return f"{relation_label(int(i), kg.relations)} — {relation_label(int(j), kg.relations)}"


def shoot_views(page, base: str, out: Path, preset_label: str, pair: str) -> None:
    query = urlencode(
        {
            "preset": preset_label,
            "rel": RELATION,
            "ent": ENTITY,
            "pair": pair,
            "q_anchor": ENTITY,
            "q_rel": RELATION,
            "wi_head": ENTITY,
            "wi_rel": RELATION,
            "wi_tail": "concept_sportsleague_nba",
        }
    )
    for view in VIEWS:
        page.goto(f"{base}/?{query}&{urlencode({'view': view})}")
        page.locator("h1", has_text=view).first.wait_for(timeout=180_000)
        settle(page)
        page.wait_for_timeout(5000)  # iframes (vis-network, canvas) settle
        path = out / f"{view.lower().replace(' ', '_').replace('-', '')}.png"
        page.screenshot(path=str(path))
        print(f"{path} {path.stat().st_size // 1024} KB")


def small_png(path: Path, colours: int = 64) -> None:
    """Rewrite the PNG at ``path`` with a palette of ``colours`` (median cut), optimised: a screenshot of
    text and flat figures keeps its look at a fraction of the size."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def shoot_presenter(page, base: str, out: Path, preset_label: str) -> None:
    """The eight steps in presenter mode (sidebar hidden by the mode itself), ``<out>/step<k>.png``."""
    out.mkdir(parents=True, exist_ok=True)
    page.goto(f"{base}/?{urlencode({'preset': preset_label, 'view': 'Classroom'})}&step=1")
    page.locator("h1", has_text="Classroom").first.wait_for(timeout=180_000)
    settle(page)
    page.get_by_text("Presenter mode", exact=True).click()
    settle(page)
    for step in range(1, 9):
        if step > 1:
            page.get_by_role("button", name="Next ▶").click()
            settle(page)
        page.wait_for_timeout(1500)
        path = out / f"step{step}.png"
        page.screenshot(path=str(path))
        small_png(path)
        print(f"{path} {path.stat().st_size // 1024} KB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--only", choices=("views", "presenter"), help="take one of the two sets only")
    args = ap.parse_args()
    if not os.environ.get("KGVIZ_DATA"):
        raise SystemExit("set KGVIZ_DATA to the benchmark folder (with NL-100/msg.txt)")
    if not CHROMIUM.is_file():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    presets = {p.key: p for p in discover_presets()}
    bench = presets.get(f"bench:{BENCHMARK}")
    if bench is None:
        raise SystemExit(f"no {BENCHMARK}/msg.txt under $KGVIZ_DATA")
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with serving(streamlit_command(port), port, timeout_s=120) as base:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=list(CHROMIUM_ARGS),
            )
            try:
                if args.only != "presenter":
                    page = browser.new_page(viewport={"width": 1400, "height": 2000})
                    shoot_views(page, base, args.out, bench.label, strongest_pair_label(read_kg(bench.path)))
                    page.close()
                if args.only != "views":
                    page = browser.new_page(viewport={"width": 1280, "height": 720})
                    shoot_presenter(page, base, args.out / "presenter", presets[LECTURE_KEY].label)
            finally:
                browser.close()


if __name__ == "__main__":
    main()
