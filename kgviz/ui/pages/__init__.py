"""One module per view of the explorer, each with ``render(ctx: PageContext) -> None``.

:data:`PAGES` maps the view names shown in the sidebar to the page modules, in sidebar order.
A new page: add a module here with a ``render(ctx)`` and declare its widget keys in
:mod:`kgviz.ui.state`.
"""

from __future__ import annotations

from types import ModuleType

from . import adapt, attention, classroom, data, kg, predictions, relation_graph, selfcheck, whatif, why_ingram

PAGES: dict[str, ModuleType] = {
    "Data": data,
    "KG": kg,
    "Relation graph": relation_graph,
    "Attention": attention,
    "Predictions": predictions,
    "Self-check": selfcheck,
    "Adapt": adapt,
    "What-if": whatif,
    "Classroom": classroom,
    "Why InGram?": why_ingram,
}
