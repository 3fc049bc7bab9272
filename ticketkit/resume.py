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
    """The level a trial's walk starts at to reach `lowest` (see _start; 0 when nothing is cached). The trial gets
    level 0's state and that level's weights; the walk then takes the level's cached ticket and mask, so branches
    at that level and the levels after it train as they would have on the machine that trained it."""
    dense, level, blob = _start(trial.root, lowest)
    if dense is not None and blob is not None:
        trial.dense, trial.rewind, trial.trained = dense["final"], dense["rewind"], blob["final"]
    return level


def _start(root: RunConfig, lowest: int) -> tuple[dict[str, Any] | None, int, dict[str, Any] | None]:
    """Level 0's cached network (dense state and rewind point) of `root`'s trajectory, and the deepest ticket level
    at or below `lowest` whose network and mask are cached (below it for learning-rate rewinding, whose levels
    start from the previous level's weights) with that network: (None, 0, None) without level 0's, (dense, 0,
    None) without such a level."""
    dense = _cached(imp.level_config(root, 0), "rewind") if lowest >= 1 else None
    if dense is None:
        return None, 0, None
    top = lowest - 1 if imp.options(root).get("restart") == "trained" else lowest
    for level in range(top, 0, -1):
        blob = _cached(imp.level_config(root, level), "mask")
        if blob is not None:
            return dense, level, blob
    return dense, 0, None


def _cached(cfg: RunConfig, need: str) -> dict[str, Any] | None:
    """A ticket's cached network if it holds state `need` (older caches have no mask), else None, silently."""
    blob = trained.load(cfg) if trained.path(cfg).is_file() else None
    return blob if blob is not None and isinstance(blob.get(need), dict) else None


def resume_files(store: Store, pending: Sequence[RunConfig] | None = None) -> list[Path]:
    """Per IMP trial in `store`: the cached level-0 network and the deepest cached ticket level holding its mask
    (what resume needs); per stored Gem-Miner run: its cached search. Sorted. With `pending` (the runs a grid still
    lacks), exactly the files those runs would start from, read from the cache (a trajectory stopped before any of
    its records was stored included); finished trajectories and searches stay behind."""
    if pending is not None:  # exactly what resume will load, whether or not a record of the trial is stored yet
        searches = {p for c in pending for p in _search(c) if p.is_file()}
        return sorted(searches | {p for root, lowest in _pending_trials(pending) for p in _files(root, lowest)})
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
    return sorted(roots | {p for _, p in deepest.values()})


def _trial(cfg: RunConfig) -> tuple[Any, ...]:
    """An IMP run's trial: its trajectory family, seed and data seed."""
    return (imp.trajectory_key(cfg), cfg.seed, cfg.data_seed)


def _pending_trials(pending: Sequence[RunConfig]) -> list[tuple[RunConfig, int]]:
    """Per IMP trial among `pending`: one of its runs and the shallowest level it still lacks."""
    lowest: dict[tuple[Any, ...], tuple[RunConfig, int]] = {}
    for c in pending:
        if c.method == "imp":
            t, level = _trial(c), int(imp.options(c)["level"])
            if t not in lowest or level < lowest[t][1]:
                lowest[t] = (c, level)
    return list(lowest.values())


def _files(root: RunConfig, lowest: int) -> list[Path]:
    """The cached networks a walk of `root`'s trajectory to `lowest` starts from (see _start)."""
    dense, level, _ = _start(root, lowest)
    return [trained.path(imp.level_config(root, lv)) for lv in sorted({0, level})] if dense is not None else []


def _search(cfg: RunConfig) -> list[Path]:
    """The cached Gem-Miner search a pending gem run starts from: its own, or the one its sanity check reuses or
    whose layer densities it borrows."""
    if cfg.method != "gem":
        return []
    search = dict(cfg.options)["search"]
    if search in gem_runs.FROM_GEM:
        return [trained.path(gem_runs.search_key(gem_runs.gem_config(cfg)))]
    return [trained.path(gem_runs.search_key(cfg))] if search == "gem_miner" else []
