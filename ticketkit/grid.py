"""Grids: run every config that has no valid record, store each as it finishes, return all as one table."""
from __future__ import annotations

from dataclasses import fields
from typing import Any, Callable, Iterable

import pandas as pd
import torch

from . import imp
from .batched import MAX_K
from .engine import OnRecord, Task, run_tasks
from .data import image_channels, num_classes
from .models import build_model
from .runs import TRAJECTORIES, RunConfig, batch_key, computer, execute, execute_batch
from .train import default_device
from .store import Store
from .walks import store_walks

Runner = Callable[[RunConfig, bool], dict[str, Any]]


def _execute(task: Task, progress: bool) -> Iterable[dict[str, Any]]:
    """One run alone, several compatible runs trained as one batch, or IMP trajectories (records as they land)."""
    if task[0].method in TRAJECTORIES:
        return computer(task[0].method)(list(task), progress)
    return [execute(task[0], progress)] if len(task) == 1 else execute_batch(list(task), progress)


def auto_batch(cfg: RunConfig) -> int:
    """K for runs like `cfg`: 1 where batching does not pay, else what fits in this device's memory."""
    from .batched import batch_size_for, batches_well

    device = default_device()
    channels = cfg.channels or image_channels(cfg.dataset)
    model = build_model(cfg.model, channels, num_classes(cfg.dataset), cfg.image_size, cfg.width)
    if not batches_well(model):
        return 1
    return batch_size_for(model, torch.zeros(1, channels, cfg.image_size, cfg.image_size), cfg.train, device)


def plan(todo: list[RunConfig], batch: int | None = None) -> list[Task]:
    """The tasks that compute `todo`: IMP trials with all their levels, structured runs one by one, and other
    compatible runs (runs.batch_key) grouped at most K at a time, in order of first appearance; K = `batch`, or
    auto_batch's choice when None (1 = every run alone)."""
    if batch is not None and batch < 1:
        raise ValueError(f"batch must be a positive number of runs trained together, or None for automatic; got {batch}")
    groups: dict[tuple[Any, ...], list[RunConfig]] = {}
    trajectories: dict[tuple[Any, ...], list[RunConfig]] = {}
    alone: list[Task] = []  # structured runs: one at a time, in order (a fine-tuning follows its unpruned run)
    for c in todo:
        if c.method == "imp":
            trajectories.setdefault(imp.batch_key(c), []).append(c)
        elif c.method in TRAJECTORIES:
            alone.append((c,))
        else:
            groups.setdefault(batch_key(c), []).append(c)
    tasks: list[Task] = [t for cfgs in trajectories.values() for t in _trajectory_tasks(cfgs, batch)] + alone
    for cfgs in groups.values():
        k = batch if batch is not None else auto_batch(cfgs[0])
        tasks += [tuple(cfgs[i:i + k]) for i in range(0, len(cfgs), k)]
    return tasks


