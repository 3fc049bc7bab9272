"""Pruning methods by name: each composes a scorer and an allocator (and training, for partially-trained
tickets) and returns a Ticket: the mask, the weights and schedule position final training starts from, and cost."""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ..data import DataBundle, balanced_batch
from ..masks import Mask, PathReport
from ..models import linear_names, prunable_parameters
from ..registry import Registry
from ..train import TrainSpec, train
from . import allocators as alloc
from . import scorers
from .sanity import SanityCheck


@dataclass
class PruneContext:
    """What a method may look at: the initialised model, the (possibly corrupted) pruning data, the target."""

    model: nn.Module
    data: DataBundle
    density: float
    spec: TrainSpec
    seed: int
    data_seed: int
    options: dict[str, Any] = field(default_factory=dict)
    check: SanityCheck = field(default_factory=SanityCheck)
    progress: bool = False
    cache_key: str = ""  # identifies the dense pre-training (model, data, spec, seed) for reuse across methods

    def generator(self, salt: int = 0) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed * 7919 + salt)

    def scores(self, s: scorers.Scores) -> scorers.Scores:
        """Route every score through the sanity check (score inversion acts here)."""
        return self.check.scores(s) if self.check.scores else s


@dataclass
class Ticket:
    """A pruned network ready for final training."""

    mask: Mask
    state: dict[str, torch.Tensor] | None = None  # weights to start from; None = the model as initialised
    start_epoch: int = 0  # schedule position of the final training (learning-rate rewinding > 0)
    train_epochs: float = 0.0  # epochs of training the method itself needed
    iterations: int = 0  # scoring iterations or pruning rounds
    wall_s: float = 0.0  # set by prune()
    path: PathReport | None = None  # set by prune(): zero-density layers and input-output connectivity

    @property
    def densities(self) -> dict[str, float]:
        return self.mask.densities()


Method = Callable[[PruneContext], Ticket]
METHODS: Registry[Method] = Registry("pruning method")
# A method's revision enters its runs' hash when above 1. Bump it when a code change alters what the method
# computes: its old records are then recomputed and no other method's records are touched.
REVISIONS = {"random_tickets": 2, "hybrid": 2}  # 2: smart-ratio counts floored per layer, no remainder hand-back


def _sizes(model: nn.Module) -> dict[str, int]:
    return {k: p.numel() for k, p in prunable_parameters(model).items()}


def _smart_counts(ctx: PruneContext) -> dict[str, int]:
    form = ctx.options.get("smart_form") or ("vgg" if type(ctx.model).__name__ == "VGG" else "resnet")
    return alloc.smart_ratio(_sizes(ctx.model), linear_names(ctx.model), ctx.density, form)


def _pruning_batch(ctx: PruneContext) -> tuple[torch.Tensor, torch.Tensor]:
    return balanced_batch(ctx.data, int(ctx.options.get("samples_per_class", 10)), ctx.data_seed)


@METHODS.register("dense", "no pruning: the full network")
def dense(ctx: PruneContext) -> Ticket:
    return Ticket(Mask.ones_like(ctx.model))


@METHODS.register("snip", "SNIP: global top-k of |w * dL/dw| on 10 examples per class, at initialisation")
def snip(ctx: PruneContext) -> Ticket:
    x, y = _pruning_batch(ctx)
    return Ticket(alloc.global_topk(ctx.scores(scorers.snip(ctx.model, x, y)), ctx.density), iterations=1)


@METHODS.register("grasp", "GraSP: remove the largest -w*Hg (T=200, 10 examples per class), at initialisation")
def grasp(ctx: PruneContext) -> Ticket:
    x, y = _pruning_batch(ctx)
    s = scorers.grasp(ctx.model, x, y, float(ctx.options.get("temperature", 200.0)))
    return Ticket(alloc.global_topk(ctx.scores(s), ctx.density), iterations=1)


@METHODS.register("synflow", "SynFlow: 100 rounds of |w * dR/dw| on |weights|, exponential density schedule")
def synflow(ctx: PruneContext) -> Ticket:
    rounds = int(ctx.options.get("synflow_iterations", 100))
    keep = Mask.ones_like(ctx.model)
    for r in range(1, rounds + 1):
        s = scorers.synflow(ctx.model, keep.tensors)
        keep = alloc.global_topk(ctx.scores(s), ctx.density ** (r / rounds), keep)
    return Ticket(keep, iterations=rounds)


