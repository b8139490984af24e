"""Training InGram as the authors do (spec §6), fast on a CPU.

Per epoch, full batch: split the training triples into message (75 %, ``message_ratio``) and supervision sets
(the message set holds a random spanning forest and a triple of every relation), build the
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
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree
from torch import Tensor

from .checkpoint import atomic_torch_save, atomic_write_bytes, load_checkpoint, load_state, save_checkpoint
from .config import MESSAGE_RATIO, SPANNING_CHOICES
from .data import BenchmarkDataset
from .evaluation import embed, query_set, ranks_from_embeddings
from .inference import pick_device
from .model import InGram, InGramConfig, initial_features
from .ranking import metrics
from .relgraph import add_inverses, binned_edges, relation_graph

__all__ = ["split_triples", "corrupt", "margin_loss", "Trainer", "TrainState"]

GRAD_CLIP = 0.1
STATE_FILE = "train_state.pt"
RESUMABLE_CHANGES = ("num_epoch", "validation_epoch", "learning_rate")  # may differ on --resume
log = logging.getLogger("kgviz.train")



def breadth_first_forest(triples: np.ndarray, num_entities: int) -> np.ndarray:
    """Keys ``h·N + t`` of the directed entity pairs of a breadth-first spanning forest.

    What the authors' code fixes once per run (igraph's unweighted ``spanning_tree``): the entity
    graph taken as undirected, a breadth-first search from each entity not yet reached, in id
    order, neighbours in id order; each tree edge keeps the direction of the first triple that
    joins its two entities. Sorted; ``N − #components`` keys.
    """
    h, t = triples[:, 0].astype(np.int64), triples[:, 2].astype(np.int64)
    keep = h != t
    h, t = h[keep], t[keep]
    n = num_entities
    adj = sp.csr_matrix((np.ones(len(h)), (h, t)), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.int8)
    _, comp = connected_components(adj, directed=False)
    # one virtual root joined to the smallest entity of each component: one search covers the forest,
    # and each component's tree is the one a search from its smallest entity gives
    roots = np.unique(comp, return_index=True)[1]
    big = sp.bmat([[adj, sp.csr_matrix((np.ones(len(roots)), (roots, np.zeros(len(roots), dtype=np.int64))),
                                       shape=(n, 1))],
                   [sp.csr_matrix((np.ones(len(roots)), (np.zeros(len(roots), dtype=np.int64), roots)),
                                  shape=(1, n)), None]], format="csr")
    big.sort_indices()
    _, pred = breadth_first_order(big, n, directed=False, return_predecessors=True)
    child = np.nonzero((pred[:n] >= 0) & (pred[:n] != n))[0]
    parent = pred[child].astype(np.int64)
    # direction of the first triple joining each (parent, child) pair
    fwd = np.minimum(h, t) * n + np.maximum(h, t)
    order = np.argsort(fwd, kind="stable")
    want = np.minimum(parent, child) * n + np.maximum(parent, child)
    first = order[np.searchsorted(fwd[order], want)]
    return np.sort(h[first] * n + t[first])


def split_triples(triples: np.ndarray, num_entities: int, num_relations: int, rng: np.random.Generator,
                  ratio: float = MESSAGE_RATIO, tree: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask ``(M,)`` of message triples; the rest are supervision triples.

    The message set holds (1) a spanning forest of the undirected entity graph: drawn at random
    as the minimum spanning forest under random edge weights, or, with ``tree`` (the sorted pair
    keys of :func:`breadth_first_forest`, fixed for a run as in the authors' code), one random
    triple of each of its directed pairs; (2) one random triple of every relation the forest
    misses; (3) random further triples up to ``ratio · M`` in all.
    """
    m = len(triples)
    msg = np.zeros(m, dtype=bool)
    if tree is not None:
        key = triples[:, 0].astype(np.int64) * num_entities + triples[:, 2]
        cand = np.nonzero(np.isin(key, tree))[0]
        order = np.lexsort((rng.random(len(cand)), key[cand]))  # parallel triples in random order
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[cand][order][1:] != key[cand][order][:-1]
        msg[cand[order[first]]] = True
    else:
        weight = rng.random(m) + 1e-6  # > 0: a zero weight would be an absent edge
        a, b = np.minimum(triples[:, 0], triples[:, 2]), np.maximum(triples[:, 0], triples[:, 2])
        cand = np.nonzero(a != b)[0]  # self-loops never join components
        # One triple per entity pair: the lightest, so ties between parallel triples are random too.
        pair = a[cand] * num_entities + b[cand]
        order = np.lexsort((weight[cand], pair))
        first = np.ones(len(order), dtype=bool)
        first[1:] = pair[order][1:] != pair[order][:-1]
        rep = cand[order[first]]  # representative triple of each pair, sorted by pair key
        graph = sp.csr_matrix((weight[rep], (a[rep], b[rep])), shape=(num_entities, num_entities))
        forest = minimum_spanning_tree(graph).tocoo()
        rep_keys = a[rep] * num_entities + b[rep]
        msg[rep[np.searchsorted(rep_keys, forest.row.astype(np.int64) * num_entities + forest.col)]] = True
    # A random triple of each relation the forest does not cover.
    perm = rng.permutation(m)
    rels, first_pos = np.unique(triples[perm, 1], return_index=True)
    covered = np.zeros(num_relations, dtype=bool)
    covered[triples[msg, 1]] = True
    msg[perm[first_pos[~covered[rels]]]] = True
    # Fill up to the ratio with random remaining triples.
    rest = np.nonzero(~msg)[0]
    extra = max(0, int(round(ratio * m)) - int(msg.sum()))
    msg[rng.permutation(rest)[:extra]] = True
    return msg


