"""One entry point for every model of the comparisons: :func:`get_model` by name."""

from __future__ import annotations

import os
from typing import Callable, Iterator, Sequence

from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.registry import ULTRA_NAMES
from kgviz.models.baselines.common import TrainedModel, TrainingInfo, TrainOptions, TrainProgress
from kgviz.models.baselines.ingram import DEFAULT_CHECKPOINT, load_ingram, untrained_ingram
from kgviz.models.baselines.rgcn import train_rgcn
from kgviz.models.baselines.shallow import SHALLOW_MODELS, train_shallow

__all__ = ["MODEL_NAMES", "TRAINED_MODELS", "ScorerModel", "get_model", "iter_models", "parse_model_names"]

TRAINED_MODELS = (*SHALLOW_MODELS, "rgcn")  # trained on the KG at hand
# InGram: a checkpoint zero-shot / untrained; ULTRA: a checkpoint zero-shot (kgviz.models.registry)
MODEL_NAMES = (*TRAINED_MODELS, "ingram", "ingram-untrained", *ULTRA_NAMES)


class ScorerModel(TrainedModel):
    """A registered :class:`kgviz.models.base.Scorer` (ULTRA) as a row of the comparisons: zero-shot, it
    scores every entity and relation of the known graph, nothing trained."""

    def __init__(self, scorer: object):
        self.scorer, self.name, self.info = scorer, str(getattr(scorer, "name", scorer)), TrainingInfo()

    def entity_map(self, known: KnowledgeGraph) -> Tensor:
        import torch

        return torch.arange(known.num_entities)

    def relation_map(self, known: KnowledgeGraph) -> Tensor:
        import torch

        return torch.arange(known.num_relations)

    def _scores(self, known: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: str) -> Tensor:
        return self.scorer.scores(known, anchors, relations, direction)  # type: ignore[attr-defined]


def parse_model_names(text: str) -> list[str]:
    """``"transe, rgcn,ingram"`` → ``["transe", "rgcn", "ingram"]``; an unknown name raises ``ValueError``."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in MODEL_NAMES]
    if bad or not names:
        raise ValueError(f"unknown model(s) {', '.join(bad) or '(none given)'}; choose from {', '.join(MODEL_NAMES)}")
    return list(dict.fromkeys(names))


def get_model(
    name: str,
    kg: KnowledgeGraph,
    options: TrainOptions | None = None,
    *,
    progress: Callable[[TrainProgress], None] | None = None,
    checkpoint: str | os.PathLike = DEFAULT_CHECKPOINT,
) -> TrainedModel:
    """Model ``name`` (one of :data:`MODEL_NAMES`) ready to score: trained on ``kg``'s triples, or InGram.

    ``ingram`` loads ``checkpoint`` (default ``pretrained/NL-100``) and uses ``kg`` only at scoring time.
    """
    options = options or TrainOptions()
    if name in SHALLOW_MODELS:
        return train_shallow(name, kg, options, progress)
    if name == "rgcn":
        return train_rgcn(kg, options, progress)
    if name == "ingram":
        return load_ingram(checkpoint, device=options.device)
    if name == "ingram-untrained":
        return untrained_ingram(options.seed, device=options.device)
    if name in ULTRA_NAMES:
        from kgviz.models.registry import resolve_scorer

        return ScorerModel(resolve_scorer(name, device=str(options.device)))
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")


def iter_models(
    names: Sequence[str],
    kg: KnowledgeGraph,
    options: TrainOptions | None = None,
    *,
    checkpoint: str | os.PathLike = DEFAULT_CHECKPOINT,
    progress: Callable[[str], None] | None = None,
    train_progress: Callable[[TrainProgress], None] | None = None,
) -> Iterator[TrainedModel]:
    """:func:`get_model` for each of ``names`` in turn (one trained model alive at a time); ``progress(name)`` first."""
    for name in names:
        if progress is not None:
            progress(name)
        yield get_model(name, kg, options, progress=train_progress, checkpoint=checkpoint)
