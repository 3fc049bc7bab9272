"""K networks of one architecture trained as one model: stacked weights, `vmap(functional_call)`, and for each
member its own mask, optimiser state and minibatch stream.

Member i computes what `train` computes for it alone: it draws its batches (and augmentations) from its own
generator seeded with its data seed, in the same order; the summed loss gives each member exactly its own
gradient; SGD and Adam update every weight from its own state only, so one optimiser over stacked tensors is K
optimisers. Results agree with separate runs up to float reassociation in the batched kernels (the tests
state the tolerance). BatchNorm works too: each member keeps its own running statistics.
"""
from __future__ import annotations

import copy
import os
import time
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .data import DataBundle, augment, batches
from .masks import Mask
from .models import LeNet, prunable_parameters
from .train import (TrainResult, TrainSpec, autocast_enabled, curve_point, lr_at, make_optimizer,
                    mixed_precision, start_position, training_images)

MAX_K = 16  # beyond this the CPU gains little and one slow member holds the rest back


class Stack:
    """K models' parameters and buffers stacked along a new first dimension, with a stateless skeleton."""

    def __init__(self, models: list[nn.Module]) -> None:
        self.k = len(models)
        self.skeleton = copy.deepcopy(models[0]).to("meta")
        params, self.buffers = stack_module_state(models)
        self.params = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}

    def forward(self, x: torch.Tensor, shared_input: bool = False) -> torch.Tensor:
        """Logits of every member, K x B x classes; x is K x B x ... (or B x ... when shared_input)."""
        if isinstance(self.skeleton, LeNet):
            return self._mlp(x.expand(self.k, *x.shape) if shared_input else x)

        def one(p: dict, b: dict, xb: torch.Tensor) -> torch.Tensor:  # type: ignore[type-arg]
            return functional_call(self.skeleton, (p, b), (xb,))
        return vmap(one, in_dims=(0, 0, None if shared_input else 0))(self.params, self.buffers, x)

    def _mlp(self, x: torch.Tensor) -> torch.Tensor:
        """LeNet as batched matmuls on feature-major activations (K x features x B): the weight gradient then
        comes out in the weight's own layout, with no transposed copy (vmap's path spends half its time there)."""
        h = x.flatten(2).transpose(1, 2)
        names = [f"hidden.{i}" for i in range(len(self.skeleton.hidden))] + ["out"]
        for i, name in enumerate(names):
            h = torch.baddbmm(self.params[f"{name}.bias"].unsqueeze(2), self.params[f"{name}.weight"], h)
            h = F.relu(h) if i < len(names) - 1 else h
        return h.transpose(1, 2)

    def train(self, mode: bool = True) -> None:
        self.skeleton.train(mode)

    def member_state(self, i: int, keys: list[str]) -> dict[str, torch.Tensor]:
        """Member i's state dict (the `keys` of a model's own state_dict), copied to the CPU."""
        both = {**self.params, **self.buffers}
        return {k: both[k][i].detach().cpu().clone() for k in keys}

    def unstack_into(self, models: list[nn.Module]) -> None:
        """Copy member i's trained parameters and buffers back into models[i]."""
        with torch.no_grad():
            for i, m in enumerate(models):
                for n, p in m.named_parameters():
                    p.copy_(self.params[n][i])
                for n, b in m.named_buffers():
                    b.copy_(self.buffers[n][i])


class StackedMasks:
    """Every member's mask over the stacked weights: float keep-masks, and the frozen values of pruned positions
    (zeros for members without) where some member freezes them."""

    def __init__(self, stack: Stack, models: list[nn.Module], masks: list[Mask | None]) -> None:
        names = sorted(set().union(*(m.names() for m in masks if m is not None)))
        self.weights, self.keep, self.filled, self.fills = [], [], [], []
        for name in names:
            rows, fills = [], []
            for model, mask in zip(models, masks):
                if mask is not None:
                    mask.check(model)
                p = prunable_parameters(model)[name]
                rows.append(mask.tensors[name] if mask is not None else torch.ones_like(p, dtype=torch.bool))
                fill = mask.fill(name) if mask is not None else None
                fills.append(torch.zeros_like(p) if fill is None else fill.to(p.device, p.dtype))
            w = stack.params[name]
            self.weights.append(w)
            self.keep.append(torch.stack(rows).to(device=w.device, dtype=w.dtype))
            if any(m is not None and m.fill(name) is not None for m in masks):
                self.filled.append(w)
                self.fills.append(torch.stack(fills).to(device=w.device, dtype=w.dtype))

    @torch.no_grad()
    def apply(self) -> None:
        """Pruned weights to zero or to their frozen values, every member at once."""
        if self.weights:
            torch._foreach_mul_(self.weights, self.keep)
        if self.filled:
            torch._foreach_add_(self.filled, self.fills)


@torch.no_grad()
def evaluate_many(stack: Stack, data: DataBundle, x: torch.Tensor, y: torch.Tensor,
                  batch_size: int = 1000) -> list[tuple[float, float]]:
    """(accuracy in %, mean cross-entropy) of every member on the same images, in eval mode."""
    stack.train(False)
    norm = data.normalizer(x.device)
    correct = torch.zeros(stack.k, device=x.device)
    loss_sum = torch.zeros(stack.k, device=x.device)
    for xb, yb in batches(x, y, batch_size):
        with mixed_precision(x.device, autocast_enabled(x.device)):
            out = stack.forward(norm(xb), shared_input=True).float()  # K x B x C
        loss_sum += F.cross_entropy(out.transpose(1, 2), yb.expand(stack.k, -1), reduction="none").sum(1)
        correct += (out.argmax(2) == yb).sum(1)
    stack.train(True)
    n = max(len(y), 1)
    return [(100.0 * float(c) / n, float(s) / n) for c, s in zip(correct, loss_sum)]


