"""Choosing a run's weights after training: snapshots re-validated on many draws, weight averages.

A single draw's valid MRR swings by ±0.03, so the epoch picked during training (mean of a few
draws) is partly luck. :func:`select_snapshot` scores every snapshot of a ``train --snapshots``
run by the mean valid MRR over more draws, also tries weight averages of snapshots, writes the
winner to the run's ``model.ckpt`` and every score to ``selection.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from kgviz.models.ingram.checkpoint import load_checkpoint, save_checkpoint
from kgviz.config import InGramConfig
from kgviz.graph.data import BenchmarkDataset
from kgviz.evaluation.benchmark import HoldoutCheck, QuerySet, holdout_check, mean_draw_metrics, valid_query_set
from kgviz.models.ingram.predictor import pick_device
from kgviz.models.ingram.network import InGram
from kgviz.training.release import averaging_sentence, write_json
from kgviz.training.loop import SNAPSHOT_DIR, snapshot_name

__all__ = [
    "average_weights",
    "select_snapshot",
    "select_by_criterion",
    "CriterionSelection",
    "Selection",
    "SnapshotScore",
    "Candidate",
    "GreedySoup",
    "SoupStep",
]


def average_weights(state_dicts: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Element-wise mean of several state dicts of one architecture: θ̄ = (1/K) Σ_k θ_k."""
    if not state_dicts:
        raise ValueError("no weights to average")
    first = state_dicts[0]
    if any(sd.keys() != first.keys() or any(sd[k].shape != first[k].shape for k in first) for sd in state_dicts):
        raise ValueError("weights to average come from different architectures")
    return {
        k: torch.stack([sd[k].double() for sd in state_dicts]).mean(0).to(first[k].dtype)
        if first[k].is_floating_point()
        else first[k].clone()
        for k in first
    }


@dataclass
class SnapshotScore:
    """One snapshot's mean valid metrics over the selection draws."""

    epoch: int
    valid: dict[str, float]


@dataclass
class Candidate:
    """Weights averaged over the snapshots of ``epochs``, their mean valid metrics, and whether they won."""

    epochs: list[int]
    valid: dict[str, float]
    selected: bool = False


@dataclass
class SoupStep:
    """One step of the greedy soup: the soup's valid MRR with ``epoch`` added, and whether it stayed."""

    epoch: int
    mrr: float
    kept: bool


@dataclass
class GreedySoup(Candidate):
    tried: list[SoupStep] = field(default_factory=list)


@dataclass
class Selection:
    """What :func:`select_snapshot` scored and chose (also written as ``selection.json``)."""

    selected_epoch: int  # the best single snapshot
    valid_seeds: list[int]
    snapshots: list[SnapshotScore]  # in epoch order
    average: Candidate | None = None  # the K best snapshots averaged (``average=K``)
    greedy: GreedySoup | None = None  # the greedy soup (``greedy=True``)
    holdout: HoldoutCheck | None = None  # the winner on held-out draws

    def to_dict(self) -> dict[str, Any]:
        """The ``selection.json`` layout."""
        out: dict[str, Any] = {
            "selected_epoch": self.selected_epoch,
            "valid_seeds": self.valid_seeds,
            "snapshots": [asdict(s) for s in self.snapshots],
        }
        if self.average is not None:
            out["average"] = {
                "epochs": self.average.epochs,
                "valid": self.average.valid,
                "selected": self.average.selected,
            }
        if self.greedy is not None:
            out["greedy"] = {
                "epochs": self.greedy.epochs,
                "valid": self.greedy.valid,
                "tried": [{"epoch": t.epoch, "MRR": t.mrr, "kept": t.kept} for t in self.greedy.tried],
                "selected": self.greedy.selected,
            }
        if self.holdout is not None:
            out["holdout"] = self.holdout.to_dict()
        return out


