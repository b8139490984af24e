"""The lecture's text: its eight steps and a closing one (InGram → ULTRA) (title, formula, point) and its two tables of encoders.

:mod:`kgviz.classroom.walkthrough` computes each step's live numbers; the classroom page shows both.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    formula: str  # LaTeX, shown with st.latex
    text: str  # the lecture's point, Markdown


STEPS: tuple[Step, ...] = (
    Step(
        "task",
        "The KG and the task",
        r"(h,\ r,\ ?)\;\longrightarrow\;\hat t = \arg\max_{t \in \mathcal{V}} f_r(h, t)",
        "A KG is a set of triples *(head, relation, tail)*. **Knowledge-graph completion:** for a "
        "query *(head, relation, ?)* score every entity as the missing tail; the score is high if "
        "the triple should exist. InGram must do this on a KG whose entities **and relations** it "
        "has never seen.",
    ),
    Step(
        "encoders",
        "Why shallow embeddings and RGCN are not enough",
        r"\begin{gathered} f_r(h,t) = -\lVert \mathbf{h} + \mathbf{r} - \mathbf{t} \rVert \\ "
        r"\mathbf{h}_v^{(l+1)} = \sigma\Big(\sum_{r \in R} \sum_{u \in N_v^r} "
        r"\tfrac{1}{c_{v,r}} \mathbf{W}_r^{(l)} \mathbf{h}_u^{(l)} + \mathbf{W}_0^{(l)} \mathbf{h}_v^{(l)}\Big) \end{gathered}",
        "**Shallow encoders** (TransE, DistMult, ComplEx, RotatE …) learn one vector per entity and "
        "per relation: a new drug, or a new KG, needs retraining. **RGCN** computes entity vectors "
        "from the graph (new entities are fine) but keeps one weight matrix **W_r per relation**: a "
        "KG with different relations has no weights. **InGram** computes relation vectors from the "
        "structure of relations too — the *relation graph* — so nothing is tied to a vocabulary.",
    ),
    Step(
        "pair",
        "Shared entities of one relation pair",
        r"\beta(r_i, r_j) = \sum_{e} \frac{E[e, i]\, E[e, j]}{d_e^{\,2}}",
        "Two relations are close when they meet at the same entities. Each entity that is head or "
        "tail of both relations adds **1/d²**, where *d* is its number of triples: a shared entity "
        "with few triples says more than a hub.",
    ),
    Step(
        "relgraph",
        "The whole relation graph",
        r"A = E_h^{\top} D_h^{-2} E_h + E_t^{\top} D_t^{-2} E_t \quad (2R \times 2R)",
        "Doing this for every pair gives a weighted graph whose **nodes are relations**. The lecture "
        "merges a relation with its inverse and uses 0/1 incidence (β, R × R); the model keeps "
        "heads and tails apart: each relation *r* gets an inverse *r⁻¹*, `E_h`/`E_t` count how often "
        "an entity is head/tail of each, giving the exact 2R × 2R affinity *A*.",
    ),
    Step(
        "bins",
        "Binning the edge weights",
        r"\begin{gathered} \mathrm{bin}(k) = \left\lceil \frac{k \cdot B}{\mathrm{nnz}} \right\rceil - 1, \\ "
        r"k = 1..\mathrm{nnz}\ \text{(edges sorted by weight, largest first)} \end{gathered}",
        "The model does not use the weights themselves: edges are sorted by weight and cut into "
        "**B equal-size bins** (bin 0 = strongest). Each bin gets a learned attention bias, so "
        "the model can learn how much a strong or a weak affinity should count.",
    ),
    Step(
        "relattn",
        "Relation-level attention",
        r"\begin{gathered} \alpha_{ij} = \frac{\exp(s_{ij})}{\sum_{j' \in N(i)} \exp(s_{ij'})},\quad "
        r"\mathbf{z}_i' = \sum_{j} \alpha_{ij}\, \mathbf{W}_{\!agg}\, \mathbf{z}_j \\ "
        r"s_{ij} = \mathbf{a}^{\top}\mathrm{LeakyReLU}(\mathbf{W}[\mathbf{z}_i ; \mathbf{z}_j]) + c_{\mathrm{bin}(i,j)}"
        r" \end{gathered}",
        "A graph-attention layer on the relation graph: each relation collects its neighbours' "
        "vectors, weighted by attention. The lecture writes the edge term as *+ β*; InGram adds "
        "the learned bias *c* of the edge's bin. The relation vectors start random: everything a "
        "relation 'means' comes from its position in the relation graph.",
    ),
    Step(
        "entattn",
        "Entity-level attention",
        r"\begin{gathered} \alpha_{urv} = \operatorname*{softmax}_{(u,r) \to v}\Big(\hat{\mathbf{a}}^{\top}"
        r"\mathrm{LeakyReLU}(\hat{\mathbf{W}}[\mathbf{x}_v ; \mathbf{x}_u ; \mathbf{z}_r])\Big) \\ "
        r"\mathbf{x}_v' = \sum_{(u,r) \to v} \alpha_{urv}\, \hat{\mathbf{W}}_{\!agg}[\mathbf{x}_u ; \mathbf{z}_r]"
        r" \end{gathered}",
        "Then the entities: each entity *v* attends over the triples that point to it (inverses "
        "included) plus a self-loop, and the message carries the **relation vector z_r** computed "
        "in the previous step. The entity update depends on the relation update.",
    ),
    Step(
        "score",
        "Scoring head and ranked answers",
        r"f(h, r, t) = \sum_{k} x_{h,k}\, (\mathbf{W}_{\!p}\, \mathbf{z}_r)_k\, x_{t,k}",
        "A DistMult-style score of the final entity and relation vectors ranks every entity as "
        "the missing tail. The same weights work on any KG: that is transfer to a new KG.",
    ),
    Step(
        "ultra",
        "From InGram to ULTRA",
        r"\underbrace{\mathrm{bin}\big(A_{ij}\big)}_{\text{InGram: how much } r_i, r_j \text{ share}}"
        r"\qquad \underbrace{(r_i, r_j, k),\ k \in \{hh, tt, ht, th\}}_{\text{ULTRA: in which roles}}",
        "InGram was *a step towards foundation models for KGs*; **ULTRA** (Galkin et al., ICLR 2024) took the "
        "next one: one pretrained model for any KG. **Relation graph:** InGram weighs each pair of relations by "
        "the entities they share and bins the weights; ULTRA keeps four yes/no interaction types — head–head, "
        "tail–tail, head–tail, tail–head. **Ranking:** InGram embeds the whole KG once (from random features, "
        "averaged over draws) and scores with DistMult; ULTRA passes messages from the query's anchor, "
        "conditioned on the query relation — no draws, and each answer explained by the paths that carried it.",
    ),
)

# The lecture's table of shallow KG-embedding models (score, embedding space, patterns).
MODEL_TABLE: tuple[dict[str, str], ...] = tuple(
    dict(zip(("Model", "Score", "Embedding", "Sym.", "Antisym.", "Inv.", "Compos.", "1-to-N"), row))
    for row in (
        ("TransE", "−‖h + r − t‖", "h, t, r ∈ ℝᵏ", "✗", "✓", "✓", "✓", "✗"),
        ("TransR", "−‖M_r h + r − M_r t‖", "h, t ∈ ℝᵏ, r ∈ ℝᵈ, M_r ∈ ℝᵈˣᵏ", "✓", "✓", "✓", "✓", "✓"),
        ("DistMult", "⟨h, r, t⟩", "h, t, r ∈ ℝᵏ", "✓", "✗", "✗", "✗", "✓"),
        ("ComplEx", "Re(⟨h, r, t̄⟩)", "h, t, r ∈ ℂᵏ", "✓", "✓", "✓", "✗", "✓"),
        ("RotatE", "−‖h ∘ r − t‖", "h, t, r ∈ ℂᵏ", "✓", "✓", "✓", "✓", "✗"),
    )
)

# What each encoder family can do with an unseen KG (the lecture's three summaries).
ENCODER_TABLE: tuple[dict[str, str], ...] = tuple(
    dict(
        zip(
            ("Encoder", "Entity vectors", "Relation vectors", "New entities", "New relations", "Transfer to a new KG"),
            row,
        )
    )
    for row in (
        ("Shallow (TransE …)", "trained table", "trained table", "✗ retrain", "✗ retrain", "✗"),
        ("RGCN", "GNN over the KG", "trained W_r per relation", "✓", "✗", "only with the same relations"),
        ("InGram", "GNN over the KG", "GNN over the relation graph", "✓", "✓", "✓"),
    )
)
