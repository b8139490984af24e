"""The leaderboard of one KG: every scorer on the same held-out facts, a recommendation, temperatures.

:func:`leaderboard` runs the protocol of :mod:`.protocol`, the figures of :mod:`.metrics`, the
choice of :mod:`.recommend` and the temperatures of :mod:`.calibration`. Rows are split
``"validation"`` (the facts that chose) or ``"test"`` (the facts that report). Results are cached
per KG fingerprint and settings (:func:`cached_leaderboard`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from kgviz.graph.data import KnowledgeGraph
from kgviz.evaluation.leaderboard.calibration import calibrate, candidate_logits
from kgviz.evaluation.leaderboard.metrics import scenario_table, summarise
from kgviz.evaluation.leaderboard.protocol import Cancel, HeldOut, Progress, make_split, score_held_out, variant_ranks
from kgviz.evaluation.leaderboard.recommend import Recommendation, choose, combine, normalise, scorer_best, sentence
from kgviz.evaluation.leaderboard.scorers import ScorerSpec, default_specs

__all__ = ["DEFAULT_BUDGET_S", "Leaderboard", "leaderboard", "cached_leaderboard", "clear_cache"]

DEFAULT_BUDGET_S = 20.0  # training seconds of all trained scorers over all folds together
SPLITS = ("validation", "test")


@dataclass
class Leaderboard:
    """Figures of every row (a scorer and a constraint variant) on validation and test facts.

    ``rows``: ``{"method", "split", "mrr", "hits1", "hits10", "mrr_low", "mrr_high", "queries"}``;
    ``scenarios[method][split]``: :func:`.metrics.scenario_table`; ``calibration[scorer]``:
    :func:`.calibration.calibrate` of its raw scores (``"recommended"``: of the recommended scores,
    normalised and weighted, before the constraint variant); ``trained[scorer]``: ``(seconds, epochs)`` per fold;
    ``skipped[scorer]``: why a scorer was left out (its scoring budget).
    """

    kg: str
    fingerprint: str
    protocol: str
    num_folds: int
    validation_facts: int
    test_facts: int
    budget_s: float
    recommendation: Recommendation
    sentence: str
    rows: list[dict] = field(default_factory=list)
    scenarios: dict[str, dict[str, dict]] = field(default_factory=dict)
    calibration: dict[str, dict] = field(default_factory=dict)
    trained: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    seconds: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)

    def row(self, method: str, split: str) -> dict:
        return next(r for r in self.rows if r["method"] == method and r["split"] == split)

    def to_json(self) -> dict:
        """``{"rows": [...], "recommended": name, ...}`` (the issue's format, plus protocol and details)."""
        return {
            "rows": self.rows,
            "recommended": self.recommendation.name,
            "kg": self.kg,
            "protocol": self.protocol,
            "folds": self.num_folds,
            "validation_facts": self.validation_facts,
            "test_facts": self.test_facts,
            "budget_s": self.budget_s,
            "sentence": self.sentence,
            "weights": self.recommendation.weights,
            "variant": self.recommendation.variant.removeprefix(" + ") or "none",
            "trained": {n: [{"seconds": s, "epochs": e} for s, e in v] for n, v in self.trained.items()},
            "scenarios": self.scenarios,
            "calibration": self.calibration,
            "seconds": self.seconds,
            "skipped": self.skipped,
        }


def _rows(method: str, ranks: torch.Tensor, held: HeldOut, seed: int) -> tuple[list[dict], dict[str, dict]]:
    rows, scen = [], {}
    for split, sel in (("validation", held.validation), ("test", ~held.validation)):
        r = ranks.numpy()[sel]
        rows.append({"method": method, "split": split, **summarise(r, seed=seed)})
        scen[split] = scenario_table(r, held.scenario[sel])
    return rows, scen


def leaderboard(
    kg: KnowledgeGraph,
    specs: Sequence[ScorerSpec] | None = None,
    *,
    budget_s: float = DEFAULT_BUDGET_S,
    seed: int = 0,
    filter_triples: np.ndarray | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Leaderboard:
    """Every scorer of ``specs`` (default :func:`.scorers.default_specs`) on ``kg``'s held-out facts.

    ``filter_triples``: the true triples removed from rankings (default ``kg``'s). ``progress(fraction,
    message)``, ``cancel()`` as :func:`.protocol.score_held_out`.
    """
    started = time.perf_counter()
    specs = list(default_specs() if specs is None else specs)
    report = progress or (lambda f, m: None)
    split = make_split(kg, seed)
    held = score_held_out(
        kg,
        specs,
        split,
        budget_s=budget_s,
        filter_triples=filter_triples,
        progress=lambda f, m: report(0.9 * f, m),
        cancel=cancel,
    )
    report(0.9, "ranking, choosing, calibrating")
    specs = [spec for spec in specs if spec.name in held.scores]
    val = torch.from_numpy(held.validation)
    rows: list[dict] = []
    scenarios: dict[str, dict[str, dict]] = {}
    single: dict[tuple[str, str], float] = {}
    for spec in specs:
        for variant, ranks in variant_ranks(held, held.scores[spec.name]).items():
            r, s = _rows(spec.name + variant, ranks, held, seed)
            rows += r
            scenarios[spec.name + variant] = s
            single[(spec.name, variant)] = float((1.0 / ranks[val].double()).mean())
    candidates = held.candidates
    z = {spec.name: normalise(held.scores[spec.name]) for spec in specs}
    rec = choose(held, z, single)
    rec_scores = combine(z, rec.weights) if len(rec.weights) > 1 else held.scores[next(iter(rec.weights))]
    rec_ranks = variant_ranks(held, rec_scores)[rec.variant]
    r, s = _rows("recommended", rec_ranks, held, seed)
    rows += r
    scenarios["recommended"] = s
    calibration = {
        spec.name: calibrate(candidate_logits(held.scores[spec.name], candidates), held.answers, held.validation)
        for spec in specs
    }
    calibration["recommended"] = calibrate(candidate_logits(rec_scores, candidates), held.answers, held.validation)
    n_val = int(held.validation.sum()) // 2
    n_test = len(split.held) - n_val
    test_mrr = next(x["mrr"] for x in r if x["split"] == "test")
    board = Leaderboard(
        kg.source,
        kg.fingerprint,
        split.protocol,
        split.num_folds,
        n_val,
        n_test,
        budget_s,
        rec,
        sentence(rec, n_val, n_test, scorer_best(single), test_mrr),
        rows,
        scenarios,
        calibration,
        held.trained,
        time.perf_counter() - started,
        held.skipped,
    )
    report(1.0, "done")
    return board


_CACHE: dict[tuple, Leaderboard] = {}


def cached_leaderboard(
    kg: KnowledgeGraph,
    specs: Sequence[ScorerSpec] | None = None,
    *,
    budget_s: float = DEFAULT_BUDGET_S,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Leaderboard:
    """:func:`leaderboard`, computed once per KG fingerprint, scorer names, budget and seed."""
    specs = list(default_specs() if specs is None else specs)
    key = (kg.fingerprint, tuple(s.name for s in specs), float(budget_s), seed)
    if key not in _CACHE:
        _CACHE[key] = leaderboard(kg, specs, budget_s=budget_s, seed=seed, progress=progress, cancel=cancel)
    return _CACHE[key]


def clear_cache() -> None:
    _CACHE.clear()