@METHODS.register("magnitude_init", "global top-k of |w| at initialisation")
def magnitude_init(ctx: PruneContext) -> Ticket:
    return Ticket(alloc.global_topk(ctx.scores(scorers.magnitude(ctx.model)), ctx.density))


@METHODS.register("random_uniform", "random positions, the same density in every layer")
def random_uniform(ctx: PruneContext) -> Ticket:
    counts = alloc.counts_from_densities(_sizes(ctx.model), alloc.uniform(_sizes(ctx.model), ctx.density))
    return Ticket(alloc.counts_topk(ctx.scores(scorers.random_scores(ctx.model, ctx.generator(1))), counts))


@METHODS.register("random_erk", "random positions with Erdos-Renyi-Kernel layer densities")
def random_erk(ctx: PruneContext) -> Ticket:
    shapes = {k: tuple(p.shape) for k, p in prunable_parameters(ctx.model).items()}
    counts = alloc.counts_from_densities(_sizes(ctx.model), alloc.erk(shapes, ctx.density))
    return Ticket(alloc.counts_topk(ctx.scores(scorers.random_scores(ctx.model, ctx.generator(1))), counts))


@METHODS.register("random_tickets", "Su et al.'s random tickets: smart-ratio layer counts, random positions, no data")
def random_tickets(ctx: PruneContext) -> Ticket:
    s = ctx.scores(scorers.random_scores(ctx.model, ctx.generator(1)))
    return Ticket(alloc.counts_topk(s, _smart_counts(ctx)))


def prune(method: str, ctx: PruneContext) -> Ticket:
    """Run a registered method, timing it and checking its mask for layer collapse."""
    fn = METHODS.get(method)
    t0 = time.perf_counter()
    ticket = fn(ctx)
    ticket.wall_s = time.perf_counter() - t0
    ticket.path = ticket.mask.path_report(ctx.model)
    return ticket


