"""kgviz: an explorer for InGram (Lee, Chung, Whang, ICML 2023).

Data flows one way: :mod:`kgviz.data` → :mod:`kgviz.relgraph` → :mod:`kgviz.model` →
:mod:`kgviz.inference` / :mod:`kgviz.evaluation` → figures (:mod:`kgviz.ui`) → ``app.py``.
Nothing here imports Streamlit except the UI package. Importing the package imports nothing
else (no torch): import the module you need, e.g. ``from kgviz.data import read_kg``.

"spec §N" in docstrings cites section N of ``docs/algorithm.md``: InGram as kgviz computes it.
"""

__version__ = "0.1.0"
