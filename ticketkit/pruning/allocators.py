"""Allocators turn scores into a Mask: how many weights each layer keeps, and which."""
from __future__ import annotations

import math

import torch

from ..masks import Mask
from .scorers import Scores


def check_density(density: float) -> float:
    """Densities are kept fractions in (0, 1]; the error also states the sparsity, the number users usually give."""
    if isinstance(density, bool) or not isinstance(density, (int, float)):
        raise ValueError(f"density must be a number in (0, 1] (the kept fraction), got {density!r}")
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1] (the kept fraction, 1 - sparsity: sparsity 0.98 is density 0.02), "
                         f"got {density!r}, i.e. sparsity {round(1.0 - density, 10)!r}; sparsity must be in [0, 1)")
    return float(density)


def global_topk(scores: Scores, density: float, keep: Mask | None = None) -> Mask:
    """Keep the round(density * total) highest scores over all layers; already-pruned weights stay pruned."""
    check_density(density)
    names = list(scores)
    flat = torch.cat([scores[k].flatten() for k in names])
    if keep is not None:
        alive = torch.cat([keep.tensors[k].flatten().to(flat.device) for k in names])
        flat = torch.where(alive, flat, torch.full_like(flat, -math.inf))
    k = int(round(density * flat.numel()))
    chosen = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
    chosen[torch.topk(flat, k, sorted=False).indices] = True
    out, i = {}, 0
    for name in names:
        n = scores[name].numel()
        out[name] = chosen[i:i + n].view(scores[name].shape)
        i += n
    return Mask(out)


def counts_topk(scores: Scores, counts: dict[str, int]) -> Mask:
    """Keep exactly counts[layer] highest-scoring weights in each layer."""
    out = {}
    for name, s in scores.items():
        n = counts[name]
        if not 0 <= n <= s.numel():
            raise ValueError(f"layer {name!r} cannot keep {n} of {s.numel()} weights")
        m = torch.zeros(s.numel(), dtype=torch.bool, device=s.device)
        m[torch.topk(s.flatten(), n, sorted=False).indices] = True
        out[name] = m.view(s.shape)
    return Mask(out)


def counts_from_densities(sizes: dict[str, int], densities: dict[str, float]) -> dict[str, int]:
    """Per-layer counts floor(d_l * n_l)."""
    for name, d in densities.items():
        check_density(d)
    return {k: int(densities[k] * n) for k, n in sizes.items()}


def uniform(sizes: dict[str, int], density: float) -> dict[str, float]:
    """The same density in every layer."""
    check_density(density)
    return {k: density for k in sizes}


def smart_ratio(sizes: dict[str, int], linear: set[str], density: float, form: str = "resnet",
                linear_density: float = 0.3) -> dict[str, int]:
    """Su et al.'s smart-ratio counts (eq. 4 of the [Re] paper), as their SmartRatio.py computes them: layer l of L
    keeps a share proportional to (L-l+1)^2 + (L-l+1) (divided by l^2 for the VGG form), scaled so the conv layers
    hold floor(density * total) minus the Linear layers' floor(linear_density * n); ratios above 1 are clipped and
    their excess (floored) moves to the next layers with room; each layer keeps int(ratio * n) weights. The flooring
    remainder is not handed to another layer, so the total may fall a few weights short of floor(density * total)."""
    check_density(density)
    if form not in ("resnet", "vgg"):
        raise ValueError(f"unknown smart-ratio form {form!r}; choose 'resnet' or 'vgg'")
    names = list(sizes)
    big_l = len(names)
    raw = {}
    for l, name in enumerate(names, start=1):
        r = float((big_l - l + 1) ** 2 + (big_l - l + 1))
        raw[name] = r / l**2 if form == "vgg" else r
    convs = [k for k in names if k not in linear]
    target = int(density * sum(sizes.values()))
    lin_counts = {k: int(linear_density * sizes[k]) for k in names if k in linear}
    budget = target - sum(lin_counts.values())
    if budget <= 0 or budget > sum(sizes[k] for k in convs):
        raise ValueError(f"smart ratio cannot reach density {density} with every Linear at {linear_density}; "
                         "choose a density between the Linear share and what the conv layers can hold")
    scale = budget / sum(raw[k] * sizes[k] for k in convs)
    ratio = {k: raw[k] * scale for k in convs}
    extra = 0  # whole weights, floored as their code floors them; the cascade stops once nothing is left over
    for k in convs:
        if ratio[k] >= 1.0:
            extra += int((ratio[k] - 1.0) * sizes[k])
            ratio[k] = 1.0
        else:
            room = int((1.0 - ratio[k]) * sizes[k])
            ratio[k] = ratio[k] + extra / sizes[k] if room >= extra else 1.0
            extra = 0 if room >= extra else extra - room
        if extra == 0:
            break
    counts = {k: min(sizes[k], int(ratio[k] * sizes[k])) for k in convs}
    counts.update(lin_counts)
    return {k: counts[k] for k in names}


def erk(shapes: dict[str, tuple[int, ...]], density: float) -> dict[str, float]:
    """Erdos-Renyi-Kernel densities (Evci et al. 2020): proportional to sum(dims)/prod(dims), capped at 1."""
    check_density(density)
    sizes = {k: math.prod(s) for k, s in shapes.items()}
    raw = {k: sum(s) / math.prod(s) for k, s in shapes.items()}
    dense: set[str] = set()
    total = sum(sizes.values())
    while True:
        budget = density * total - sum(sizes[k] for k in dense)
        eps = budget / sum(raw[k] * sizes[k] for k in sizes if k not in dense)
        over = {k for k in sizes if k not in dense and eps * raw[k] > 1.0}
        if not over:
            return {k: 1.0 if k in dense else eps * raw[k] for k in sizes}
        dense |= over


def imp_rates(names: list[str], rate: float, output_rate: float | None = None) -> dict[str, float]:
    """Per-layer pruning fractions for one IMP round; the output layer defaults to half rate (Frankle & Carbin)."""
    out = {k: rate for k in names}
    out[names[-1]] = rate / 2 if output_rate is None else output_rate
    return out


def imp_round(scores: Scores, keep: Mask, rates: dict[str, float]) -> Mask:
    """Prune round(rate * remaining) of each layer's remaining weights, lowest score first."""
    counts = {}
    for name, s in scores.items():
        alive = int(keep.tensors[name].sum())
        counts[name] = alive - int(round(rates[name] * alive))
    masked = {k: torch.where(keep.tensors[k].to(s.device), s, torch.full_like(s, -math.inf))
              for k, s in scores.items()}
    return counts_topk(masked, counts)


def imp_global_round(scores: Scores, keep: Mask, rate: float) -> Mask:
    """Global IMP round: prune round(rate * remaining) of all remaining weights together, lowest score first."""
    return global_topk(scores, keep.density() * (1 - rate), keep)
