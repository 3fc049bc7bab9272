"""The trained networks another machine needs to continue this store's IMP trajectories where they stopped.

Trained networks are cached beside the records but not committed (ticketkit.trained); an IMP trajectory continues
from the deepest level whose network and mask are cached, with level 0's for the rewind point (imp.resume). Listing
just those files per trial lets them travel with the records (`git add -f $(python -m ticketkit resume-files)`),
so a grid stopped on one machine resumes on another without retraining its earlier levels.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import imp, trained
from .runs import RunConfig
from .store import Store


def resume_files(store: Store) -> list[Path]:
    """Per IMP trial in `store`: the cached level-0 network and the deepest cached ticket level, sorted."""
    roots: set[Path] = set()
    deepest: dict[tuple[Any, ...], tuple[int, Path]] = {}
    for rec in store.records():
        cfg = RunConfig.from_dict(rec["config"])
        if cfg.method != "imp" or imp.options(cfg)["branch"] != "ticket" or not trained.path(cfg).is_file():
            continue
        level = int(imp.options(cfg)["level"])
        if level == 0:
            roots.add(trained.path(cfg))
            continue
        trial = (imp.trajectory_key(cfg), cfg.seed, cfg.data_seed)
        if level > deepest.get(trial, (0, Path()))[0]:
            deepest[trial] = (level, trained.path(cfg))
    return sorted(roots | {p for _, p in deepest.values()})
