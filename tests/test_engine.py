"""The engine: claimed runs are never trained twice, here, across processes, or on a Dask cluster losing a worker."""
import multiprocessing as mp
import os
import signal
import threading
import time
from pathlib import Path

import pytest

import ticketkit.engine as engine
from ticketkit.engine import run_tasks
from ticketkit.grid import grid
from ticketkit.locks import claim, lock_path
from ticketkit.profiles import get_profile
from ticketkit.store import Store


def configs(n):
    return [get_profile("smoke").run("synthetic", "vgg19", seed=s) for s in range(n)]


def record(cfg):
    return {"config": cfg.to_dict(), "key": cfg.key(), "history": [{"epoch": 1, "test_acc": 50.0 + cfg.seed}],
            "final_test_acc": 50.0 + cfg.seed, "density": cfg.density, "layer_densities": {},
            "collapsed_layers": [], "connected": True, "prune": {"wall_s": 0.0}}


class FakeRunner:
    """Sleeps like a short training run, logs `<pid> <key>` when done; importable, so Dask workers can run it."""

    def __init__(self, log: Path, sleep_s: float = 0.0, fail: bool = False) -> None:
        self.log, self.sleep_s, self.fail = log, sleep_s, fail

    def __call__(self, cfg, progress):
        (self.log.parent / f"started-{cfg.key()}-{os.getpid()}").touch()
        time.sleep(self.sleep_s)
        if self.fail:
            raise ValueError(f"run {cfg.key()} failed")
        with open(self.log, "a") as f:
            f.write(f"{os.getpid()} {cfg.key()}\n")
        return record(cfg)


def trained(log):
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def leftovers(store):
    """Anything in the store that is not a record: locks, tmp files."""
    return [p.name for p in store.root.iterdir() if p.name.startswith(".") or not p.name.endswith(".json")]


@pytest.fixture(autouse=True)
def here(monkeypatch):
    monkeypatch.delenv("TICKETKIT_SCHEDULER", raising=False)
    monkeypatch.setattr(engine, "POLL_S", 0.1)


def test_runs_claimed_elsewhere_are_waited_for_not_retrained(tmp_path):
    store, cfgs, calls, seen = Store(tmp_path / "r"), configs(3), [], []
    held = claim(store.path(cfgs[2]))  # another process is training this one

    def finish_elsewhere():
        time.sleep(0.5)
        store.put(cfgs[2], record(cfgs[2]))
        held.release()

    def work(task, progress):
        calls.append(list(task))
        return [record(c) for c in task]

    threading.Thread(target=finish_elsewhere).start()
    run_tasks([tuple(cfgs)], store, work, False, lambda c, r: seen.append(c))
    assert calls == [cfgs[:2]] and seen == cfgs and leftovers(store) == []


def claim_and_die(record):
    claim(record)
    os._exit(0)


def test_a_dead_owners_claim_is_taken_over(tmp_path):
    store, (cfg,), calls = Store(tmp_path / "r"), configs(1), []
    owner = mp.get_context("fork").Process(target=claim_and_die, args=(store.path(cfg),))
    owner.start()
    owner.join()
    assert lock_path(store.path(cfg)).exists()
    run_tasks([(cfg,)], store, lambda task, p: calls.append(task) or [record(c) for c in task], False)
    assert calls == [[cfg]] and store.get(cfg) is not None and leftovers(store) == []


def test_an_interrupted_task_leaves_no_claim(tmp_path):
    store, cfgs = Store(tmp_path / "r"), configs(2)

    def killed(task, progress):
        assert all(lock_path(store.path(c)).exists() for c in task)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_tasks([tuple(cfgs)], store, killed, False)
    assert not store.root.exists() or leftovers(store) == []


def concurrent_grid(root, log, results):
    engine.POLL_S = 0.1
    df = grid(configs(6), Store(root), progress=False, runner=FakeRunner(log, sleep_s=0.3))
    results.put(sorted(df["key"]))


def test_two_concurrent_grids_train_each_run_once(tmp_path):
    ctx, root, log = mp.get_context("fork"), tmp_path / "r", tmp_path / "trained.log"
    results = ctx.Queue()
    procs = [ctx.Process(target=concurrent_grid, args=(root, log, results)) for _ in range(2)]
    for p in procs:
        p.start()
    tables = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    keys = sorted(c.key() for c in configs(6))
    assert tables == [keys, keys]
    assert sorted(k for _, k in trained(log)) == keys
    assert leftovers(Store(root)) == []


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_dask_grid_from_the_environment(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("TICKETKIT_SCHEDULER", cluster.scheduler_address)
    store, log, seen = Store(tmp_path / "r"), tmp_path / "trained.log", []
    df = grid(configs(3), store, progress=False, runner=FakeRunner(log), on_record=lambda c, r: seen.append(c))
    assert len(df) == 3 and sorted(seen, key=str) == sorted(configs(3), key=str)
    pids = {int(pid) for pid, _ in trained(log)}
    assert pids and os.getpid() not in pids  # trained on the workers


def test_a_failed_dask_task_raises_its_error_here(cluster, tmp_path):
    store = Store(tmp_path / "r")
    with pytest.raises(ValueError, match="failed"):
        grid(configs(1), store, progress=False, runner=FakeRunner(tmp_path / "log", fail=True), scheduler=cluster)
    assert leftovers(store) == []


def test_dask_grid_survives_a_killed_worker(cluster, tmp_path):
    from distributed import Client

    store, log, cfgs = Store(tmp_path / "r"), tmp_path / "trained.log", configs(8)
    killed = []

    def kill_a_busy_worker():
        """Once a run is stored, SIGKILL a worker in the middle of another run."""
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            if any(store.root.glob("*.json")):
                busy = [p for p in tmp_path.glob("started-*") if time.time() - p.stat().st_mtime < 0.3
                        and not store.path(next(c for c in cfgs if c.key() in p.name)).exists()]
                if busy:
                    killed.append(int(busy[0].name.rsplit("-", 1)[1]))
                    os.kill(killed[0], signal.SIGKILL)
            time.sleep(0.05)

    with Client(cluster) as client:
        workers = set(client.run(os.getpid).values())
        threading.Thread(target=kill_a_busy_worker, daemon=True).start()
        df = grid(cfgs, store, progress=False, runner=FakeRunner(log, sleep_s=0.6), scheduler=client)
    assert killed and killed[0] in workers
    keys = sorted(c.key() for c in cfgs)
    assert sorted(df["key"]) == keys and all(store.get(c) is not None for c in cfgs)
    assert sorted(k for _, k in trained(log)) == keys  # each run completed exactly once
    assert leftovers(store) == []


def test_an_imp_trajectory_runs_on_dask_and_stores_every_level(cluster, tmp_path):
    from ticketkit.experiments import lottery

    S = lottery.get_scale("smoke", levels=2, reinit_levels=[2], oneshot_levels=[2], curve_levels=[0, 2])
    cfgs = lottery.lenet_imp(S)
    store = Store(tmp_path / "r")
    df = grid(cfgs, store, progress=False, scheduler=cluster)
    assert sorted(df["key"]) == sorted(c.key() for c in cfgs) and all(store.get(c) for c in cfgs)
    assert leftovers(store) == []
