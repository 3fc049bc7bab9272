"""Executes a grid's missing runs as tasks (one run, or K compatible runs trained as one batch), storing each
record as its task finishes."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .runs import RunConfig
from .store import Store

Task = Sequence[RunConfig]
Work = Callable[[Task, bool], list[dict[str, Any]]]  # (task, progress) -> one record per config, in order
OnRecord = Callable[[RunConfig, dict[str, Any]], None]


def run_tasks(tasks: list[Task], store: Store, work: Work, progress: bool = True,
              on_record: OnRecord | None = None) -> None:
    """Run every task in this process, in order, storing each record as soon as its task returns."""
    from tqdm.auto import tqdm

    with tqdm(total=sum(map(len, tasks)), desc="runs", disable=not progress) as bar:
        for task in tasks:
            for cfg, rec in zip(task, work(task, progress)):
                store.put(cfg, rec)
                if on_record:
                    on_record(cfg, rec)
                bar.update()
