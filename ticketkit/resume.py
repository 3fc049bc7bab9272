"""The trained networks another machine needs to continue this store's grids where they stopped.

Trained networks are cached beside the records but not committed (ticketkit.trained); an IMP trajectory continues
from the deepest level whose network and mask are cached, with level 0's for the rewind point (imp.resume), and a
gem's sanity checks and the smart-ratio variants that borrow its densities reuse its cached search. Listing just
those files lets them travel with the records (`git add -f $(python -m ticketkit resume-files)`), so a grid stopped
on one machine resumes on another from the same networks, without retraining them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import gem_runs, imp, trained
from .runs import RunConfig
from .store import Store


def resume_files(store: Store) -> list[Path]:
    """Per IMP trial in `store`: the cached level-0 network and the deepest cached ticket level; per stored
    Gem-Miner run: its cached search. Sorted."""
    roots: set[Path] = set()
    deepest: dict[tuple[Any, ...], tuple[int, Path]] = {}
    for rec in store.records():
        cfg = RunConfig.from_dict(rec["config"])
        if cfg.method == "gem" and dict(cfg.options)["search"] == "gem_miner":
            roots |= {p for p in [trained.path(gem_runs.searched_config(cfg))] if p.is_file()}
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
