"""The trained networks another machine needs to continue this store's grids where they stopped.

Trained networks are cached beside the records but not committed (ticketkit.trained); an IMP trajectory continues
from the deepest level whose network and mask are cached, with level 0's for the rewind point (imp.resume), and a
gem's sanity checks and the smart-ratio variants that borrow its densities reuse its cached search. Listing just
those files lets them travel with the records (`git add -f $(python -m ticketkit resume-files)`), so a grid stopped
on one machine resumes on another from the same networks, without retraining them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from . import gem_runs, imp, trained
from .runs import RunConfig
from .store import Store


def resume(trial: imp.Trial, lowest: int) -> int:
    """The level a trial's walk starts at to reach `lowest`: the deepest ticket level at or below it whose network
    and mask are cached (below it for learning-rate rewinding, whose levels start from the previous level's
    weights), with level 0's cached for the dense network and rewind point; 0 when there is none. The trial gets
    level 0's state and that level's weights; the walk then takes the level's cached ticket and mask, so branches
    at that level and the levels after it train as they would have on the machine that trained it."""
    dense = _cached(imp.level_config(trial.root, 0), "rewind") if lowest >= 1 else None
    top = lowest - 1 if imp.options(trial.root).get("restart") == "trained" else lowest
    for level in range(top, 0, -1) if dense is not None else ():
        blob = _cached(imp.level_config(trial.root, level), "mask")
        if blob is not None:
            trial.dense, trial.rewind, trial.trained = dense["final"], dense["rewind"], blob["final"]
            return level
    return 0


def _cached(cfg: RunConfig, need: str) -> dict[str, Any] | None:
    """A ticket's cached network if it holds state `need` (older caches have no mask), else None, silently."""
    blob = trained.load(cfg) if trained.path(cfg).is_file() else None
    return blob if blob is not None and isinstance(blob.get(need), dict) else None


def resume_files(store: Store, pending: Sequence[RunConfig] | None = None) -> list[Path]:
    """Per IMP trial in `store`: the cached level-0 network and the deepest cached ticket level holding its mask
    (what resume needs); per stored Gem-Miner run: its cached search. Sorted. With `pending` (the runs a grid still
    lacks), only the files those runs would start from: finished trajectories and searches stay behind."""
    roots: set[Path] = set()
    deepest: dict[tuple[Any, ...], tuple[int, Path]] = {}
    for rec in store.records():
        cfg = RunConfig.from_dict(rec["config"])
        if cfg.method == "gem" and dict(cfg.options)["search"] == "gem_miner":
            roots |= {p for p in [trained.path(gem_runs.search_key(cfg))] if p.is_file()}
        if cfg.method != "imp" or imp.options(cfg)["branch"] != "ticket":
            continue
        level = int(imp.options(cfg)["level"])
        if _cached(cfg, "rewind" if level == 0 else "mask") is None:
            continue
        if level == 0:
            roots.add(trained.path(cfg))
            continue
        trial = _trial(cfg)
        if level > deepest.get(trial, (0, Path()))[0]:
            deepest[trial] = (level, trained.path(cfg))
    if pending is not None:
        wanted = {_trial(c) for c in pending if c.method == "imp"}
        deepest = {t: v for t, v in deepest.items() if t in wanted}
        roots &= {p for c in pending for p in _starts(c)}
    return sorted(roots | {p for _, p in deepest.values()})


def _trial(cfg: RunConfig) -> tuple[Any, ...]:
    """An IMP run's trial: its trajectory family, seed and data seed."""
    return (imp.trajectory_key(cfg), cfg.seed, cfg.data_seed)


def _starts(cfg: RunConfig) -> list[Path]:
    """The cached networks a pending run starts from: its trajectory's level 0, or the Gem-Miner search that its
    sanity check reuses or whose layer densities it borrows."""
    if cfg.method == "imp":
        return [trained.path(imp.level_config(cfg, 0))]
    if cfg.method != "gem":
        return []
    search = dict(cfg.options)["search"]
    if search in gem_runs.FROM_GEM:
        return [trained.path(gem_runs.search_key(gem_runs.gem_config(cfg)))]
    return [trained.path(gem_runs.search_key(cfg))] if search == "gem_miner" else []
