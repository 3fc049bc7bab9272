"""Claims: exclusive, released, re-taken when stale (dead owner or no heartbeat), and one winner in a race."""
import json
import multiprocessing as mp
import os
import socket
import subprocess
import time

from ticketkit.locks import claim, lock_path


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def write_lock(record, pid, age_s=0.0):
    lock = lock_path(record)
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": pid, "created": time.time(), "token": "old"}))
    os.utime(lock, (time.time() - age_s, time.time() - age_s))
    return lock


def test_claim_is_exclusive_until_released(tmp_path):
    record = tmp_path / "abc.json"
    first = claim(record)
    assert first is not None and first.path.name == ".abc.lock" and not first.path.name.endswith(".json")
    info = json.loads(first.path.read_text())
    assert info["host"] == socket.gethostname() and info["pid"] == os.getpid() and info["created"] <= time.time()
    assert claim(record) is None
    first.release()
    assert not first.path.exists()
    with claim(record) as again:
        assert again is not None and claim(record) is None
    assert not again.path.exists()


def test_a_dead_owner_on_this_host_is_stale_and_re_claimed(tmp_path):
    record = tmp_path / "abc.json"
    write_lock(record, os.getpid())
    assert claim(record) is None  # a live owner
    write_lock(record, dead_pid())
    got = claim(record)
    assert got is not None and json.loads(got.path.read_text())["pid"] == os.getpid()
    got.release()


def test_a_lock_without_heartbeat_is_stale(tmp_path, monkeypatch):
    record = tmp_path / "abc.json"
    write_lock(record, os.getpid(), age_s=120)
    assert claim(record, stale_after_s=600) is None
    assert claim(record, stale_after_s=60) is not None
    write_lock(record, os.getpid(), age_s=120)
    monkeypatch.setenv("TICKETKIT_LOCK_STALE_S", "60")
    assert claim(record) is not None


def test_the_heartbeat_keeps_a_long_claim_fresh(tmp_path):
    record = tmp_path / "abc.json"
    held = claim(record, stale_after_s=0.8)  # heartbeat every 0.2 s
    time.sleep(1.2)
    assert claim(record, stale_after_s=0.8) is None
    held.release()


def contend(record, barrier, results):
    got = claim(record)
    results.put(got is not None)
    barrier.wait()  # nobody releases before everyone has tried
    if got:
        got.release()


def race(record, n=8):
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=contend, args=(record, barrier, results)) for _ in range(n)]
    for p in procs:
        p.start()
    wins = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    return wins


def test_concurrent_claimants_one_wins(tmp_path):
    record = tmp_path / "abc.json"
    assert sum(race(record)) == 1
    assert not lock_path(record).exists()


def test_concurrent_breakers_of_a_stale_claim_one_wins(tmp_path):
    record = tmp_path / "abc.json"
    write_lock(record, dead_pid())
    wins = race(record)
    assert sum(wins) == 1 and not lock_path(record).exists()
    assert list(tmp_path.glob(".abc*")) == []
