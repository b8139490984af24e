"""Write ``docs/results.md``: shipped models beside the paper, and the transfer table.

Every shipped model (``pretrained/*/``) is evaluated on the test split of every benchmark set
in ``$KGVIZ_DATA`` (its ``msg.txt`` as the inference graph), FB-* included (inference only).

    python scripts/results_tables.py [--seeds 100 101 102 103 104]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from kgviz.models.ingram.checkpoint import load_checkpoint
from kgviz.graph.data import load_benchmark
from kgviz.evaluation.benchmark import REPORT_SEEDS, evaluate
from kgviz.training.release import PAPER

ROOT = Path(__file__).resolve().parents[1]

LEAKAGE_NOTE = "Off-diagonal cells within one family (NL-\\*, WK-\\*, and NELL-995-v1 with NL-\\*) are *not* inductive: the sets are cut from the same source KG, so one set's training graph can hold another set's test triples (NL-25's and NL-50's `train.txt` contain 152 of NL-100's 793 test triples, NL-0's 109; NL-100's own contains none). An NL-\\* model beating the NL-100 model on NL-100 is that leakage, not a better model."

SET_ORDER = [
    "NL-0",
    "NL-25",
    "NL-50",
    "NL-75",
    "NL-100",
    "WK-25",
    "WK-50",
    "WK-75",
    "WK-100",
    "FB-25",
    "FB-50",
    "FB-75",
    "FB-100",
    "NELL-995-v1",
]


def epoch_cell(metrics: dict) -> str:
    """``4400``, or ``mean of 3800–4700 (5)`` for weights averaged over snapshots."""
    avg = metrics.get("averaged_epochs")
    return f"mean of {min(avg)}–{max(avg)} ({len(avg)})" if avg else str(metrics["best_epoch"])


def stored_cell(metrics: dict) -> str:
    sd = metrics.get("stored_draw")
    return f"{sd['test']['MRR']:.3f} / {sd['test']['Hits@10']:.3f}" if sd else "—"


DRAW_NOTE = (
    "The authors' `train.py` draws one set of random features for each validation and saves it in "
    "that epoch's checkpoint (`inf_emb_ent`, `inf_emb_rel`); their `test.py` scores the test split "
    "with the saved draw of the best-validated checkpoint. The paper's figures are therefore those "
    "of one draw chosen on validation among about 50 (10,000 epochs, validation every 200), not of "
    "a random draw. Valid and test share the inference graph, so a draw that is good on one is good "
    "on the other (correlation below). The table measures that protocol with our weights on fresh "
    "draws (none chose the weights): *best valid of k* is the expected test figure of the draw with "
    "the best valid MRR among k random draws (`kgviz.models.ingram.draws.expected_best_of`, exact over all "
    "k-subsets of the measured draws; `scripts/draw_selection.py`). The bars of issue #3 use the "
    "random draw."
)


def draw_selection_section(own: dict) -> list[str]:
    rows = {name: mt["draw_selection"] for name, mt in own.items() if "draw_selection" in mt}
    if not rows:
        return []
    ks = sorted({int(k) for r in rows.values() for k in r["best_valid_of_k"]} - {1})
    lines = [
        "## Random draws and the authors' stored draw (test split)",
        "",
        DRAW_NOTE,
        "",
        "| set | fresh draws | valid/test correlation | random draw MRR | "
        + " | ".join(f"best valid of {k}: MRR / Hits@10" for k in ks)
        + " | stored draw | paper |",
        "|---|---|---|---|" + "---|" * len(ks) + "---|---|",
    ]
    for name, r in rows.items():
        best = r["best_valid_of_k"]
        paper = PAPER.get(name)
        cells = [f"{best[str(k)]['MRR']:.3f} / {best[str(k)]['Hits@10']:.3f}" if str(k) in best else "—" for k in ks]
        lines.append(
            f"| {name} | {r['draws']} ({r['seeds'][0]}–{r['seeds'][1]}) | {r['valid_test_mrr_correlation']:.2f} | "
            f"{r['test_mrr_random_draw']['mean']:.3f} ± {r['test_mrr_random_draw']['std']:.3f} | "
            + " | ".join(cells)
            + f" | {stored_cell(own[name])} | "
            + (f"{paper[0]:.3f} / {paper[1]:.3f}" if paper else "—")
            + " |"
        )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.environ.get("KGVIZ_DATA", str(ROOT.parent / "shared" / "ingram-data")))
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=list(REPORT_SEEDS[:5]),
        help="random draws (default 100 … 104, not those that chose the weights)",
    )
    p.add_argument("--out", default=str(ROOT / "docs" / "results.md"))
    args = p.parse_args()

    # per-set checkpoints (metrics.json with their own test split); the universal one is in docs/transfer.md
    models = sorted(
        d
        for d in (ROOT / "pretrained").iterdir()
        if (d / "config.json").is_file() and "test" in json.loads((d / "metrics.json").read_text())
    )
    sets = [s for s in SET_ORDER if (Path(args.data) / s / "msg.txt").is_file()]
    own = {}
    for m in models:
        metrics = json.loads((m / "metrics.json").read_text())
        own[m.name] = metrics
    transfer: dict[str, dict[str, dict]] = {}
    t0 = time.perf_counter()
    for m in models:
        model, _, _ = load_checkpoint(m)
        for s in sets:
            r = evaluate(model, load_benchmark(Path(args.data) / s), "test", seeds=args.seeds, device="cpu")
            transfer.setdefault(m.name, {})[s] = r["mean"]
            print(f"{m.name} on {s}: MRR {r['mean']['MRR']:.3f} H@10 {r['mean']['Hits@10']:.3f}", flush=True)

    lines = [
        "# Results",
        "",
        "Filtered link prediction on the InGram benchmarks (spec §7): each query ranks the true "
        "head and the true tail among all entities of the inference graph (`msg.txt`), other known "
        "triples removed, ties as in the authors' code. *Single draw* = one random draw of the "
        "initial features, mean ± std over seeds; *ensemble* = scores averaged over K draws. "
        "All draws here (seeds 100 and up) differ from the draws that chose the weights (0–29): "
        "weights chosen on some draws fit those draws, and figures on them come out optimistic "
        "(by about 0.02 MRR on NL-100: `docs/experiments.md`).",
        "",
        "## Shipped models (test split)",
        "",
        "| set | single draw MRR | single draw Hits@10 | ensemble MRR | ensemble Hits@10 | stored draw MRR / Hits@10 | paper MRR | paper Hits@10 | epoch / trained |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, mt in own.items():
        t, e = mt["test"], mt["test"]["ensemble"]
        paper = PAPER.get(name)
        ps = (f"{paper[0]:.3f} | {paper[1]:.3f}") if paper else "— | —"
        lines.append(
            f"| {name} | {t['mean']['MRR']:.3f} ± {t['std']['MRR']:.3f} | "
            f"{t['mean']['Hits@10']:.3f} ± {t['std']['Hits@10']:.3f} | "
            f"{e['metrics']['MRR']:.3f} (K={e['k']}) | {e['metrics']['Hits@10']:.3f} | {stored_cell(mt)} | {ps} | "
            f"{epoch_cell(mt)} / {mt['epochs_trained']} |"
        )
    lines += [
        "",
        "Valid-split figures and per-seed numbers: `pretrained/<set>/metrics.json`. *Stored draw*: the "
        "one draw among 0–29 with the best valid MRR, kept in `model.ckpt` as the authors' `inf_emb_ent` / "
        "`inf_emb_rel` (below).",
        "",
    ]
    lines += draw_selection_section(own)
    lines += [
        "",
        f"## Transfer table (test MRR / Hits@10, single draw, mean over seeds {' '.join(map(str, args.seeds))})",
        "",
        "Rows: the model (trained on that set's `train.txt`); columns: the set whose inference graph "
        "and test queries are used. FB-* have no training file here: inference only. The diagonal "
        "is the usual inductive setting; off-diagonal cells transfer to a KG with other entities and relations.",
        "",
        LEAKAGE_NOTE,
        "",
        "| model \\ data | " + " | ".join(sets) + " |",
        "|---|" + "---|" * len(sets),
    ]
    for name, row in transfer.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[s]['MRR']:.3f} / {row[s]['Hits@10']:.3f}" for s in sets) + " |")
    lines += ["", f"Generated by `python scripts/results_tables.py` in {time.perf_counter() - t0:.0f} s."]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
