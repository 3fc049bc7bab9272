"""Supermasks (Zhou et al.): masks that make an untrained network perform. Criterion masks are applied to the
initial weights (optionally as signed constants) and evaluated with no training; a learned supermask keeps the
weights frozen and trains one real score s per weight, the forward pass sampling each weight's mask bit from
Bernoulli(sigmoid(s)) with a straight-through gradient; its accuracy is the mean over sampled masks."""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from .data import DataBundle, batches
from .masks import Mask
from .models import prunable_parameters
from .train import TrainSpec, evaluate, lr_at, make_optimizer, training_images


CALIBRATION_IMAGES = 2560  # training images that re-estimate BatchNorm statistics before pre-finetune accuracy


@torch.no_grad()
def calibrated_accuracy(model: nn.Module, mask: Mask, data: DataBundle, seed: int) -> tuple[float, float]:
    """Test (accuracy %, loss) of the masked network before any weight training, its BatchNorm statistics
    re-estimated on CALIBRATION_IMAGES training images, the same for every method (fresh statistics would put
    any untrained network at chance)."""
    net = masked_copy(model, mask.to(next(model.parameters()).device))
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # a plain average over the calibration batches
    norm = data.normalizer(data.train_x.device)
    net.train()
    gen = torch.Generator().manual_seed(seed)
    for i, (xb, _) in enumerate(batches(data.train_x, data.train_y, 256, gen, shuffle=True)):
        if i * 256 >= CALIBRATION_IMAGES:
            break
        net(norm(xb))
    return evaluate(net, data, data.test_x, data.test_y)


@torch.no_grad()
def masked_copy(model: nn.Module, mask: Mask, signed_constant: bool = False) -> nn.Module:
    """A copy of `model` with the pruned weights zeroed (and the kept ones replaced by sign(w) x the layer's std)."""
    net = copy.deepcopy(model)
    for name, p in prunable_parameters(net).items():
        if signed_constant:
            p.copy_(torch.sign(p) * p.std())
        p.mul_(mask.tensors[name].to(p.device, p.dtype))
    return net


def accuracy_at_init(model: nn.Module, mask: Mask, data: DataBundle, signed_constant: bool = False
                     ) -> tuple[float, float]:
    """(test accuracy %, loss) of the masked, untrained network: no training at all."""
    return evaluate(masked_copy(model, mask, signed_constant), data, data.test_x, data.test_y)


class Supermask:
    """Frozen weights and one trainable score per prunable weight (0 at the start: every bit is a coin flip)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model.requires_grad_(False)
        self.weights = prunable_parameters(model)
        self.scores = {n: torch.zeros_like(p, requires_grad=True) for n, p in self.weights.items()}

    def forward(self, x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
        """Logits with mask bits drawn from Bernoulli(sigmoid(score)); the gradient passes straight through."""
        params = {}
        for n, s in self.scores.items():
            p = torch.sigmoid(s)
            bits = torch.bernoulli(p.detach(), generator=g) if g is not None else torch.bernoulli(p.detach())
            params[n] = self.weights[n] * (bits + p - p.detach())
        return functional_call(self.model, params, (x,))

    @torch.no_grad()
    def sample(self, g: torch.Generator) -> Mask:
        """One sampled mask."""
        return Mask({n: torch.bernoulli(torch.sigmoid(s).cpu(), generator=g).bool() for n, s in self.scores.items()})


def train_supermask(model: nn.Module, data: DataBundle, spec: TrainSpec, seed: int = 0, samples: int = 10
                    ) -> tuple[Supermask, float]:
    """Train the scores of a supermask on `model`'s frozen weights; (the supermask, mean test accuracy over
    `samples` sampled masks)."""
    sm = Supermask(model)
    device = next(model.parameters()).device
    opt = make_optimizer(sm.scores.values(), spec)
    source, feed = training_images(data, spec, device)
    gen = torch.Generator().manual_seed(seed)
    bits = torch.Generator(device=device).manual_seed(seed + 1)
    steps = len(data.train_y) // min(spec.batch_size, len(data.train_y))
    model.train()
    for epoch in range(spec.epochs):
        for i, (xb, yb) in enumerate(batches(source, data.train_y, spec.batch_size, gen, shuffle=True,
                                             drop_last=True)):
            for group in opt.param_groups:
                group["lr"] = lr_at(spec, epoch + i / steps)
            loss = F.cross_entropy(sm.forward(feed(xb), bits), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    draws = torch.Generator().manual_seed(seed + 2)
    accs = [accuracy_at_init(model, sm.sample(draws).to(device), data)[0] for _ in range(samples)]
    return sm, sum(accs) / len(accs)