def corrupt(triples: Tensor, num_entities: int, num_neg: int, generator: torch.Generator) -> Tensor:
    """``num_neg`` corruptions per triple: head or tail (prob. ½) replaced by a *different* random entity.

    Returns ``(num_neg · S, 3)`` laid out as ``num_neg`` blocks of the ``S`` triples, so that
    ``pos.repeat(num_neg)`` lines up with it.
    """
    s = len(triples)
    neg = triples.unsqueeze(0).repeat(num_neg, 1, 1)  # (num_neg, S, 3)
    device = triples.device
    col = torch.where(torch.rand(num_neg, s, generator=generator) < 0.5, 0, 2).to(device)  # (num_neg, S)
    draw = torch.randint(0, num_entities - 1, (num_neg, s), generator=generator).to(device)
    old = neg.gather(2, col.unsqueeze(-1)).squeeze(-1)
    draw = draw + (draw >= old).long()  # skip the original entity: uniform over the others
    neg.scatter_(2, col.unsqueeze(-1), draw.unsqueeze(-1))
    return neg.view(-1, 3)


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


def valid_query_set(dataset: BenchmarkDataset):
    """The valid queries of ``dataset``, filtered against msg ∪ valid ∪ test (spec §7)."""
    inf = dataset.inference
    return query_set(inf, dataset.valid, np.concatenate([inf.triples, dataset.valid, dataset.test]))


def draw_metrics(model: InGram, dataset: BenchmarkDataset, queries, seeds, device) -> list[dict]:
    """Filtered metrics of ``queries`` over ``dataset``'s inference graph, one dict per single draw in ``seeds``."""
    return [metrics(ranks_from_embeddings(model, [e], queries)) for e in embed(model, dataset.inference, seeds, device)]


def mean_metrics(per: list[dict]) -> dict:
    return {k: float(np.mean([p[k] for p in per])) for k in per[0]}


def mean_draw_metrics(model: InGram, dataset: BenchmarkDataset, queries, seeds, device) -> dict:
    """Filtered metrics of ``queries`` over ``dataset``'s inference graph, mean over single draws ``seeds``."""
    return mean_metrics(draw_metrics(model, dataset, queries, seeds, device))


def holdout_check(model: InGram, dataset: BenchmarkDataset, seeds, device, against: InGram | None = None,
                  queries=None) -> dict:
    """Valid metrics of ``model`` on held-out draws ``seeds`` (draws that chose nothing), unbiased by selection.

    With ``against`` (e.g. the shipped model) both are scored on the same draws and the paired
    difference is reported: Δ = mean_s (MRR_s(model) − MRR_s(against)), standard error sd_s(Δ_s)/√n.
    """
    queries = valid_query_set(dataset) if queries is None else queries
    per = draw_metrics(model.to(device).eval(), dataset, queries, seeds, device)
    out = {"seeds": list(seeds), "valid": mean_metrics(per)}
    if against is not None:
        ref = draw_metrics(against.to(device).eval(), dataset, queries, seeds, device)
        diff = np.array([p["MRR"] - r["MRR"] for p, r in zip(per, ref)])
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
        out["against"] = {"valid": mean_metrics(ref), "mrr_difference": float(diff.mean()), "standard_error": se}
    return out


