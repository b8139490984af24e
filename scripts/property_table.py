"""Write ``docs/property_table.json`` and ``docs/property_table.md``: the lecture's property table, measured.

Every model of :func:`kgviz.models.baselines.patterns.property_table` (the five shallow models, R-GCN and InGram
from ``pretrained/NL-100``, zero-shot) is trained on each synthetic pattern KG for exactly
``PATTERN_EPOCHS`` epochs (no time limit, so a busy machine gives the same table) and measured. The app's
"Why InGram?" page shows the JSON file at once and can re-measure on a button.

    python scripts/property_table.py [--seed 0]        # ~3 minutes on one CPU thread
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from kgviz.models.baselines import TrainOptions
from kgviz.models.baselines.ingram import DEFAULT_CHECKPOINT
from kgviz.models.baselines.patterns import PATTERN_EPOCHS, format_property_table, property_table, table_to_dict

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the pattern KGs and of every model")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "property_table", help="path without suffix")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    # exactly PATTERN_EPOCHS epochs per cell, whatever the machine's load: the same table on every run
    options = TrainOptions(max_epochs=PATTERN_EPOCHS, time_budget_s=float("inf"), seed=args.seed, progress_bar=False)
    table = property_table(options=options, seed=args.seed, progress=lambda m, p: print(f"{m} on {p}", flush=True))
    seconds = time.perf_counter() - start
    checkpoint = DEFAULT_CHECKPOINT.relative_to(ROOT).as_posix()
    data = table_to_dict(
        table,
        epochs=PATTERN_EPOCHS,
        checkpoint=checkpoint,
        seconds=round(seconds, 1),
        command="python scripts/property_table.py",
    )
    args.out.with_suffix(".json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    text = format_property_table(table)
    args.out.with_suffix(".md").write_text(
        "# The lecture's property table, measured\n\n"
        f"Written by `python scripts/property_table.py` (seed {args.seed}, {PATTERN_EPOCHS} epochs per model "
        f"and pattern KG, InGram = `{checkpoint}` zero-shot; {seconds:.0f} s on one CPU thread). How each "
        "pattern is built and measured: `kgviz/models/baselines/patterns.py`; the app shows it on the "
        '"Why InGram?" page.\n\n```\n' + text + "\n```\n"
    )
    print(text)


if __name__ == "__main__":
    main()
