"""Name-keyed binary masks over a model's prunable weights.

Pruned weights are kept exactly zero by re-multiplying the weights by the mask after every optimiser step: one
fused element-wise multiply per step instead of a masked copy of every weight in every forward pass. SGD (with
momentum and weight decay) and Adam update each weight from its own state only, so whatever a pruned position's
momentum holds never reaches a kept weight, and the forward pass only ever sees exact zeros.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .models import prunable_parameters


class MaskError(ValueError):
    """A mask that does not fit the model it is applied to."""


@dataclass(frozen=True)
class PathReport:
    """Result of the layer-collapse check."""

    collapsed_layers: tuple[str, ...]  # layers with no kept weight
    connected: bool  # some input still reaches some output through kept weights

    @property
    def collapsed(self) -> bool:
        return bool(self.collapsed_layers) or not self.connected


class Mask:
    """Boolean keep-masks keyed by parameter name (True = kept). `frozen` optionally gives, per layer, the values
    the pruned positions hold through training (Zhou et al.'s mask-0 actions); without it they are zero."""

    def __init__(self, tensors: dict[str, torch.Tensor], frozen: dict[str, torch.Tensor] | None = None) -> None:
        self.tensors = {k: v.detach().to(torch.bool) for k, v in tensors.items()}
        self.frozen = {k: v.detach() for k, v in frozen.items()} if frozen else None

    @classmethod
    def ones_like(cls, model: nn.Module) -> "Mask":
        return cls({k: torch.ones_like(p, dtype=torch.bool) for k, p in prunable_parameters(model).items()})

    def names(self) -> list[str]:
        return list(self.tensors)

    def check(self, model: nn.Module) -> None:
        """Raise MaskError unless the mask covers exactly the model's prunable weights with equal shapes."""
        params = prunable_parameters(model)
        missing, extra = set(params) - set(self.tensors), set(self.tensors) - set(params)
        if missing or extra:
            raise MaskError(f"mask does not match the model: missing {sorted(missing)}, unexpected {sorted(extra)}; "
                            "build the mask from this model (Mask.ones_like(model) or a pruner)")
        for name, p in params.items():
            if tuple(p.shape) != tuple(self.tensors[name].shape):
                raise MaskError(f"mask for {name!r} has shape {tuple(self.tensors[name].shape)}, "
                                f"the weight has {tuple(p.shape)}")

    def counts(self) -> dict[str, tuple[int, int]]:
        """(kept, total) per layer."""
        return {k: (int(v.sum()), v.numel()) for k, v in self.tensors.items()}

    def densities(self) -> dict[str, float]:
        return {k: kept / total for k, (kept, total) in self.counts().items()}

    def density(self) -> float:
        """Kept fraction over all masked weights, i.e. 1 - p of eq. (1) in Su et al.'s reproduction."""
        kept = sum(k for k, _ in self.counts().values())
        total = sum(t for _, t in self.counts().values())
        return kept / total

    def sparsity(self) -> float:
        return 1.0 - self.density()

    def to(self, device: torch.device | str) -> "Mask":
        frozen = {k: v.to(device) for k, v in self.frozen.items()} if self.frozen else None
        return Mask({k: v.to(device) for k, v in self.tensors.items()}, frozen)

    def fill(self, name: str) -> torch.Tensor | None:
        """What layer `name`'s pruned positions hold: its frozen values there (0 where kept), or None for zeros."""
        if not self.frozen or name not in self.frozen:
            return None
        return torch.where(self.tensors[name].to(self.frozen[name].device), 0.0, self.frozen[name])

    def save(self, path: str | Path) -> None:
        torch.save({k: v.cpu() for k, v in self.tensors.items()}, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> "Mask":
        return cls(torch.load(Path(path), map_location="cpu", weights_only=True))

    def path_report(self, model: nn.Module) -> PathReport:
        """Find zero-density layers and check that a path of kept weights joins input and output."""
        self.check(model)
        collapsed = tuple(k for k, (kept, _) in self.counts().items() if kept == 0)
        return PathReport(collapsed, _has_path(model, self))


class MaskedParams:
    """Binds a mask to one model's parameters and enforces it during training."""

    def __init__(self, model: nn.Module, mask: Mask) -> None:
        mask.check(model)
        params = prunable_parameters(model)
        self.params = [params[k] for k in mask.names()]
        self.masks = [mask.tensors[k].to(device=p.device, dtype=p.dtype) for k, p in zip(mask.names(), self.params)]
        fills = [mask.fill(k) for k in mask.names()]
        self.fills = [(i, f.to(device=self.params[i].device, dtype=self.params[i].dtype))
                      for i, f in enumerate(fills) if f is not None]
        self.apply_to_weights()

    @torch.no_grad()
    def apply_to_weights(self) -> None:
        """Pruned weights back to zero, or to their frozen values (bit for bit: w x 0 + v = v)."""
        torch._foreach_mul_(self.params, self.masks)
        if self.fills:
            torch._foreach_add_([self.params[i] for i, _ in self.fills], [f for _, f in self.fills])


@torch.no_grad()
def _has_path(model: nn.Module, mask: Mask) -> bool:
    """Propagate an all-ones input through |mask| weights with biases and BN neutralised: output > 0 iff connected."""
    probe = copy.deepcopy(model).double().cpu().eval()
    params = prunable_parameters(probe)
    for name, p in params.items():
        p.copy_(mask.tensors[name].to(p.dtype))
    for m in probe.modules():
        bias = getattr(m, "bias", None)
        if isinstance(bias, torch.Tensor):
            bias.zero_()
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.weight.fill_(1.0)
            m.running_mean.zero_()
            m.running_var.fill_(1.0)
    first = next(iter(params.values()))
    shape = _input_shape(probe, first)
    out = probe(torch.ones(shape, dtype=torch.float64))
    return bool((out.abs() > 0).any())


def _input_shape(model: nn.Module, first_weight: torch.Tensor) -> tuple[int, ...]:
    """Infer an input shape from the first prunable layer (conv: C x S x S with S from the model; linear: features)."""
    if first_weight.dim() == 2:
        return (1, first_weight.shape[1])
    size = getattr(model, "input_size", 32)
    return (1, first_weight.shape[1], size, size)