class Trainer:
    """Full-batch InGram training on a benchmark folder, with validation, checkpoints and resume.

    Files in ``out``: ``config.json`` + ``model.ckpt`` (best validation epoch, authors' layout),
    ``train_state.pt`` (last epoch: model, optimizer and RNG states, for ``resume``),
    ``history.jsonl`` (one line per validation) and ``train.log``; with ``snapshots`` also
    ``snapshots/epoch_NNNNN.ckpt`` at every validation (for :func:`select_snapshot`).
    """

    def __init__(self, dataset: BenchmarkDataset, config: InGramConfig, out: str | Path, *,
                 seed: int = 0, device: str = "auto", valid_seeds: tuple[int, ...] = (0, 1, 2),
                 snapshots: bool = False, spanning: str = "random", message_ratio: float = MESSAGE_RATIO):
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
        msg_mask = split_triples(self.triples, self.num_entities, self.num_relations, self.rng,
                                 ratio=self.message_ratio, tree=self.tree)
        msg, sup = self.triples[msg_mask], self.triples[~msg_mask]
        rel_edges = binned_edges(relation_graph(msg, self.num_entities, self.num_relations), cfg.num_bin)
        x, z = initial_features(self.num_entities, self.num_relations, cfg.dimension_entity,
                                cfg.dimension_relation, self.gen, self.device)
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
        atomic_torch_save({
            "model_state_dict": self.model.state_dict(),
            "optimizer_state_dict": self.optimizer.state_dict(),
            "epoch": self.state.epoch, "best_valid_mrr": self.state.best_valid_mrr,
            "best_epoch": self.state.best_epoch, "wall_time": self.state.wall_time,
            "numpy_rng": json.dumps(self.rng.bit_generator.state),
            "torch_rng": self.gen.get_state(), "config": json.dumps(self.config.to_dict()),
            "seed": self.seed, "threads": torch.get_num_threads(), "device": str(self.device),
            "lr_schedule": json.dumps(self.lr_schedule), **self.procedure,
        }, self.out / STATE_FILE)

    def resume(self) -> bool:
        """Continue from ``train_state.pt`` if present (config must match); returns whether it did."""
        path = self.out / STATE_FILE
        if not path.is_file():
            return False
        s = load_state(path)
        saved = json.loads(s["config"])
        # The schedule (epochs, validation interval, step size) may change between sessions; the model may not.
        diff = {k: (saved.get(k), v) for k, v in self.config.to_dict().items()
                if saved.get(k) != v and k not in RESUMABLE_CHANGES}
        before = saved_procedure(s)
        diff.update({k: (before[k], v) for k, v in self.procedure.items() if before[k] != v})
        if diff:
            raise ValueError(f"{path}: saved run used other options {diff}; use another --out or the same options")
        self.model.load_state_dict(s["model_state_dict"])
        self.optimizer.load_state_dict(s["optimizer_state_dict"])
        for group in self.optimizer.param_groups:  # a resumed run may lower the learning rate
            group["lr"] = self.config.learning_rate
        self.state = TrainState(int(s["epoch"]), float(s["best_valid_mrr"]), int(s["best_epoch"]),
                                float(s["wall_time"]))
        self.rng.bit_generator.state = json.loads(s["numpy_rng"])
        self.gen.set_state(s["torch_rng"])
        self.lr_schedule = saved_lr_schedule(s)
        sched, lr = self.lr_schedule, self.config.learning_rate
        if sched[-1][0] == self.state.epoch:  # a stretch no epoch ran in is replaced
            sched.pop()
        if not sched or sched[-1][1] != lr:
            sched.append([self.state.epoch, lr])
        return True

    def run(self, *, resume: bool = False, progress: bool = True,
            on_validate: Callable[[int, dict], None] | None = None) -> TrainState:
        """Train until ``num_epoch``; validate every ``validation_epoch`` and keep the best checkpoint."""
        from tqdm.auto import tqdm

        self.out.mkdir(parents=True, exist_ok=True)
        if resume and self.resume():
            log.info("resumed at epoch %d (best valid MRR %.4f at %d)", self.state.epoch,
                     self.state.best_valid_mrr, self.state.best_epoch)
        cfg = self.config
        last_mrr = self.state.best_valid_mrr if self.state.best_valid_mrr >= 0 else math.nan
        bar = tqdm(range(self.state.epoch, cfg.num_epoch), initial=self.state.epoch, total=cfg.num_epoch,
                   disable=not progress, desc=self.data.name, dynamic_ncols=True)
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
                    save_checkpoint(self.out, self.model, cfg, extra={
                        "epoch": self.state.epoch, "valid": m, "seed": self.seed, "valid_seeds": list(self.valid_seeds)})
                if self.snapshots:
                    save_checkpoint(self.out / SNAPSHOT_DIR, self.model, cfg, filename=snapshot_name(self.state.epoch),
                                    extra={"epoch": self.state.epoch, "valid": m, "seed": self.seed})
                record = {"epoch": self.state.epoch, "loss": loss, "valid": m, "best": better,
                          "wall_time": round(self.state.wall_time, 1)}
                with open(self.out / "history.jsonl", "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
                log.info("epoch %d loss %.4f valid MRR %.4f H@10 %.4f%s", self.state.epoch, loss,
                         m["MRR"], m["Hits@10"], " (best)" if better else "")
                self.save_state()
                t_last = time.perf_counter()  # validation time is not training time
                if on_validate:
                    on_validate(self.state.epoch, m)
        self.save_state()
        return self.state


SNAPSHOT_DIR = "snapshots"


def saved_lr_schedule(state: dict) -> list[list]:
    """The ``[first epoch, learning rate]`` stretches of a saved ``train_state.pt``; a state saved
    before the schedule was recorded gives one stretch at its saved rate."""
    if "lr_schedule" in state:
        return json.loads(state["lr_schedule"])
    return [[0, json.loads(state["config"])["learning_rate"]]]


def saved_procedure(state: dict) -> dict:
    """The split options of a saved ``train_state.pt`` (states that predate them used the defaults)."""
    return {"spanning": state.get("spanning", "random"), "message_ratio": float(state.get("message_ratio", MESSAGE_RATIO))}


def snapshot_name(epoch: int) -> str:
    return f"epoch_{epoch:05d}.ckpt"


def average_weights(state_dicts: list[dict]) -> dict:
    """Element-wise mean of several state dicts of one architecture: θ̄ = (1/K) Σ_k θ_k."""
    if not state_dicts:
        raise ValueError("no weights to average")
    first = state_dicts[0]
    if any(sd.keys() != first.keys() or any(sd[k].shape != first[k].shape for k in first) for sd in state_dicts):
        raise ValueError("weights to average come from different architectures")
    return {k: torch.stack([sd[k].double() for sd in state_dicts]).mean(0).to(first[k].dtype)
            if first[k].is_floating_point() else first[k].clone() for k in first}


def averaging_sentence(how: str | None, epochs: list[int], num_draws: int) -> str:
    """How the weights were chosen, as the model card quotes it (``how``: None for one snapshot,
    "greedy" or "average")."""
    criterion, listed = f"mean valid MRR over {num_draws} draws", ", ".join(map(str, epochs))
    if how is None:
        return criterion
    if how == "greedy":
        return (f"weights averaged over a greedy soup of snapshots (each kept if it did not lower the {criterion}; "
                f"epochs {listed})")
    return f"weights averaged over the {len(epochs)} snapshots with the best {criterion} (epochs {listed})"


def select_snapshot(run: str | Path, dataset: BenchmarkDataset, seeds: tuple[int, ...], *, top: int | None = None,
                    average: int | None = None, greedy: bool = False, holdout: tuple[int, ...] = (),
                    against: str | Path | None = None, device: str = "auto", progress: bool = True) -> dict:
    """Re-validate a run's snapshots with more random draws and make the best weights ``model.ckpt``.

    A single draw's valid MRR swings by ±0.03, so the epoch picked during training (mean of a few
    draws) is partly luck. Each snapshot in ``run/snapshots`` — or only the ``top`` best by the
    MRR logged in ``history.jsonl`` — is scored by the mean valid MRR over ``seeds``; the winner is
    written to ``run/model.ckpt`` (authors' layout) and every score to ``run/selection.json``.

    Weight averages (θ̄ = mean of θ_k; snapshots of one run lie in one basin) are also tried:
    ``average=K`` the K best snapshots; ``greedy`` a greedy soup (Wortsman et al., 2022): walk the
    snapshots from best to worst and keep each one whose addition does not lower the mean valid
    MRR. The candidate with the highest mean valid MRR over ``seeds`` wins (the single best
    snapshot on a tie).

    The winner's score on ``seeds`` is biased upwards by the choice itself (on WK-100 by up to 0.018
    MRR against fresh draws), so ``holdout`` draws score it again (:func:`holdout_check`), paired
    with the checkpoint ``against`` when given; both go to ``selection.json["holdout"]``.
    """
    from tqdm.auto import tqdm

    run = Path(run)
    reused = sorted(set(holdout) & set(seeds))
    if reused:
        raise ValueError(f"held-out draws {reused} are also selection draws; pick held-out draws apart from {list(seeds)}")
    if against is not None and not holdout:
        raise ValueError("a checkpoint to compare against needs held-out draws (--holdout SEED …)")
    reference = load_checkpoint(against)[0] if against is not None else None  # a bad path fails now, not in an hour
    snaps = sorted((run / SNAPSHOT_DIR).glob("epoch_*.ckpt"))
    if not snaps:
        raise ValueError(f"{run / SNAPSHOT_DIR}: no snapshots (train with --snapshots)")
    if top is not None:
        logged = {}
        if (run / "history.jsonl").is_file():
            for line in (run / "history.jsonl").read_text(encoding="utf-8").splitlines():
                rec = json.loads(line)
                logged[snapshot_name(rec["epoch"])] = rec["valid"]["MRR"]
        snaps = sorted(sorted(snaps, key=lambda p: -logged.get(p.name, -1.0))[:top])
    dev = pick_device(device)
    queries = valid_query_set(dataset)
    weights: dict[int, dict] = {}
    scores = []
    for path in tqdm(snaps, desc="snapshots", disable=not progress):
        model, config, rest = load_checkpoint(path)
        weights[int(rest["epoch"])] = model.state_dict()
        scores.append({"epoch": int(rest["epoch"]),
                       "valid": mean_draw_metrics(model.to(dev).eval(), dataset, queries, seeds, dev)})
    ranked = sorted(scores, key=lambda s: -s["valid"]["MRR"])
    best = ranked[0]
    result = {"selected_epoch": best["epoch"], "valid_seeds": list(seeds), "snapshots": scores}

    def mean_of(epochs: list[int]) -> InGram:
        m = InGram.from_config(config)
        m.load_state_dict(average_weights([weights[e] for e in epochs]))
        return m

    def score_mean_of(epochs: list[int]) -> dict:
        return mean_draw_metrics(mean_of(epochs).to(dev).eval(), dataset, queries, seeds, dev)

    chosen = {"epochs": [best["epoch"]], "valid": best["valid"], "how": None}
    if average is not None and average > 1:
        epochs = sorted(s["epoch"] for s in ranked[:average])
        valid = score_mean_of(epochs)
        result["average"] = {"epochs": epochs, "valid": valid}
        if valid["MRR"] > chosen["valid"]["MRR"]:
            chosen = {"epochs": epochs, "valid": valid, "how": "average"}
    if greedy and len(ranked) > 1:
        soup, soup_valid, tried = [best["epoch"]], best["valid"], []
        for s in tqdm(ranked[1:], desc="greedy soup", disable=not progress):
            valid = score_mean_of(soup + [s["epoch"]])
            kept = valid["MRR"] >= soup_valid["MRR"]
            tried.append({"epoch": s["epoch"], "MRR": valid["MRR"], "kept": kept})
            if kept:
                soup, soup_valid = soup + [s["epoch"]], valid
        result["greedy"] = {"epochs": sorted(soup), "valid": soup_valid, "tried": tried}
        if len(soup) > 1 and soup_valid["MRR"] > chosen["valid"]["MRR"]:
            chosen = {"epochs": sorted(soup), "valid": soup_valid, "how": "greedy"}
    for how in ("average", "greedy"):
        if how in result:
            result[how]["selected"] = chosen["how"] == how

    # one run, one training seed: any snapshot's
    extra = {"epoch": max(chosen["epochs"]), "valid": chosen["valid"], "seed": rest.get("seed", 0),
             "selected_by": averaging_sentence(chosen["how"], chosen["epochs"], len(seeds)), "valid_seeds": list(seeds)}
    if top is not None:
        extra["selection_top"] = top
    model = mean_of(chosen["epochs"])  # the mean of one snapshot is that snapshot
    if chosen["how"] is not None:
        extra.update(averaged_epochs=chosen["epochs"], averaged_by=chosen["how"])
    if holdout:
        result["holdout"] = holdout_check(model, dataset, holdout, dev, against=reference, queries=queries)
        if against is not None:
            result["holdout"]["against"]["checkpoint"] = str(against)
        extra["holdout"] = {"seeds": list(holdout), "valid": result["holdout"]["valid"]}
    save_checkpoint(run, model.cpu(), config, extra=extra)
    write_json(run / "selection.json", result)
    return result


def write_json(path: str | Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2) + "\n").encode())
