"""Escaping user text (entity and relation names) for the places it is shown.

One character set for Markdown: every ASCII character Markdown, Streamlit's LaTeX (``$``) or an
HTML tag (``<``, ``>``) could read as syntax is backslash-escaped, so a name reads literally.
"""

from __future__ import annotations

import html
import re

MARKDOWN_SPECIAL = "\\`*_{}[]()<>#+-.!|$~"
_MARKDOWN_SPECIAL = re.compile("([" + re.escape(MARKDOWN_SPECIAL) + "])")


def escape_markdown(text: str) -> str:
    """``text`` shown literally in Markdown (names may contain ``*``, ``$``, ``<`` …)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def display_text(name: str) -> str:
    """``name`` as literal text in a Markdown renderer with raw HTML enabled (the canvas):
    HTML-escaped, then Markdown-escaped."""
    return escape_markdown(html.escape(name, quote=True))


def count_of(n: int, singular: str, plural: str | None = None) -> str:
    """``"1 triple"``, ``"2,378 triples"``; ``plural`` for irregular nouns (entity → entities)."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


def kg_counts(num_entities: int, num_relations: int, num_triples: int) -> str:
    """``"12 entities, 1 relation, 14 triples"`` with the right plurals."""
    return (
        f"{count_of(num_entities, 'entity', 'entities')}, {count_of(num_relations, 'relation')}, "
        f"{count_of(num_triples, 'triple')}"
    )
