"""Training InGram as the authors do (spec §6), fast on a CPU.

Per epoch, full batch: split the training triples into message (75 %, ``message_ratio``) and supervision sets
(:mod:`kgviz.training.sampling`: the message set holds a spanning forest and a triple of every relation), build the
relation graph of the message triples, draw fresh random features, score every supervision
triple against ``num_neg`` corruptions, and take one Adam step on the margin ranking loss
``mean(max(0, γ − f(pos) + f(neg)))`` with the gradient norm clipped to 0.1.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from kgviz.models.ingram.checkpoint import atomic_torch_save, load_state, save_checkpoint
from kgviz.config import MESSAGE_RATIO, SPANNING_CHOICES, InGramConfig
from kgviz.graph.data import BenchmarkDataset
from kgviz.evaluation.benchmark import mean_draw_metrics, valid_query_set
from kgviz.models.ingram.predictor import pick_device
from kgviz.models.ingram.network import InGram, initial_features
from kgviz.graph.relgraph import add_inverses, binned_edges, relation_graph
from kgviz.training.sampling import breadth_first_forest, corrupt, split_triples

__all__ = [
    "margin_loss",
    "Trainer",
    "TrainState",
    "STATE_FILE",
    "SNAPSHOT_DIR",
    "snapshot_name",
    "saved_lr_schedule",
    "saved_procedure",
]

GRAD_CLIP = 0.1
STATE_FILE = "train_state.pt"
RESUMABLE_CHANGES = ("num_epoch", "validation_epoch", "learning_rate")  # may differ on --resume
SNAPSHOT_DIR = "snapshots"
log = logging.getLogger("kgviz.train")


def margin_loss(pos: Tensor, neg: Tensor, margin: float) -> Tensor:
    """``mean(max(0, γ − f(pos) + f(neg)))`` with ``pos`` repeated over the negative blocks."""
    reps = len(neg) // len(pos)
    return torch.clamp_min(margin - pos.repeat(reps) + neg, 0).mean()


@dataclass
class TrainState:
    epoch: int = 0
    best_valid_mrr: float = -1.0
    best_epoch: int = 0
    wall_time: float = 0.0


class Trainer:
    """Full-batch InGram training on a benchmark folder, with validation, checkpoints and resume.

    Files in ``out``: ``config.json`` + ``model.ckpt`` (best validation epoch, authors' layout),
    ``train_state.pt`` (last epoch: model, optimizer and RNG states, for ``resume``),
    ``history.jsonl`` (one line per validation) and ``train.log``; with ``snapshots`` also
    ``snapshots/epoch_NNNNN.ckpt`` at every validation (for :func:`kgviz.training.snapshot_selection.select_snapshot`).
    """

    def __init__(
        self,
        dataset: BenchmarkDataset,
        config: InGramConfig,
        out: str | Path,
        *,
        seed: int = 0,
        device: str = "auto",
        valid_seeds: tuple[int, ...] = (0, 1, 2),
        snapshots: bool = False,
        spanning: str = "random",
        message_ratio: float = MESSAGE_RATIO,
    ):
        if spanning not in SPANNING_CHOICES:
            raise ValueError(f"spanning must be one of {SPANNING_CHOICES}, not {spanning!r}")
        if not 0.0 < message_ratio < 1.0:
            raise ValueError(f"message_ratio must lie strictly between 0 and 1, not {message_ratio}")
        if dataset.train is None:
            raise ValueError(f"{dataset.name} has no train.txt: it can be used for inference only")
        self.data, self.config, self.out = dataset, config, Path(out)
        self.device = pick_device(device)
        self.seed = seed
        self.valid_seeds = valid_seeds
        self.snapshots = snapshots
        torch.manual_seed(seed)
        self.model = InGram.from_config(config).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate)
        self.rng = np.random.default_rng(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.state = TrainState()
        self.lr_schedule = [[0, config.learning_rate]]  # [first epoch, learning rate] per stretch of the run
        train = dataset.train
        self.triples = train.triples
        self.num_entities, self.num_relations = train.num_entities, train.num_relations
        self.spanning, self.message_ratio = spanning, float(message_ratio)
        self.tree = breadth_first_forest(self.triples, self.num_entities) if spanning == "authors" else None
        self.valid_queries = valid_query_set(dataset)

    @property
    def procedure(self) -> dict:
        """The run's split options that are not model options (kept in ``train_state.pt``)."""
        return {"spanning": self.spanning, "message_ratio": self.message_ratio}

    # -- one epoch -------------------------------------------------------------------------
    def epoch_loss(self) -> Tensor:
        """Loss of one freshly split, freshly initialised full batch (spec §6 steps 1–4)."""
        cfg = self.config
        msg_mask = split_triples(
            self.triples, self.num_entities, self.num_relations, self.rng, ratio=self.message_ratio, tree=self.tree
        )
        msg, sup = self.triples[msg_mask], self.triples[~msg_mask]
        rel_edges = binned_edges(relation_graph(msg, self.num_entities, self.num_relations), cfg.num_bin)
        x, z = initial_features(
            self.num_entities, self.num_relations, cfg.dimension_entity, cfg.dimension_relation, self.gen, self.device
        )
        to = lambda a: torch.from_numpy(a).to(self.device)  # noqa: E731
        ent, rel = self.model(x, z, to(add_inverses(msg, self.num_relations)), to(rel_edges))
        sup_t = to(sup)
        neg = corrupt(sup_t, self.num_entities, cfg.num_neg, self.gen)
        return margin_loss(self.model.score(ent, rel, sup_t), self.model.score(ent, rel, neg), cfg.margin)

    def step(self) -> float:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.epoch_loss()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        self.optimizer.step()
        return loss.item()

    # -- validation ------------------------------------------------------------------------
    def validate(self) -> dict:
        """Filtered valid metrics over ``msg.txt``: mean over ``valid_seeds`` single draws."""
        return mean_draw_metrics(self.model.eval(), self.data, self.valid_queries, self.valid_seeds, self.device)

    # -- persistence -----------------------------------------------------------------------
    def save_state(self) -> None:
        atomic_torch_save(
            {
                "model_state_dict": self.model.state_dict(),
                "optimizer_state_dict": self.optimizer.state_dict(),
                "epoch": self.state.epoch,
                "best_valid_mrr": self.state.best_valid_mrr,
                "best_epoch": self.state.best_epoch,
                "wall_time": self.state.wall_time,
                "numpy_rng": json.dumps(self.rng.bit_generator.state),
                "torch_rng": self.gen.get_state(),
                "config": json.dumps(self.config.to_dict()),
                "seed": self.seed,
                "threads": torch.get_num_threads(),
                "device": str(self.device),
                "lr_schedule": json.dumps(self.lr_schedule),
                **self.procedure,
            },
            self.out / STATE_FILE,
        )

    def resume(self) -> bool:
        """Continue from ``train_state.pt`` if present (config must match); returns whether it did."""
        path = self.out / STATE_FILE
        if not path.is_file():
            return False
        s = load_state(path)
        saved = json.loads(s["config"])
        # The schedule (epochs, validation interval, step size) may change between sessions; the model may not.
        diff = {
            k: (saved.get(k), v)
            for k, v in self.config.to_dict().items()
            if saved.get(k) != v and k not in RESUMABLE_CHANGES
        }
        before = saved_procedure(s)
        diff.update({k: (before[k], v) for k, v in self.procedure.items() if before[k] != v})
        if diff:
            raise ValueError(f"{path}: saved run used other options {diff}; use another --out or the same options")
        self.model.load_state_dict(s["model_state_dict"])
        self.optimizer.load_state_dict(s["optimizer_state_dict"])
        for group in self.optimizer.param_groups:  # a resumed run may lower the learning rate
            group["lr"] = self.config.learning_rate
        self.state = TrainState(
            int(s["epoch"]), float(s["best_valid_mrr"]), int(s["best_epoch"]), float(s["wall_time"])
        )
        self.rng.bit_generator.state = json.loads(s["numpy_rng"])
        self.gen.set_state(s["torch_rng"])
        self.lr_schedule = saved_lr_schedule(s)
        sched, lr = self.lr_schedule, self.config.learning_rate
        if sched[-1][0] == self.state.epoch:  # a stretch no epoch ran in is replaced
            sched.pop()
        if not sched or sched[-1][1] != lr:
            sched.append([self.state.epoch, lr])
        return True

    def run(
        self, *, resume: bool = False, progress: bool = True, on_validate: Callable[[int, dict], None] | None = None
    ) -> TrainState:
        """Train until ``num_epoch``; validate every ``validation_epoch`` and keep the best checkpoint."""
        from tqdm.auto import tqdm

        self.out.mkdir(parents=True, exist_ok=True)
        if resume and self.resume():
            log.info(
                "resumed at epoch %d (best valid MRR %.4f at %d)",
                self.state.epoch,
                self.state.best_valid_mrr,
                self.state.best_epoch,
            )
        cfg = self.config
        last_mrr = self.state.best_valid_mrr if self.state.best_valid_mrr >= 0 else math.nan
        bar = tqdm(
            range(self.state.epoch, cfg.num_epoch),
            initial=self.state.epoch,
            total=cfg.num_epoch,
            disable=not progress,
            desc=self.data.name,
            dynamic_ncols=True,
        )
        t_last = time.perf_counter()
        for epoch in bar:
            loss = self.step()
            self.state.epoch = epoch + 1
            now = time.perf_counter()
            self.state.wall_time += now - t_last
            t_last = now
            bar.set_postfix(loss=f"{loss:.4f}", valid_mrr=f"{last_mrr:.4f}", refresh=False)
            if self.state.epoch % cfg.validation_epoch == 0 or self.state.epoch == cfg.num_epoch:
                m = self.validate()
                last_mrr = m["MRR"]
                better = m["MRR"] > self.state.best_valid_mrr
                if better:
                    self.state.best_valid_mrr, self.state.best_epoch = m["MRR"], self.state.epoch
                    save_checkpoint(
                        self.out,
                        self.model,
                        cfg,
                        extra={
                            "epoch": self.state.epoch,
                            "valid": m,
                            "seed": self.seed,
                            "valid_seeds": list(self.valid_seeds),
                        },
                    )
                if self.snapshots:
                    save_checkpoint(
                        self.out / SNAPSHOT_DIR,
                        self.model,
                        cfg,
                        filename=snapshot_name(self.state.epoch),
                        extra={"epoch": self.state.epoch, "valid": m, "seed": self.seed},
                    )
                record = {
                    "epoch": self.state.epoch,
                    "loss": loss,
                    "valid": m,
                    "best": better,
                    "wall_time": round(self.state.wall_time, 1),
                }
                with open(self.out / "history.jsonl", "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
                log.info(
                    "epoch %d loss %.4f valid MRR %.4f H@10 %.4f%s",
                    self.state.epoch,
                    loss,
                    m["MRR"],
                    m["Hits@10"],
                    " (best)" if better else "",
                )
                self.save_state()
                t_last = time.perf_counter()  # validation time is not training time
                if on_validate:
                    on_validate(self.state.epoch, m)
        self.save_state()
        return self.state


def saved_lr_schedule(state: dict) -> list[list]:
    """The ``[first epoch, learning rate]`` stretches of a saved ``train_state.pt``; a state saved
    before the schedule was recorded gives one stretch at its saved rate."""
    if "lr_schedule" in state:
        return json.loads(state["lr_schedule"])
    return [[0, json.loads(state["config"])["learning_rate"]]]


def saved_procedure(state: dict) -> dict:
    """The split options of a saved ``train_state.pt`` (states that predate them used the defaults)."""
    return {
        "spanning": state.get("spanning", "random"),
        "message_ratio": float(state.get("message_ratio", MESSAGE_RATIO)),
    }


def snapshot_name(epoch: int) -> str:
    return f"epoch_{epoch:05d}.ckpt"
