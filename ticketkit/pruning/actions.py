"""Zhou et al.'s mask actions, per layer: what the kept weights start from (mask-1) and what the pruned weights
hold while the ticket trains (mask-0). w_i are the layer's initial values, w_f its trained values, keep its mask."""
from __future__ import annotations

from typing import Callable

import torch

from ..registry import Registry

Mask1 = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]  # (w_i, keep, g) -> start values
Mask0 = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor | None]  # (w_i, w_f, keep) -> frozen
MASK1: Registry[Mask1] = Registry("mask-1 action")
MASK0: Registry[Mask0] = Registry("mask-0 action")


def _permute(values: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    flat = values.flatten()
    return flat[torch.randperm(flat.numel(), generator=g).to(flat.device)].view_as(values)


@MASK1.register("rewind", "kept weights start from their initial values (the lottery ticket)")
def rewind(wi: torch.Tensor, keep: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return wi.clone()


@MASK1.register("reinit", "kept weights start from a random permutation of the layer's initial values")
def reinit(wi: torch.Tensor, keep: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return _permute(wi, g)


@MASK1.register("reshuffle", "the initial values of the kept weights permuted among the kept positions")
def reshuffle(wi: torch.Tensor, keep: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    out = wi.clone()
    idx = keep.flatten().nonzero().flatten()
    out.view(-1)[idx] = wi.flatten()[idx][torch.randperm(idx.numel(), generator=g).to(idx.device)]
    return out


@MASK1.register("signed_constant", "sign(w_i) times the standard deviation of the layer's initial values")
def signed_constant(wi: torch.Tensor, keep: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return torch.sign(wi) * wi.std()


@MASK0.register("zero", "pruned weights are zero (the lottery ticket)")
def zero(wi: torch.Tensor, wf: torch.Tensor, keep: torch.Tensor) -> torch.Tensor | None:
    return None


@MASK0.register("frozen", "pruned weights stay frozen at their initial values")
def frozen(wi: torch.Tensor, wf: torch.Tensor, keep: torch.Tensor) -> torch.Tensor | None:
    return torch.where(keep, torch.zeros_like(wi), wi)


@MASK0.register("frozen_unless_decreased", "pruned weights frozen at their initial values, except those whose "
                                            "magnitude decreased in training, which are zero")
def frozen_unless_decreased(wi: torch.Tensor, wf: torch.Tensor, keep: torch.Tensor) -> torch.Tensor | None:
    return torch.where(keep | (wf.abs() < wi.abs()), torch.zeros_like(wi), wi)
