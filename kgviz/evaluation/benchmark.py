"""Filtered link-prediction evaluation on an InGram benchmark split (spec §7).

For each query ``(h, r, t)`` the true tail is ranked among all entities of the inference graph
for ``(h, r, ?)`` and the true head for ``(?, r, t)``; other entities forming a known triple
(in ``msg``, ``valid`` or ``test``) are filtered out. Metrics pool head and tail ranks.
Scores are computed in batches of queries against all entities (one matmul per batch).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor

from kgviz.config import HOLDOUT_SEEDS, REPORT_SEEDS
from kgviz.graph.data import BenchmarkDataset, KnowledgeGraph
from kgviz.models.ingram.predictor import graph_tensors, pick_device
from kgviz.models.ingram.network import InGram
from kgviz.ranking.ranks import METRIC_NAMES, filtered_rank, known_mask, metrics

__all__ = [
    "QuerySet",
    "query_set",
    "valid_query_set",
    "ranks_from_embeddings",
    "embed",
    "evaluate",
    "format_metrics",
    "mean_metrics",
    "std_metrics",
    "draw_metrics",
    "mean_draw_metrics",
    "HoldoutCheck",
    "PairedDifference",
    "holdout_check",
    "REPORT_SEEDS",
    "HOLDOUT_SEEDS",
    "selection_draws_reused",
]


def selection_draws_reused(checkpoint_extra: dict, seeds: Sequence[int]) -> list[int]:
    """The seeds among ``seeds`` that chose this checkpoint (its ``valid_seeds``): figures on them are biased."""
    return sorted(set(seeds) & set(checkpoint_extra.get("valid_seeds") or []))


@dataclass
class QuerySet:
    """Queries in both directions with their filter masks.

    ``anchors``/``relations``/``answers``: ``(2Q,)`` — first the Q tail queries ``(h, r, ?)``,
    then the Q head queries ``(?, r, t)``; ``mask (2Q, N)`` marks other known answers.
    """

    anchors: Tensor
    relations: Tensor
    answers: Tensor
    mask: Tensor
    num_tail_queries: int


def query_set(graph: KnowledgeGraph, queries: np.ndarray, known: np.ndarray) -> QuerySet:
    """Build both query directions of ``queries (Q, 3)``; ``known (K, 3)`` are all true triples."""
    n_rel = graph.num_relations
    h, r, t = queries[:, 0], queries[:, 1], queries[:, 2]
    tail_mask = known_mask(h * n_rel + r, known[:, 0] * n_rel + known[:, 1], known[:, 2], graph.num_entities)
    head_mask = known_mask(t * n_rel + r, known[:, 2] * n_rel + known[:, 1], known[:, 0], graph.num_entities)
    as_t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    return QuerySet(
        as_t(np.concatenate([h, t])),
        as_t(np.concatenate([r, r])),
        as_t(np.concatenate([t, h])),
        torch.cat([tail_mask, head_mask]),
        len(queries),
    )


def valid_query_set(dataset: BenchmarkDataset) -> QuerySet:
    """The valid queries of ``dataset``, filtered against msg ∪ valid ∪ test (spec §7)."""
    inf = dataset.inference
    return query_set(inf, dataset.valid, np.concatenate([inf.triples, dataset.valid, dataset.test]))


def query_scores(model: InGram, embeddings: Sequence[tuple[Tensor, Tensor]], qs: QuerySet, rows: slice) -> Tensor:
    """Mean over ``embeddings`` of the scores of queries ``rows`` against all entities: ``(B, N)``."""
    device = embeddings[0][0].device
    a, r = qs.anchors[rows].to(device), qs.relations[rows].to(device)
    # DistMult is symmetric in head and tail, so both directions score f(anchor, r, e).
    total = model.score_all_tails(*embeddings[0], a, r)
    for ent, rel in embeddings[1:]:
        total = total + model.score_all_tails(ent, rel, a, r)
    return (total / len(embeddings)).cpu()


def ranks_from_embeddings(
    model: InGram, embeddings: Sequence[tuple[Tensor, Tensor]], qs: QuerySet, batch_size: int = 1024
) -> Tensor:
    """Filtered ranks ``(2Q,)`` of the true answers under the mean score of ``embeddings``."""
    out = []
    with torch.no_grad():
        for start in range(0, len(qs.answers), batch_size):
            rows = slice(start, start + batch_size)
            out.append(filtered_rank(query_scores(model, embeddings, qs, rows), qs.answers[rows], qs.mask[rows]))
    return torch.cat(out)


def embed(
    model: InGram, graph: KnowledgeGraph, seeds: Sequence[int], device: torch.device
) -> list[tuple[Tensor, Tensor]]:
    """One forward pass over ``graph`` per seed (:func:`kgviz.models.ingram.scorer.forward_draws`)."""
    from kgviz.models.ingram.scorer import forward_draws

    return forward_draws(model, graph, seeds, device)


def evaluate(
    model: InGram,
    dataset: BenchmarkDataset,
    split: str = "test",
    *,
    seeds: Sequence[int] = (0,),
    ensemble: int | None = None,
    device: str | torch.device = "auto",
    graph: KnowledgeGraph | None = None,
    stored: tuple[Tensor, Tensor] | None = None,
) -> dict:
    """Filtered MR / MRR / Hits@{1,3,10} of ``model`` on ``dataset``'s ``split``.

    Returns ``{"per_seed": {seed: metrics}, "mean": ..., "std": ..., "ensemble": {...}}``;
    ``ensemble = K`` also ranks by the scores averaged over the first ``K`` seeds
    (more seeds are drawn if fewer were given). ``graph`` overrides the message graph.
    ``stored = (x⁰, z⁰)``: also the metrics of these features (a checkpoint's stored draw,
    :mod:`kgviz.models.ingram.draws`), under ``"stored_draw"``.
    """
    device = pick_device(device)
    model = model.to(device).eval()
    graph = graph or dataset.inference
    queries = dataset.split(split)
    if len(queries) == 0:
        raise ValueError(f"{dataset.name}: the {split} split holds no triples to rank ({split}.txt is empty)")
    known = np.concatenate([graph.triples, dataset.valid, dataset.test])
    qs = query_set(graph, queries, known)
    seeds = list(seeds)
    ens_seeds = seeds[:ensemble] if ensemble else []
    if ensemble and len(ens_seeds) < ensemble:
        ens_seeds += [max(seeds) + 1 + i for i in range(ensemble - len(ens_seeds))]
    all_seeds = list(dict.fromkeys(seeds + ens_seeds))
    embs = dict(zip(all_seeds, embed(model, graph, all_seeds, device)))
    per_seed = {s: metrics(ranks_from_embeddings(model, [embs[s]], qs)) for s in seeds}
    result: dict[str, Any] = {
        "split": split,
        "num_queries": int(len(queries)),
        "seeds": seeds,
        "per_seed": {str(s): m for s, m in per_seed.items()},
        "mean": mean_metrics(list(per_seed.values())),
        "std": std_metrics(list(per_seed.values())),
    }
    if ensemble:
        result["ensemble"] = {
            "k": ensemble,
            "seeds": ens_seeds,
            "metrics": metrics(ranks_from_embeddings(model, [embs[s] for s in ens_seeds], qs)),
        }
    if stored is not None:
        g = graph_tensors(graph, model.num_bin, device)
        with torch.no_grad():
            emb = model(stored[0].to(device), stored[1].to(device), g.triplets, g.relation_triplets)
        result["stored_draw"] = {"metrics": metrics(ranks_from_embeddings(model, [emb], qs))}
    return result


def _metric_table(per: Sequence[dict[str, float]]) -> np.ndarray:
    return np.array([[m[k] for k in METRIC_NAMES] for m in per])  # (draws, metrics)


def mean_metrics(per: Sequence[dict[str, float]]) -> dict[str, float]:
    """Each metric's mean over ``per`` (one metrics dict per draw)."""
    return dict(zip(METRIC_NAMES, _metric_table(per).mean(0).tolist()))


