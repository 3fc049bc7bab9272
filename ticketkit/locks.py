"""Claims: a lock file beside a run's record, so two processes (or Dask workers) never train the same run at once.

`<root>/<hash>.json` is claimed by `<root>/.<hash>.lock` (never a `.json`, so never mistaken for a record), created
with O_CREAT|O_EXCL: exactly one claimant wins, also on a shared filesystem with O_EXCL semantics. The lock holds
its owner's host, pid and creation time; a heartbeat thread touches its mtime while the claim is held. A claim is
stale when its owner is on this host and its pid is dead, or when its mtime is older than `stale_after_s`
($TICKETKIT_LOCK_STALE_S, default 30 minutes: many missed heartbeats); a stale claim may be broken and re-taken.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

DEFAULT_STALE_S = 30 * 60.0
BREAK_STALE_S = 60.0  # a breaker that died mid-break leaves its `.break` file; it is removed after this long


def stale_after() -> float:
    """$TICKETKIT_LOCK_STALE_S, else 30 minutes: how long a claim may go without a heartbeat before it is broken."""
    return float(os.environ.get("TICKETKIT_LOCK_STALE_S") or DEFAULT_STALE_S)


def lock_path(record: Path) -> Path:
    """The lock that claims `record`: `.<hash>.lock` in the same folder."""
    return record.with_name(f".{record.stem}.lock")


class Claim:
    """A held lock on one record: `release()` (or leaving the `with` block) removes it and stops its heartbeat."""

    def __init__(self, path: Path, token: str, heartbeat_s: float) -> None:
        self.path, self.token = path, token
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, args=(heartbeat_s,), daemon=True,
                                      name=f"heartbeat {path.name}")
        self._beat.start()

    def _heartbeat(self, every_s: float) -> None:
        """Touch the lock's mtime so other hosts see the owner is alive however long the run takes."""
        while not self._stop.wait(every_s):
            try:
                os.utime(self.path)
            except OSError:
                return

    def release(self) -> None:
        """Remove the lock if it is still ours (a claim broken as stale and re-taken belongs to its new owner)."""
        self._stop.set()
        if (holder(self.path) or {}).get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "Claim":
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def holder(lock: Path) -> dict[str, Any] | None:
    """The lock's contents plus its `mtime`, or None when there is no lock; an unreadable one reads as {}."""
    try:
        mtime = lock.stat().st_mtime
        info = json.loads(lock.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        info, mtime = {}, _mtime(lock)  # being written, or garbage: judged by its age alone
        if mtime is None:
            return None
    return {**(info if isinstance(info, dict) else {}), "mtime": mtime}


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (a zombie, killed but not yet reaped, counts as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_stale(info: dict[str, Any], stale_after_s: float) -> bool:
    """Dead owner on this host, or no heartbeat for `stale_after_s` seconds."""
    if time.time() - info["mtime"] > stale_after_s:
        return True
    pid = info.get("pid")
    return info.get("host") == socket.gethostname() and isinstance(pid, int) and not pid_alive(pid)


def _create(lock: Path, stale_after_s: float) -> Claim | None:
    """O_EXCL-create the lock with our identity; None when it exists."""
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None
    token = uuid.uuid4().hex
    with os.fdopen(fd, "w") as f:
        json.dump({"host": socket.gethostname(), "pid": os.getpid(), "created": time.time(), "token": token}, f)
    return Claim(lock, token, min(60.0, stale_after_s / 4))


def _break(lock: Path, seen: dict[str, Any], stale_after_s: float) -> None:
    """Remove a stale lock, unless another claimant is breaking it or it changed since it was judged stale.

    The `.break` file (itself O_EXCL) lets one breaker at a time re-check and remove the lock, so a breaker can
    never remove a fresh lock that another breaker has just created in its place.
    """
    breaker = lock.with_name(lock.name + ".break")
    try:
        os.close(os.open(breaker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        age = _mtime(breaker)
        if age is not None and time.time() - age > BREAK_STALE_S:
            breaker.unlink(missing_ok=True)
        return
    try:
        now = holder(lock)
        if now is not None and now.get("token") == seen.get("token") and is_stale(now, stale_after_s):
            lock.unlink(missing_ok=True)
    finally:
        breaker.unlink(missing_ok=True)


def claim(record: str | Path, stale_after_s: float | None = None) -> Claim | None:
    """Claim the run whose record is `record`; None while another live owner holds it (a stale claim is re-taken)."""
    stale_s = stale_after() if stale_after_s is None else stale_after_s
    lock = lock_path(Path(record))
    lock.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        got = _create(lock, stale_s)
        if got is not None:
            return got
        info = holder(lock)
        if info is not None and not is_stale(info, stale_s):
            return None
        if info is not None:
            _break(lock, info, stale_s)
    return None
