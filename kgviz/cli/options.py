"""Options several ``kgviz`` commands share (device, threads, draws, stored draw, leaderboard)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

Subcommands = argparse._SubParsersAction  # what ``add_subparsers`` returns


def add_run_options(s: argparse.ArgumentParser, *, threads: bool = False, progress: bool = False) -> None:
    """``--device`` of a command that runs the model; ``--threads`` and ``--no-progress`` when asked."""
    if threads:
        s.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    s.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda")
    if progress:
        s.add_argument("--no-progress", action="store_true")


def add_draws(s: argparse.ArgumentParser, default: Iterable[int], help: str) -> None:
    """``--seeds``: the random draws of initial features a command scores with or chooses among."""
    s.add_argument("--seeds", type=int, nargs="+", default=list(default), help=help)


def add_stored_draw(s: argparse.ArgumentParser, help: str) -> None:
    """``--stored-draw``: use the draw a checkpoint keeps (``kgviz store-draw``)."""
    s.add_argument("--stored-draw", action="store_true", help=help)


def add_leaderboard(s: argparse.ArgumentParser, flag: str, text: str) -> None:
    s.add_argument(flag, action="store_true", help=text)
    s.add_argument(
        "--budget",
        type=float,
        default=None,
        help="with " + flag + ": training seconds of all trained scorers together (default: 20 for "
        "selfcheck, 120 for transfer)",
    )