def std_metrics(per: Sequence[dict[str, float]]) -> dict[str, float]:
    """Each metric's standard deviation over ``per`` (population, ``ddof=0``)."""
    return dict(zip(METRIC_NAMES, _metric_table(per).std(0).tolist()))


def draw_metrics(
    model: InGram, dataset: BenchmarkDataset, queries: QuerySet, seeds: Sequence[int], device: torch.device
) -> list[dict[str, float]]:
    """Filtered metrics of ``queries`` over ``dataset``'s inference graph, one dict per single draw in ``seeds``."""
    return [metrics(ranks_from_embeddings(model, [e], queries)) for e in embed(model, dataset.inference, seeds, device)]


def mean_draw_metrics(
    model: InGram, dataset: BenchmarkDataset, queries: QuerySet, seeds: Sequence[int], device: torch.device
) -> dict[str, float]:
    """Filtered metrics of ``queries`` over ``dataset``'s inference graph, mean over single draws ``seeds``."""
    return mean_metrics(draw_metrics(model, dataset, queries, seeds, device))


@dataclass
class PairedDifference:
    """A reference model on the same draws: its metrics and ``Δ = mean_s (MRR_s(model) − MRR_s(reference))``."""

    valid: dict[str, float]
    mrr_difference: float
    standard_error: float  # sd_s(Δ_s) / √n; NaN for one draw
    checkpoint: str | None = None  # where the reference came from, when known


