"""Classroom walkthrough page (placeholder until the classroom issue lands)."""
from __future__ import annotations

from ..data import KnowledgeGraph
from ..model import InGram


def render_classroom(kg: KnowledgeGraph, model: InGram, *, model_label: str) -> None:
    """Draw the classroom walkthrough for ``kg`` with ``model`` (a Streamlit page body)."""
    import streamlit as st

    st.info("The classroom walkthrough is not built yet.")
