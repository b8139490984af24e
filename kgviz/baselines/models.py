"""One entry point for every model of the comparisons: :func:`get_model` by name."""

from __future__ import annotations

import os
from typing import Callable, Iterator, Sequence

from ..data import KnowledgeGraph
from .common import TrainedModel, TrainOptions, TrainProgress
from .ingram import DEFAULT_CHECKPOINT, load_ingram, untrained_ingram
from .rgcn import train_rgcn
from .shallow import SHALLOW_MODELS, train_shallow

__all__ = ["MODEL_NAMES", "TRAINED_MODELS", "get_model", "iter_models", "parse_model_names"]

TRAINED_MODELS = (*SHALLOW_MODELS, "rgcn")  # trained on the KG at hand
MODEL_NAMES = (*TRAINED_MODELS, "ingram", "ingram-untrained")  # InGram: a checkpoint zero-shot / untrained


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
