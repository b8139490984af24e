"""Releasing trained weights: model-card text and the stored draw, written in one place.

The command line (``kgviz select``, ``kgviz store-draw``, ``kgviz evaluate --json``) and
``scripts/package_pretrained.py`` write through these functions, so a shipped folder
(``pretrained/<SET>/``: ``config.json``, ``model.ckpt``, ``metrics.json``, ``README.md``) reads the
same whichever way it was made.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from kgviz.models.ingram.checkpoint import (
    atomic_torch_save,
    atomic_write_bytes,
    find_checkpoint_file,
    load_checkpoint,
    load_state,
)
from kgviz.config import InGramConfig
from kgviz.graph.data import BenchmarkDataset
from kgviz.models.ingram.draws import choose_draw, stored_draw_entries
from kgviz.models.ingram.network import InGram
from kgviz.training.loop import saved_procedure

__all__ = [
    "PAPER",
    "write_json",
    "averaging_sentence",
    "consecutive",
    "seeds_text",
    "train_commands",
    "stored_draw_row",
    "model_card",
    "card_with_stored_draw",
    "StoredDraw",
    "store_draw",
]

# Lee et al. 2023, test MRR / Hits@10 of the sets the model cards compare with.
PAPER = {"NL-100": (0.309, 0.506), "WK-100": (0.107, 0.169)}
DEFAULT_PROCEDURE = saved_procedure({})


def write_json(path: str | Path, obj: Any) -> None:
    """``obj`` as indented JSON, written atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2) + "\n").encode())


def averaging_sentence(how: str | None, epochs: list[int], num_draws: int) -> str:
    """How the weights were chosen, as the model card quotes it (``how``: None for one snapshot,
    "greedy" or "average")."""
    criterion, listed = f"mean valid MRR over {num_draws} draws", ", ".join(map(str, epochs))
    if how is None:
        return criterion
    if how == "greedy":
        return (
            f"weights averaged over a greedy soup of snapshots (each kept if it did not lower the {criterion}; "
            f"epochs {listed})"
        )
    return f"weights averaged over the {len(epochs)} snapshots with the best {criterion} (epochs {listed})"


def consecutive(seeds: Sequence[int]) -> bool:
    """Whether ``seeds`` are three or more consecutive integers."""
    return len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[-1] + 1))


def seeds_text(seeds: Sequence[int]) -> str:
    """``100–109`` for a run of consecutive seeds, else ``0, 3, 7``."""
    return f"{seeds[0]}–{seeds[-1]}" if consecutive(seeds) else ", ".join(map(str, seeds))


def train_commands(
    name: str,
    seed: int,
    options: dict[str, Any],
    schedule: list[list[Any]],
    epochs: int,
    snapshots: bool,
    procedure: dict[str, Any] | None = None,
) -> list[str]:
    """One ``kgviz train`` line per stretch of the learning-rate schedule; later ones ``--resume``.

    ``procedure``: the run's split options (``saved_procedure``); those not at their default get a flag."""
    split_flags = "".join(
        f" --{k.replace('_', '-')} {v}" for k, v in (procedure or {}).items() if v != DEFAULT_PROCEDURE[k]
    )
    lines = []
    for i, (_, lr) in enumerate(schedule):
        end = schedule[i + 1][0] if i + 1 < len(schedule) else epochs
        flags = {**options, "learning_rate": lr, "num_epoch": end}
        lines.append(
            f"python -m kgviz train --data $KGVIZ_DATA/{name} --out runs/{name} --seed {seed} "
            + " ".join(f"--{k} {v}" for k, v in flags.items())
            + split_flags
            + (" --snapshots" if snapshots else "")
            + (" --resume" if i else "")
        )
    return lines


STORED_ROW = "| the draw with the best valid MRR"


def stored_draw_row(entry: dict[str, Any]) -> str:
    """The card's table row of the stored draw (``entry``: ``metrics.json["stored_draw"]``)."""
    pool, t = entry["pool"], entry["test"]
    return (
        f"{STORED_ROW} among draws {seeds_text(pool)} (seed {entry['seed']}), stored in `model.ckpt` "
        f"— the authors' test.py protocol, a chosen draw | {t['MRR']:.3f} | {t['Hits@10']:.3f} |"
    )


def reproduce_lines(name: str, metrics: dict[str, Any], rest: dict[str, Any], config: InGramConfig) -> tuple[str, str]:
    """The card's commands that re-train (``kgviz train``) and re-choose (``kgviz select``) the weights."""
    averaged = rest.get("averaged_epochs")
    vs = rest.get("valid_seeds") or []
    seeds_arg = f"$(seq {vs[0]} {vs[-1]})" if consecutive(vs) else " ".join(map(str, vs))
    if rest.get("selection_top"):
        seeds_arg += f" --top {rest['selection_top']}"
    avg_flag = " --greedy" if rest.get("averaged_by") == "greedy" else f" --average {len(averaged)}" if averaged else ""
    select_line = (
        (f"\n    python -m kgviz select --run runs/{name} --data $KGVIZ_DATA/{name} --seeds {seeds_arg}{avg_flag}")
        if "selected_by" in rest
        else ""
    )
    train_lines = "\n    ".join(
        train_commands(
            name,
            metrics["seed"],
            config.to_dict(),
            metrics["learning_rate_schedule"],
            metrics["epochs_trained"],
            snapshots="selected_by" in rest,
            procedure=metrics["procedure"],
        )
    )
    return train_lines, select_line


