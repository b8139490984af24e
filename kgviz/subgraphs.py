"""Connected subgraphs of a training graph, for training on graphs of the users' size.

A user's KG holds 10 to 1,000 triples; the benchmark training graphs hold thousands. The
universal checkpoint (:mod:`kgviz.universal`) is trained on connected subgraphs cut from the
training graphs at sizes drawn log-uniformly, so that it meets graphs of every size and density.

Cutting (:func:`sample_subgraph`): a breadth-first expansion from a random seed entity. Each
round takes, for every entity of the frontier, at most ``fanout`` of its not yet taken triples
(random order), until ``size`` triples are taken or the component is exhausted. Every taken triple
touches an entity already reached, so the subgraph is connected. A small ``fanout`` gives sparse,
tree-like subgraphs; an unlimited one gives the dense neighbourhood of the seed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["IncidenceIndex", "sample_subgraph", "compact", "log_uniform_size", "FANOUT_CHOICES"]

# per-entity fan-out of one breadth-first round; 0 = unlimited (the whole neighbourhood)
FANOUT_CHOICES = (1, 2, 3, 5, 10, 0)


@dataclass(frozen=True)
class IncidenceIndex:
    """For each entity, the ids of the triples it takes part in (as head or tail): CSR ``(N, M)``."""

    triples: np.ndarray  # (M, 3) int64
    num_entities: int
    indptr: np.ndarray  # (N + 1,)
    indices: np.ndarray  # (2M,) triple ids, grouped by entity

    @classmethod
    def of(cls, triples: np.ndarray, num_entities: int) -> "IncidenceIndex":
        triples = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
        m = len(triples)
        rows = np.concatenate([triples[:, 0], triples[:, 2]])
        cols = np.concatenate([np.arange(m), np.arange(m)])
        inc = sp.csr_matrix((np.ones(2 * m, dtype=np.int8), (rows, cols)), shape=(num_entities, m))
        inc.sum_duplicates()  # a self-loop lists its triple once
        return cls(triples, num_entities, inc.indptr.astype(np.int64), inc.indices.astype(np.int64))


def log_uniform_size(rng: np.random.Generator, low: int, high: int) -> int:
    """An integer drawn log-uniformly from ``[low, high]``."""
    return int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def sample_subgraph(index: IncidenceIndex, size: int, rng: np.random.Generator, *, fanout: int = 0,
                    relation_mask: np.ndarray | None = None, seed_entity: int | None = None,
                    closure: bool = False) -> np.ndarray:
    """Ids of at most ``size`` triples forming a connected subgraph (breadth-first, see module doc).

    ``fanout``: triples taken per frontier entity and round (0 = all). ``relation_mask (R,)``: only
    triples of relations marked True are taken. Returns sorted triple ids; fewer than ``size`` when
    the seed's component (within the kept relations) is smaller. ``closure``: then add up to
    ``size`` further triples drawn at random among those joining two reached entities (denser,
    with cycles, like a hand-made KG; still connected).
    """
    triples = index.triples
    allowed = np.ones(len(triples), dtype=bool) if relation_mask is None else relation_mask[triples[:, 1]]
    if not allowed.any() or size < 1:
        return np.zeros(0, dtype=np.int64)
    if seed_entity is None:
        seed_entity = int(triples[rng.choice(np.nonzero(allowed)[0]), rng.choice([0, 2])])
    taken = np.zeros(len(triples), dtype=bool)
    reached = np.zeros(index.num_entities, dtype=bool)
    reached[seed_entity] = True
    frontier = np.array([seed_entity], dtype=np.int64)
    count = 0
    while len(frontier) and count < size:
        frontier = rng.permutation(frontier)
        starts, ends = index.indptr[frontier], index.indptr[frontier + 1]
        lengths = ends - starts
        # all (entity position, triple id) pairs of the frontier, as one flat array
        owner = np.repeat(np.arange(len(frontier)), lengths)
        offsets = np.cumsum(lengths) - lengths  # exclusive prefix sums
        flat = index.indices[np.repeat(starts - offsets, lengths) + np.arange(lengths.sum())]
        keep = allowed[flat] & ~taken[flat]
        owner, flat = owner[keep], flat[keep]
        order = np.lexsort((rng.random(len(flat)), owner))  # random order within each entity
        owner, flat = owner[order], flat[order]
        if fanout > 0:
            first = np.searchsorted(owner, owner, side="left")
            within = np.arange(len(owner)) - first
            owner, flat = owner[within < fanout], flat[within < fanout]
        # entities whose fan-out was capped stay in the frontier for the next round
        active = np.unique(frontier[owner]) if fanout > 0 else np.zeros(0, dtype=np.int64)
        flat, first_pos = np.unique(flat, return_index=True)  # a triple met from both ends counts once
        flat = flat[np.argsort(first_pos)]
        flat = flat[: size - count]
        taken[flat] = True
        count += len(flat)
        ends_of = np.concatenate([triples[flat, 0], triples[flat, 2]])
        new = np.unique(ends_of[~reached[ends_of]])
        reached[new] = True
        frontier = np.union1d(new, active)
    if closure:
        inner = np.nonzero(allowed & ~taken & reached[triples[:, 0]] & reached[triples[:, 2]])[0]
        taken[rng.permutation(inner)[:size]] = True
    return np.nonzero(taken)[0]


def compact(triples: np.ndarray, rng: np.random.Generator | None = None) -> tuple[np.ndarray, int, int]:
    """Renumber the entities and relations of ``triples`` to ``0..n−1`` and ``0..r−1``.

    With ``rng`` the relations get a random order (the model is permutation-equivariant; only the
    binning's tie order depends on numbering). Returns ``(triples, n, r)``.
    """
    ents, inv_e = np.unique(triples[:, [0, 2]], return_inverse=True)
    rels, inv_r = np.unique(triples[:, 1], return_inverse=True)
    inv_e = inv_e.reshape(-1, 2)
    if rng is not None:
        inv_r = rng.permutation(len(rels))[inv_r]
    out = np.stack([inv_e[:, 0], inv_r.reshape(-1), inv_e[:, 1]], axis=1).astype(np.int64)
    return out, len(ents), len(rels)
