"""InGram as one more row of the comparisons: a checkpoint applied zero-shot, or an untrained model.

InGram has no per-entity or per-relation table: vectors of every entity and relation of the known graph
come from a forward pass over it (:mod:`kgviz.inference`), so it can score every query, also those
with entities and relations that no training ever saw. Its head is DistMult-like,
``f(h, r, t) = ⟨x_h, W z_r, x_t⟩ = f(t, r, h)``, so it cannot tell a triple from its reverse.
Scores are averaged over a few random draws of the initial features, as ``kgviz predict`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from ..checkpoint import load_checkpoint
from ..data import KnowledgeGraph
from ..evaluation import embed
from ..inference import pick_device
from ..config import InGramConfig
from ..model import InGram
from .common import TrainedModel, TrainingInfo

__all__ = ["InGramModel", "load_ingram", "untrained_ingram", "DEFAULT_CHECKPOINT", "SCORE_SEEDS"]

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "pretrained" / "NL-100"
SCORE_SEEDS = tuple(range(100, 105))  # reporting draws (kgviz.evaluation.REPORT_SEEDS), not selection ones


class InGramModel(TrainedModel):
    """An :class:`~kgviz.model.InGram` scoring any known graph, scores averaged over ``seeds``."""

    def __init__(
        self,
        model: InGram,
        name: str = "InGram",
        *,
        seeds: tuple[int, ...] = SCORE_SEEDS,
        device: str | torch.device = "auto",
    ):
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.name, self.seeds, self.info = name, tuple(seeds), TrainingInfo()
        self._cache: tuple[KnowledgeGraph, list[tuple[Tensor, Tensor]]] | None = None

    def entity_map(self, known: KnowledgeGraph) -> Tensor:
        return torch.arange(known.num_entities)

    def relation_map(self, known: KnowledgeGraph) -> Tensor:
        return torch.arange(known.num_relations)

    def _scores(self, known: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: str) -> Tensor:
        if self._cache is None or self._cache[0] is not known:
            self._cache = (known, embed(self.model, known, self.seeds, self.device))
        a, r = anchors.to(self.device), relations.to(self.device)
        # f(a, r, e) = f(e, r, a): tail and head queries score alike (kgviz.evaluation.query_scores)
        return torch.stack([self.model.score_all_tails(ent, rel, a, r) for ent, rel in self._cache[1]]).mean(0)


def load_ingram(
    checkpoint: str | os.PathLike = DEFAULT_CHECKPOINT,
    *,
    seeds: tuple[int, ...] = SCORE_SEEDS,
    device: str | torch.device = "auto",
) -> InGramModel:
    """InGram from a checkpoint folder or file (default ``pretrained/NL-100``), applied zero-shot."""
    model, _, _ = load_checkpoint(checkpoint)
    return InGramModel(model, f"InGram ({Path(checkpoint).name})", seeds=seeds, device=device)


def untrained_ingram(
    seed: int = 0, *, seeds: tuple[int, ...] = SCORE_SEEDS, device: str | torch.device = "auto"
) -> InGramModel:
    """A randomly initialised InGram of the default configuration: what its architecture gives untrained."""
    with torch.random.fork_rng(devices=[]):  # the caller's random state stays as it was
        torch.manual_seed(seed)
        model = InGram.from_config(InGramConfig())
    return InGramModel(model, "InGram (untrained)", seeds=seeds, device=device)
