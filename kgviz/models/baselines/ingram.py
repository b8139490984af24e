"""InGram as one more row of the comparisons: a checkpoint applied zero-shot, or an untrained model.

InGram has no per-entity or per-relation table: vectors of every entity and relation of the known graph
come from a forward pass over it (:mod:`kgviz.models.ingram.predictor`), so it can score every query, also those
with entities and relations that no training ever saw. Its head is DistMult-like,
``f(h, r, t) = ⟨x_h, W z_r, x_t⟩ = f(t, r, h)``, so it cannot tell a triple from its reverse.
Scores are averaged over a few random draws of the initial features, as ``kgviz predict`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from kgviz.models.ingram.checkpoint import load_checkpoint
from kgviz.config import InGramConfig
from kgviz.graph.data import KnowledgeGraph
from kgviz.defaults import DEFAULT_MODEL, DRAWS, EVALUATION_SEED
from kgviz.models.ingram.network import InGram
from kgviz.models.ingram.network import untrained_ingram as untrained_model
from kgviz.models.ingram.scorer import InGramScorer
from kgviz.models.pretrained import pretrained_dir
from kgviz.models.baselines.common import TrainedModel, TrainingInfo

__all__ = ["InGramModel", "load_ingram", "untrained_ingram", "DEFAULT_CHECKPOINT", "SCORE_SEEDS"]

DEFAULT_CHECKPOINT = pretrained_dir() / DEFAULT_MODEL  # the default model (kgviz.defaults), as predict and the app
# the default number of draws (kgviz.defaults.DRAWS) from the reporting draws, never the selection ones
SCORE_SEEDS = tuple(range(EVALUATION_SEED, EVALUATION_SEED + DRAWS))


class InGramModel(TrainedModel):
    """An :class:`~kgviz.models.ingram.network.InGram` scoring any known graph, scores averaged over ``seeds``."""

    def __init__(
        self,
        model: InGram,
        name: str = "InGram",
        *,
        seeds: tuple[int, ...] = SCORE_SEEDS,
        device: str | torch.device = "auto",
    ):
        self.scorer = InGramScorer(model, seeds=seeds, device=device, name=name)  # the forward passes
        self.device, self.model = self.scorer.device, self.scorer.model
        self.name, self.seeds, self.info = name, tuple(seeds), TrainingInfo()

    def entity_map(self, known: KnowledgeGraph) -> Tensor:
        return torch.arange(known.num_entities)

    def relation_map(self, known: KnowledgeGraph) -> Tensor:
        return torch.arange(known.num_relations)

    def _scores(self, known: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: str) -> Tensor:
        # f(a, r, e) = f(e, r, a): tail and head queries score alike (kgviz.models.ingram.scorer.InGramScorer)
        return self.scorer.scores(known, anchors, relations, "tail")


def load_ingram(
    checkpoint: str | os.PathLike = DEFAULT_CHECKPOINT,
    *,
    seeds: tuple[int, ...] = SCORE_SEEDS,
    device: str | torch.device = "auto",
) -> InGramModel:
    """InGram from a checkpoint folder or file (default: the default model, ``pretrained/NL-0``), applied zero-shot."""
    model, _, _ = load_checkpoint(checkpoint)
    return InGramModel(model, f"InGram ({Path(checkpoint).name})", seeds=seeds, device=device)


def untrained_ingram(
    seed: int = 0, *, seeds: tuple[int, ...] = SCORE_SEEDS, device: str | torch.device = "auto"
) -> InGramModel:
    """A randomly initialised InGram of the default configuration: what its architecture gives untrained."""
    return InGramModel(untrained_model(InGramConfig(), seed), "InGram (untrained)", seeds=seeds, device=device)
