"""Time `kgviz compare --data` (six trained models + InGram) on a ~1,000-triple benchmark-layout folder.

The folder is a connected subgraph of a benchmark's msg.txt (default NL-100; never an FB set): a
breadth-first walk from a seeded start entity collects ~1,000 triples; 5 % each become valid.txt and
test.txt, drawn among triples whose entities and relation keep other triples in msg.txt (so every
model can score them). Prints the wall time of the whole command next to the bar (300 s on the
2-core CPU) and each model's training time from the table.

    python bench/bench_compare.py [--source $KGVIZ_DATA/NL-100] [--triples 1000] [--budget 25]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgviz.graph.data import load_benchmark  # noqa: E402

BAR_SECONDS = 300.0


def connected_subgraph(triples: list[tuple[str, str, str]], size: int, seed: int) -> list[tuple[str, str, str]]:
    """About ``size`` triples reached breadth-first from a seeded start entity."""
    rng = np.random.default_rng(seed)
    touching: dict[str, list[int]] = {}
    for i, (h, _, t) in enumerate(triples):
        touching.setdefault(h, []).append(i)
        touching.setdefault(t, []).append(i)
    names = sorted(touching)
    start = names[int(rng.integers(len(names)))]
    seen_e, kept, queue = {start}, [], deque([start])
    taken = np.zeros(len(triples), dtype=bool)
    while queue and len(kept) < size:
        e = queue.popleft()
        for i in touching[e]:
            if not taken[i] and len(kept) < size:
                taken[i] = True
                kept.append(triples[i])
                for x in (triples[i][0], triples[i][2]):
                    if x not in seen_e:
                        seen_e.add(x)
                        queue.append(x)
    return kept


def hold_out(triples: list[tuple[str, str, str]], share: float, seed: int) -> tuple[list, list, list]:
    """msg, valid, test: ``share`` of the triples each for valid and test, their names kept in msg."""
    rng = np.random.default_rng(seed)
    count: dict[str, int] = {}
    for h, r, t in triples:
        for x in (h, "\0" + r, t):
            count[x] = count.get(x, 0) + 1
    want = int(share * len(triples))
    held: list[int] = []
    for i in rng.permutation(len(triples)).tolist():
        h, r, t = triples[i]
        if len(held) == 2 * want:
            break
        if min(count[h], count[t], count["\0" + r]) >= 2 and h != t:
            for x in (h, "\0" + r, t):
                count[x] -= 1
            held.append(i)
    drop = set(held)
    msg = [x for i, x in enumerate(triples) if i not in drop]
    return msg, [triples[i] for i in held[:want]], [triples[i] for i in held[want:]]


def write(folder: Path, name: str, rows: list[tuple[str, str, str]]) -> None:
    (folder / name).write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in rows), encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_root = os.environ.get("KGVIZ_DATA", str(ROOT.parent / "shared" / "ingram-data"))
    p.add_argument("--source", default=os.path.join(data_root, "NL-100"), help="benchmark folder whose msg.txt is cut")
    p.add_argument("--triples", type=int, default=1000)
    p.add_argument("--budget", type=float, default=25.0, help="training seconds per model")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if Path(args.source).name.startswith("FB"):
        sys.exit("FB-* sets are the unseen-KG test; cut the folder from another set")
    source = load_benchmark(args.source)
    sub = connected_subgraph(source.inference.string_triples(), args.triples, args.seed)
    msg, valid, test = hold_out(sub, 0.05, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / f"{source.name}-sub{len(sub)}"
        folder.mkdir()
        for name, rows in (("msg.txt", msg), ("valid.txt", valid), ("test.txt", test)):
            write(folder, name, rows)
        print(
            f"folder: {len(msg)} msg, {len(valid)} valid, {len(test)} test triples, connected subgraph of "
            f"{args.source}/msg.txt (seed {args.seed})",
            flush=True,
        )
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        start = time.perf_counter()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "kgviz",
                "compare",
                "--data",
                str(folder),
                "--budget",
                str(args.budget),
                "--no-progress",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
    print(out.stdout)
    if out.returncode:
        sys.exit(f"compare failed ({out.returncode}): {out.stderr[-2000:]}")
    print(
        f"kgviz compare --data, 7 models, budget {args.budget:.0f} s each: {wall:.0f} s wall "
        f"(bar {BAR_SECONDS:.0f} s: {'met' if wall < BAR_SECONDS else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
