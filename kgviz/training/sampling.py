"""Sampling for training (spec §6): the message/supervision split of each epoch, negative triples,
and connected subgraphs.

Each epoch the training triples are split into a message set (``MESSAGE_RATIO`` = 75 %, the
graph the model reads) and a supervision set (the triples it must score), the message set
holding a spanning forest of the entity graph and a triple of every relation; every supervision
triple is then corrupted ``num_neg`` times.

Subgraphs (for the universal checkpoint, :mod:`kgviz.training.universal`): a user's KG holds 10 to 1,000
triples, the benchmark training graphs thousands, so training also cuts connected subgraphs at
sizes drawn log-uniformly. :func:`sample_subgraph` expands breadth-first from a random seed
entity; each round takes, for every entity of the frontier, at most ``fanout`` of its not yet
taken triples (random order), until ``size`` triples are taken or the component is exhausted.
Every taken triple touches an entity already reached, so the subgraph is connected. A small
``fanout`` gives sparse, tree-like subgraphs; an unlimited one the dense neighbourhood of the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree
from torch import Tensor

from kgviz.config import MESSAGE_RATIO

__all__ = [
    "breadth_first_forest",
    "split_triples",
    "corrupt",
    "RelationSides",
    "IncidenceIndex",
    "sample_subgraph",
    "compact",
    "log_uniform_size",
    "FANOUT_CHOICES",
]


def breadth_first_forest(triples: np.ndarray, num_entities: int) -> np.ndarray:
    """Keys ``h·N + t`` of the directed entity pairs of a breadth-first spanning forest.

    What the authors' code fixes once per run (igraph's unweighted ``spanning_tree``): the entity
    graph taken as undirected, a breadth-first search from each entity not yet reached, in id
    order, neighbours in id order; each tree edge keeps the direction of the first triple that
    joins its two entities. Sorted; ``N − #components`` keys.
    """
    h, t = triples[:, 0].astype(np.int64), triples[:, 2].astype(np.int64)
    keep = h != t
    h, t = h[keep], t[keep]
    n = num_entities
    adj = sp.csr_matrix((np.ones(len(h)), (h, t)), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.int64)
    _, comp = connected_components(adj, directed=False)
    # one virtual root joined to the smallest entity of each component: one search covers the forest,
    # and each component's tree is the one a search from its smallest entity gives
    roots = np.unique(comp, return_index=True)[1]
    big = sp.bmat(
        [
            [adj, sp.csr_matrix((np.ones(len(roots)), (roots, np.zeros(len(roots), dtype=np.int64))), shape=(n, 1))],
            [sp.csr_matrix((np.ones(len(roots)), (np.zeros(len(roots), dtype=np.int64), roots)), shape=(1, n)), None],
        ],
        format="csr",
    )
    big.sort_indices()
    _, pred = breadth_first_order(big, n, directed=False, return_predecessors=True)
    child = np.nonzero((pred[:n] >= 0) & (pred[:n] != n))[0]
    parent = pred[child].astype(np.int64)
    # direction of the first triple joining each (parent, child) pair
    fwd = np.minimum(h, t) * n + np.maximum(h, t)
    order = np.argsort(fwd, kind="stable")
    want = np.minimum(parent, child) * n + np.maximum(parent, child)
    first = order[np.searchsorted(fwd[order], want)]
    return np.sort(h[first] * n + t[first])


def split_triples(
    triples: np.ndarray,
    num_entities: int,
    num_relations: int,
    rng: np.random.Generator,
    ratio: float = MESSAGE_RATIO,
    tree: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask ``(M,)`` of message triples; the rest are supervision triples.

    The message set holds (1) a spanning forest of the undirected entity graph: drawn at random
    as the minimum spanning forest under random edge weights, or, with ``tree`` (the sorted pair
    keys of :func:`breadth_first_forest`, fixed for a run as in the authors' code), one random
    triple of each of its directed pairs; (2) one random triple of every relation the forest
    misses; (3) random further triples up to ``ratio · M`` in all.
    """
    m = len(triples)
    msg = np.zeros(m, dtype=bool)
    if tree is not None:
        key = triples[:, 0].astype(np.int64) * num_entities + triples[:, 2]
        cand = np.nonzero(np.isin(key, tree))[0]
        order = np.lexsort((rng.random(len(cand)), key[cand]))  # parallel triples in random order
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[cand][order][1:] != key[cand][order][:-1]
        msg[cand[order[first]]] = True
    else:
        weight = rng.random(m) + 1e-6  # > 0: a zero weight would be an absent edge
        a, b = np.minimum(triples[:, 0], triples[:, 2]), np.maximum(triples[:, 0], triples[:, 2])
        cand = np.nonzero(a != b)[0]  # self-loops never join components
        # One triple per entity pair: the lightest, so ties between parallel triples are random too.
        pair = a[cand] * num_entities + b[cand]
        order = np.lexsort((weight[cand], pair))
        first = np.ones(len(order), dtype=bool)
        first[1:] = pair[order][1:] != pair[order][:-1]
        rep = cand[order[first]]  # representative triple of each pair, sorted by pair key
        graph = sp.csr_matrix((weight[rep], (a[rep], b[rep])), shape=(num_entities, num_entities))
        forest = minimum_spanning_tree(graph).tocoo()
        rep_keys = a[rep] * num_entities + b[rep]
        msg[rep[np.searchsorted(rep_keys, forest.row.astype(np.int64) * num_entities + forest.col)]] = True
    # A random triple of each relation the forest does not cover.
    perm = rng.permutation(m)
    rels, first_pos = np.unique(triples[perm, 1], return_index=True)
    covered = np.zeros(num_relations, dtype=bool)
    covered[triples[msg, 1]] = True
    msg[perm[first_pos[~covered[rels]]]] = True
    # Fill up to the ratio with random remaining triples.
    rest = np.nonzero(~msg)[0]
    extra = max(0, int(round(ratio * m)) - int(msg.sum()))
    msg[rng.permutation(rest)[:extra]] = True
    return msg


