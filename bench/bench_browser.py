"""Browser benchmark of the explorer: time to the first screen and of every view switch, in Chromium.

Starts ``streamlit run app.py`` the way ``make run`` does (:mod:`kgviz.serve`) and, in the same run,
a bare Streamlit page — a sidebar radio of two views and a title, nothing else — as the floor:
what Streamlit, the browser and this machine cost before the explorer does anything.

A screen is *done* when the app's script has finished (``stApp``'s ``data-test-script-state`` is
``notRunning``: Streamlit's "running" indicator is gone) and the main area's title names the
view. Drawing inside iframes (vis-network's layout, the canvas component) is not waited for.

Per repeat (a fresh server each time, so every repeat starts cold):

1. ``first screen, cold server``: the first page load after the server starts — it pays for the
   imports, the model load and the KG's first computations;
2. every view in sidebar order, switched to by a click (``first visit``: its caches are cold for
   this KG), then every view once more (``again``: warm caches);
3. the same on the NL-100 inference graph (``?preset=``, needs ``$KGVIZ_DATA``) in a new tab
   (``first screen, new KG``);
4. ``first screen, new tab``: a new tab on the first KG once the server is warm.

Each figure is the median of the repeats (3 by default); wall-clock seconds from the click (or
``page.goto``) until done. The clicks follow each other at once; ``--pause S`` waits S seconds
after each first screen before the first click, as a user reading it would (the app imports what
the other views need in the background meanwhile). Not a test: nothing is asserted beyond the
screens appearing.

Run: ``KGVIZ_DATA=/path/to/ingram-data .venv/bin/python bench/bench_browser.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from kgviz.catalog import discover_presets
from kgviz.ui.pages import PAGES
from kgviz.serve import APP, CHROMIUM, CHROMIUM_ARGS, free_port, serving, streamlit_command

ROOT = Path(__file__).resolve().parents[1]
VIEWS = list(PAGES)  # the sidebar's views, in order
BARE_APP = 'import streamlit as st\nst.title(st.sidebar.radio("View", ["One", "Two"], key="view"))\n'
BARE_VIEWS = ["One", "Two"]
TIMEOUT_MS = 300_000

# Done: the script is not running and the main area's first title is the view (JSON-quoted argument).
DONE_JS = """(view) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  return !!h1 && h1.innerText.trim() === view;
}"""


def app_command(app: Path, port: int) -> list[str]:
    """``streamlit run app`` on 127.0.0.1:port, as ``make run`` starts the explorer."""
    return [str(app) if a == str(APP) else a for a in streamlit_command(port)]


def wait_done(page, view: str) -> None:
    page.wait_for_function(DONE_JS, arg=view, timeout=TIMEOUT_MS, polling="raf")


def open_screen(context, url: str, view: str):
    """A new tab on ``url``; returns (tab, seconds until the screen of ``view`` is done)."""
    page = context.new_page()
    t = time.perf_counter()
    page.goto(url)
    wait_done(page, view)
    return page, time.perf_counter() - t


def switch(page, view: str) -> float:
    """Click ``view`` in the sidebar's radio; seconds until its screen is done."""
    option = page.locator('[data-testid="stSidebar"] [role="radiogroup"] label').filter(
        has_text=re.compile(rf"^\s*{re.escape(view)}\s*$")
    )
    t = time.perf_counter()
    option.first.click()
    wait_done(page, view)
    return time.perf_counter() - t


def tour(page, views: list[str], rows: dict[str, list[float]], prefix: str) -> None:
    """Switch to every view (skipping the one shown), then to every view again; times into ``rows``."""
    for lap, label in ((0, "first visit"), (1, "again")):
        for k, view in enumerate(views):
            if lap == 0 and k == 0:
                continue  # the first screen shows it
            rows.setdefault(f"{prefix}{view} ({label})", []).append(switch(page, view))


