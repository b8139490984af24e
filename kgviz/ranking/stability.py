"""How far to trust a ranking: how much the top ``k`` of an ensemble moves between its draws, and the
one-line verdict of a self-check. The ranking itself is made in :mod:`kgviz.ranking.ranks`.

Stability wording (:func:`stability`): with ``top1`` the share of draws whose first choice is the
ensemble's and ``overlap`` the mean share of the ensemble's top ``k`` that a single draw keeps in its top
``k``, the order is called *stable* only when ``top1 ≥ 0.9`` and ``overlap ≥ 0.8``, *unstable* when
``top1 < 0.5`` or ``overlap < 0.6``, and *varies between draws* in between. The message always gives
the counts ("first in 22 of 32 draws").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kgviz.ranking.ranks import QueryRanking

__all__ = [
    "STABLE_TOP1",
    "STABLE_OVERLAP",
    "UNSTABLE_TOP1",
    "UNSTABLE_OVERLAP",
    "Stability",
    "stability",
    "self_check_verdict",
]

STABLE_TOP1, STABLE_OVERLAP = 0.9, 0.8  # at or above both shares, the top-k order is called stable
UNSTABLE_TOP1, UNSTABLE_OVERLAP = 0.5, 0.6  # below either share, the top-k order is called unstable


@dataclass(frozen=True)
class Stability:
    """How the top ``k`` of the ensemble holds up under single draws.

    ``top1_share``: share of draws whose first choice is the ensemble's; ``overlap``: mean over the
    draws of ``|top-k(draw) ∩ top-k(ensemble)| / k``; ``widest``: the top-k candidate whose rank
    moves most (name, best, worst). ``level``: ``"stable"`` when ``top1_share ≥ 0.9`` and ``overlap ≥ 0.8``
    (``stable`` is then True), ``"unstable"`` when ``top1_share < 0.5`` or ``overlap < 0.6``, else ``"varies"``.
    """

    draws: int
    k: int
    top1_share: float
    overlap: float
    widest: tuple[str, int, int]
    stable: bool
    message: str
    level: str = "varies"


def stability(ranking: QueryRanking, k: int = 5) -> Stability | None:
    """How much the top ``k`` moves between the single draws (``None`` with one draw: nothing to compare)."""
    draws = len(ranking.seeds)
    cands = ranking.candidates
    if draws < 2 or not cands:
        return None
    k = min(k, len(cands))
    ranks = np.array([c.seed_ranks for c in cands])  # (C, S), candidates in ensemble order
    top1 = float((ranks[0] == 1).mean())
    overlap = float((ranks[:k] <= k).sum(0).mean() / k)
    spread = [c.rank_max - c.rank_min for c in cands[:k]]
    w = cands[int(np.argmax(spread))]
    widest = (w.name, w.rank_min, w.rank_max)
    first_count = int(round(top1 * draws))
    first = (
        f"the first choice '{cands[0].name}' is first in {first_count} of {draws} draws ({top1:.0%}), "
        f"and a single draw keeps on average {overlap * k:.1f} of the top {k}"
    )
    moves = f"'{widest[0]}' ranks from {widest[1]} to {widest[2]} between draws"
    if top1 >= STABLE_TOP1 and overlap >= STABLE_OVERLAP:
        level, msg = "stable", f"Stable over {draws} draws: {first}; {moves}."
    elif top1 < UNSTABLE_TOP1 or overlap < UNSTABLE_OVERLAP:
        level = "unstable"
        msg = (
            f"Unstable top {k}: {first}, and {moves}. This order is close to noise: the constraints, or adapting "
            "the model to this KG may help; check the self-check."
        )
    else:
        level = "varies"
        msg = (
            f"Varies between draws: {first}; {moves}. Called stable only at ≥ {STABLE_TOP1:.0%} first-choice "
            f"agreement and ≥ {STABLE_OVERLAP:.0%} top-{k} overlap."
        )
    stable = level == "stable"
    return Stability(draws, k, top1, overlap, widest, stable, msg, level)


def self_check_verdict(
    metrics: dict[str, dict[str, float]],
    model: str = "InGram + both constraints",
    baseline: str = "relation-tail frequency + both constraints",
) -> str:
    """One line comparing ``model``'s MRR with ``baseline``'s and the best other baseline's on a self-check.

    The default compares like with like: the baseline under the same constraints as the model (falling
    back to the raw baseline, then to the best one, when a self-check has no such row)."""
    if model not in metrics:
        return "No model was checked: baselines only."
    ours = metrics[model]["MRR"]
    own = model.split(" + ")[0]  # the model's other rows (raw, other constraints) are no baselines
    others = {m: v["MRR"] for m, v in metrics.items() if not m.startswith(("InGram", own))}
    if not others:
        return f"{model}: MRR {ours:.3f}."
    best = max(others, key=others.__getitem__)
    raw_baseline = baseline.split(" + ")[0]
    ref = baseline if baseline in others else raw_baseline if raw_baseline in others else best
    gap = ours - others[ref]
    if gap > 0.02:
        how = f"predicts this KG better than {ref} (MRR {ours:.3f} against {others[ref]:.3f})"
    elif gap < -0.02:
        how = (
            f"predicts this KG worse than {ref} (MRR {ours:.3f} against {others[ref]:.3f}): on this KG its "
            "rankings add nothing to counting the known facts; adapting the model may help"
        )
    else:
        how = f"is about as good as {ref} (MRR {ours:.3f} against {others[ref]:.3f})"
    tail = "" if best == ref else f"; the best baseline is {best} ({others[best]:.3f})"
    return f"{model} {how}{tail}."
