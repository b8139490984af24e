"""Adapt a pretrained InGram to one KG: self-supervised fine-tuning on the KG's own triples.

The authors' procedure (spec §6) with the KG as the training graph, run on connected subgraphs of
it (:mod:`kgviz.universal`): each example re-splits a subgraph into message and supervision triples,
draws fresh random features and scores the supervision triples against corruptions with the margin
loss ``mean(max(0, γ − f(pos) + f(neg)))``. Nothing of the KG is held out: every triple is in turn
message and supervision. Runs for a time budget; ``parts`` chooses which weights move.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .data import KGFormatError, KnowledgeGraph
from .model import InGram, InGramConfig
from .sampling import split_triples
from .training_examples import MixtureOptions, TrainGraph
from .universal import UniversalTrainer

__all__ = ["adapt", "AdaptResult", "PARTS", "DEFAULT_PARTS", "DEFAULT_LEARNING_RATE", "check_adaptable"]

# Which parameters fine-tuning moves, by name prefix (the authors' names, spec §5).
PARTS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "relation": ("rel_proj1", "layers_rel", "res_proj_rel", "rel_proj2", "rel_proj"),
    "entity": ("ent_proj1", "layers_ent", "res_proj_ent", "ent_proj2"),
    "output": ("ent_proj2", "rel_proj2", "rel_proj"),
}


# Defaults chosen on valid splits of KGs of another family than the model's (NL-0 on WK-100 and WK-50,
# 120 s; docs/experiments.md, "Adapting to one KG"): every weight at 5e-4 lifted the ensemble most there
# (WK-100 0.055 → 0.112), where the output projections at 1e-4 barely moved it. On a KG of the model's
# own family it costs a little (NL-100: −0.02); the self-check before and after shows which case a KG is.
DEFAULT_PARTS = "all"
DEFAULT_LEARNING_RATE = 5e-4


@dataclass
class AdaptResult:
    """The adapted model and how its fine-tuning went (``losses``: one per step)."""

    model: InGram
    config: InGramConfig
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)
    stopped: bool = False  # the caller's stop callback ended it before the budget


def check_adaptable(kg: KnowledgeGraph, seed: int = 0) -> None:
    """Raise :class:`KGFormatError` if no split of ``kg`` leaves a supervision triple to learn from.

    The message set must hold a spanning forest and a triple of every relation (spec §6); on a KG
    that is a tree with one triple per relation nothing is left over.
    """
    if kg.num_triples < 2 or kg.num_entities < 3:
        raise KGFormatError(
            f"too small to adapt to: {kg.num_triples} triple(s) and {kg.num_entities} entities; "
            "fine-tuning needs at least 2 triples and 3 entities",
            source=kg.source,
        )
    msg = split_triples(kg.triples, kg.num_entities, kg.num_relations, np.random.default_rng(seed), ratio=0.5)
    if msg.all():
        raise KGFormatError(
            f"too small to adapt to: every one of its {kg.num_triples} triples is needed in the "
            "message set (a spanning tree plus one triple per relation), so none is left to learn "
            "from; add triples that close a cycle or repeat a relation",
            source=kg.source,
        )


def adapt(
    model: InGram,
    config: InGramConfig,
    kg: KnowledgeGraph,
    *,
    seconds: float = 30.0,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    parts: str = DEFAULT_PARTS,
    graphs_per_step: int = 2,
    seed: int = 0,
    min_size: int = 10,
    message_ratio: tuple[float, float] = (0.5, 0.9),
    other_side_negatives: float = 0.0,
    device: str = "auto",
    progress: bool = False,
    on_step: Callable[[int, float], bool] | None = None,
) -> AdaptResult:
    """Fine-tune a copy of ``model`` on ``kg`` for ``seconds`` (module docstring).

    ``on_step(step, loss)`` is called after every step; returning False stops (a stop button).
    Subgraph sizes are log-uniform from ``min(min_size, M)`` to the KG's ``M`` triples (``min_size ≥ M``:
    always the whole KG, as the authors train); each example's message ratio is drawn from ``message_ratio``;
    a share ``other_side_negatives`` of the negatives comes from the other side of the relation.
    """
    if parts not in PARTS:
        raise ValueError(f"parts must be one of {', '.join(PARTS)}, not {parts!r}")
    check_adaptable(kg, seed)
    m = kg.num_triples
    options = MixtureOptions(
        size_range=(min(min_size, m), m),
        graphs_per_step=graphs_per_step,
        message_ratio=message_ratio,
        relation_subset=0.0,
        closure=0.0,
        other_side_negatives=other_side_negatives,
    )
    cfg = replace(config, learning_rate=learning_rate, num_epoch=10**9, validation_epoch=10**9)
    prefixes = PARTS[parts]
    trainable = None if prefixes is None else (lambda name: name.startswith(prefixes))
    trainer = UniversalTrainer(
        [TrainGraph(kg.source, kg.triples, kg.num_entities, kg.num_relations)],
        cfg,
        None,
        options=options,
        seed=seed,
        device=device,
        start_model=model,
        trainable=trainable,
    )
    losses: list[float] = []
    stopped = False

    def step(i: int, loss: float) -> bool:
        nonlocal stopped
        losses.append(loss)
        if on_step is not None and not on_step(i, loss):
            stopped = True
            return False
        return True

    t0 = time.perf_counter()
    result = trainer.run(progress=progress, seconds=seconds, on_step=step)
    adapted = copy.deepcopy(trainer.model).requires_grad_(False).eval()
    return AdaptResult(adapted, config, result["steps"], time.perf_counter() - t0, losses, stopped)
