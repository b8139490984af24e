"""A minimal Streamlit app around the classroom page, for AppTest and screenshots.

Run: ``.venv/bin/streamlit run tests/classroom_harness.py`` and open ``?kg=movies&step=3``.
The KG is a sample name (``?kg=literature``) or a path to a TSV file, from the ``kg`` query
parameter or the ``KGVIZ_CLASSROOM_KG`` environment variable; the model is an untrained InGram
(seed 0), so only numbers that do not depend on training are meaningful.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from kgviz.catalog import UNTRAINED  # noqa: E402
from kgviz.graph.data import read_kg  # noqa: E402
from kgviz.ui.cache import load_model  # noqa: E402
from kgviz.ui.context import PageContext  # noqa: E402
from kgviz.ui.pages import classroom  # noqa: E402
from kgviz.ui.state import CurrentKG  # noqa: E402

st.set_page_config(page_title="kgviz classroom", layout="wide")

name = st.query_params.get("kg") or os.environ.get("KGVIZ_CLASSROOM_KG", "movies")
path = Path(name) if name.endswith((".tsv", ".csv", ".txt")) else ROOT / "sample_kgs" / f"{name}.tsv"
kg = read_kg(path)
classroom.render(
    PageContext.with_model(
        current=CurrentKG(kg, str(kg.source), None, 1),
        model=load_model(UNTRAINED, None, "cpu"),
        model_label="untrained InGram (seed 0)",
    )
)