def _streams(x: torch.Tensor, y: torch.Tensor, bs: int,
             gens: list[torch.Generator]) -> Iterator[list[tuple[torch.Tensor, ...]]]:
    """One epoch of minibatches for every member, each from its own generator (as `train` draws them)."""
    its = [batches(x, y, bs, g, shuffle=True, drop_last=True) for g in gens]
    return zip(*its)  # type: ignore[return-value]


def train_many(models: list[nn.Module], data: DataBundle, spec: TrainSpec, *, masks: list[Mask | None],
               data_seeds: list[int], start_epoch: int = 0, start_step: int | None = None,
               checkpoint_steps: tuple[int, ...] = (), eval_every: int = 0, progress: bool = False,
               desc: str = "train") -> list[TrainResult]:
    """Train K models of one architecture together, in place, as K separate `train` calls would (curves too)."""
    if not (len(models) == len(masks) == len(data_seeds)) or not models:
        raise ValueError("train_many needs one mask (or None) and one data seed per model")
    device = next(models[0].parameters()).device
    stack = Stack(models)
    masked = StackedMasks(stack, models, masks)
    masked.apply()
    opt = make_optimizer(stack.params.values(), spec)
    gens = [torch.Generator().manual_seed(s) for s in data_seeds]
    source, feed = training_images(data, spec, device)
    amp = autocast_enabled(device)
    n = len(data.train_y)
    bs = min(spec.batch_size, n)
    steps_per_epoch = n // bs
    results = [TrainResult([], steps_per_epoch=steps_per_epoch) for _ in models]
    start_epoch, skip = start_position(start_epoch, start_step, steps_per_epoch)
    epochs = range(start_epoch, spec.epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc=f"{desc} (x{len(models)})", leave=False)
    since = torch.zeros(stack.k, device=device)  # train loss summed since the last curve point
    step = start_epoch * steps_per_epoch + skip

    def scored(x: torch.Tensor, y: torch.Tensor) -> list[tuple[float, float]]:
        """evaluate_many(), its seconds counted in every member's eval_s (the members share the wall time)."""
        t0 = time.perf_counter()
        out = evaluate_many(stack, data, x, y)
        spent = time.perf_counter() - t0
        for res in results:
            res.eval_s += spent
        return out

    def curve_points(steps_since: int) -> None:
        tests = scored(data.test_x, data.test_y)
        vals = scored(data.val_x, data.val_y) if len(data.val_y) else [None] * stack.k
        for m, res in enumerate(results):
            res.curve.append(curve_point(step, float(since[m]) / steps_since if steps_since else None,
                                         tests[m], vals[m]))
        since.zero_()

    keys = list(models[0].state_dict())

    def maybe_checkpoint() -> None:
        if step in checkpoint_steps:
            for m, res in enumerate(results):
                res.checkpoints[step] = stack.member_state(m, keys)

    maybe_checkpoint()
    if eval_every and step % eval_every == 0:
        curve_points(0)
    last_point = step
    stack.train(True)
    for epoch in epochs:
        loss_sum = torch.zeros(stack.k, device=device)
        for i, members in enumerate(_streams(source, data.train_y, bs, gens)):
            if epoch == start_epoch and i < skip:
                continue
            x = torch.stack([feed(augment(xb, g) if spec.augment else xb) for (xb, _), g in zip(members, gens)])
            y = torch.stack([yb for _, yb in members])
            for group in opt.param_groups:
                group["lr"] = lr_at(spec, epoch + i / steps_per_epoch)
            with mixed_precision(device, amp):
                out = stack.forward(x).float()
            losses = F.cross_entropy(out.transpose(1, 2), y, reduction="none").mean(1)
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt.step()
            masked.apply()
            loss_sum += losses.detach()
            since += losses.detach()
            step += 1
            maybe_checkpoint()
            if eval_every and step % eval_every == 0:
                curve_points(step - last_point)
                last_point = step
        tests = scored(data.test_x, data.test_y)
        vals = scored(data.val_x, data.val_y) if len(data.val_y) else None
        for m, res in enumerate(results):
            row = {"epoch": epoch + 1, "lr": lr_at(spec, epoch), "train_loss": float(loss_sum[m]) / max(steps_per_epoch, 1)}
            row["test_acc"], row["test_loss"] = tests[m]
            if vals is not None:
                row["val_acc"], row["val_loss"] = vals[m]
            res.history.append(row)
    stack.unstack_into(models)
    return results


def batches_well(model: nn.Module) -> bool:
    """Whether batching pays: for fully connected nets (the LeNet bmm path). Batched convolutions ran slower than
    K separate runs on both a 2-core CPU and an H100 (bench/many_models.py measures both ways)."""
    return isinstance(model, LeNet)


def batch_size_for(model: nn.Module, sample: torch.Tensor, spec: TrainSpec, device: torch.device,
                   cap: int = MAX_K) -> int:
    """How many members fit: a quarter of free memory (CPU RAM or GPU) over one member's estimated footprint
    (weights, gradients, two optimiser states and the mask; activations of one batch kept for backward, x3)."""
    n_params = sum(p.numel() for p in model.parameters())
    acts = 0

    def hook(_m: nn.Module, _i: tuple, out: torch.Tensor) -> None:  # type: ignore[type-arg]
        nonlocal acts
        acts += out.numel() if isinstance(out, torch.Tensor) else 0

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    with torch.no_grad():
        copy.deepcopy(model).eval()(sample[:1].float())
    for h in handles:
        h.remove()
    member = 4 * (5 * n_params + 3 * acts * spec.batch_size)
    return max(1, min(cap, int(0.25 * _free_bytes(device) // max(member, 1))))


def _free_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        return int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
