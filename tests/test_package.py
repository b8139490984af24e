"""The installable package: importing kgviz is light, the command line answers --help without torch."""

import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_import_kgviz_leaves_torch_out():
    out = python(
        "import sys, kgviz, kgviz.cli.parser, kgviz.config; print(sorted(m for m in ('torch', 'numpy', 'streamlit') "
        "if m in sys.modules))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_help_parses_without_torch():
    code = (
        "import sys\nfrom kgviz.cli.parser import main\ntry:\n    main(['--help'])\nexcept SystemExit as e:\n"
        "    print('exit', e.code, 'torch' in sys.modules)"
    )
    out = python(code)
    assert out.returncode == 0, out.stderr
    assert "train" in out.stdout and "store-draw" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "exit 0 False"


def test_module_help_is_quick():
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "kgviz", "train", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    elapsed = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr
    assert "--dimension_entity" in out.stdout and "--message-ratio" in out.stdout
    assert elapsed < 5  # a guard only: torch alone takes several seconds to import here


def test_console_script_points_at_main():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"kgviz": "kgviz.cli.parser:main"}
    assert {"app", "test", "bench"} <= set(project["optional-dependencies"])
    pinned = (ROOT / "requirements.txt").read_text(encoding="utf-8").split()
    assert "torch==2.13.0" in pinned and any(p.startswith("networkx==") for p in pinned)
