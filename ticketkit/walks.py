"""Trajectory levels a grid trains without asking for them, so that its cost counts them.

An IMP or learning-rate-rewinding run at level j needs every ticket below it trained: a grid asking only for level 19
trains levels 0-18 too. Those levels' records live in the trained-network cache (ticketkit.trained), which is not
committed; `store_walks` copies them into the result store, so a chapter's stated training time holds them on any
machine that has the records.
"""
from __future__ import annotations

from typing import Any, Iterable

from . import imp, trained
from .runs import RunConfig
from .store import Store


def walk_levels(cfgs: Iterable[RunConfig]) -> list[RunConfig]:
    """The ticket runs (levels 0..j) behind every IMP run of `cfgs` at level j that `cfgs` does not hold itself,
    each once (level 0 is shared by trajectories that differ only in how they prune)."""
    cfgs = list(cfgs)
    asked = set(cfgs)
    deepest: dict[tuple[Any, ...], tuple[RunConfig, int]] = {}
    for c in cfgs:
        if c.method == "imp":
            trial, level = (imp.trajectory_key(c), c.seed, c.data_seed), int(imp.options(c)["level"])
            if level > deepest.get(trial, (c, -1))[1]:
                deepest[trial] = (c, level)
    walks = (imp.level_config(c, lv) for c, top in deepest.values() for lv in range(top + 1))
    return [w for w in dict.fromkeys(walks) if w not in asked]


def store_walks(cfgs: Iterable[RunConfig], store: Store) -> int:
    """Store the cached record of every walk level of `cfgs` that the store lacks; the number stored."""
    n = 0
    for w in walk_levels(cfgs):
        if store.get(w) is None and trained.path(w).is_file():
            blob = trained.load(w)
            if blob is not None:
                store.put(w, blob["record"])
                n += 1
    return n
