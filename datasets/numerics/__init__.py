"""Numerics the generators share, written once: finite-volume assembly (:mod:`.finite_volume`),
sparse direct solves (:mod:`.sparse_direct`), cell-centred grids (:mod:`.grid`), ETDRK4
coefficients (:mod:`.etdrk4`), thread limits (:mod:`.threads`), parameter validation
(:mod:`.validation`) and the self-check record (:mod:`.selfcheck`). Pure numerics: nothing here
imports the harness."""
