"""The lecture's models beside InGram: shallow embeddings (PyKEEN), an entity-inductive R-GCN, InGram.

    from kgviz.models.baselines import TrainOptions, get_model, answer_query, evaluate_queries
    model = get_model("rotate", kg, TrainOptions(time_budget_s=10))   # trained on kg's triples
    ranking = answer_query(model, kg, "Ryan Gosling", "profession", expected="actor")
    print(ranking.cannot_score or [c.name for c in ranking.top], ranking.expected_rank)

Modules: :mod:`.common` (options, scoring interface, ranking, evaluation), :mod:`.shallow` (TransE,
TransR, DistMult, ComplEx, RotatE through PyKEEN), :mod:`.rgcn`, :mod:`.ingram`, :mod:`.models`
(:func:`get_model` by name), :mod:`.split` (the "Why InGram?" split), :mod:`.patterns` (the lecture's
property table, measured), :mod:`.compare` (tables of many models on one KG).
Nothing here imports Streamlit.
"""

from kgviz.models.baselines.common import (
    NoEmbeddingError,
    QueryEvaluation,
    ModelAnswer,
    RankedEntity,
    TrainedModel,
    TrainingInfo,
    TrainOptions,
    TrainProgress,
    evaluate_queries,
    answer_query,
)
from kgviz.models.baselines.models import MODEL_NAMES, TRAINED_MODELS, get_model, parse_model_names

__all__ = [
    "NoEmbeddingError",
    "QueryEvaluation",
    "ModelAnswer",
    "RankedEntity",
    "TrainedModel",
    "TrainingInfo",
    "TrainOptions",
    "TrainProgress",
    "evaluate_queries",
    "answer_query",
    "MODEL_NAMES",
    "TRAINED_MODELS",
    "get_model",
    "parse_model_names",
]
