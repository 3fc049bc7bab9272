"""The JSON result store: one record per run at <root>/<hash>.json, written atomically, validated on read.

An interrupted grid loses at most the runs in progress and a rebuilt book re-trains nothing.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runs import RunConfig

REPO_ROOT = Path(__file__).resolve().parents[1]


def results_dir() -> Path:
    """$TICKETKIT_RESULTS, else results/ at the repository root."""
    return Path(os.environ.get("TICKETKIT_RESULTS", REPO_ROOT / "results"))


class CorruptRecord(ValueError):
    """A result file that cannot be trusted; it is reported and recomputed."""


class Store:
    """results/<hash>.json records: atomic writes, validated reads."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else results_dir()

    def path(self, cfg: "RunConfig") -> Path:
        return self.root / f"{cfg.key()}.json"

    def get(self, cfg: "RunConfig") -> dict[str, Any] | None:
        """The stored record, or None when absent; a corrupt one is reported (path and reason) and ignored."""
        path = self.path(cfg)
        if not path.is_file():
            return None
        try:
            return self.validate(json.loads(path.read_text()), cfg)
        except (json.JSONDecodeError, UnicodeDecodeError, CorruptRecord) as err:
            warnings.warn(f"corrupt result record {path}: {err}; it will be recomputed", stacklevel=2)
            return None

    @staticmethod
    def validate(rec: Any, cfg: "RunConfig") -> dict[str, Any]:
        if not isinstance(rec, dict):
            raise CorruptRecord("not a JSON object")
        if rec.get("config") != cfg.to_dict():
            raise CorruptRecord("its config does not match the config its name (hash) stands for")
        hist = rec.get("history")
        if not isinstance(hist, list) or not hist or "test_acc" not in hist[-1]:
            raise CorruptRecord("missing per-epoch history with test accuracy")
        return rec

    def put(self, cfg: "RunConfig", record: dict[str, Any]) -> Path:
        path = self.path(cfg)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
        os.replace(tmp, path)
        return path

    def records(self) -> list[dict[str, Any]]:
        """Every readable record in the store (the claims dashboard reads these)."""
        out = []
        for p in sorted(self.root.glob("*.json")):
            try:
                out.append(json.loads(p.read_text()))
            except (json.JSONDecodeError, UnicodeDecodeError):
                warnings.warn(f"corrupt result record {p}: not valid JSON; skipped", stacklevel=2)
        return out
