"""Where the ULTRA reference material lives for tests: ``$KGVIZ_SHARED`` (default ``<repo>/../shared``)."""

import json
import os
from pathlib import Path

import pytest

from kgviz.graph.data import from_triples

ROOT = Path(__file__).resolve().parent.parent
MOVIES = ROOT / "sample_kgs" / "movies.tsv"


def shared_dir() -> Path:
    return Path(os.environ.get("KGVIZ_SHARED") or ROOT.parent / "shared")


def fixture(name: str) -> dict:
    """The parsed ``ultra/fixtures/<name>``, or a skip that says where it was looked for."""
    path = shared_dir() / "ultra" / "fixtures" / name
    if not path.is_file():
        pytest.skip(f"{path} is missing (set KGVIZ_SHARED to the folder holding ultra/fixtures)")
    return json.loads(path.read_text())


def fixture_kg(fx: dict):
    """The fixture's KG with the fixture's own numbering (its entity and relation lists seed the ids)."""
    return from_triples(fx["triples"], entities=fx["entities"], relations=fx["relations"], source="fixture")
