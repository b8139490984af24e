"""Which scorers a leaderboard ranks, all taken from the model registry (:func:`kgviz.models.registry.resolve_scorer`).

A :class:`ScorerSpec` says how to get a scorer for a known graph: ``make(known, budget_s, hook)``.
Zero-shot scorers (InGram checkpoints, ULTRA) and counting ignore ``known`` and ``budget_s`` (resolved
once, on first use); scorers that need training (:attr:`Needs.TRAINING`) are resolved afresh for each
known graph and trained on its triples only, for at most ``budget_s`` seconds, one thread. There is no
adapter here: every scorer is the registry's own object.

A slow zero-shot scorer (ULTRA: ~8 ms a query on small KGs, ~95 ms on FB-100, one thread) carries a
scoring budget ``max_scoring_s``: the leaderboard times it on a few queries first and leaves it out,
saying so, when all its queries would take longer (:func:`kgviz.evaluation.leaderboard.protocol.score_held_out`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from kgviz.models.baselines.common import TrainingInfo, TrainOptions, TrainProgress
from kgviz.graph.data import KnowledgeGraph
from kgviz.models.base import Needs, Scorer
from kgviz.models.registry import available_scorers, resolve_scorer

__all__ = [
    "COUNTING",
    "PAGERANK",
    "ULTRA",
    "ScorerSpec",
    "spec_of",
    "registry_spec",
    "counting_spec",
    "pagerank_spec",
    "ingram_spec",
    "trained_spec",
    "ultra_spec",
    "default_specs",
    "DEFAULT_TRAINED",
    "ULTRA_SCORING_S",
]

COUNTING = "relation-side frequency"
PAGERANK = "personalized PageRank"
ULTRA = "ULTRA 3g"
DEFAULT_TRAINED = ("distmult", "rotate", "rgcn")  # DistMult and RotatE each win on some held-out KGs (issue 29)
ULTRA_SCORING_S = 20.0  # ULTRA's scoring seconds on a leaderboard at most (all folds together)
# registry name → the row label of the leaderboard
LABELS = {
    "frequency": COUNTING,
    "pagerank": PAGERANK,
    "transe": "TransE",
    "transr": "TransR",
    "distmult": "DistMult",
    "complex": "ComplEx",
    "rotate": "RotatE",
    "rgcn": "R-GCN",
    "ultra-3g": ULTRA,
    "ultra-4g": "ULTRA 4g",
    "ultra-50g": "ULTRA 50g",
}
TrainHook = Callable[[TrainProgress], None]


@dataclass(frozen=True)
class ScorerSpec:
    """How to get scorer ``name`` for a known graph: ``make(known, budget_s, train_hook) -> Scorer``.

    ``key``: its registry name (``None`` for a scorer from elsewhere); ``max_scoring_s``: its scoring
    budget on a leaderboard (``None``: none).
    """

    name: str
    needs: Needs
    make: Callable[[KnowledgeGraph, float, TrainHook | None], Scorer]
    key: str | None = None
    max_scoring_s: float | None = None

    @property
    def trains(self) -> bool:
        return self.needs is Needs.TRAINING


def spec_of(scorer: Scorer) -> ScorerSpec:
    """Any ready scorer of the :mod:`kgviz.models.base` protocol (zero-shot or counting: it does not
    train on the known graph) as a spec."""
    if scorer.needs is Needs.TRAINING:
        raise ValueError(f"{scorer.name} needs training on each fold's known facts: give a ScorerSpec that trains it")
    return ScorerSpec(scorer.name, scorer.needs, lambda known, budget, hook: scorer)


def registry_spec(
    key: str,
    label: str | None = None,
    *,
    seeds: Sequence[int] | None = None,
    device: str = "auto",
    max_scoring_s: float | None = None,
    dim: int = 64,
    seed: int = 0,
) -> ScorerSpec:
    """Registry name ``key`` as a spec (module docstring); ``label`` the row name (default :data:`LABELS`)."""
    info = {i.name.lower(): i for i in available_scorers()}.get(key.lower())
    needs = info.needs if info is not None else Needs.WEIGHTS
    name = label or LABELS.get(key.lower(), key)
    if needs is Needs.TRAINING:

        def train(known: KnowledgeGraph, budget: float, hook: TrainHook | None) -> Scorer:
            options = TrainOptions(
                dim=dim, time_budget_s=budget, seed=seed, threads=1, device=device, progress_bar=False
            )
            return resolve_scorer(key, graph=known, device=device, train_options=options, train_progress=hook)

        return ScorerSpec(name, needs, train, key.lower())
    held: list[Scorer] = []

    def ready(known: KnowledgeGraph, budget: float, hook: TrainHook | None) -> Scorer:
        if not held:
            held.append(resolve_scorer(key, seeds=seeds, device=device))
        return held[0]

    return ScorerSpec(name, needs, ready, key.lower(), max_scoring_s)


def counting_spec() -> ScorerSpec:
    """Relation-side frequency (counting): how often each entity fills the query's side of its relation."""
    return registry_spec("frequency")


