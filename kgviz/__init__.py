"""kgviz: an explorer for InGram (Lee, Chung, Whang, ICML 2023).

Data flows one way: :mod:`kgviz.data` → :mod:`kgviz.relgraph` → :mod:`kgviz.model` →
:mod:`kgviz.inference` / :mod:`kgviz.evaluation` → figures (:mod:`kgviz.ui`) → ``app.py``.
Nothing here imports Streamlit except the UI package.
"""
from .data import KGFormatError, KnowledgeGraph, from_triples, load_benchmark, read_kg
from .model import InGram, InGramConfig, initial_features
from .relgraph import binned_edges, relation_graph

__all__ = ["KGFormatError", "KnowledgeGraph", "from_triples", "load_benchmark", "read_kg",
           "InGram", "InGramConfig", "initial_features", "binned_edges", "relation_graph"]
__version__ = "0.1.0"
