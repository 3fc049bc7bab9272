"""Paper-scale timings measured by `bench/paper_timing.py --save`: one JSON file per measurement in
<results>/timings/, validated on read, so a page states a GPU's cost from a measurement rather than typed text."""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .store import results_dir, write_atomic

FOLDER = "timings"
GEM_FINETUNE = "ResNet-20 gem fine-tune"  # Table 15's fine-tuning of Rare Gems' ResNet-20, 150 epochs
GEM_SEARCH = "ResNet-20 Gem-Miner search"  # Table 8's score search at 1.44%, 150 epochs
COLUMNS = ["device", "precision", "created", "iterations_timed", "family", "setting", "ms_per_iteration",
           "full_iterations", "hours"]


def save(path: Path, device: str, precision: str, iterations_timed: int, rows: list[dict[str, Any]],
         git_commit: str = "") -> Path:
    """Write one measurement (rows of family, setting, ms_per_iteration, full_iterations) atomically."""
    rec = {"kind": "paper_timing", "device": device, "precision": precision, "iterations_timed": iterations_timed,
           "git_commit": git_commit, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "rows": rows}
    _check(rec)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, json.dumps(rec, indent=1))


def _check(rec: Any) -> None:
    """Raise ValueError unless `rec` is a sound measurement: named device, positive finite times and lengths."""
    if not isinstance(rec, dict) or rec.get("kind") != "paper_timing":
        raise ValueError("not a paper_timing record")
    for key in ("device", "precision", "created"):
        if not isinstance(rec.get(key), str) or not rec[key]:
            raise ValueError(f"{key} is {rec.get(key)!r}, not a non-empty string")
    n = rec.get("iterations_timed")
    if not (isinstance(n, int) and not isinstance(n, bool) and n > 0):
        raise ValueError(f"iterations_timed {n!r} is not a positive integer")
    if not isinstance(rec.get("rows"), list) or not rec["rows"]:
        raise ValueError("no rows")
    for row in rec["rows"]:
        ms, n = row.get("ms_per_iteration"), row.get("full_iterations")
        if not isinstance(row.get("family"), str) or not isinstance(row.get("setting"), str):
            raise ValueError(f"row {row!r} lacks a family or setting name")
        if not (isinstance(ms, (int, float)) and math.isfinite(ms) and ms > 0):
            raise ValueError(f"ms_per_iteration {ms!r} of {row['family']} is not a positive number")
        if not (isinstance(n, int) and not isinstance(n, bool) and n > 0):
            raise ValueError(f"full_iterations {n!r} of {row['family']} is not a positive integer")


def load(root: Path | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every stored timing row (hours = ms per iteration x the full run's iterations), and the files skipped as
    corrupt, by name."""
    folder = (root or results_dir()) / FOLDER
    rows, skipped = [], []
    for p in sorted(folder.glob("*.json")):
        try:
            rec = json.loads(p.read_text())
            _check(rec)
        except (OSError, ValueError) as e:
            skipped.append(f"{p.name} ({e})")
            continue
        for row in rec["rows"]:
            rows.append({**{k: rec[k] for k in ("device", "precision", "created", "iterations_timed")}, **row,
                         "hours": row["ms_per_iteration"] * row["full_iterations"] / 3.6e6})
    return pd.DataFrame(rows, columns=COLUMNS), skipped