def _trajectory_tasks(cfgs: list[RunConfig], batch: int | None) -> list[Task]:
    """IMP runs of families that train together (imp.batch_key) as tasks of whole trials (all their levels and
    branches), `batch` trials a task (None: as many as train together where batching pays, else one), seed by
    seed, each task ordered by level."""
    key = {c: (c.seed, c.effective_data_seed, repr(imp.trajectory_key(c))) for c in cfgs}  # a trial, seed first
    trials = sorted(set(key.values()))
    per_level = max(len({imp.options(c)["branch"] for c in cfgs}), 1)
    k = batch if batch is not None else (max(1, MAX_K // per_level) if auto_batch(cfgs[0]) > 1 else 1)
    order = {b: i for i, b in enumerate(imp.BRANCHES)}
    tasks: list[Task] = []
    for i in range(0, len(trials), k):
        chunk = set(trials[i:i + k])
        mine = [c for c in cfgs if key[c] in chunk]
        tasks.append(tuple(sorted(mine, key=lambda c: (imp.options(c)["level"], order[imp.options(c)["branch"]],
                                                       c.seed))))
    return tasks


def grid(configs: Iterable[RunConfig], store: Store | None = None, progress: bool = True,
         runner: Runner | None = None, compute: bool = True, on_record: OnRecord | None = None,
         scheduler: Any = None, batch: int | None = None) -> pd.DataFrame:
    """Run every config that has no valid record (in order), store each as it finishes, return all as a table.

    Pass progress=False in headless (papermill) runs: a tqdm widget in a saved notebook shows a stale bar.
    With compute=False nothing is trained: the table holds the stored runs and a note says how many are missing.
    `scheduler` (a Dask address, Client or cluster; default $TICKETKIT_SCHEDULER) trains on a Dask cluster whose
    workers share the store; without one the runs train here. Runs claimed by another process are not retrained;
    the IMP levels the runs walk through without asking for them are stored too (ticketkit.walks: the grid's cost).
    Compatible runs train `batch` at a time as one model (None: K from a memory estimate where batching pays;
    1: one at a time); a custom `runner` trains one run at a time.
    """
    store = store or Store()
    configs = list(dict.fromkeys(configs))
    todo = [c for c in configs if store.get(c) is None]
    if todo and not compute:
        print(f"Note: {len(todo)} of {len(configs)} runs of this grid are not in the result store yet and were not "
              f"computed here; the tables and verdicts below use the {len(configs) - len(todo)} stored runs. "
              "Re-run with compute=True to train them.")
    elif todo:
        store.check_writable()
        if runner is None:
            run_tasks(plan(todo, batch), store, _execute, progress, on_record, scheduler)
        else:
            run_tasks(plan(todo, 1), store, lambda task, p: [runner(c, p) for c in task], progress, on_record,
                      scheduler)
    if compute:
        store_walks(configs, store)
    return frame([store.get(c) for c in configs])


SUMMARY_COLUMNS = ("final_test_acc", "final_train_acc", "best_test_acc", "best_epoch", "early_stop_epoch", "early_stop_iteration",
                   "early_stop_test_acc", "wall_s", "device", "precision", "connected")
OPTIONAL_COLUMNS = ("level_acc", "level_density", "base_test_acc", "base_val_acc", "base_iterations",  # supermasks
                    "pre_finetune_acc", "search_epochs", "search_s", "finetune_epochs", "finetune_s",  # gem runs
                    "found_density", "search_history", "eval_s",  # eval_s: seconds of wall_s spent evaluating
                    "epochs_trained")  # structured runs: Scratch-B's budget


def frame(records: Iterable[dict[str, Any] | None]) -> pd.DataFrame:
    """One row per record: the config's fields flattened beside the summary metrics (same columns when empty)."""
    rows = []
    for r in records:
        if r is None:
            continue
        cfg = r["config"]
        row = {k: v for k, v in cfg.items() if k not in ("train", "options")}
        row.update({f"train.{k}": v for k, v in cfg["train"].items()})
        row.update({f"opt.{k}": v for k, v in cfg["options"]})
        row.update({k: r.get(k) for k in SUMMARY_COLUMNS})
        row.update({k: r[k] for k in OPTIONAL_COLUMNS if k in r})
        row["measured_density"] = r["density"]
        row["collapsed_layers"] = len(r["collapsed_layers"])
        row["layer_densities"] = r["layer_densities"]
        row["prune_s"] = r["prune"]["wall_s"]
        row["batch"] = r.get("batch", 1)
        row["key"] = r["key"]
        rows.append(row)
    if not rows:
        base = [f.name for f in fields(RunConfig) if f.name not in ("train", "options")]
        return pd.DataFrame(columns=base + list(SUMMARY_COLUMNS) + ["measured_density", "collapsed_layers",
                                                                    "layer_densities", "prune_s", "batch", "key"])
    return pd.DataFrame(rows)
