"""The JSON result store: one record per run at <root>/<hash>.json, written atomically, validated on read and write.

An interrupted grid loses at most the runs in progress and a rebuilt book re-trains nothing. Temporary files are
named `.<record>.<host>.<pid>.<token>.tmp`, so a write killed half-way leaves a file that `clean_stale_tmp` can tell
is orphaned (its process is gone, or it is older than TMP_MAX_AGE_S).
"""
from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import secrets
import socket
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .locks import pid_alive

if TYPE_CHECKING:
    from .runs import RunConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
TMP_MAX_AGE_S = 3600.0  # a record is written in well under a second: an hour-old temporary file is orphaned
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"
_TMP_NAME = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[0-9a-f]+\.tmp$")
PRETRAINED = "pretrained"  # sub-folder of the root caching dense pre-trainings (see pruning.methods.pretrained)


def results_dir() -> Path:
    """$TICKETKIT_RESULTS, else results/ at the repository root."""
    return Path(os.environ.get("TICKETKIT_RESULTS", REPO_ROOT / "results"))


def tmp_path(path: Path) -> Path:
    """A temporary name beside `path`, unique per host, process and call, that `clean_stale_tmp` recognises."""
    return path.with_name(f".{path.name}.{_HOST}.{os.getpid()}.{secrets.token_hex(6)}.tmp")


def write_atomic(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file and a rename: readers see the old file or the whole new one."""
    tmp = tmp_path(path)
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


class CorruptRecord(ValueError):
    """A result file that cannot be trusted; it is reported and recomputed."""


class StoreError(RuntimeError):
    """The result store cannot take records; raised before training so that no run's work is lost."""


def _check_number(field: str, value: Any, high: float) -> None:
    """Reject a metric that is missing, not a number, not finite or outside [0, high]: it would shift every mean."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not 0 <= value <= high:
        raise CorruptRecord(f"{field} is {value!r}, not a finite number in [0, {high:g}]")


def check_metrics(rec: dict[str, Any]) -> None:
    """Raise CorruptRecord unless the history, accuracies (in %) and density of a record are sound."""
    hist = rec.get("history")
    if not isinstance(hist, list) or not hist or not all(isinstance(h, dict) and "test_acc" in h for h in hist):
        raise CorruptRecord("missing per-epoch history with test accuracy")
    for i, row in enumerate(hist):
        _check_number(f"history[{i}].test_acc", row["test_acc"], 100)
        if row.get("val_acc") is not None:
            _check_number(f"history[{i}].val_acc", row["val_acc"], 100)
    _check_number("final_test_acc", rec.get("final_test_acc"), 100)
    for name in ("best_test_acc", "final_train_acc"):
        if name in rec:
            _check_number(name, rec[name], 100)
    _check_number("density", rec.get("density"), 1)


def _load(path: Path) -> Any:
    """The parsed JSON of a record file; undecodable text is a CorruptRecord."""
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CorruptRecord(f"not valid JSON ({err})") from err


def _what_is_wrong(err: OSError) -> str:
    """The store problem an OSError stands for, in words."""
    if err.errno in (errno.ENOTDIR, errno.EEXIST):
        return "it (or a folder on its path) is a file, not a directory"
    if err.errno == errno.EROFS:
        return "it is on a read-only file system"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return err.strerror or str(err)


class Store:
    """results/<hash>.json records: atomic writes, validated reads and writes, corrupt records remembered."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else results_dir()
        self.corrupt: dict[Path, str] = {}  # record files skipped as corrupt (path -> reason), for the dashboard
        self._cleaned = False

    def path(self, cfg: "RunConfig") -> Path:
        return self.root / f"{cfg.key()}.json"

    def get(self, cfg: "RunConfig") -> dict[str, Any] | None:
        """The stored record, or None when absent; a corrupt one is reported (path and reason) and ignored."""
        path = self.path(cfg)
        if not path.is_file():
            return None
        try:
            return self.validate(_load(path), cfg)
        except CorruptRecord as err:
            self.corrupt[path] = str(err)
            warnings.warn(f"corrupt result record {path}: {err}; it will be recomputed", stacklevel=2)
            return None

    @staticmethod
    def validate(rec: Any, cfg: "RunConfig") -> dict[str, Any]:
        """`rec` if it is a sound record of `cfg`, else CorruptRecord naming the field and value at fault."""
        if not isinstance(rec, dict):
            raise CorruptRecord("not a JSON object")
        if rec.get("config") != cfg.to_dict():
            raise CorruptRecord("its config does not match the config its name (hash) stands for")
        check_metrics(rec)
        return rec

    def put(self, cfg: "RunConfig", record: dict[str, Any]) -> Path:
        """Write `record` atomically; a record that would read back as corrupt raises CorruptRecord unwritten."""
        text = json.dumps(record, indent=1, sort_keys=True)
        self.validate(json.loads(text), cfg)  # what get() will see
        path = self.path(cfg)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clean_once()
        return write_atomic(path, text)

    def records(self) -> list[dict[str, Any]]:
        """Every sound record directly in the root (the claims dashboard reads these); temporary, lock and other
        dot-files are not records, and corrupt ones are reported and remembered in `corrupt`."""
        out = []
        for p in sorted(self.root.glob("*.json")):
            if p.name.startswith(".") or not p.is_file():
                continue
            try:
                rec = _load(p)
                if not isinstance(rec, dict):
                    raise CorruptRecord("not a JSON object")
                check_metrics(rec)
                out.append(rec)
            except CorruptRecord as err:
                self.corrupt[p] = str(err)
                warnings.warn(f"corrupt result record {p}: {err}; skipped", stacklevel=2)
        return out

    def check_writable(self) -> None:
        """Create the root and write and atomically rename a probe file there, so that an unwritable store fails
        before any training rather than after the first run; StoreError says what is wrong and the fix."""
        probe, moved = tmp_path(self.root / ".write-probe"), tmp_path(self.root / ".write-probe")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._clean_once()
            probe.write_text("ticketkit write probe\n")
            os.replace(probe, moved)
            moved.unlink()
        except OSError as err:
            for p in (probe, moved):
                with contextlib.suppress(OSError):
                    p.unlink(missing_ok=True)
            raise StoreError(f"result store {self.root} is not writable: {_what_is_wrong(err)}. "
                             "Set TICKETKIT_RESULTS to a writable directory (or fix its permissions).") from err

    def clean_stale_tmp(self, max_age_s: float = TMP_MAX_AGE_S) -> list[Path]:
        """Remove (and return) the root's temporary files left by killed writes: those of a process that no longer
        runs on this host, and any older than `max_age_s`, in the root and its pre-training cache. Runs once per Store
        on its first write or writability check."""
        removed = []
        now = time.time()
        for p in [*self.root.glob(".*.tmp"), *(self.root / PRETRAINED).glob(".*.tmp")]:
            m = _TMP_NAME.match(p.name)
            dead = bool(m) and m["host"] == _HOST and not pid_alive(int(m["pid"]))
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
                if dead or now - p.stat().st_mtime > max_age_s:
                    p.unlink()
                    removed.append(p)
        return removed

    def _clean_once(self) -> None:
        if not self._cleaned:
            self._cleaned = True
            self.clean_stale_tmp()
