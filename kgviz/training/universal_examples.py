"""Training examples for the universal checkpoint: subgraphs drawn from a mixture of training graphs.

One example (see :mod:`kgviz.training.universal`): a training graph (uniformly, or ∝ √M by
``mixture="sqrt"``), a connected subgraph of a log-uniform size cut from it, renumbered, and split
into message and supervision triples as in spec §6.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from kgviz.graph.data import BenchmarkDataset
from kgviz.training.sampling import (
    FANOUT_CHOICES,
    IncidenceIndex,
    compact,
    log_uniform_size,
    sample_subgraph,
    split_triples,
)

__all__ = ["MixtureOptions", "TrainGraph", "training_graphs", "Example", "draw_example"]

log = logging.getLogger("kgviz.training.universal")


@dataclass
class MixtureOptions:
    """How training examples are drawn (recorded in the run's state and the model card)."""

    size_range: tuple[int, int] = (10, 10000)  # subgraph size in triples, drawn log-uniformly
    graphs_per_step: int = 4  # examples whose losses are averaged in one Adam step
    message_ratio: tuple[float, float] = (0.5, 0.9)  # share of an example's triples in its message set
    mixture: str = "uniform"  # how a training graph is drawn: "uniform" or "sqrt" (∝ √triples)
    relation_subset: float = 0.3  # probability that an example keeps only a random subset of relations
    closure: float = 0.5  # probability that an example is densified by the triples among its entities
    other_side_negatives: float = 0.0  # share of negatives drawn from the other side of the relation

    def __post_init__(self) -> None:
        lo, hi = self.size_range
        if not 2 <= lo <= hi:
            raise ValueError(f"size range must satisfy 2 <= low <= high, not {self.size_range}")
        a, b = self.message_ratio
        if not 0.0 < a <= b < 1.0:
            raise ValueError(f"message ratio range must lie in (0, 1), low <= high, not {self.message_ratio}")
        if self.mixture not in ("uniform", "sqrt"):
            raise ValueError(f"mixture must be 'uniform' or 'sqrt', not {self.mixture!r}")
        if self.graphs_per_step < 1:
            raise ValueError("graphs per step must be >= 1")
        for name in ("relation_subset", "closure", "other_side_negatives"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1]")

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass
class TrainGraph:
    """A training graph with its incidence index (for cutting subgraphs)."""

    name: str
    triples: np.ndarray
    num_entities: int
    num_relations: int
    index: IncidenceIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = IncidenceIndex.of(self.triples, self.num_entities)


def training_graphs(datasets: Sequence[BenchmarkDataset]) -> list[TrainGraph]:
    """The ``train.txt`` graphs of ``datasets``, each distinct graph once (NL-25 and NL-50 share theirs)."""
    out: list[TrainGraph] = []
    seen: dict[bytes, str] = {}
    for d in datasets:
        if d.train is None:
            raise ValueError(f"{d.name} has no train.txt: it can be used for inference only")
        key = d.train.to_tsv().encode()
        if key in seen:
            log.info("%s: same training graph as %s, used once", d.name, seen[key])
            continue
        seen[key] = d.name
        out.append(TrainGraph(d.name, d.train.triples, d.train.num_entities, d.train.num_relations))
    return out


@dataclass
class Example:
    """One training example: a renumbered graph split into message and supervision triples."""

    message: np.ndarray
    supervision: np.ndarray
    num_entities: int
    num_relations: int


def draw_example(
    graphs: Sequence[TrainGraph],
    weights: np.ndarray,
    opts: MixtureOptions,
    rng: np.random.Generator,
    max_tries: int = 20,
) -> Example:
    """Draw one example (see module docstring); retried until it has a supervision triple."""
    for _ in range(max_tries):
        g = graphs[rng.choice(len(graphs), p=weights)]
        size = min(log_uniform_size(rng, *opts.size_range), len(g.triples))
        mask = None
        if rng.random() < opts.relation_subset and g.num_relations > 2:
            mask = rng.random(g.num_relations) < rng.uniform(0.2, 0.8)
        ids = sample_subgraph(
            g.index,
            size,
            rng,
            fanout=int(rng.choice(FANOUT_CHOICES)),
            relation_mask=mask,
            closure=bool(rng.random() < opts.closure),
        )
        if len(ids) < 2:
            continue
        sub, n, r = compact(g.triples[ids], rng)
        if n < 3:
            continue
        msg_mask = split_triples(sub, n, r, rng, ratio=float(rng.uniform(*opts.message_ratio)))
        if msg_mask.all():
            continue
        return Example(sub[msg_mask], sub[~msg_mask], n, r)
    raise ValueError(
        "could not draw a training example with a supervision triple: training graphs too small "
        f"for sizes {opts.size_range}"
    )
