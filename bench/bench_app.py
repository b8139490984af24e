"""Query latency of the explorer on a 1,000-triple KG (target: a new query ranked within 0.3 s).

Measures the app's own code path:

1. ``cold``: the first query on a new KG / seed set — builds the cached :class:`Predictor`
   (relation graph + one forward pass per seed) and ranks;
2. ``warm``: a new (head, relation) query once the predictor is cached — what a user changing the
   query waits for (``kgviz.ui.cache.query_ranking``, not yet cached for that query);
3. ``app rerun``: the whole Streamlit script rerun after changing the query's head in the
   Predictions view (``AppTest``, headless: Python side only, no browser drawing).

Run: ``.venv/bin/python bench/bench_app.py`` (the untrained default-size model, CPU).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from pathlib import Path

import numpy as np

from kgviz.catalog import UNTRAINED, UNTRAINED_LABEL
from kgviz.graph.data import from_triples
from kgviz.ui import cache
from kgviz.ui import state as S

ROOT = Path(__file__).resolve().parents[1]


def bench_kg(num_triples: int = 1000, seed: int = 0):
    """People, cities, countries and films: ``num_triples`` typed triples over 8 relations."""
    rng = np.random.default_rng(seed)
    rels = ["lives_in", "born_in", "located_in", "acted_in", "directed", "citizen_of", "likes", "knows"]
    rows = set()
    while len(rows) < num_triples:
        r = rels[rng.integers(len(rels))]
        h = f"person{rng.integers(300)}" if r != "located_in" else f"city{rng.integers(40)}"
        t = {
            "lives_in": f"city{rng.integers(40)}",
            "born_in": f"city{rng.integers(40)}",
            "located_in": f"country{rng.integers(8)}",
            "acted_in": f"film{rng.integers(120)}",
            "directed": f"film{rng.integers(120)}",
            "citizen_of": f"country{rng.integers(8)}",
            "likes": f"film{rng.integers(120)}",
            "knows": f"person{rng.integers(300)}",
        }[r]
        rows.add((h, r, t))
    return from_triples(sorted(rows), source=f"bench-{num_triples}")


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--triples", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--ensemble", type=int, default=8, help="K for the ensemble measurement")
    ap.add_argument("--no-app", action="store_true", help="skip the AppTest rerun measurement")
    args = ap.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)

    threads = cache.configure_torch()
    kg = bench_kg(args.triples)
    model = cache.load_model(UNTRAINED, None, "cpu")
    rng = np.random.default_rng(1)
    queries = [
        (kg.entities[int(kg.triples[i, 0])], kg.relations[int(rng.integers(kg.num_relations))])
        for i in rng.choice(kg.num_triples, args.queries, replace=False)
    ]
    print(
        f"KG: {kg.num_entities} entities, {kg.num_relations} relations, {kg.num_triples} triples; "
        f"model: untrained default config (d̂=d=32, 2+2 layers, 8 heads); torch threads "
        f"{threads} (KGVIZ_TORCH_THREADS; machine has {os.cpu_count()} cores)"
    )

    for seeds in [(0,), tuple(range(args.ensemble))]:
        cold, _ = timed(cache.get_predictor, model, kg, seeds)
        h, r = queries[0]
        first, _ = timed(cache.query_ranking, model, kg, seeds, "tail", h, r)
        warm = []
        for h, r in queries[1:]:
            dt, frame = timed(cache.query_ranking, model, kg, seeds, "tail", h, r)
            warm.append(dt)
        warm.sort()
        print(
            f"K={len(seeds)}: cold (predictor + first ranking) {cold + first:.3f} s; "
            f"warm new query median {statistics.median(warm) * 1000:.1f} ms, "
            f"p95 {warm[int(0.95 * (len(warm) - 1))] * 1000:.1f} ms, max {warm[-1] * 1000:.1f} ms "
            f"({len(warm)} queries)"
        )

    if args.no_app:
        return
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    version = at.session_state[S.CURRENT_KG].version
    at.session_state[S.CURRENT_KG] = S.CurrentKG(kg, kg.source, None, version + 1)
    at.selectbox(key="model").set_value(UNTRAINED_LABEL)
    at.radio(key="view").set_value("Predictions").run()
    reruns = []
    for h, r in queries[1:11]:
        at.selectbox(key="q_anchor").set_value(h)
        dt, _ = timed(at.selectbox(key="q_rel").set_value(r).run)
        assert not at.exception, at.exception
        reruns.append(dt)
    print(
        f"app rerun after a new query (AppTest, Python side): median {statistics.median(reruns):.3f} s, "
        f"max {max(reruns):.3f} s ({len(reruns)} queries)"
    )


if __name__ == "__main__":
    main()
