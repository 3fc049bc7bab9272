"""Trained networks cached beside the records (in the store's pretrained/ folder, not committed except the few that
ticketkit.resume lists): a run's final weights with its record, so that runs building on it (the next IMP level, a
fine-tuned pruned network) and an interrupted grid continue from there. An unreadable file is reported and its run
retrained."""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch

from .runs import RunConfig


def path(cfg: RunConfig) -> Path:
    from .store import PRETRAINED, results_dir

    return results_dir() / PRETRAINED / f"{cfg.method}-{cfg.key()}.pt"


def save(cfg: RunConfig, final: dict[str, torch.Tensor], record: dict[str, Any], **states: Any) -> None:
    """Cache a run's trained state dict, its record and further named states (e.g. a rewind point), atomically."""
    from .store import tmp_path

    target = path(cfg)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(target)
    try:
        torch.save({"final": final, "record": json.dumps(record), **states}, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def load(cfg: RunConfig, needs: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """{"final", "record" (parsed), *needs} of a cached run, or None when absent or unreadable (reported)."""
    target = path(cfg)
    if not target.is_file():
        return None
    try:
        blob = torch.load(target, map_location="cpu", weights_only=True)
        why = _fault(blob, cfg, needs)
    except Exception as err:  # a truncated or foreign file fails in torch.load with many exception types
        why = f"{type(err).__name__}: {err}"
    if why is None:
        return {**blob, "record": json.loads(blob["record"])}
    warnings.warn(f"trained-network cache {target} is unreadable ({why}); retraining that run", stacklevel=2)
    return None


def _fault(blob: Any, cfg: RunConfig, needs: tuple[str, ...]) -> str | None:
    """What is wrong with a loaded blob: missing parts, a record of another run, or weights that are not finite."""
    if not isinstance(blob, dict) or not isinstance(blob.get("final"), dict) or not isinstance(blob.get("record"), str):
        return "no trained weights and record"
    if json.loads(blob["record"]).get("config") != cfg.to_dict():
        return "its record belongs to another run"
    missing = [n for n in needs if not isinstance(blob.get(n), dict)]
    if missing:
        return f"no {', '.join(missing)} state"
    if not all(bool(torch.isfinite(v).all()) for v in blob["final"].values() if v.is_floating_point()):
        return "weights that are not finite"
    return None
