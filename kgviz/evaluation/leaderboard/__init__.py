"""Which answer to trust on this KG: every scorer on the same held-out facts of the user's KG.

    from kgviz.evaluation.leaderboard import leaderboard
    board = leaderboard(kg, budget_s=30)          # default scorers: counting, PageRank, InGram, trained
    print(board.sentence); board.to_json()["rows"]

Modules: :mod:`.scorers` (thin adapters to the scorer protocol of :mod:`kgviz.models.base`),
:mod:`.protocol` (folds, validation/test, scoring), :mod:`.metrics` (MRR, Hits, bootstrap,
half-link scenarios), :mod:`.calibration` (temperature, ECE, reliability bins), :mod:`.recommend`
(the recommended ranking), :mod:`.board` (the leaderboard, cache), :mod:`.benchmark` (the same
choice on a benchmark folder, judged on test.txt). See docs/leaderboard.md.
"""

from kgviz.evaluation.leaderboard.benchmark import format_rows, recommend_on_benchmark
from kgviz.evaluation.leaderboard.board import (
    DEFAULT_BUDGET_S,
    Leaderboard,
    cached_leaderboard,
    clear_cache,
    leaderboard,
)
from kgviz.evaluation.leaderboard.protocol import SCENARIOS, VARIANTS, Cancelled
from kgviz.evaluation.leaderboard.recommend import Recommendation
from kgviz.evaluation.leaderboard.scorers import COUNTING, ScorerSpec, default_specs, spec_of

__all__ = [
    "COUNTING",
    "DEFAULT_BUDGET_S",
    "SCENARIOS",
    "VARIANTS",
    "Cancelled",
    "Leaderboard",
    "Recommendation",
    "ScorerSpec",
    "cached_leaderboard",
    "clear_cache",
    "default_specs",
    "format_rows",
    "leaderboard",
    "recommend_on_benchmark",
    "spec_of",
]
