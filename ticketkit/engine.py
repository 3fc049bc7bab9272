"""Executes a grid's missing runs as tasks (one run, or K compatible runs trained as one batch), storing each
record as its task finishes: in this process, or on a Dask cluster sharing the result store.

Every run is claimed (ticketkit.locks) before it is trained, so concurrent grids, and Dask workers retrying a
task after a lost worker, never train the same run at once; a run stored meanwhile by someone else is skipped.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .locks import Claim, claim, holder, lock_path
from .runs import RunConfig
from .store import Store

if TYPE_CHECKING:
    from distributed import Client, Future

Task = Sequence[RunConfig]
Work = Callable[[Task, bool], Iterable[dict[str, Any]]]  # (task, progress) -> one record per config, in order,
# each stored as soon as it is yielded
OnRecord = Callable[[RunConfig, dict[str, Any]], None]
Done = Callable[[RunConfig, dict[str, Any], bool], None]  # (config, record, trained here)

POLL_S = 5.0  # how often a run being computed elsewhere is checked for its record or a stale claim
RETRIES = 2  # Dask re-runs a task that raised this many times (a lost worker is handled by Dask itself)


def run_tasks(tasks: list[Task], store: Store, work: Work, progress: bool = True,
              on_record: OnRecord | None = None, scheduler: Any = None) -> None:
    """Compute every task's runs, here or on Dask; `on_record` sees each run's record once it is stored.

    `scheduler` is a Dask scheduler address (tcp://host:8786), a distributed Client or cluster, or None for
    $TICKETKIT_SCHEDULER; when that is unset too, tasks run in this process in order. Runs that another process
    stored meanwhile are reported too (not retrained), so `on_record` is called once per config of `tasks`.
    """
    scheduler = scheduler if scheduler is not None else os.environ.get("TICKETKIT_SCHEDULER") or None
    if scheduler is None:
        _run_here(tasks, store, work, progress, on_record)
    else:
        _run_on_dask(tasks, store, work, progress, on_record, scheduler)


def attempt(task: Task, store: Store, work: Work, progress: bool, done: Done) -> list[RunConfig]:
    """Train the configs of `task` that are unstored and unclaimed, as one task; return those claimed elsewhere.

    Each stored record (or one found already stored) goes to `done`; claims are released even on Ctrl-C.
    """
    claims: dict[RunConfig, Claim] = {}
    elsewhere: list[RunConfig] = []
    try:
        for cfg in task:
            rec = store.get(cfg)
            if rec is None and (got := claim(store.path(cfg))) is not None:
                if (rec := store.get(cfg)) is None:
                    claims[cfg] = got
                    continue
                got.release()  # finished elsewhere between our look and our claim
            if rec is None:
                elsewhere.append(cfg)
            else:
                done(cfg, rec, False)
        mine = list(claims)
        if mine:
            for cfg, rec in zip(mine, work(mine, progress), strict=True):
                store.put(cfg, rec)
                claims.pop(cfg).release()
                done(cfg, rec, True)
    finally:
        for held in claims.values():
            held.release()
    return elsewhere


def settle(waiting: list[Task], store: Store, work: Work, progress: bool, done: Done,
           say: Callable[[str], None]) -> None:
    """Wait for runs claimed elsewhere until each is stored, or its claim goes stale and it is trained here.

    `waiting` holds what is left of each task, so runs taken over are still trained together as their task.
    """
    last = ""
    while waiting:
        owners = []
        for cfg in (c for task in waiting for c in task):
            info = holder(lock_path(store.path(cfg))) or {}
            owners.append(f"{cfg.key()} by {info.get('host', '?')}:{info.get('pid', '?')}")
        msg = f"waiting for {len(owners)} run(s) being computed elsewhere: {', '.join(owners)}"
        if msg != last:
            say(msg)
            last = msg
        time.sleep(POLL_S)
        waiting = [rest for task in waiting if (rest := attempt(task, store, work, progress, done))]


def _run_here(tasks: list[Task], store: Store, work: Work, progress: bool, on_record: OnRecord | None) -> None:
    """Run every task in this process, in order, then wait for the runs other processes were computing."""
    from tqdm.auto import tqdm

    with tqdm(total=sum(map(len, tasks)), desc="runs", disable=not progress) as bar:
        def done(cfg: RunConfig, rec: dict[str, Any], trained: bool) -> None:
            if on_record:
                on_record(cfg, rec)
            bar.update()

        waiting = [rest for task in tasks if (rest := attempt(task, store, work, progress, done))]
        settle(waiting, store, work, progress, done, tqdm.write)


def on_worker(task: list[RunConfig], root: str, work: Work) -> list[str]:
    """One Dask task on a worker: claim, re-check the shared store, train, store each record; return keys written.

    A retry (after an error, or a lost worker whose claims are then stale) thus skips the runs already stored.
    """
    store, written = Store(root), []

    def done(cfg: RunConfig, rec: dict[str, Any], trained: bool) -> None:
        if trained:
            written.append(cfg.key())

    rest = attempt(task, store, work, False, done)
    settle([rest] if rest else [], store, work, False, done, print)
    return written


def _client(scheduler: Any) -> tuple["Client", bool]:
    """A client for `scheduler` and whether we own it (and so close it): an address, a Client or a cluster."""
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    return Client(scheduler), True


def _run_on_dask(tasks: list[Task], store: Store, work: Work, progress: bool, on_record: OnRecord | None,
                 scheduler: Any) -> None:
    """One Dask task per task; workers write the shared store, this process reports each record as it lands.

    The first failed task cancels the rest and raises its worker's exception here; the records already stored
    stay, so running the grid again resumes it.
    """
    from distributed import as_completed
    from tqdm.auto import tqdm

    client, owned = _client(scheduler)
    futures: dict["Future", Task] = {}
    try:
        for task in tasks:
            futures[client.submit(on_worker, list(task), str(store.root), work, retries=RETRIES, pure=False)] = task
        with tqdm(total=sum(map(len, tasks)), desc="runs", disable=not progress) as bar:
            for fut in as_completed(futures):
                fut.result()
                fut.release()  # its result is no longer needed: a lost worker then causes no recomputation
                for cfg in futures.pop(fut):
                    rec = store.get(cfg)
                    if rec is None:
                        raise RuntimeError(f"a worker finished run {cfg.key()} but {store.path(cfg)} is missing "
                                           "here: every worker must mount the result store at the same path")
                    if on_record:
                        on_record(cfg, rec)
                    bar.update()
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        if owned:
            client.close()
