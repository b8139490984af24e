"""One module per view of the explorer, each with ``render(ctx: PageContext) -> None``.

:data:`PAGES` maps the view names shown in the sidebar to the page modules' names, in sidebar
order; :func:`page` imports a page when it is first shown, so that the first screen does not
wait for the other views' imports (plotly, pyvis, scipy's clustering, the baselines …).
A new page: add a module here with a ``render(ctx)`` and declare its widget keys in
:mod:`kgviz.ui.state`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PAGES: dict[str, str] = {
    "Data": "data",
    "KG": "kg",
    "Relation graph": "relation_graph",
    "Attention": "attention",
    "Predictions": "predictions",
    "Self-check": "selfcheck",
    "Adapt": "adapt",
    "What-if": "whatif",
    "Classroom": "classroom",
    "Why InGram?": "why_ingram",
}


def page(view: str) -> ModuleType:
    """The module of ``view`` (a key of :data:`PAGES`), imported on first use."""
    return importlib.import_module(f"{__name__}.{PAGES[view]}")
