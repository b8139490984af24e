"""The explorer's first screen (Data view) and its KG view import no torch; a model view does.

Run in a fresh interpreter each (this test process has torch loaded already). What keeps torch out:
pages imported when shown (``kgviz.ui.pages.page``), the model loaded by the first page that
needs it (``PageContext.load_model``), ``available_devices`` asking torch only where a GPU driver is.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kgviz.ui.cache import GPU_DEVICE_FILES

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, logging, sys
logging.getLogger("streamlit").setLevel(logging.ERROR)
from streamlit.testing.v1 import AppTest
import kgviz.ui.cache
kgviz.ui.cache.WARM_UP_MODULES = ()  # the background imports after a run would race the check
at = AppTest.from_file({app!r}, default_timeout=300)
at.query_params["view"] = {view!r}
at.run()
loaded = "torch" in sys.modules
print(json.dumps({{"exception": [str(e.value) for e in at.exception], "torch": loaded,
                  "title": [t.value for t in at.title]}}))
"""


def run_app(view: str) -> dict:
    code = SCRIPT.format(app=str(ROOT / "app.py"), view=view)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(any(os.path.exists(f) for f in GPU_DEVICE_FILES), reason="a GPU driver: torch is asked")
@pytest.mark.parametrize(("view", "torch_loaded"), [("Data", False), ("KG", False), ("Predictions", True)])
def test_views_import_torch_only_when_they_use_the_model(view, torch_loaded):
    result = run_app(view)
    assert result["exception"] == []
    assert view in result["title"]
    assert result["torch"] is torch_loaded
