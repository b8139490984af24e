"""Releasing trained weights: model-card text and the stored draw, written in one place.

Used by ``kgviz select`` / ``kgviz store-draw`` and by ``scripts/package_pretrained.py``.
"""
from __future__ import annotations

__all__ = ["PAPER"]

# Lee et al. 2023, test MRR / Hits@10 of the sets the model cards compare with.
PAPER = {"NL-100": (0.309, 0.506), "WK-100": (0.107, 0.169)}
