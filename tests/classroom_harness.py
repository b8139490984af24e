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
import torch  # noqa: E402

from kgviz.data import read_kg  # noqa: E402
from kgviz.model import InGram, InGramConfig  # noqa: E402
from kgviz.ui.classroom import render_classroom  # noqa: E402

st.set_page_config(page_title="kgviz classroom", layout="wide")


@st.cache_resource
def untrained_model() -> InGram:
    torch.manual_seed(0)
    return InGram.from_config(InGramConfig())


name = st.query_params.get("kg") or os.environ.get("KGVIZ_CLASSROOM_KG", "movies")
path = Path(name) if name.endswith((".tsv", ".csv", ".txt")) else ROOT / "sample_kgs" / f"{name}.tsv"
render_classroom(read_kg(path), untrained_model(), model_label="untrained InGram (seed 0)")
