"""``streamlit run`` in a process where every adaptation counts as an improvement.

For browser tests of what happens *after* an adaptation is accepted (it is listed, kept in the workspace,
found again after a reload): whether a run is accepted is decided on held-out facts and tested in
``tests/test_adapt.py`` and ``tests/test_ui_pages_adapt.py``; here a short run on a small KG would be
(rightly) refused. Usage: ``python tests/accepting_server.py run app.py --server.port …``.
"""

import sys

import kgviz.training.adapt
from streamlit.web.cli import main

kgviz.training.adapt.AdaptResult.improved = property(lambda self: True)  # type: ignore[method-assign,assignment]

if __name__ == "__main__":
    sys.exit(main(prog_name="streamlit"))