def _snapshot_files(run: Path, top: int | None) -> list[Path]:
    """The run's snapshot files in epoch order; with ``top`` only the best by the MRR in ``history.jsonl``."""
    snaps = sorted((run / SNAPSHOT_DIR).glob("epoch_*.ckpt"))
    if not snaps:
        raise ValueError(f"{run / SNAPSHOT_DIR}: no snapshots (train with --snapshots)")
    if top is None:
        return snaps
    logged: dict[str, float] = {}
    if (run / "history.jsonl").is_file():
        for line in (run / "history.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            logged[snapshot_name(rec["epoch"])] = rec["valid"]["MRR"]
    return sorted(sorted(snaps, key=lambda p: -logged.get(p.name, -1.0))[:top])


def _greedy_soup(
    ranked: list[SnapshotScore], score: Callable[[list[int]], dict[str, float]], progress: bool
) -> GreedySoup:
    """Walk the snapshots best first; keep each whose addition does not lower the soup's valid MRR."""
    from tqdm.auto import tqdm

    soup = GreedySoup([ranked[0].epoch], ranked[0].valid)
    for snap in tqdm(ranked[1:], desc="greedy soup", disable=not progress):
        valid = score(soup.epochs + [snap.epoch])
        kept = valid["MRR"] >= soup.valid["MRR"]
        soup.tried.append(SoupStep(snap.epoch, valid["MRR"], kept))
        if kept:
            soup.epochs, soup.valid = soup.epochs + [snap.epoch], valid
    soup.epochs = sorted(soup.epochs)
    return soup


def _score_snapshots(
    paths: Sequence[Path],
    dataset: BenchmarkDataset,
    queries: QuerySet,
    seeds: Sequence[int],
    dev: torch.device,
    progress: bool,
) -> tuple[dict[int, dict[str, Tensor]], dict[int, dict[str, Any]], list[SnapshotScore], InGramConfig]:
    """Every snapshot's weights, extra entries and mean valid metrics over ``seeds``, by epoch; the run's config."""
    from tqdm.auto import tqdm

    weights: dict[int, dict[str, Tensor]] = {}
    extras: dict[int, dict[str, Any]] = {}
    scores: list[SnapshotScore] = []
    config: InGramConfig | None = None
    for path in tqdm(paths, desc="snapshots", disable=not progress):
        model, config, snap_extra = load_checkpoint(path)
        epoch = int(snap_extra["epoch"])
        weights[epoch], extras[epoch] = model.state_dict(), snap_extra
        scores.append(SnapshotScore(epoch, mean_draw_metrics(model.to(dev).eval(), dataset, queries, seeds, dev)))
    assert config is not None  # at least one snapshot (_snapshot_files checks); one run, one config
    return weights, extras, scores, config


def _choose(
    result: Selection,
    score_mean_of: Callable[[list[int]], dict[str, float]],
    average: int | None,
    greedy: bool,
    progress: bool,
) -> tuple[Candidate, str | None]:
    """The best single snapshot, or a weight average (``average`` best / greedy soup) that beats it on valid MRR;
    records the averages tried in ``result``. ``how``: ``None``, ``"average"`` or ``"greedy"``."""
    ranked = sorted(result.snapshots, key=lambda s: -s.valid["MRR"])
    best = ranked[0]
    chosen, how = Candidate([best.epoch], best.valid), None
    if average is not None and average > 1:
        epochs = sorted(s.epoch for s in ranked[:average])
        result.average = Candidate(epochs, score_mean_of(epochs))
        if result.average.valid["MRR"] > chosen.valid["MRR"]:
            chosen, how = result.average, "average"
    if greedy and len(ranked) > 1:
        result.greedy = _greedy_soup(ranked, score_mean_of, progress)
        if len(result.greedy.epochs) > 1 and result.greedy.valid["MRR"] > chosen.valid["MRR"]:
            chosen, how = result.greedy, "greedy"
    chosen.selected = how is not None
    return chosen, how


def select_snapshot(
    run: str | Path,
    dataset: BenchmarkDataset,
    seeds: Sequence[int],
    *,
    top: int | None = None,
    average: int | None = None,
    greedy: bool = False,
    holdout: Sequence[int] = (),
    against: str | Path | None = None,
    device: str = "auto",
    progress: bool = True,
) -> Selection:
    """Re-validate a run's snapshots with more random draws and make the best weights ``model.ckpt``.

    Each snapshot in ``run/snapshots`` — or only the ``top`` best by the MRR logged in
    ``history.jsonl`` — is scored by the mean valid MRR over ``seeds``; the winner is written to
    ``run/model.ckpt`` (authors' layout) and every score to ``run/selection.json``.

    Weight averages (θ̄ = mean of θ_k; snapshots of one run lie in one basin) are also tried:
    ``average=K`` the K best snapshots; ``greedy`` a greedy soup (Wortsman et al., 2022): walk the
    snapshots from best to worst and keep each one whose addition does not lower the mean valid
    MRR. The candidate with the highest mean valid MRR over ``seeds`` wins (the single best
    snapshot on a tie).

    The winner's score on ``seeds`` is biased upwards by the choice itself (on WK-100 by up to 0.018
    MRR against fresh draws), so ``holdout`` draws score it again (:func:`~kgviz.evaluation.benchmark.holdout_check`),
    paired with the checkpoint ``against`` when given.
    """
    run = Path(run)
    reused = sorted(set(holdout) & set(seeds))
    if reused:
        raise ValueError(
            f"held-out draws {reused} are also selection draws; pick held-out draws apart from {list(seeds)}"
        )
    if against is not None and not holdout:
        raise ValueError("a checkpoint to compare against needs held-out draws (--holdout SEED …)")
    reference = load_checkpoint(against)[0] if against is not None else None  # a bad path fails now, not in an hour
    dev = pick_device(device)
    queries = valid_query_set(dataset)
    weights, extras, scores, run_config = _score_snapshots(
        _snapshot_files(run, top), dataset, queries, seeds, dev, progress
    )

    def mean_of(epochs: list[int]) -> InGram:
        m = InGram.from_config(run_config)
        m.load_state_dict(average_weights([weights[e] for e in epochs]))
        return m

    def score_mean_of(epochs: list[int]) -> dict[str, float]:
        return mean_draw_metrics(mean_of(epochs).to(dev).eval(), dataset, queries, seeds, dev)

    result = Selection(max(scores, key=lambda s: s.valid["MRR"]).epoch, list(seeds), scores)
    chosen, how = _choose(result, score_mean_of, average, greedy, progress)
    best = next(s for s in scores if s.epoch == result.selected_epoch)

    extra: dict[str, Any] = {
        "epoch": max(chosen.epochs),
        "valid": chosen.valid,
        "seed": extras[best.epoch].get("seed", 0),
        "selected_by": averaging_sentence(how, chosen.epochs, len(seeds)),
        "valid_seeds": list(seeds),
    }
    if top is not None:
        extra["selection_top"] = top
    winner = mean_of(chosen.epochs)  # the mean of one snapshot is that snapshot
    if how is not None:
        extra.update(averaged_epochs=chosen.epochs, averaged_by=how)
    if holdout:
        result.holdout = holdout_check(winner, dataset, holdout, dev, against=reference, queries=queries)
        if result.holdout.against is not None:
            result.holdout.against.checkpoint = str(against)
        extra["holdout"] = {"seeds": list(holdout), "valid": result.holdout.valid}
    save_checkpoint(run, winner.cpu(), run_config, extra=extra)
    write_json(run / "selection.json", result.to_dict())
    return result


@dataclass
class CriterionSelection:
    """What :func:`select_by_criterion` scored and chose (``selection.json`` of a universal run)."""

    scores: list[SnapshotScore]  # the snapshots scored, ``valid["MRR"]`` holding the criterion
    greedy: GreedySoup
    chosen_epochs: list[int]
    criterion: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshots": [asdict(s) for s in self.scores],
            "chosen_epochs": self.chosen_epochs,
            "criterion": self.criterion,
            "greedy": {
                "epochs": self.greedy.epochs,
                "criterion": self.greedy.valid["MRR"],
                "tried": [{"epoch": t.epoch, "criterion": t.mrr, "kept": t.kept} for t in self.greedy.tried],
            },
        }


