"""``kgviz selfcheck --leaderboard`` and ``kgviz transfer --recommend`` (called from :mod:`kgviz.cli.commands`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kgviz.evaluation.leaderboard.benchmark import format_rows, recommend_on_benchmark
from kgviz.evaluation.leaderboard.board import DEFAULT_BUDGET_S, leaderboard
from kgviz.evaluation.leaderboard.scorers import default_specs

__all__ = ["TRANSFER_BUDGET_S", "selfcheck_leaderboard", "transfer_recommend"]

# transfer --recommend: the three default trained models get 60 s each on all of msg.txt, as `kgviz compare
# --budget 60` gives them (and 60 s each over the folds)
TRANSFER_BUDGET_S = 180.0


def _bar(disabled: bool, desc: str):
    from tqdm.auto import tqdm

    bar = tqdm(total=100, desc=desc, unit="%", disable=disabled)

    def progress(fraction: float, message: str) -> None:
        bar.set_postfix_str(message)
        bar.update(round(100 * fraction) - bar.n)

    return bar, progress


def _budget(args: argparse.Namespace, default: float) -> float:
    budget = default if args.budget is None else float(args.budget)
    if budget < 0:
        raise ValueError(f"--budget must be ≥ 0 seconds, not {budget}")
    return budget


def _write(path: str | None, result: dict) -> None:
    if path:
        from kgviz.training.release import write_json

        write_json(path, result)
        print(f"written to {path}")


def selfcheck_leaderboard(args: argparse.Namespace) -> None:
    """Leaderboard of ``--kg``; ``--json`` gets ``{"rows": [...], "recommended": name, ...}``."""
    from kgviz.graph.data import read_kg

    kg = read_kg(args.kg)
    bar, progress = _bar(args.no_progress, "leaderboard")
    with bar:
        board = leaderboard(
            kg,
            default_specs(device=args.device),
            budget_s=_budget(args, DEFAULT_BUDGET_S),
            seed=args.seed,
            progress=progress,
        )
    result = board.to_json()
    print(format_rows(result))
    _write(args.json, result)


def transfer_recommend(args: argparse.Namespace) -> None:
    """For each ``--data`` folder: the choice from msg.txt, judged on test.txt; ``--json``: one folder's
    object, or ``{"kgs": {name: object}}`` for several."""
    from kgviz.graph.data import load_benchmark

    results = {}
    for folder in args.data:
        data = load_benchmark(folder)
        bar, progress = _bar(args.no_progress, f"recommend on {data.name}")
        with bar:
            _, result = recommend_on_benchmark(
                data,
                default_specs(device=args.device, ultra_scoring_s=None),
                budget_s=_budget(args, TRANSFER_BUDGET_S),
                progress=progress,
            )
        print(format_rows(result) + "\n")
        results[Path(folder).name or data.name] = result
    _write(args.json, next(iter(results.values())) if len(results) == 1 else {"kgs": results})
