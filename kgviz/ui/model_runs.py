"""The lecture's models run from the app: trained on a button, a progress bar each, results kept by key.

Everything is computed by :mod:`kgviz.models.baselines`; this module only draws progress and keeps results in a
:class:`~kgviz.ui.cache.ResultStore`, keyed by the KG's and the InGram model's fingerprints, the seed,
the device and the training budget.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import streamlit as st

from kgviz.models.baselines import TrainedModel, TrainOptions, TrainProgress, get_model
from kgviz.models.baselines.ingram import InGramModel
from kgviz.models.baselines.models import ScorerModel
from kgviz.models.baselines.patterns import PATTERNS, PropertyTable, property_table
from kgviz.models.baselines.split import ModelGroupScores, WhyInGramSplit, score_model
from kgviz.graph.data import KnowledgeGraph
from kgviz.ui.cache import LoadedModel, result_store

WHY_MODELS = ("transe", "transr", "distmult", "complex", "rotate", "rgcn", "ingram")
MODEL_LABELS = {
    "transe": "TransE",
    "transr": "TransR",
    "distmult": "DistMult",
    "complex": "ComplEx",
    "rotate": "RotatE",
    "rgcn": "RGCN",
    "ingram": "InGram",
}


def ingram_of(model: LoadedModel, label: str) -> TrainedModel:
    """The app's current model as the zero-shot row of the comparisons: InGram (scores averaged over 5 draws),
    or a model that is not InGram (ULTRA) through its scorer, named ``label``."""
    if not model.is_ingram:
        scorer_model = ScorerModel(model.scorer)
        scorer_model.name = label
        return scorer_model
    return InGramModel(model.model, f"InGram ({label})", device=model.device)


def train_options(budget_s: float, seed: int, device: str, max_epochs: int = 1000) -> TrainOptions:
    """Short CPU-friendly training: ``budget_s`` seconds (or ``max_epochs``) on one torch thread."""
    return TrainOptions(
        time_budget_s=budget_s, max_epochs=max_epochs, seed=seed, device=device, threads=1, progress_bar=False
    )


def _bar_callback(bar: Any, text: str) -> Callable[[TrainProgress], None]:
    """A training progress callback moving ``bar`` by the larger of the epoch and the time fractions."""

    def update(p: TrainProgress) -> None:
        done = min(1.0, max(p.epoch / max(p.max_epochs, 1), p.elapsed_s / max(p.time_budget_s, 1e-9)))
        bar.progress(done, text=f"{text}: epoch {p.epoch}, {p.elapsed_s:.1f} s, loss {p.loss:.4f}")

    return update


def trained_model(kg: KnowledgeGraph, name: str, budget_s: float, device: str, seed: int = 0) -> TrainedModel:
    """Model ``name`` (a key of :data:`kgviz.models.baselines.TRAINED_MODELS`) trained on ``kg``, kept once trained."""
    store = result_store("trained_models", 24)
    key = (kg.fingerprint, name, float(budget_s), device, seed)
    model = store.get(key)
    if model is None:
        text = f"training {MODEL_LABELS.get(name, name)} on the KG ({budget_s:g} s)"
        bar = st.progress(0.0, text=text)
        model = get_model(name, kg, train_options(budget_s, seed, device), progress=_bar_callback(bar, text))
        bar.empty()
        store.put(key, model)
    return model


def _why_key(split: WhyInGramSplit, name: str, budget_s: float, model: LoadedModel) -> tuple:
    if name == "ingram":
        return (split.kg.fingerprint, split.seed, name, model.fingerprint)
    return (split.kg.fingerprint, split.seed, name, float(budget_s), model.device)


def why_scores(
    split: WhyInGramSplit,
    budget_s: float,
    model: LoadedModel,
    model_label: str,
    *,
    train: bool,
    names: Sequence[str] = WHY_MODELS,
) -> list[ModelGroupScores] | None:
    """Each model's scores per group of ``split``: those kept, plus, when ``train``, the others trained now.

    ``None`` when some are missing and ``train`` is false.
    """
    store = result_store("why_scores", 64)
    kept = {n: store.get(_why_key(split, n, budget_s, model)) for n in names}
    found: dict[str, ModelGroupScores] = {n: scores for n, scores in kept.items() if scores is not None}
    missing = [n for n in names if n not in found]
    if missing and not train:
        return None
    overall = st.progress(0.0) if missing else None
    for i, name in enumerate(missing):
        text = f"{MODEL_LABELS[name]} ({i + 1}/{len(missing)})"
        if overall is not None:
            overall.progress(i / len(missing), text=f"training and scoring {text}")
        if name == "ingram":
            scores = score_model(split, name, model=ingram_of(model, model_label))
        else:
            bar = st.progress(0.0, text=f"training {text}")
            scores = score_model(
                split,
                name,
                train_options(budget_s, split.seed, model.device),
                train_progress=_bar_callback(bar, f"training {text}"),
            )
            bar.empty()
        store.put(_why_key(split, name, budget_s, model), scores)
        found[name] = scores
    if overall is not None:
        overall.empty()
    return [found[n] for n in names]


def measured_property_table(
    model: LoadedModel, model_label: str, epochs: int, *, measure: bool, seed: int = 0
) -> PropertyTable | None:
    """The property table measured here (the current InGram as its InGram row), kept; ``None`` if not yet."""
    store = result_store("property_tables", 8)
    key = (model.fingerprint, epochs, seed)
    table = store.get(key)
    if table is not None or not measure:
        return table
    cells = len(WHY_MODELS) * len(PATTERNS)
    bar = st.progress(0.0, text="measuring the property table")
    done = [0]

    def progress(name: str, pattern: str) -> None:
        bar.progress(done[0] / cells, text=f"{MODEL_LABELS[name]} on the {pattern} KG ({done[0] + 1}/{cells})")
        done[0] += 1

    options = TrainOptions(
        max_epochs=epochs, time_budget_s=15.0, seed=seed, device=model.device, threads=1, progress_bar=False
    )
    table = property_table(WHY_MODELS, options, seed=seed, ingram=ingram_of(model, model_label), progress=progress)
    bar.empty()
    store.put(key, table)
    return table