def select_by_criterion(
    run: str | Path, score: Callable[[InGram], float], *, top: int = 8, progress: bool = True
) -> CriterionSelection:
    """Greedy soup of a run's snapshots under any validation criterion (the universal checkpoint's).

    The ``top`` snapshots by the criterion logged in ``history.jsonl`` (``valid.criterion``) are
    scored again by ``score(model)`` (e.g. with more draws), then souped greedily best first
    (:func:`_greedy_soup`); the soup wins when it has more than one member and scores higher.
    The winner is written to ``run/model.ckpt`` and the scores to ``run/selection.json``.
    """
    from tqdm.auto import tqdm

    run = Path(run)
    logged = {}
    for line in (run / "history.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        logged[int(rec["epoch"])] = float(rec["valid"]["criterion"])
    epochs = sorted(sorted(logged, key=lambda e: -logged[e])[:top])
    weights: dict[int, dict[str, Tensor]] = {}
    scores: list[SnapshotScore] = []
    config: InGramConfig | None = None
    extra: dict[str, Any] = {}
    for epoch in tqdm(epochs, desc="snapshots", disable=not progress):
        model, config, extra = load_checkpoint(run / SNAPSHOT_DIR / f"epoch_{epoch:06d}.ckpt")
        weights[epoch] = model.state_dict()
        scores.append(SnapshotScore(epoch, {"MRR": score(model)}))
    if config is None:
        raise ValueError(f"{run}: no validated snapshots in history.jsonl")
    run_config = config

    def soup_score(members: list[int]) -> dict[str, float]:
        m = InGram.from_config(run_config)
        m.load_state_dict(average_weights([weights[e] for e in members]))
        return {"MRR": score(m)}

    ranked = sorted(scores, key=lambda s: -s.valid["MRR"])
    soup = _greedy_soup(ranked, soup_score, progress)
    use_soup = len(soup.epochs) > 1 and soup.valid["MRR"] > ranked[0].valid["MRR"]
    chosen = soup.epochs if use_soup else [ranked[0].epoch]
    crit = soup.valid["MRR"] if use_soup else ranked[0].valid["MRR"]
    winner = InGram.from_config(run_config)
    winner.load_state_dict(average_weights([weights[e] for e in chosen]))
    result = CriterionSelection(scores, soup, chosen, crit)
    save_checkpoint(
        run,
        winner,
        run_config,
        extra={
            "epoch": max(chosen),
            "criterion": crit,
            "procedure": extra.get("procedure"),
            "seed": extra.get("seed", 0),
            "selected_by": "greedy soup" if use_soup else "best snapshot",
            "averaged_epochs": chosen,
        },
    )
    write_json(run / "selection.json", result.to_dict())
    return result