def model_card(
    name: str,
    metrics: dict[str, Any],
    rest: dict[str, Any],
    results: dict[str, Any],
    config: InGramConfig,
    seeds: Sequence[int],
    ensemble: int,
    note: str = "",
) -> str:
    """The ``README.md`` of a shipped folder: how the weights were trained and chosen, test figures, how to
    reproduce them, the licence.

    ``metrics``: what ``metrics.json`` holds; ``rest``: the checkpoint's extra entries; ``results``:
    :func:`~kgviz.evaluation.benchmark.evaluate` on ``"valid"`` and ``"test"`` with draws ``seeds`` and ``ensemble``.
    """
    t, e = results["test"], results["test"]["ensemble"]["metrics"]
    paper = PAPER.get(name)
    averaged = rest.get("averaged_epochs")
    train_lines, select_line = reproduce_lines(name, metrics, rest, config)
    weights_line = (
        f"Weights averaged over the snapshots of epochs {', '.join(map(str, averaged))}"
        if averaged
        else f"Best epoch {metrics['best_epoch']}"
    )
    sv = rest.get("valid")
    selection_valid_line = (
        f" (on those draws, valid MRR {sv['MRR']:.3f}; on these, {results['valid']['mean']['MRR']:.3f})"
        if sv and "MRR" in sv
        else ""
    )
    paper_line = f"| paper (Lee et al. 2023) | {paper[0]:.3f} | {paper[1]:.3f} |\n" if paper else ""
    card = f"""# InGram trained on {name}

Weights of InGram (Lee, Chung, Whang, ICML 2023) trained by kgviz's own code (`python -m kgviz train`)
on the training graph of **{name}** from the InGram benchmark release. Layout: the authors'
(`config.json` + `model.ckpt` holding `model_state_dict`), loadable with `torch.load(weights_only=True)`
and with the authors' code.

- {weights_line} of {metrics["epochs_trained"]} trained, training seed {metrics["seed"]},
  {metrics["training_wall_time_s"] / 60:.0f} min of training on {metrics["hardware"]}.
- Options: see `config.json` (names as in the authors' code). Chosen by: {metrics["selection"]}.
  {note}
- Every figure below and in `metrics.json` uses random draws (seeds {seeds_text(seeds)}) other than those
  that chose the weights{selection_valid_line}.

## Test figures (filtered, head and tail queries)

| | MRR | Hits@10 |
|---|---|---|
| single random draw, mean ± std over seeds {seeds_text(seeds)} | {t["mean"]["MRR"]:.3f} ± {t["std"]["MRR"]:.3f} | {t["mean"]["Hits@10"]:.3f} ± {t["std"]["Hits@10"]:.3f} |
| ensemble of {ensemble} draws (scores averaged) | {e["MRR"]:.3f} | {e["Hits@10"]:.3f} |
{paper_line}
All figures, valid and test, per seed: `metrics.json`.

## Reproduce

    {train_lines}{select_line}
    python -m kgviz evaluate --checkpoint runs/{name} --data $KGVIZ_DATA/{name} --split test --seeds {" ".join(map(str, seeds))} --ensemble {ensemble}

(a run can be stopped and continued with `--resume`).

## Data licence

Trained on the InGram benchmark data (derived from NELL-995, Wikidata, Freebase), released by the
authors under **CC BY-NC-SA 4.0**; these weights are a derived work under the same licence
(non-commercial, share alike). Cite the InGram paper when you use them.
"""
    return card


def card_with_stored_draw(card: str, entry: dict[str, Any], name: str, pool: Sequence[int]) -> str:
    """``card`` with the stored draw's row in its table (replaced if present) and its commands under Reproduce."""
    lines = [line for line in card.splitlines() if not line.startswith(STORED_ROW)]
    at = next(i for i, line in enumerate(lines) if line.startswith("| ensemble of")) + 1
    lines.insert(at, stored_draw_row(entry))
    lines = [line for line in lines if "kgviz store-draw" not in line and "--stored-draw" not in line]
    at = max(i for i, line in enumerate(lines) if line.startswith("    python -m kgviz evaluate")) + 1
    pool_arg = f"$(seq {pool[0]} {pool[-1]})" if consecutive(pool) else " ".join(map(str, pool))
    lines[at:at] = [
        f"    python -m kgviz store-draw --checkpoint runs/{name} --data $KGVIZ_DATA/{name} --seeds {pool_arg}",
        f"    python -m kgviz evaluate --checkpoint runs/{name} --data $KGVIZ_DATA/{name} --split test --stored-draw",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class StoredDraw:
    """A draw kept in a checkpoint file by :func:`store_draw`."""

    file: Path  # the rewritten checkpoint file
    model: InGram
    choice: dict[str, Any]  # :func:`kgviz.models.ingram.draws.choose_draw`'s answer
    entries: dict[str, Any]  # the checkpoint entries added (``inf_emb_ent``, ``inf_emb_rel``, …)

    @property
    def features(self) -> tuple[Tensor, Tensor]:
        return self.entries["inf_emb_ent"], self.entries["inf_emb_rel"]


def store_draw(
    checkpoint: str | Path, data: BenchmarkDataset, seeds: Sequence[int], *, device: str = "auto"
) -> StoredDraw:
    """Choose the draw with the best valid MRR among ``seeds`` (:func:`kgviz.models.ingram.draws.choose_draw`) for
    ``data``'s inference graph and keep it in the checkpoint (folder or file), as the authors' protocol does."""
    path = Path(checkpoint)
    file = find_checkpoint_file(path) if path.is_dir() else path
    model, _, _ = load_checkpoint(file)
    choice = choose_draw(model, data, seeds, device=device)
    entries = stored_draw_entries(model, data.inference, choice, data_name=data.name)
    state = load_state(file)
    state.update(entries)
    atomic_torch_save(state, file)
    return StoredDraw(file, model, choice, entries)