def pretrained(ctx: PruneContext, rewind_epoch: int) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(trained state, state at `rewind_epoch`) of the dense network, cached in the result store's pretrained/
    folder (not committed) so that lottery tickets, learning-rate rewinding and hybrid tickets of one seed share a
    single pre-training; an unreadable cache file is reported and recomputed."""
    from ..store import PRETRAINED, results_dir, tmp_path

    path = None
    if ctx.cache_key:
        digest = hashlib.sha256(f"{ctx.cache_key}|rewind={rewind_epoch}".encode()).hexdigest()[:16]
        path = results_dir() / PRETRAINED / f"{digest}.pt"
        cached = _load_pretrained(path, ctx.model.state_dict())
        if cached is not None:
            return cached
    net = copy.deepcopy(ctx.model)
    steps = len(ctx.data.train_y) // min(ctx.spec.batch_size, len(ctx.data.train_y))
    res = train(net, ctx.data, ctx.spec, data_seed=ctx.data_seed, checkpoint_steps=(rewind_epoch * steps,),
                progress=ctx.progress, desc="pre-train")
    final = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    rewind = res.checkpoints[rewind_epoch * steps]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_path(path)
        try:
            torch.save({"final": final, "rewind": rewind}, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return final, rewind


def _load_pretrained(path: Path, like: dict[str, torch.Tensor]
                     ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]] | None:
    """The cached (final, rewind) states at `path`, or None when there is none or it is unreadable (reported)."""
    if not path.is_file():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        reason = _pretrained_fault(blob, like)
    except Exception as err:  # a truncated or foreign file fails in torch.load with many exception types
        reason = f"{type(err).__name__}: {err}"
    if reason is None:
        return blob["final"], blob["rewind"]
    warnings.warn(f"pre-training cache file {path} is unreadable ({reason}); recomputing it", stacklevel=3)
    return None


def _pretrained_fault(blob: Any, like: dict[str, torch.Tensor]) -> str | None:
    """What is wrong with a loaded cache blob: missing states, or states that are not finite tensors shaped `like`."""
    if not isinstance(blob, dict) or not {"final", "rewind"} <= blob.keys():
        return "no 'final' and 'rewind' states"
    for part in ("final", "rewind"):
        state = blob[part]
        if not isinstance(state, dict) or state.keys() != like.keys():
            return f"its {part!r} state does not hold the model's parameters"
        for name, t in state.items():
            if not isinstance(t, torch.Tensor) or t.shape != like[name].shape:
                return f"{part}[{name!r}] is not a tensor of shape {tuple(like[name].shape)}"
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                return f"{part}[{name!r}] is not finite"
    return None


def _trained_model(ctx: PruneContext, state: dict[str, torch.Tensor]) -> nn.Module:
    net = copy.deepcopy(ctx.model)
    net.load_state_dict(state)
    return net


def _rewind_epoch(ctx: PruneContext) -> int:
    return int(ctx.options.get("rewind_epoch", 0))


@METHODS.register("lottery", "lottery ticket: magnitude after training, weights rewound to init or epoch k; "
                             "one-shot, or iterative (options rounds, or rate [+ scope=layerwise])")
def lottery(ctx: PruneContext) -> Ticket:
    """Without `rate`: `rounds` rounds on a geometric schedule that ends exactly at the density. With `rate`:
    Frankle & Carbin's fixed fraction of the remaining weights per round, globally or per layer (output layer at
    half rate), for as many rounds as the density needs."""
    k = _rewind_epoch(ctx)
    rate = ctx.options.get("rate")
    rounds = rounds_for(ctx.density, float(rate)) if rate else int(ctx.options.get("rounds", 1))
    layerwise = ctx.options.get("scope", "global") == "layerwise"
    final, rewind = pretrained(ctx, k)
    keep = Mask.ones_like(ctx.model)
    trained_epochs = float(ctx.spec.epochs)
    for r in range(1, rounds + 1):
        s = ctx.scores(scorers.magnitude(_trained_model(ctx, final)))
        if rate and layerwise:
            keep = alloc.imp_round(s, keep, alloc.imp_rates(keep.names(), float(rate)))
        elif rate:
            keep = alloc.imp_global_round(s, keep, float(rate))
        else:
            keep = alloc.global_topk(s, ctx.density ** (r / rounds), keep)
        if r < rounds:
            net = _trained_model(ctx, rewind)
            train(net, ctx.data, ctx.spec, mask=keep, data_seed=ctx.data_seed, start_epoch=k,
                  progress=ctx.progress, desc=f"IMP round {r}")
            final = {n: v.detach().cpu().clone() for n, v in net.state_dict().items()}
            trained_epochs += ctx.spec.epochs - k
    return Ticket(keep, state=rewind, start_epoch=k, train_epochs=trained_epochs, iterations=rounds)


@METHODS.register("lr_rewinding", "learning-rate rewinding: global magnitude after training, trained weights kept, "
                                  "schedule restarted at epoch k")
def lr_rewinding(ctx: PruneContext) -> Ticket:
    k = _rewind_epoch(ctx)
    final, _ = pretrained(ctx, k)
    keep = alloc.global_topk(ctx.scores(scorers.magnitude(_trained_model(ctx, final))), ctx.density)
    return Ticket(keep, state=final, start_epoch=k, train_epochs=float(ctx.spec.epochs))


@METHODS.register("hybrid", "Su et al.'s hybrid ticket: smart-ratio counts, largest trained |w| per layer, "
                            "learning-rate rewinding")
def hybrid(ctx: PruneContext) -> Ticket:
    k = _rewind_epoch(ctx)
    final, _ = pretrained(ctx, k)
    s = ctx.scores(scorers.magnitude(_trained_model(ctx, final)))
    return Ticket(alloc.counts_topk(s, _smart_counts(ctx)), state=final, start_epoch=k,
                  train_epochs=float(ctx.spec.epochs))


def imp_schedule(names: list[str], rate: float, rounds: int, output_rate: float | None = None) -> list[dict[str, float]]:
    """Per-layer densities after each of `rounds` IMP rounds: (1 - rate_l)^round, output layer at half rate."""
    rates = alloc.imp_rates(names, rate, output_rate)
    return [{k: (1 - rates[k]) ** r for k in names} for r in range(1, rounds + 1)]


def rounds_for(density: float, rate: float) -> int:
    """IMP rounds needed to reach `density` when each round removes `rate` of what remains."""
    return max(1, math.ceil(math.log(density) / math.log(1 - rate) - 1e-9))


def spec_key(*parts: Any) -> str:
    """A stable string of dataclasses and values, for cache keys."""
    return json.dumps([asdict(p) if hasattr(p, "__dataclass_fields__") else p for p in parts], sort_keys=True,
                      default=str)
