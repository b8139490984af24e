"""Small synthetic KGs and benchmark folders for training/evaluation tests."""

from pathlib import Path

import numpy as np


def random_triples(num_entities: int, num_relations: int, num_triples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.stack(
        [
            rng.integers(0, num_entities, num_triples),
            rng.integers(0, num_relations, num_triples),
            rng.integers(0, num_entities, num_triples),
        ],
        axis=1,
    )
    return np.unique(t, axis=0)


def typed_graph(prefix: str, rng: np.random.Generator, people: int = 150, cities: int = 20, countries: int = 5):
    """People live in cities, cities lie in countries, people are citizens of their city's country.

    Entity types are visible from the structure alone, so a model can learn which entities fit
    the tail of each relation even from random initial features.
    """
    person = [f"{prefix}person{i}" for i in range(people)]
    city = [f"{prefix}city{i}" for i in range(cities)]
    country = [f"{prefix}country{i}" for i in range(countries)]
    rows = []
    city_country = rng.integers(0, countries, cities)
    for c in range(cities):
        rows.append((city[c], f"{prefix}located_in", country[city_country[c]]))
    for p in range(people):
        c = rng.integers(0, cities)
        rows.append((person[p], f"{prefix}lives_in", city[c]))
        rows.append((person[p], f"{prefix}citizen_of", country[city_country[c]]))
        for q in rng.choice(people, 2, replace=False):
            if q != p:
                rows.append((person[p], f"{prefix}knows", person[q]))
    return rows


def write_benchmark(folder: Path, seed: int = 0) -> Path:
    """A folder in the InGram layout: a typed train graph and an inference graph with new names."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    train = typed_graph("tr_", rng)
    inf = typed_graph("in_", rng, people=100)
    order = rng.permutation(len(inf))
    inf = [inf[i] for i in order]
    n_q = len(inf) // 10
    valid, test, msg = inf[:n_q], inf[n_q : 2 * n_q], inf[2 * n_q :]
    msg_ents = {e for h, _, t in msg for e in (h, t)}
    msg_rels = {r for _, r, _ in msg}
    keep = lambda rows: [x for x in rows if x[0] in msg_ents and x[2] in msg_ents and x[1] in msg_rels]  # noqa: E731
    for name, rows in (("train", train), ("msg", msg), ("valid", keep(valid)), ("test", keep(test))):
        (folder / f"{name}.txt").write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in rows), encoding="utf-8")
    return folder


# A tiny model (D̂ = D = 16, 2 heads, one layer of each kind) for training and selection tests.
TINY = dict(
    dimension_entity=8,
    dimension_relation=8,
    hidden_dimension_ratio_entity=2,
    hidden_dimension_ratio_relation=2,
    num_head=2,
    num_layer_ent=1,
    num_layer_rel=1,
    num_bin=3,
)
