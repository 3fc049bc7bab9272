"""Runs of the supermask study (method "supermask"): a dense base network trained to convergence or stopped when
its validation accuracy first reaches a target; a criterion's masks at every IMP level's per-layer counts, ranked
on the base run's (w_i, w_f) and applied to the untrained initial weights (or their signed constants), evaluated
with no training; or a learned supermask on the frozen initial weights. Options: base ("converged" or a target
validation accuracy in %), criterion ("learned" for the learned supermask), signed_constant, levels."""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Iterator

import torch
from torch import nn

from . import imp, trained
from .masks import Mask
from .models import build_model, prunable_parameters
from .pruning.criteria import CRITERIA, keep
from .pruning.methods import Ticket
from .runs import Prepared, RunConfig, load_run_data, record
from .supermask import accuracy_at_init, train_supermask
from .train import TrainResult, default_device, train

LEARNED = "learned"


def config(base: RunConfig, *, criterion: str, base_acc: str = "converged", signed_constant: bool = False,
           levels: int = 1, eval_every: int = 100) -> RunConfig:
    """A supermask run like `base` (dataset, model, training), its options checked before anything trains."""
    if criterion != LEARNED:
        CRITERIA.get(criterion)
        if base_acc != "converged" and not 0 < _float(base_acc) < 100:
            raise ValueError(f"supermask base {base_acc!r}: use 'converged' or a validation accuracy in (0, 100) %")
        if levels < 1 or eval_every < 1:
            raise ValueError(f"supermask levels ({levels}) and eval_every ({eval_every}) must be at least 1")
        if not base.val_size:
            raise ValueError("a supermask base network is stopped on validation accuracy: give the run val_size > 0")
        opts: dict[str, Any] = {"base": base_acc, "criterion": criterion, "signed_constant": signed_constant,
                                "levels": levels, "eval_every": eval_every}
    else:
        opts = {"criterion": LEARNED}
    return dataclasses.replace(base, method="supermask", options=tuple(opts.items()))


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"supermask base {text!r}: use 'converged' or a validation accuracy in %") from None


def base_config(cfg: RunConfig) -> RunConfig:
    """The dense base run a supermask run ranks weights on (shared by every criterion and level)."""
    o = dict(cfg.options)
    return dataclasses.replace(cfg, options=(("base", o["base"]), ("criterion", "base"),
                                             ("eval_every", o["eval_every"])))


def compute(cfgs: list[RunConfig], progress: bool = False) -> Iterator[dict[str, Any]]:
    """Each supermask run's record, in order."""
    for cfg in cfgs:
        yield _one(cfg, progress)


def _init(cfg: RunConfig, data: Any) -> nn.Module:
    torch.manual_seed(cfg.seed)
    return build_model(cfg.model, data.in_channels, data.num_classes, data.image_size, cfg.width).to(default_device())


def trained_base(cfg: RunConfig, data: Any, progress: bool = False) -> dict[str, Any]:
    """The trained base network ({"final": state, "record": its record}): from the cache, else trained now from
    the run's initialisation (stopped at its target validation accuracy) and cached."""
    base = base_config(cfg)
    cached = trained.load(base)
    if cached is not None:
        return cached
    t0, o = time.perf_counter(), dict(cfg.options)
    model = _init(cfg, data)
    target = None if o["base"] == "converged" else float(o["base"])
    result = train(model, data, cfg.train, data_seed=cfg.effective_data_seed, eval_every=int(o["eval_every"]),
                   stop_at_val_acc=target, progress=progress, desc=f"base {o['base']}")
    mask = Mask.ones_like(model)
    rec = record(Prepared(base, data, model, mask, Ticket(mask), mask.path_report(model), t0), result)
    rec["stop_iteration"] = result.curve[-1]["iteration"] if result.curve else None
    rec["stop_val_acc"] = result.curve[-1]["val_acc"] if result.curve else None
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    trained.save(base, state, rec)
    return {"final": state, "record": rec}


def _one(cfg: RunConfig, progress: bool) -> dict[str, Any]:
    t0, o = time.perf_counter(), dict(cfg.options)
    data = load_run_data(cfg)
    init = _init(cfg, data)
    extra: dict[str, Any] = {}
    if o["criterion"] == LEARNED:
        sm, acc = train_supermask(init, data, cfg.train, seed=cfg.seed)
        mask = sm.sample(torch.Generator().manual_seed(cfg.seed + 3))
        rows = [{"epoch": cfg.train.epochs, "test_acc": acc, "density": mask.density()}]
    else:
        base = trained_base(cfg, data, progress)
        extra = {"base_test_acc": base["record"]["final_test_acc"], "base_val_acc": base["record"]["stop_val_acc"],
                 "base_iterations": base["record"]["stop_iteration"]}
        params = prunable_parameters(init)
        sizes = {n: p.numel() for n, p in params.items()}
        rates = imp.layer_rates(cfg.model, init)
        g = torch.Generator().manual_seed(cfg.seed + 4)
        rows = []
        for level in range(1, int(o["levels"]) + 1):
            counts = imp.level_counts(sizes, rates, level)
            assert isinstance(counts, dict)
            mask = Mask({n: keep(o["criterion"], p, base["final"][n], torch.ones_like(p, dtype=torch.bool),
                                 counts[n], g) for n, p in params.items()})
            acc, loss = accuracy_at_init(init, mask.to(default_device()), data, bool(o["signed_constant"]))
            rows.append({"epoch": level, "test_acc": acc, "test_loss": loss, "density": mask.density()})
    mask = mask.to(default_device())
    rec = record(Prepared(cfg, data, init, mask, Ticket(mask), mask.path_report(init), t0), TrainResult(rows))
    return {**rec, **extra, "level_acc": [r["test_acc"] for r in rows], "level_density": [r["density"] for r in rows]}
