"""Grids: run every config that has no valid record, store each as it finishes, return all as one table."""
from __future__ import annotations

from dataclasses import fields
from typing import Any, Callable, Iterable

import pandas as pd

from .engine import OnRecord, Task, run_tasks
from .runs import RunConfig, execute
from .store import Store

Runner = Callable[[RunConfig, bool], dict[str, Any]]


def _execute_each(task: Task, progress: bool) -> list[dict[str, Any]]:
    return [execute(c, progress) for c in task]


def plan(todo: list[RunConfig]) -> list[Task]:
    """The tasks that compute `todo`: one run each."""
    return [(c,) for c in todo]


def grid(configs: Iterable[RunConfig], store: Store | None = None, progress: bool = True,
         runner: Runner | None = None, compute: bool = True, on_record: OnRecord | None = None) -> pd.DataFrame:
    """Run every config that has no valid record (in order), store each as it finishes, return all as a table.

    Pass progress=False in headless (papermill) runs: a tqdm widget in a saved notebook shows a stale bar.
    With compute=False nothing is trained: the table holds the stored runs and a note says how many are missing.
    """
    store = store or Store()
    configs = list(dict.fromkeys(configs))
    todo = [c for c in configs if store.get(c) is None]
    if todo and not compute:
        print(f"Note: {len(todo)} of {len(configs)} runs of this grid are not in the result store yet and were not "
              f"computed here; the tables and verdicts below use the {len(configs) - len(todo)} stored runs. "
              "Re-run with compute=True to train them.")
    elif todo:
        work = _execute_each if runner is None else (lambda task, p: [runner(c, p) for c in task])
        run_tasks(plan(todo), store, work, progress, on_record)
    return frame([store.get(c) for c in configs])


SUMMARY_COLUMNS = ("final_test_acc", "best_test_acc", "best_epoch", "early_stop_epoch", "early_stop_test_acc",
                   "wall_s", "device", "precision", "connected")


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
        row["measured_density"] = r["density"]
        row["collapsed_layers"] = len(r["collapsed_layers"])
        row["layer_densities"] = r["layer_densities"]
        row["prune_s"] = r["prune"]["wall_s"]
        row["key"] = r["key"]
        rows.append(row)
    if not rows:
        base = [f.name for f in fields(RunConfig) if f.name not in ("train", "options")]
        return pd.DataFrame(columns=base + list(SUMMARY_COLUMNS) + ["measured_density", "collapsed_layers",
                                                                    "layer_densities", "prune_s", "key"])
    return pd.DataFrame(rows)
