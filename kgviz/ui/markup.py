"""Escaping user text (entity and relation names) for the places it is shown.

One character set for Markdown: every ASCII character Markdown, Streamlit's LaTeX (``$``) or an
HTML tag (``<``, ``>``) could read as syntax is backslash-escaped, so a name reads literally.
Names put into running text go through one helper, :func:`name_md` (or :func:`name_html` where the
Markdown takes HTML, with the full name on hover): a name longer than :data:`NAME_LIMIT` characters is
cut to its first ``NAME_LIMIT - 1`` characters and "…".
"""

from __future__ import annotations

import html
import re
from typing import Iterable

MARKDOWN_SPECIAL = "\\`*_{}[]()<>#+-.!|$~"
_MARKDOWN_SPECIAL = re.compile("([" + re.escape(MARKDOWN_SPECIAL) + "])")


NAME_LIMIT = 60  # characters of a name shown in running text; the rest is cut ("…")


def short_name(name: str, limit: int = NAME_LIMIT) -> str:
    """``name`` itself when it has at most ``limit`` characters, else its first ``limit - 1`` and "…"."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def name_md(name: str, limit: int = NAME_LIMIT) -> str:
    """A name in Markdown running text: cut to ``limit`` characters (:func:`short_name`), then escaped."""
    return escape_markdown(short_name(name, limit))


def name_html(name: str, limit: int = NAME_LIMIT) -> str:
    """A name in Markdown that takes raw HTML (``unsafe_allow_html``): cut to ``limit`` characters,
    HTML- and Markdown-escaped, with the whole name on hover when it was cut (``title`` attribute)."""
    shown = escape_markdown(html.escape(short_name(name, limit), quote=False))
    if len(name) <= limit:
        return shown
    return f'<span title="{html.escape(name, quote=True)}">{shown}</span>'


def text_with_short_names(text: str, names: Iterable[str], limit: int = NAME_LIMIT) -> str:
    """``text`` (plain, e.g. a library's message) escaped for Markdown, with each of ``names`` longer
    than ``limit`` cut as :func:`short_name` cuts it (longest names first, so no name cuts another)."""
    long_names = sorted({n for n in names if len(n) > limit}, key=len, reverse=True)
    if not long_names:
        return escape_markdown(text)
    pattern = re.compile("|".join(re.escape(n) for n in long_names))
    parts, last = [], 0
    for found in pattern.finditer(text):
        parts += [escape_markdown(text[last : found.start()]), name_md(found.group(0), limit)]
        last = found.end()
    return "".join(parts) + escape_markdown(text[last:])


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
