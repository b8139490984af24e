"""Where a run of the explorer's script spends its time: cProfile over AppTest runs, cold and warm.

Profiles, in one process (``AppTest``, headless — Python side only, no browser drawing):

1. ``cold``: the first run (imports of the pages, model load, the first screen's computations);
2. for every view: the switch to it (``first visit``) and a second switch to it (``warm``).

Prints the wall time of each run and the functions with the largest cumulative time of the
runs asked for (``--show``). Imports are timed separately with ``python -X importtime``.

Run: ``.venv/bin/python bench/profile_app.py [--preset LABEL] [--show cold|all|VIEW] [--top 25]``
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import quote

from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from kgviz.ui import state as S

ROOT = Path(__file__).resolve().parents[1]
PROFILES: dict[str, cProfile.Profile] = {}
_current: list[str] = []


def _profiled_run_script(original):
    """``ScriptRunner._run_script`` under the profiler named by ``_current`` (the script runs in its own thread)."""

    def run(self, *args, **kwargs):
        prof = PROFILES.setdefault(_current[-1], cProfile.Profile())
        prof.enable()
        try:
            return original(self, *args, **kwargs)
        finally:
            prof.disable()

    return run


def timed_run(name: str, run) -> float:
    """``run()`` profiled under ``name``; its wall time in seconds."""
    _current.append(name)
    t = time.perf_counter()
    run()
    dt = time.perf_counter() - t
    _current.pop()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", help="preset label (default: the app's default KG)")
    ap.add_argument(
        "--show",
        action="append",
        help="'cold' (default), 'all', or a view name ('VIEW (warm)': its 2nd visit); repeatable",
    )
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    script_runner.ScriptRunner._run_script = _profiled_run_script(script_runner.ScriptRunner._run_script)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    if args.preset:
        at.query_params[S.PRESET] = args.preset
    times = {"cold": timed_run("cold", at.run)}
    views = [str(o) for o in at.radio(key=S.VIEW).options]
    for lap in ("", " (warm)"):
        for view in views:
            times[view + lap] = timed_run(view + lap, at.radio(key=S.VIEW).set_value(view).run)
            if at.exception:
                sys.exit(f"{view}: {at.exception}")
    for name, dt in times.items():
        print(f"{name:28s} {dt:6.3f} s")
    for show in args.show or ["cold"]:
        shown = list(PROFILES) if show == "all" else [show]
        stats = pstats.Stats(*(PROFILES[n] for n in shown))
        print(f"\nTop {args.top} by cumulative time over: {', '.join(shown)} ({quote(args.preset or 'default')})")
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
