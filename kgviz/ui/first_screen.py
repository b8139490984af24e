"""The two lines at the top of the first screen: what to try first, with links that open it.

The links are page addresses with the query parameters the app already reads (``preset``, ``view``,
``q_anchor``, ``q_rel``, ``step``), opened in the same tab: the lecture's query on the KG it comes
from, and the classroom's first step.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

import streamlit as st

from kgviz.catalog import BUILTIN_KEY, Preset
from kgviz.ui import state as S

LECTURE_QUERY = ("Ryan Gosling", "profession")  # the lecture's query (head, relation, ?)
LECTURE_PRESETS = ("sample:movies", BUILTIN_KEY)  # KGs holding it, the first one present is linked


def lecture_links(presets: list[Preset]) -> tuple[str, str]:
    """The addresses (``?…``) of Predictions of the lecture's query and of the classroom's step 1."""
    by_key = {p.key: p for p in presets}
    preset = next((by_key[k] for k in LECTURE_PRESETS if k in by_key), None)
    common = {} if preset is None else {S.PRESET: preset.label}
    anchor, relation = LECTURE_QUERY
    query = {**common, S.VIEW: "Predictions", S.Q_ANCHOR: anchor, S.Q_REL: relation}
    classroom = {**common, S.VIEW: "Classroom", "step": "1"}
    return "?" + urlencode(query), "?" + urlencode(classroom)


def what_to_try_html(presets: list[Preset]) -> str:
    """Two lines of Markdown with HTML links (same tab): the lecture's query and the classroom."""
    query, classroom = (html.escape(u, quote=True) for u in lecture_links(presets))
    anchor, relation = LECTURE_QUERY
    return (
        f'**What to try first:** <a href="{query}" target="_self">Predictions of ({anchor}, {relation}, ?)</a>'
        " — the lecture's query on the movies KG.  \n"
        f'Or walk through InGram in eight steps in the <a href="{classroom}" target="_self">Classroom</a>'
        " (presenter mode for a projector)."
    )


def what_to_try(presets: list[Preset]) -> None:
    """The two lines, in a bordered box."""
    with st.container(border=True):
        st.markdown(what_to_try_html(presets), unsafe_allow_html=True)