@dataclass
class HoldoutCheck:
    """Valid metrics on held-out draws (draws that chose nothing), optionally paired with a reference."""

    seeds: list[int]
    valid: dict[str, float]
    against: PairedDifference | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.against is None:
            del out["against"]
        elif self.against.checkpoint is None:
            del out["against"]["checkpoint"]
        return out


def holdout_check(
    model: InGram,
    dataset: BenchmarkDataset,
    seeds: Sequence[int],
    device: torch.device | str,
    against: InGram | None = None,
    queries: QuerySet | None = None,
) -> HoldoutCheck:
    """Valid metrics of ``model`` on held-out draws ``seeds`` (draws that chose nothing), unbiased by selection.

    With ``against`` (e.g. the shipped model) both are scored on the same draws and the paired
    difference is reported: Δ = mean_s (MRR_s(model) − MRR_s(against)), standard error sd_s(Δ_s)/√n.
    """
    device = pick_device(device)
    queries = valid_query_set(dataset) if queries is None else queries
    per = draw_metrics(model.to(device).eval(), dataset, queries, seeds, device)
    out = HoldoutCheck(list(seeds), mean_metrics(per))
    if against is not None:
        ref = draw_metrics(against.to(device).eval(), dataset, queries, seeds, device)
        diff = np.array([p["MRR"] - r["MRR"] for p, r in zip(per, ref)])
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
        out.against = PairedDifference(mean_metrics(ref), float(diff.mean()), se)
    return out


def format_metrics(result: dict[str, Any]) -> str:
    """A plain-text table of an :func:`evaluate` result."""
    head = f"{'':>10}" + "".join(f"{k:>10}" for k in METRIC_NAMES)
    lines = [f"{result['split']} split, {result['num_queries']} queries × 2 directions", head]
    fmt = lambda label, m: (
        f"{label:>10}"
        + "".join(  # noqa: E731
            f"{m[k]:>10.1f}" if k == "MR" else f"{m[k]:>10.4f}" for k in METRIC_NAMES
        )
    )
    for s, m in result["per_seed"].items():
        lines.append(fmt(f"seed {s}", m))
    lines.append(fmt("mean", result["mean"]))
    lines.append(fmt("± std", result["std"]))
    if "ensemble" in result:
        lines.append(fmt(f"ens. K={result['ensemble']['k']}", result["ensemble"]["metrics"]))
    if "stored_draw" in result:
        lines.append(fmt("stored", result["stored_draw"]["metrics"]))
    return "\n".join(lines)