def corrupt(
    triples: Tensor,
    num_entities: int,
    num_neg: int,
    generator: torch.Generator,
    *,
    other_side: "RelationSides | None" = None,
    other_side_share: float = 0.0,
) -> Tensor:
    """``num_neg`` corruptions per triple: head or tail (prob. ½) replaced by a *different* random entity.

    With ``other_side`` (the graph's :class:`RelationSides`), a share ``other_side_share`` of the
    replacements is drawn instead from the other side of the triple's relation: a replaced tail
    becomes a random head of ``r``, a replaced head a random tail of ``r`` (possibly the triple's own
    entity, i.e. a self-loop). These hard negatives are meant to teach the symmetric DistMult head
    ``f(h, r, t) = f(t, r, h)`` a relation's head side from its tail side; in training runs so far
    they did not (docs/experiments.md, run c).

    Returns ``(num_neg · S, 3)`` laid out as ``num_neg`` blocks of the ``S`` triples, so that
    ``pos.repeat(num_neg)`` lines up with it.
    """
    s = len(triples)
    neg = triples.unsqueeze(0).repeat(num_neg, 1, 1)  # (num_neg, S, 3)
    device = triples.device
    col = torch.where(torch.rand(num_neg, s, generator=generator) < 0.5, 0, 2).to(device)  # (num_neg, S)
    draw = torch.randint(0, num_entities - 1, (num_neg, s), generator=generator).to(device)
    old = neg.gather(2, col.unsqueeze(-1)).squeeze(-1)
    draw = draw + (draw >= old).long()  # skip the original entity: uniform over the others
    if other_side is not None and other_side_share > 0.0:
        # replaced tail → a head of the same relation; replaced head → a tail of it
        rel = neg[..., 1].cpu()
        side = torch.where(col.cpu() == 2, 0, 1)
        ptr, members = other_side.pointers[side, rel], other_side.counts[side, rel]
        pick = (torch.rand(num_neg, s, generator=generator) * members).long().clamp_max(members - 1)
        hard = other_side.entities[(ptr + pick).clamp_max(len(other_side.entities) - 1)]
        use = (torch.rand(num_neg, s, generator=generator) < other_side_share) & (members > 0)
        draw = torch.where(use.to(device), hard.to(device), draw)
    neg.scatter_(2, col.unsqueeze(-1), draw.unsqueeze(-1))
    return neg.view(-1, 3)


@dataclass(frozen=True)
class RelationSides:
    """Per relation, the distinct entities seen as its heads (side 0) and as its tails (side 1).

    ``entities[pointers[side, r] : pointers[side, r] + counts[side, r]]`` lists them.
    """

    pointers: Tensor  # (2, R) int64
    counts: Tensor  # (2, R) int64
    entities: Tensor  # (H + T,) int64

    @classmethod
    def of(cls, triples: np.ndarray, num_relations: int) -> "RelationSides":
        triples = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
        pointers, counts, parts, offset = [], [], [], 0
        for col in (0, 2):
            pairs = np.unique(triples[:, [1, col]], axis=0)  # sorted by relation, then entity
            count = np.bincount(pairs[:, 0], minlength=num_relations)
            pointers.append(offset + np.concatenate([[0], np.cumsum(count)[:-1]]))
            counts.append(count)
            parts.append(pairs[:, 1])
            offset += len(pairs)
        return cls(
            torch.from_numpy(np.stack(pointers)).long(),
            torch.from_numpy(np.stack(counts)).long(),
            torch.from_numpy(np.concatenate(parts)).long(),
        )


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
        inc = sp.csr_matrix((np.ones(2 * m, dtype=np.int64), (rows, cols)), shape=(num_entities, m))
        inc.sum_duplicates()  # a self-loop lists its triple once
        return cls(triples, num_entities, inc.indptr.astype(np.int64), inc.indices.astype(np.int64))


def log_uniform_size(rng: np.random.Generator, low: int, high: int) -> int:
    """An integer drawn log-uniformly from ``[low, high]``."""
    return int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def sample_subgraph(
    index: IncidenceIndex,
    size: int,
    rng: np.random.Generator,
    *,
    fanout: int = 0,
    relation_mask: np.ndarray | None = None,
    seed_entity: int | None = None,
    closure: bool = False,
) -> np.ndarray:
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
