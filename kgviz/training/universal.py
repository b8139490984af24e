"""One InGram for any KG: training on subgraphs of many training graphs (the universal checkpoint).

Each step draws ``graphs_per_step`` training examples. One example: a training graph (uniformly,
or with probability ∝ √M by ``mixture="sqrt"``), a size ``s`` log-uniform in ``size_range``, a
connected subgraph of about ``s`` triples (:func:`kgviz.training.sampling.sample_subgraph`, with a random
fan-out, with probability ``relation_subset`` within a random subset of the relations, with
probability ``closure`` densified by the triples among its entities), renumbered; then the
authors' split of spec §6 on it (message set: spanning forest + a triple per relation + random
triples up to a ratio drawn uniformly from ``message_ratio``), fresh random features, and the
margin ranking loss ``mean(max(0, γ − f(pos) + f(neg)))`` of its supervision triples against
``num_neg`` corruptions within the subgraph (a share ``other_side_negatives`` of them drawn from
the other side of the relation, :func:`kgviz.training.sampling.corrupt`). The step's loss is the mean over
its examples (each graph counts alike, whatever its size); Adam, gradient norm clipped to 0.1.

With one graph, ``size_range`` covering it and a fixed ratio, this is the authors' procedure
with a batch of ``graphs_per_step`` epochs per step. :func:`kgviz.training.universal.UniversalTrainer` is
also what ``kgviz adapt`` runs, from a pretrained model, on the user's own KG.

Validation (selection only, never FB-* or test splits): the valid split of each training set on
its inference graph, and fixed small KGs cut from those inference graphs whose held-out triples
are valid triples (:func:`kgviz.training.validation_graphs.small_valid_graphs`). The criterion is the mean of the two mean MRRs.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from kgviz.models.ingram.checkpoint import atomic_torch_save, load_checkpoint, load_state, save_checkpoint
from kgviz.graph.data import BenchmarkDataset
from kgviz.evaluation.benchmark import embed, query_set, ranks_from_embeddings
from kgviz.models.ingram.predictor import pick_device
from kgviz.models.ingram.network import InGram, InGramConfig, initial_features
from kgviz.ranking.ranks import metrics
from kgviz.graph.relgraph import add_inverses, binned_edges, relation_graph
from kgviz.training.sampling import RelationSides, corrupt
from kgviz.training.universal_examples import Example, MixtureOptions, TrainGraph, draw_example
from kgviz.training.loop import GRAD_CLIP, margin_loss, saved_lr_schedule
from kgviz.training.validation_graphs import small_graph_mrr, small_valid_graphs

__all__ = ["UniversalTrainer"]

STATE_FILE = "train_state.pt"
log = logging.getLogger("kgviz.training.universal")


class UniversalTrainer:
    """Training on subgraphs of several graphs (module docstring), with validation, checkpoints, resume.

    Files in ``out`` as :class:`kgviz.training.loop.Trainer` writes them: ``config.json`` + ``model.ckpt``
    (best validation), ``train_state.pt`` (to resume), ``history.jsonl``, ``snapshots/`` when asked.
    """

    def __init__(
        self,
        graphs: Sequence[TrainGraph],
        config: InGramConfig,
        out: str | Path | None,
        *,
        options: MixtureOptions | None = None,
        validation: Sequence[BenchmarkDataset] = (),
        small_valid_per_set: int = 0,
        seed: int = 0,
        device: str = "auto",
        valid_seeds: tuple[int, ...] = (0, 1),
        snapshots: bool = False,
        init_from: str | None = None,
        start_model: InGram | None = None,
        trainable: Callable[[str], bool] | None = None,
    ):
        if not graphs:
            raise ValueError("no training graphs")
        self.graphs, self.config = list(graphs), config
        self.out = None if out is None else Path(out)  # None: keep nothing on disk (no validation then)
        self.options = options or MixtureOptions()
        self.device = pick_device(device)
        self.seed, self.valid_seeds, self.snapshots = seed, valid_seeds, snapshots
        torch.manual_seed(seed)
        self.model = InGram.from_config(config).to(self.device)
        self.init_from = init_from
        if init_from:
            start, start_cfg, _ = load_checkpoint(init_from)
            if start_cfg.model_kwargs() != config.model_kwargs():
                raise ValueError(
                    f"{init_from}: its model shape {start_cfg.model_kwargs()} differs from the "
                    f"requested {config.model_kwargs()}"
                )
            self.model.load_state_dict(start.state_dict())
        if start_model is not None:  # in memory (``kgviz adapt``); same shape as ``config``
            self.model.load_state_dict(start_model.state_dict())
        params = [p for name, p in self.model.named_parameters() if trainable is None or trainable(name)]
        if not params:
            raise ValueError("no parameter is left to train")
        for name, p in self.model.named_parameters():
            p.requires_grad_(trainable is None or trainable(name))
        self.optimizer = torch.optim.Adam(params, lr=config.learning_rate)
        self.rng = np.random.default_rng(seed)
        self.gen = torch.Generator().manual_seed(seed)
        sizes = np.array([len(g.triples) for g in self.graphs], dtype=float)
        w = np.ones(len(sizes)) if self.options.mixture == "uniform" else np.sqrt(sizes)
        self.weights = w / w.sum()
        self.validation = list(validation)
        self.small_valid = {
            d.name: small_valid_graphs(d, small_valid_per_set) for d in self.validation if small_valid_per_set > 0
        }
        self.valid_queries = {
            d.name: query_set(d.inference, d.valid, np.concatenate([d.inference.triples, d.valid, d.test]))
            for d in self.validation
        }
        self.step_count, self.best, self.best_step, self.wall_time = 0, -1.0, 0, 0.0
        self.lr_schedule: list[list] = [[0, config.learning_rate]]  # [first step, learning rate] per stretch

    @property
    def procedure(self) -> dict:
        """What defines the run besides the model config (checked on resume, written to the card)."""
        return {
            "options": self.options.to_dict(),
            "graphs": [g.name for g in self.graphs],
            "init_from": self.init_from,
            "seed": self.seed,
        }

    def example_loss(self, ex: Example) -> Tensor:
        cfg = self.config
        to = lambda a: torch.from_numpy(a).to(self.device)  # noqa: E731
        rel_edges = binned_edges(relation_graph(ex.message, ex.num_entities, ex.num_relations), cfg.num_bin)
        x, z = initial_features(
            ex.num_entities, ex.num_relations, cfg.dimension_entity, cfg.dimension_relation, self.gen, self.device
        )
        ent, rel = self.model(x, z, to(add_inverses(ex.message, ex.num_relations)), to(rel_edges))
        sup = to(ex.supervision)
        share = self.options.other_side_negatives
        sides = RelationSides.of(ex.message, ex.num_relations) if share > 0 else None
        neg = corrupt(sup, ex.num_entities, cfg.num_neg, self.gen, other_side=sides, other_side_share=share)
        return margin_loss(self.model.score(ent, rel, sup), self.model.score(ent, rel, neg), cfg.margin)

    def step(self) -> float:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        k = self.options.graphs_per_step
        total = 0.0
        for _ in range(k):
            loss = self.example_loss(draw_example(self.graphs, self.weights, self.options, self.rng)) / k
            loss.backward()  # one graph at a time: memory of the largest example only
            total += loss.item()
        torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], GRAD_CLIP)
        self.optimizer.step()
        return total

    def validate(self) -> dict:
        """Valid MRR per validation set (full inference graph, and its small cut KGs) and the criterion."""
        self.model.eval()
        full, small = {}, {}
        for d in self.validation:
            embs = embed(self.model, d.inference, self.valid_seeds, self.device)
            ranks = [ranks_from_embeddings(self.model, [e], self.valid_queries[d.name]) for e in embs]
            full[d.name] = float(np.mean([metrics(r)["MRR"] for r in ranks]))
            if d.name in self.small_valid:
                small[d.name] = small_graph_mrr(self.model, self.small_valid[d.name], self.valid_seeds, self.device)
        parts = [float(np.mean(list(v.values()))) for v in (full, small) if v]
        return {"full": full, "small": small, "criterion": float(np.mean(parts)) if parts else math.nan}

    def save_state(self) -> None:
        assert self.out is not None
        atomic_torch_save(
            {
                "model_state_dict": self.model.state_dict(),
                "optimizer_state_dict": self.optimizer.state_dict(),
                "epoch": self.step_count,
                "best_valid_mrr": self.best,
                "best_epoch": self.best_step,
                "wall_time": self.wall_time,
                "numpy_rng": json.dumps(self.rng.bit_generator.state),
                "torch_rng": self.gen.get_state(),
                "config": json.dumps(self.config.to_dict()),
                "procedure": json.dumps(self.procedure),
                "lr_schedule": json.dumps(self.lr_schedule),
                "threads": torch.get_num_threads(),
                "device": str(self.device),
            },
            self.out / STATE_FILE,
        )

    def resume(self) -> bool:
        if self.out is None or not (self.out / STATE_FILE).is_file():
            return False
        path = self.out / STATE_FILE
        s = load_state(path)
        saved_cfg = {
            k: v
            for k, v in json.loads(s["config"]).items()
            if k not in ("num_epoch", "validation_epoch", "learning_rate")
        }
        now_cfg = {k: v for k, v in self.config.to_dict().items() if k in saved_cfg}
        saved_procedure = json.loads(s["procedure"])
        # options added since the run started count at their defaults
        saved_procedure["options"] = {**MixtureOptions().to_dict(), **saved_procedure.get("options", {})}
        if saved_cfg != now_cfg or saved_procedure != self.procedure:
            raise ValueError(
                f"{path}: saved run used other options ({saved_procedure}, {saved_cfg}); "
                "use another --out or the same options"
            )
        self.model.load_state_dict(s["model_state_dict"])
        self.optimizer.load_state_dict(s["optimizer_state_dict"])
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.learning_rate
        self.step_count, self.best = int(s["epoch"]), float(s["best_valid_mrr"])
        self.best_step, self.wall_time = int(s["best_epoch"]), float(s["wall_time"])
        self.rng.bit_generator.state = json.loads(s["numpy_rng"])
        self.gen.set_state(s["torch_rng"])
        self.lr_schedule = saved_lr_schedule(s)
        if self.lr_schedule[-1][0] == self.step_count:  # a stretch no step ran in is replaced
            self.lr_schedule.pop()
        if not self.lr_schedule or self.lr_schedule[-1][1] != self.config.learning_rate:
            self.lr_schedule.append([self.step_count, self.config.learning_rate])
        return True

    def run(
        self,
        *,
        resume: bool = False,
        progress: bool = True,
        seconds: float | None = None,
        on_step: Callable[[int, float], bool] | None = None,
    ) -> dict:
        """Train until ``num_epoch`` steps (or ``seconds`` of training, or ``on_step`` returning False).

        Validates every ``validation_epoch`` steps (if there are validation sets) and keeps the best.
        Returns ``{"steps", "best_valid", "best_step", "wall_time"}``.
        """
        from tqdm.auto import tqdm

        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
        if resume and self.resume():
            log.info("resumed at step %d (best criterion %.4f at %d)", self.step_count, self.best, self.best_step)
        cfg = self.config
        bar = tqdm(
            range(self.step_count, cfg.num_epoch),
            initial=self.step_count,
            total=cfg.num_epoch,
            disable=not progress,
            desc="universal",
            dynamic_ncols=True,
        )
        t_last, started = time.perf_counter(), self.wall_time
        avg = math.nan
        for _ in bar:
            loss = self.step()
            self.step_count += 1
            avg = loss if math.isnan(avg) else 0.98 * avg + 0.02 * loss
            now = time.perf_counter()
            self.wall_time += now - t_last
            t_last = now
            bar.set_postfix(loss=f"{avg:.4f}", best=f"{self.best:.4f}", refresh=False)
            if self.validation and self.out is not None and self.step_count % cfg.validation_epoch == 0:
                self.checkpoint(avg)
                t_last = time.perf_counter()
            if on_step is not None and not on_step(self.step_count, loss):
                break
            if seconds is not None and self.wall_time - started >= seconds:
                break
        if self.out is not None:
            self.save_state()
        return {
            "steps": self.step_count,
            "best_valid": self.best,
            "best_step": self.best_step,
            "wall_time": self.wall_time,
        }

    def checkpoint(self, loss: float) -> None:
        """Validate; keep ``model.ckpt`` if best, a snapshot if asked; log and save the state."""
        assert self.out is not None
        m = self.validate()
        better = m["criterion"] > self.best
        extra = {
            "epoch": self.step_count,
            "valid": m,
            "seed": self.seed,
            "valid_seeds": list(self.valid_seeds),
            "procedure": self.procedure,
        }
        if better:
            self.best, self.best_step = m["criterion"], self.step_count
            save_checkpoint(self.out, self.model, self.config, extra=extra)
        if self.snapshots:
            save_checkpoint(
                self.out / "snapshots",
                self.model,
                self.config,
                filename=f"epoch_{self.step_count:06d}.ckpt",
                extra=extra,
            )
        record = {
            "epoch": self.step_count,
            "loss": loss,
            "valid": m,
            "best": better,
            "wall_time": round(self.wall_time, 1),
        }
        with open(self.out / "history.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        log.info(
            "step %d loss %.4f criterion %.4f%s", self.step_count, loss, m["criterion"], " (best)" if better else ""
        )
        self.save_state()
