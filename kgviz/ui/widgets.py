"""Widgets and display helpers shared by the pages."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import plotly.graph_objects as go
import streamlit as st

from kgviz.ui import state as S


def page_intro(text: str) -> None:
    """The caption at the top of a page saying what it shows, after "**What am I looking at?**"."""
    st.caption(f"**What am I looking at?** {text}")


def show_html(html: str, height: int, *, file_name: str, key: str) -> None:
    """A generated HTML page in an iframe, with a download button for it."""
    st.iframe(html, height=height + 30)
    st.download_button("Export figure (HTML)", html, file_name=file_name, mime="text/html", key=key, on_click="ignore")


def export_plotly(fig: go.Figure, *, file_name: str, key: str) -> None:
    """A download button for ``fig`` as a self-contained HTML page."""
    st.download_button(
        "Export figure (HTML)",
        lambda: fig.to_html(include_plotlyjs=True),
        file_name=file_name,
        mime="text/html",
        key=key,
        on_click="ignore",
    )


def seed_widget(key: str) -> int:
    """The random draw (seed) of the initial features."""
    return int(
        st.number_input(
            "Random draw (seed)",
            0,
            10_000,
            0,
            key=key,
            help="InGram starts from random features; the seed picks the draw.",
        )
    )


def default_index(key: str, index: int) -> int | None:
    """``index`` for a widget's first draw; ``None`` once its key holds a value (picked by the
    user, or carried over to a new KG by :func:`kgviz.ui.state.begin_run`), so that value shows."""
    return None if st.session_state.get(key) is not None else index


def layer_name(layer: int) -> str:
    """Layers are numbered from 1 in every view: id 0 is ``"layer 1"``."""
    return f"layer {layer + 1}"


def stored_select(
    label: str,
    options: Sequence[Any],
    state_key: str,
    default: Any,
    *,
    format_func: Callable[[Any], str] = str,
    help: str | None = None,
) -> Any:
    """A selectbox whose value survives runs where it is not drawn, e.g. other classroom steps (kept in ``state_key``;
    the widget is ``state_key + "_w"``)."""
    widget_key = state_key + "_w"
    if st.session_state.get(state_key) not in options:
        st.session_state[state_key] = default
    if st.session_state.get(widget_key) not in options:
        st.session_state[widget_key] = st.session_state[state_key]

    def copy() -> None:
        st.session_state[state_key] = st.session_state[widget_key]

    st.selectbox(label, options, key=widget_key, format_func=format_func, on_change=copy, help=help)
    return st.session_state[state_key]


def linked_select(
    label: str, options: Sequence[Any], key: str, format_func: Callable[[Any], str], **kwargs: Any
) -> Any:
    """A selectbox kept in the page address (``bind="query-params"``), empty at first; a stored value
    no longer among ``options`` is forgotten first. ``kwargs`` go to ``st.selectbox``."""
    S.forget_invalid(st.session_state, key, options)
    return st.selectbox(label, options, index=None, key=key, bind="query-params", format_func=format_func, **kwargs)
