"""One registry: a name or a checkpoint folder → a ready :class:`~kgviz.models.base.Scorer`.

Names (case-insensitive; :func:`available_scorers` lists them with what each needs):

- a shipped InGram checkpoint (``NL-0``, ``universal``, ``NL-100`` … every folder of :func:`kgviz.models.pretrained.pretrained_dir`
  with a ``config.json``), and ``ingram`` = the default one (:data:`kgviz.defaults.DEFAULT_MODEL`);
- ``untrained-ingram``: the default InGram configuration with random weights (seed 0);
- the counting baselines ``frequency``, ``degree``, ``pagerank`` (:mod:`kgviz.models.counting`);
- the lecture's trained models ``transe``, ``transr``, ``distmult``, ``complex``, ``rotate``, ``rgcn``
  (:mod:`kgviz.models.trained`: they train on the graph they are first asked to score);
- ``ultra-3g``, ``ultra-4g``, ``ultra-50g``: ULTRA (:func:`kgviz.models.ultra.network.load_ultra`) when installed;
- a path to a checkpoint folder (or file) of InGram; a folder whose name starts with ``ultra`` goes to ULTRA.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from kgviz.defaults import DEFAULTS
from kgviz.models.pretrained import DEFAULT_MODELS, pretrained_dir
from kgviz.models.base import Needs, Scorer
from kgviz.models.counting import COUNTING_SCORERS
from kgviz.models.trained import TRAINED_SCORERS

__all__ = ["ScorerInfo", "available_scorers", "resolve_scorer", "UnknownScorerError", "ULTRA_NAMES"]

ULTRA_NAMES = ("ultra-3g", "ultra-4g", "ultra-50g")
DEFAULT_INGRAM = "ingram"
UNTRAINED_INGRAM = "untrained-ingram"


class UnknownScorerError(ValueError):
    """A scorer name that is neither registered nor a checkpoint folder."""


@dataclass(frozen=True)
class ScorerInfo:
    """One registered name: what it needs before it can score, a one-line description, whether it can load here."""

    name: str
    needs: Needs
    description: str
    available: bool = True


def _checkpoints() -> dict[str, Path]:
    root = pretrained_dir()
    if not root.is_dir():
        return {}
    found = {p.name: p for p in sorted(root.iterdir()) if (p / "config.json").is_file() and not _is_ultra(p)}
    ordered = [n for n in DEFAULT_MODELS if n in found] + [n for n in found if n not in DEFAULT_MODELS]
    return {n: found[n] for n in ordered}


def _is_ultra(folder: Path) -> bool:
    return folder.name.lower().startswith("ultra")


def _ultra_installed() -> bool:
    return importlib.util.find_spec("kgviz.models.ultra.network") is not None


def available_scorers() -> list[ScorerInfo]:
    """Every registered name with what it needs (InGram checkpoints first, the default one first)."""
    ckpts = _checkpoints()
    rows = [ScorerInfo(n, Needs.WEIGHTS, f"InGram checkpoint pretrained/{n}") for n in ckpts]
    default = next(iter(ckpts), None)
    rows.append(
        ScorerInfo(DEFAULT_INGRAM, Needs.WEIGHTS, f"the default InGram checkpoint ({default})", default is not None)
    )
    rows.append(ScorerInfo(UNTRAINED_INGRAM, Needs.NOTHING, "InGram, default configuration, random weights (seed 0)"))
    rows += [ScorerInfo(n, Needs.NOTHING, f"counting baseline: {b}") for n, b in COUNTING_SCORERS.items()]
    rows += [ScorerInfo(n, Needs.TRAINING, f"{n}, trained on the KG it scores") for n in TRAINED_SCORERS]
    ultra = _ultra_installed()
    rows += [
        ScorerInfo(n, Needs.WEIGHTS, f"ULTRA checkpoint pretrained/{n}", ultra and (pretrained_dir() / n).is_dir())
        for n in ULTRA_NAMES
    ]
    return rows


def _load_ultra(folder: Path, device: str) -> Scorer:
    if not _ultra_installed():
        raise UnknownScorerError(f"ULTRA is not installed in this build (asked for {folder.name})")
    ultra: Any = importlib.import_module("kgviz.models.ultra.network")
    return ultra.load_ultra(folder, device=device)


def _ingram_checkpoint(folder: Path, name: str, seeds: Sequence[int], device: str) -> Scorer:
    from kgviz.models.ingram.checkpoint import load_checkpoint
    from kgviz.models.ingram.scorer import InGramScorer

    model, _, _ = load_checkpoint(folder)
    return InGramScorer(model, seeds=seeds, device=device, name=name)


def resolve_scorer(
    name_or_folder: str | os.PathLike,
    *,
    graph: Any = None,
    seeds: Sequence[int] | None = None,
    device: str = "auto",
    train_options: Any = None,
    train_progress: Any = None,
) -> Scorer:
    """The scorer a name or a checkpoint folder stands for (see the module docstring).

    ``seeds``: the draws of a scorer with draws (default :meth:`kgviz.defaults.RankDefaults.seeds`).
    ``graph``: a model that needs training is trained on it at once (else on the first graph it scores),
    with ``train_options`` (:class:`kgviz.models.baselines.common.TrainOptions`) and ``train_progress`` (a callback).
    Raises :class:`UnknownScorerError` naming the registered names when nothing matches.
    """
    draws = tuple(DEFAULTS.seeds() if seeds is None else seeds)
    text = str(name_or_folder).strip()
    key = text.lower()
    ckpts = {n.lower(): (n, p) for n, p in _checkpoints().items()}
    if key in ckpts:
        return _ingram_checkpoint(ckpts[key][1], ckpts[key][0], draws, device)
    if key == DEFAULT_INGRAM:
        if not ckpts:
            raise UnknownScorerError(f"{pretrained_dir()}: no InGram checkpoint is shipped; pass a checkpoint folder")
        n, p = next(iter(ckpts.values()))
        return _ingram_checkpoint(p, n, draws, device)
    if key == UNTRAINED_INGRAM:
        from kgviz.models.ingram.scorer import untrained_ingram_scorer

        return untrained_ingram_scorer(0, seeds=draws, device=device)
    if key in COUNTING_SCORERS:
        from kgviz.models.counting import CountingScorer

        return CountingScorer(key)
    if key in TRAINED_SCORERS:
        from kgviz.models.trained import TrainingScorer

        scorer = TrainingScorer(key, train_options, progress=train_progress)
        if graph is not None:
            scorer.train(graph)
        return scorer
    if key in ULTRA_NAMES:
        return _load_ultra(pretrained_dir() / key, device)
    path = Path(text).expanduser()
    if path.exists():
        if path.is_dir() and _is_ultra(path):
            return _load_ultra(path, device)
        return _ingram_checkpoint(path, path.name, draws, device)
    known = ", ".join(s.name for s in available_scorers())
    raise UnknownScorerError(f"unknown model {text!r}: neither a registered name ({known}) nor a checkpoint folder")
