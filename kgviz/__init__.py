"""kgviz: an explorer for InGram (Lee, Chung, Whang, ICML 2023).

Data flows one way, one package per concern: :mod:`kgviz.graph` (KGs, InGram's relation graph) →
:mod:`kgviz.models` (one scorer interface: InGram, ULTRA, counting, the lecture's trained models) →
:mod:`kgviz.ranking` (the one ranking path) → :mod:`kgviz.evaluation` (benchmarks, transfer, self-check,
leaderboard) → figures (:mod:`kgviz.ui`) → ``app.py``; :mod:`kgviz.training`, :mod:`kgviz.classroom` and
:mod:`kgviz.cli` beside them.
Nothing here imports Streamlit except the UI package. Importing the package imports nothing
else (no torch): import the module you need, e.g. ``from kgviz.graph.data import read_kg``.

"spec §N" in docstrings cites section N of ``docs/algorithm.md``: InGram as kgviz computes it.
"""

__version__ = "0.1.0"