def pagerank_spec() -> ScorerSpec:
    """Personalized PageRank from the query's anchor (α = 0.15)."""
    return registry_spec("pagerank")


def ingram_spec(checkpoint: str, seeds: Sequence[int] = (100, 101, 102), device: str = "auto") -> ScorerSpec:
    """A shipped InGram checkpoint (registry name) zero-shot, scores averaged over the draws ``seeds``."""
    return registry_spec(checkpoint, f"InGram {checkpoint}", seeds=seeds, device=device)


def trained_spec(model: str, *, seed: int = 0, dim: int = 64, device: str = "auto") -> ScorerSpec:
    """Model ``model`` of :data:`kgviz.models.trained.TRAINED_SCORERS`, trained on the known graph within the budget."""
    return registry_spec(model, seed=seed, dim=dim, device=device)


def ultra_spec(
    key: str = "ultra-3g", device: str = "auto", max_scoring_s: float | None = ULTRA_SCORING_S
) -> ScorerSpec:
    """ULTRA zero-shot (registry name ``key``), within a scoring budget of ``max_scoring_s`` seconds."""
    return registry_spec(key, device=device, max_scoring_s=max_scoring_s)


def adapted_spec(checkpoint: str, seeds: Sequence[int] = (100, 101, 102), device: str = "auto") -> ScorerSpec:
    """A shipped InGram checkpoint fine-tuned on each fold's known facts within the budget
    (:func:`kgviz.training.adapt.adapt`, its defaults: judged on facts of the known graph it holds out, so never
    worse than its start there); a known graph too small to adapt keeps the start."""

    def adapt_on(known: KnowledgeGraph, budget: float, hook: TrainHook | None) -> Scorer:
        from kgviz.models.ingram.checkpoint import load_checkpoint
        from kgviz.models.ingram.scorer import InGramScorer
        from kgviz.models.pretrained import pretrained_dir
        from kgviz.training.adapt import adapt

        model, config, _ = load_checkpoint(pretrained_dir() / checkpoint)
        info = TrainingInfo()
        try:
            result = adapt(model, config, known, seconds=budget, device=device)
            model, info = result.model, TrainingInfo(epochs=result.steps, seconds=result.seconds)
        except ValueError:  # too small to hold facts out and to train on: the start is kept
            pass
        scorer = InGramScorer(
            model, seeds=seeds, device=device, name=f"InGram {checkpoint} adapted", needs=Needs.TRAINING
        )
        scorer.info = info  # type: ignore[attr-defined]  # what the leaderboard reports as trained (steps, seconds)
        return scorer

    return ScorerSpec(f"InGram {checkpoint} adapted", Needs.TRAINING, adapt_on)


def default_specs(
    checkpoints: Sequence[str] | None = None,
    trained: Sequence[str] = DEFAULT_TRAINED,
    *,
    seeds: Sequence[int] = (100, 101, 102),
    device: str = "auto",
    ultra: bool = True,
    ultra_scoring_s: float | None = ULTRA_SCORING_S,
) -> list[ScorerSpec]:
    """Counting, PageRank, every shipped InGram checkpoint of :data:`kgviz.models.pretrained.DEFAULT_MODELS`
    (``checkpoints`` ``None``: those present), ULTRA 3g when shipped, and the ``trained`` models."""
    from kgviz.models.pretrained import DEFAULT_MODELS

    shipped = {i.name: i for i in available_scorers() if i.available}
    if checkpoints is None:
        checkpoints = [n for n in DEFAULT_MODELS if n in shipped and shipped[n].needs is Needs.WEIGHTS]
    specs = [counting_spec(), pagerank_spec(), *(ingram_spec(c, seeds, device) for c in checkpoints)]
    if ultra and "ultra-3g" in shipped:
        specs.append(ultra_spec(device=device, max_scoring_s=ultra_scoring_s))
    adapted = [adapted_spec(checkpoints[0], seeds, device)] if checkpoints and trained else []
    return specs + [trained_spec(m, device=device) for m in trained] + adapted
