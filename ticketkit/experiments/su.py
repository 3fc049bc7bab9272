"""Grids of the Su et al. chapter (seeds 000 and 001): which runs each notebook needs, in one place."""
from __future__ import annotations

from ..profiles import Profile
from ..runs import RunConfig

MODELS = ("vgg19", "resnet32_2x")
RT_METHODS = ("lottery", "snip", "grasp", "random_tickets")
INITIAL_CHECKS = ("none", "corrupted_data", "layerwise_rearrange")
PARTIAL_ROWS = (("lottery", "none"), ("lottery", "shuffle_weights"), ("lottery", "half_dataset"),
                ("lr_rewinding", "none"))
HYBRID_METHODS = ("lr_rewinding", "hybrid")


def _grid(P: Profile, datasets, models, sparsities, cells) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    out = []
    for d in datasets or P.datasets:
        for m in models or MODELS:
            for seed in P.seeds:
                out.append(P.run(d, m, seed=seed))
                for s in sparsities or P.sparsities:
                    out += [P.run(d, m, method, s, seed, sanity) for method, sanity in cells]
    return out


def random_tickets(P: Profile, datasets=None, models=None, sparsities=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """Dense, lottery tickets, SNIP, GraSP and random tickets (000 Table 1, 001 random tickets table)."""
    return _grid(P, datasets, models, sparsities, [(m, "none") for m in RT_METHODS])


def initial_sanity(P: Profile, datasets=None, models=None, sparsities=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """SNIP and GraSP: original vs corrupted data vs layerwise rearrange (000 Figure 1)."""
    return _grid(P, datasets, models, sparsities, [(m, c) for m in ("snip", "grasp") for c in INITIAL_CHECKS])


def partial_sanity(P: Profile, datasets=None, models=None, sparsities=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """Lottery tickets, shuffled weights, half dataset, learning-rate rewinding (001 first table)."""
    return _grid(P, datasets, models, sparsities, list(PARTIAL_ROWS))


def hybrid(P: Profile, datasets=None, models=None, sparsities=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """Learning-rate rewinding vs hybrid tickets (000 Table 2, 001 hybrid table)."""
    return _grid(P, datasets, models, sparsities, [(m, "none") for m in HYBRID_METHODS])


def chapter(P: Profile, models=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """Every run of the chapter, ordered model by model so finished models have complete tables."""
    out: list[RunConfig] = []
    for m in models or MODELS:
        for part in (random_tickets, initial_sanity, partial_sanity, hybrid):
            out += part(P, models=[m])
    return list(dict.fromkeys(out))
