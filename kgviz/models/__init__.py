"""Models that rank candidates of a query, behind one interface (:class:`kgviz.models.base.Scorer`).

Every model — InGram, ULTRA, the counting baselines, the lecture's shallow models, R-GCN — is a
scorer: ``scores(graph, anchors, relations, direction) → (Q, N)``. Rankings are made from scores in
one place, :mod:`kgviz.ranking.ranks`.
"""
