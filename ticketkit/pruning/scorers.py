"""Scorers map a model (and maybe data) to {param_name: score}; a higher score means keep.

Scoring never changes the model it is given: gradient-based scorers work on a deep copy, so weights,
gradients and BatchNorm running statistics of the caller's model stay as they were.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..models import prunable_parameters

Scores = dict[str, torch.Tensor]


def magnitude(model: nn.Module) -> Scores:
    """|w| of the model's current weights (initial, trained or rewound, whichever it holds)."""
    return {k: p.detach().abs().clone() for k, p in prunable_parameters(model).items()}


def random_scores(model: nn.Module, generator: torch.Generator) -> Scores:
    """Independent uniform scores: with any allocator this gives random positions."""
    return {k: torch.rand(p.shape, generator=generator).to(p.device) for k, p in prunable_parameters(model).items()}


def snip(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Scores:
    """Connection sensitivity |w * dL/dw| on one batch, BatchNorm in train mode (Lee et al. 2019)."""
    net = copy.deepcopy(model).train()
    params = prunable_parameters(net)
    loss = F.cross_entropy(net(x), y)
    grads = torch.autograd.grad(loss, list(params.values()))
    return {k: (p.detach() * g).abs() for (k, p), g in zip(params.items(), grads)}


def hessian_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor, temperature: float = 200.0) -> Scores:
    """H g for the loss of logits/T, with g = dL/dw held fixed (double backprop)."""
    net = copy.deepcopy(model).train()
    params = prunable_parameters(net)
    weights = list(params.values())
    loss = F.cross_entropy(net(x) / temperature, y)
    g = [t.detach() for t in torch.autograd.grad(loss, weights)]
    loss = F.cross_entropy(net(x) / temperature, y)
    grads = torch.autograd.grad(loss, weights, create_graph=True)
    z = sum((gi * hi).sum() for gi, hi in zip(g, grads))
    hg = torch.autograd.grad(z, weights)
    return {k: h.detach() for k, h in zip(params, hg)}


def grasp(model: nn.Module, x: torch.Tensor, y: torch.Tensor, temperature: float = 200.0) -> Scores:
    """GraSP (Wang et al. 2020) removes the largest S = -w * Hg, so the keep score is -S = w * Hg."""
    hg = hessian_gradient(model, x, y, temperature)
    params = prunable_parameters(model)
    return {k: params[k].detach() * h for k, h in hg.items()}


def synflow(model: nn.Module, keep: dict[str, torch.Tensor] | None = None) -> Scores:
    """Synaptic flow |w * dR/dw| with R the summed output of the all-positive network on an all-ones input.

    Works on a float64 copy with |params| and BN in eval mode; kept-masks zero pruned weights first.
    """
    net = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.abs_()
        params = prunable_parameters(net)
        if keep is not None:
            for k, p in params.items():
                p.mul_(keep[k].to(p.dtype))
    first = next(iter(params.values()))
    size = getattr(model, "input_size", 32)
    shape = (1, first.shape[1]) if first.dim() == 2 else (1, first.shape[1], size, size)
    r = net(torch.ones(shape, dtype=torch.float64, device=first.device)).sum()
    grads = torch.autograd.grad(r, list(params.values()))
    return {k: (p.detach() * g).abs() for (k, p), g in zip(params.items(), grads)}  # float64: deep products underflow in fp32