def bare_repeat(browser, port: int, bare: Path, rows: dict[str, list[float]]) -> None:
    """One repeat on the bare page: cold first screen, a switch there and back, a new tab."""
    with serving(app_command(bare, port), port, timeout_s=120):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        url = f"http://127.0.0.1:{port}/"
        page, dt = open_screen(context, url, BARE_VIEWS[0])
        rows.setdefault("bare: first screen, cold server", []).append(dt)
        for view in (BARE_VIEWS[1], BARE_VIEWS[0]):
            rows.setdefault("bare: view switch", []).append(switch(page, view))
        rows.setdefault("bare: first screen, new tab", []).append(open_screen(context, url, BARE_VIEWS[0])[1])
        context.close()


def app_repeat(browser, port: int, kgs: list[tuple[str, str]], rows: dict[str, list[float]], pause: float) -> None:
    """One repeat on the explorer (fresh server): each KG's first screen and tours, then a warm new tab."""
    with serving(app_command(APP, port), port, timeout_s=120):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        for k, (name, label) in enumerate(kgs):
            url = f"http://127.0.0.1:{port}/?{urlencode({'preset': label})}"
            page, dt = open_screen(context, url, VIEWS[0])
            rows.setdefault(f"{name}: first screen, {'cold server' if k == 0 else 'new KG'}", []).append(dt)
            time.sleep(pause)
            tour(page, VIEWS, rows, f"{name}: ")
            page.close()
        name, label = kgs[0]
        url = f"http://127.0.0.1:{port}/?{urlencode({'preset': label})}"
        rows.setdefault(f"{name}: first screen, new tab", []).append(open_screen(context, url, VIEWS[0])[1])
        context.close()


def kg_presets(names: list[str]) -> list[tuple[str, str]]:
    """(short name, preset label) of each KG asked for: ``movies`` (sample) or a benchmark set name."""
    presets = {p.key: p for p in discover_presets()}
    out = []
    for name in names:
        key = f"sample:{name}" if f"sample:{name}" in presets else f"bench:{name}"
        if key not in presets:
            raise SystemExit(f"no preset {name!r} (benchmark sets need $KGVIZ_DATA): {sorted(presets)}")
        out.append((name, presets[key].label))
    return out


def print_table(rows: dict[str, list[float]], targets: dict[str, float]) -> None:
    """Median (min–max) of each row, and the target it is held to."""
    print("\n| what | median s | min–max s | target |")
    print("|---|---:|---:|---|")
    for what, times in rows.items():
        target = next((t for prefix, t in targets.items() if what.startswith(prefix)), None)
        med = statistics.median(times)
        verdict = "" if target is None else f"≤ {target:g} s: {'met' if med <= target else '**not met**'}"
        print(f"| {what} | {med:.2f} | {min(times):.2f}–{max(times):.2f} | {verdict} |")


def targets_for(kgs: list[tuple[str, str]]) -> dict[str, float]:
    """Issue 26: first screen ≤ 2 s; view switches ≤ 1 s on movies, ≤ 2 s on NL-100."""
    out: dict[str, float] = {}
    for name, _ in kgs:
        out[f"{name}: first screen"] = 2.0
        out[f"{name}: "] = 1.0 if name == "movies" else 2.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pause", type=float, default=0.0, help="seconds between a first screen and the first click")
    ap.add_argument("--kg", action="append", help="movies and/or a benchmark set (default: movies, NL-100)")
    args = ap.parse_args()
    if not CHROMIUM.is_file():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    kgs = kg_presets(args.kg or ["movies", "NL-100"])
    rows: dict[str, list[float]] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        bare = Path(tmp) / "bare_app.py"
        bare.write_text(BARE_APP)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            for r in range(args.repeats):
                bare_repeat(browser, free_port(), bare, rows)
                app_repeat(browser, free_port(), kgs, rows, args.pause)
                print(f"repeat {r + 1}/{args.repeats} done, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
        finally:
            browser.close()
    load_after = os.getloadavg()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {os.cpu_count()} cores · median of "
        f"{args.repeats} · pause after a first screen {args.pause:g} s · load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/"
        f"{load_before[2]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}"
    )
    print_table(rows, targets_for(kgs))


if __name__ == "__main__":
    main()
