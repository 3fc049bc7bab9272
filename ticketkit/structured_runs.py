"""Runs of the structured-pruning study (method "structured"): the unpruned network trained; its filter-pruned
version fine-tuned from the kept weights; the small architecture trained from a fresh initialisation for the
same epochs (Scratch-E) or for the same computation (Scratch-B). Options: plan (structured.PLANS), arm, and for
fine-tuning finetune_epochs and finetune_lr (Li et al.: 40 epochs at 0.001)."""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Iterator

import torch
from torch import nn

from . import trained
from .masks import Mask
from .models import build_model, kaiming_init
from .pruning.methods import Ticket
from .runs import Prepared, RunConfig, load_run_data, record
from .structured import filter_prune, flops, scratch_b_epochs
from .train import TrainSpec, default_device, train

ARMS = ("unpruned", "finetuned", "scratch_e", "scratch_b")


def options(cfg: RunConfig) -> dict[str, Any]:
    return {"arm": "unpruned", "finetune_epochs": 40, "finetune_lr": 1e-3, **dict(cfg.options)}


def arm_config(cfg: RunConfig, plan: str, arm: str) -> RunConfig:
    """The run of `arm` for the filter-pruning `plan`; the unpruned run does not depend on the plan."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose one of {', '.join(ARMS)}")
    opts = {k: v for k, v in options(cfg).items() if k not in ("arm", "plan")}
    if arm != "finetuned":
        opts = {k: v for k, v in opts.items() if not k.startswith("finetune")}
    extra = {} if arm == "unpruned" else {"plan": plan}
    return dataclasses.replace(cfg, method="structured", density=1.0,
                               options=tuple({**opts, **extra, "arm": arm}.items()))


def compute(cfgs: list[RunConfig], progress: bool = False) -> Iterator[dict[str, Any]]:
    """Train the structured runs `cfgs` in order, yielding each record as it is made."""
    for cfg in cfgs:
        yield _one(cfg, progress)


def _full(cfg: RunConfig, data: Any) -> nn.Module:
    torch.manual_seed(cfg.seed)
    return build_model(cfg.model, data.in_channels, data.num_classes, data.image_size, cfg.width)


def _one(cfg: RunConfig, progress: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    data = load_run_data(cfg)
    o = options(cfg)
    full = _full(cfg, data)
    spec = cfg.train
    if o["arm"] == "unpruned":
        model = full
    elif o["arm"] == "finetuned":
        full.load_state_dict(_trained_unpruned(cfg, progress))
        model = filter_prune(full, o["plan"], cfg.width)
        spec = dataclasses.replace(spec, epochs=int(o["finetune_epochs"]), lr=float(o["finetune_lr"]),
                                   schedule="constant")
    else:
        model = kaiming_init(filter_prune(full, o["plan"], cfg.width))  # the small architecture, freshly initialised
        if o["arm"] == "scratch_b":
            spec = dataclasses.replace(spec, epochs=scratch_b_epochs(spec.epochs, flops(full, data.in_channels,
                                                                                         data.image_size),
                                                                     flops(model, data.in_channels, data.image_size)))
    model = model.to(default_device())
    result = train(model, data, spec, data_seed=cfg.effective_data_seed, progress=progress,
                   desc=f"{cfg.model} {o['arm']}")
    mask = Mask.ones_like(model)
    p = Prepared(cfg, data, model, mask, Ticket(mask), mask.path_report(model), t0)
    rec = record(p, result)
    size = {"params": sum(q.numel() for q in model.parameters()),
            "params_full": sum(q.numel() for q in full.parameters()),
            "flops": flops(model, data.in_channels, data.image_size),
            "flops_full": flops(full, data.in_channels, data.image_size), "epochs_trained": spec.epochs}
    rec.update(size)
    if o["arm"] == "unpruned":
        trained.save(cfg, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, rec)
    return rec


def _trained_unpruned(cfg: RunConfig, progress: bool) -> dict[str, torch.Tensor]:
    """The trained unpruned network of the run's seed: from the cache, else trained (and cached) now."""
    base = arm_config(cfg, "", "unpruned")
    cached = trained.load(base)
    if cached is None:
        _one(base, progress)
        cached = trained.load(base)
    assert cached is not None
    return cached["final"]


def spec_for(epochs: int, lr: float, batch_size: int, augment: bool) -> TrainSpec:
    """Li et al.'s training: SGD momentum 0.9, wd 1e-4, lr /10 at 1/2 and 3/4."""
    return TrainSpec(epochs=epochs, batch_size=batch_size, lr=lr, momentum=0.9, weight_decay=1e-4,
                     milestones=(0.5, 0.75), augment=augment)
