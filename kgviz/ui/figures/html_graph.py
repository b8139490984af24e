"""Self-contained interactive graph pages (pyvis / vis-network), safe and offline.

Safety and offline use of the pyvis graphs (:func:`network_html`):

- the vis-network JavaScript and CSS are inlined from the pyvis package (``cdn_resources="in_line"``)
  and every remaining tag that would load a URL (pyvis adds Bootstrap from a CDN) is removed,
  so the page makes no request;
- user names reach the page only as JSON inside a script, encoded by Jinja's ``tojson``
  (``<``, ``>``, ``&``, ``'`` become ``\\u003c`` …), and vis-network draws labels on a canvas
  and sets tooltips with ``innerText``; the one pyvis template path that uses ``innerHTML``
  (``tooltip_link``) is switched off. A name such as ``<img src=x onerror=alert(1)>`` is
  therefore shown as text and never parsed as HTML.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Sequence

from jinja2 import Template

from pyvis.network import Network

_REMOTE_TAG = re.compile(
    r"<link\b[^>]*\bhref\s*=\s*[\"'](?:https?:)?//[^>]*>"
    r"|<script\b[^>]*\bsrc\s*=\s*[\"'](?:https?:)?//[^>]*>\s*</script>",
    re.IGNORECASE,
)
_COMMENTED_TAGS = re.compile(r"<!--\s*<link[^>]*node_modules.*?-->", re.DOTALL)


# pyvis template switches left off: no DOT source, widget, config panel, menus or notebook mode
_TEMPLATE_FEATURES_OFF = (
    "use_DOT",
    "widget",
    "conf",
    "tooltip_link",
    "neighborhood_highlight",
    "select_menu",
    "filter_menu",
    "notebook",
)


def make_offline(html: str) -> str:
    """Remove every ``<link href=//…>`` / ``<script src=//…>`` tag (CDN loads) from ``html``."""
    return _REMOTE_TAG.sub("", _COMMENTED_TAGS.sub("", html))


@lru_cache(maxsize=1)
def _template() -> Template:
    """pyvis' page template, parsed and compiled once (each ``Network`` would compile it anew: ≈ 0.2 s)."""
    net = Network(cdn_resources="in_line")
    return net.templateEnv.get_template(net.path)


_PAGES: OrderedDict[str, str] = OrderedDict()  # network_html's recent pages, by their arguments as JSON
_PAGES_SIZE = 32
_PAGES_LOCK = threading.Lock()


def network_html(
    nodes: Sequence[dict], edges: Sequence[dict], *, directed: bool, height: int = 520, physics: bool = True
) -> str:
    """A self-contained pyvis page. ``nodes``: dicts with ``id`` and vis options (``label``,
    ``title``, ``color`` …); ``edges``: dicts with ``from``, ``to`` and vis options.

    Titles are plain text (vis-network shows them with ``innerText``); see the module docstring.
    The last :data:`_PAGES_SIZE` pages are kept: a rerun drawing the same graph gets its page back
    without rendering the template again (with the inlined vis-network library, ≈ 0.1 s).
    """
    try:
        key = json.dumps([nodes, edges, directed, height, physics], sort_keys=True)
    except (TypeError, ValueError):  # a value JSON cannot write exactly: no key, no reuse
        return _render(nodes, edges, directed=directed, height=height, physics=physics)
    with _PAGES_LOCK:
        if key in _PAGES:
            _PAGES.move_to_end(key)
            return _PAGES[key]
    html = _render(nodes, edges, directed=directed, height=height, physics=physics)
    with _PAGES_LOCK:
        _PAGES[key] = html
        while len(_PAGES) > _PAGES_SIZE:
            _PAGES.popitem(last=False)
    return html


def _render(nodes: Sequence[dict], edges: Sequence[dict], *, directed: bool, height: int, physics: bool) -> str:
    net = Network(height=f"{height}px", width="100%", directed=directed, cdn_resources="in_line")
    for n in nodes:
        net.add_node(n["id"], **{k: v for k, v in n.items() if k != "id"})
    for e in edges:
        net.add_edge(e["from"], e["to"], **{k: v for k, v in e.items() if k not in ("from", "to")})
    if physics:
        net.barnes_hut(gravity=-4000, central_gravity=0.3, spring_length=120)
        net.options.physics.stabilization = {"iterations": 150}
    else:
        net.toggle_physics(False)
    net.options.interaction.hover = True
    data_nodes, data_edges, heading, h, w, options = net.get_network_data()
    html = _template().render(
        height=h,
        width=w,
        nodes=data_nodes,
        edges=data_edges,
        heading="",
        options=options,
        physics_enabled=physics,
        dot_lang=None,
        bgcolor=net.bgcolor,
        cdn_resources="in_line",
        **dict.fromkeys(_TEMPLATE_FEATURES_OFF, False),
    )
    return make_offline(html)
