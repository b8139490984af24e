"""Many models on one KG: the rankings of one query, and the metrics of a benchmark split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from kgviz.graph.data import BenchmarkDataset, KnowledgeGraph
from kgviz.ranking.ranks import METRIC_NAMES
from kgviz.models.baselines.common import (
    QueryEvaluation,
    ModelAnswer,
    TrainOptions,
    TrainProgress,
    evaluate_queries,
    answer_query,
)
from kgviz.models.baselines.ingram import DEFAULT_CHECKPOINT
from kgviz.models.baselines.models import iter_models

__all__ = ["ModelEvaluation", "compare_on_benchmark", "compare_query", "format_compare_table", "format_rankings"]


@dataclass
class ModelEvaluation:
    """One model's figures on a query set, with how long it trained."""

    model: str
    evaluation: QueryEvaluation
    train_seconds: float
    epochs: int


def compare_on_benchmark(
    data: BenchmarkDataset,
    models: Sequence[str],
    options: TrainOptions | None = None,
    *,
    split: str = "test",
    checkpoint: str = str(DEFAULT_CHECKPOINT),
    progress: Callable[[str], None] | None = None,
    train_progress: Callable[[TrainProgress], None] | None = None,
) -> list[ModelEvaluation]:
    """Train each model on ``data``'s inference graph (``msg.txt``) and rank ``split`` (filtered, as ``evaluate``)."""
    graph = data.inference
    queries = data.split(split)
    if len(queries) == 0:
        raise ValueError(f"{data.name}: the {split} split holds no triples to rank")
    true = np.concatenate([graph.triples, data.valid, data.test])
    return [
        ModelEvaluation(m.name, evaluate_queries(m, graph, queries, true), m.info.seconds, m.info.epochs)
        for m in iter_models(
            models, graph, options, checkpoint=checkpoint, progress=progress, train_progress=train_progress
        )
    ]


def compare_query(
    kg: KnowledgeGraph,
    anchor: str,
    relation: str,
    models: Sequence[str],
    options: TrainOptions | None = None,
    *,
    direction: str = "tail",
    expected: str | None = None,
    top_k: int = 10,
    checkpoint: str = str(DEFAULT_CHECKPOINT),
    progress: Callable[[str], None] | None = None,
    train_progress: Callable[[TrainProgress], None] | None = None,
) -> list[ModelAnswer]:
    """Train each model on ``kg`` and rank the query ``(anchor, relation, ?)`` (or ``(?, relation, anchor)``)."""
    return [
        answer_query(m, kg, anchor, relation, direction=direction, top_k=top_k, expected=expected)
        for m in iter_models(
            models, kg, options, checkpoint=checkpoint, progress=progress, train_progress=train_progress
        )
    ]


def format_compare_table(results: Sequence[ModelEvaluation], title: str = "") -> str:
    """Plain-text table in the layout of ``kgviz evaluate``: one row per model."""
    width = max([len(r.model) for r in results] + [10]) + 2
    lines = [title] if title else []
    lines.append(
        f"{'model':<{width}}" + "".join(f"{k:>9}" for k in METRIC_NAMES) + f"{'train s':>9}{'epochs':>8}  scored"
    )
    for r in results:
        ev = r.evaluation
        row = f"{r.model:<{width}}"
        if ev.metrics is None:
            row += f"  {ev.cannot_score}"
        else:
            row += "".join(f"{ev.metrics[k]:>9.1f}" if k == "MR" else f"{ev.metrics[k]:>9.4f}" for k in METRIC_NAMES)
            row += f"{r.train_seconds:>9.1f}{r.epochs:>8}  {ev.num_scored}/{ev.num_queries}"
        lines.append(row)
    return "\n".join(lines)


def format_rankings(rankings: Sequence[ModelAnswer]) -> str:
    """Each model's top candidates side by side with the rank of the expected answer."""
    lines = []
    for q in rankings:
        query = f"({q.anchor}, {q.relation}, ?)" if q.direction == "tail" else f"(?, {q.relation}, {q.anchor})"
        lines.append(f"{q.model}: {query}")
        if q.cannot_score:
            lines.append(f"  {q.cannot_score}")
        for c in q.top:
            lines.append(f"  {c.rank:>3}. {c.name}  {c.score:.4f}{'  (known)' if c.known else ''}")
        if q.expected is not None:
            shown = q.expected_cannot_score or (f"filtered rank {q.expected_rank}" if q.expected_rank else "")
            if not q.cannot_score:
                lines.append(f"  expected {q.expected}: {shown}")
    return "\n".join(lines)
