"""Sampling for training (spec §6): the message/supervision split of each epoch and negative triples.

Each epoch the training triples are split into a message set (``MESSAGE_RATIO`` = 75 %, the
graph the model reads) and a supervision set (the triples it must score), the message set
holding a spanning forest of the entity graph and a triple of every relation; every supervision
triple is then corrupted ``num_neg`` times.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree
from torch import Tensor

from .config import MESSAGE_RATIO

__all__ = ["breadth_first_forest", "split_triples", "corrupt"]


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
    adj = ((adj + adj.T) > 0).astype(np.int8)
    _, comp = connected_components(adj, directed=False)
    # one virtual root joined to the smallest entity of each component: one search covers the forest,
    # and each component's tree is the one a search from its smallest entity gives
    roots = np.unique(comp, return_index=True)[1]
    big = sp.bmat([[adj, sp.csr_matrix((np.ones(len(roots)), (roots, np.zeros(len(roots), dtype=np.int64))),
                                       shape=(n, 1))],
                   [sp.csr_matrix((np.ones(len(roots)), (np.zeros(len(roots), dtype=np.int64), roots)),
                                  shape=(1, n)), None]], format="csr")
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


def split_triples(triples: np.ndarray, num_entities: int, num_relations: int, rng: np.random.Generator,
                  ratio: float = MESSAGE_RATIO, tree: np.ndarray | None = None) -> np.ndarray:
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


def corrupt(triples: Tensor, num_entities: int, num_neg: int, generator: torch.Generator) -> Tensor:
    """``num_neg`` corruptions per triple: head or tail (prob. ½) replaced by a *different* random entity.

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
    neg.scatter_(2, col.unsqueeze(-1), draw.unsqueeze(-1))
    return neg.view(-1, 3)
