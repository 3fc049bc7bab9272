"""Smart-ratio variants v1-v6 of Rare Gems (seed 004, appendix B): layer-density allocators for random pruning.

Every variant returns per-layer densities (kept fractions, prunable_parameters order) whose parameter-weighted
total is exactly round(density * total weights) / total weights: each layer's density is a whole count over its
size. Unlike the paper's variants (Table 16: v2 at 1.47%, v3 at 1.75% for a 1.44% target), the first/last-layer
variants re-balance the middle layers so the target is met.
"""
from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..models import linear_names, prunable_parameters
from ..registry import Registry
from . import allocators as alloc

Densities = dict[str, float]
DensityInput = Mapping[str, float] | Sequence[float] | torch.Tensor
Batch = tuple[torch.Tensor, torch.Tensor]


def layer_sizes(model: nn.Module) -> dict[str, int]:
    """Weights per prunable layer, in module order."""
    return {k: p.numel() for k, p in prunable_parameters(model).items()}


def as_densities(sizes: Mapping[str, int], values: DensityInput) -> Densities:
    """Per-layer densities from a dict keyed by layer name or a vector in layer order; each must be in [0, 1]."""
    names = list(sizes)
    if isinstance(values, Mapping):
        if set(values) != set(names):
            raise ValueError(f"density dict must name exactly the prunable layers {names}; missing "
                             f"{sorted(set(names) - set(values))}, unexpected {sorted(set(values) - set(names))}")
        out = {k: float(values[k]) for k in names}
    else:
        vec = [float(v) for v in (values.tolist() if isinstance(values, torch.Tensor) else values)]
        if len(vec) != len(names):
            raise ValueError(f"expected one density per prunable layer ({len(names)}, in prunable_parameters order), "
                             f"got {len(vec)}; pass a vector of length {len(names)} or a dict keyed by layer name")
        out = dict(zip(names, vec))
    bad = {k: v for k, v in out.items() if not 0.0 <= v <= 1.0}
    if bad:
        raise ValueError(f"layer densities must be kept fractions in [0, 1]; got {bad}")
    return out


def exact_counts(sizes: Mapping[str, int], densities: Mapping[str, float], density: float) -> dict[str, int]:
    """Per-layer kept counts near d_l * n_l summing to exactly round(density * total): floors, then one more weight
    to the layers with the largest remainders."""
    alloc.check_density(density)
    dens = as_densities(sizes, densities)
    raw = {k: dens[k] * n for k, n in sizes.items()}
    counts = {k: math.floor(r) for k, r in raw.items()}
    short = round(density * sum(sizes.values())) - sum(counts.values())
    room = sorted((k for k in sizes if counts[k] < sizes[k]), key=lambda k: counts[k] - raw[k])
    if not 0 <= short <= len(room):
        raise ValueError(f"layer densities total {sum(raw.values()):.1f} weights, not the target "
                         f"{density * sum(sizes.values()):.1f}; re-balance them first with fill() or project()")
    for k in room[:short]:
        counts[k] += 1
    return counts


def _exact(sizes: Mapping[str, int], densities: Mapping[str, float], density: float) -> Densities:
    """The densities of exact_counts(): whole counts over layer sizes."""
    counts = exact_counts(sizes, densities, density)
    return {k: counts[k] / n for k, n in sizes.items()}


def fill(sizes: Mapping[str, int], base: Mapping[str, float], density: float,
         fixed: Mapping[str, float] | None = None) -> Densities:
    """Keep the `fixed` layers' densities and scale every other layer's `base` density by one common factor
    (layers reaching 1 stay dense, the rest absorb the excess) so the total meets `density`."""
    alloc.check_density(density)
    base = as_densities(sizes, base)
    fixed = dict(fixed or {})
    odd = {k: v for k, v in fixed.items() if k not in sizes or not 0.0 <= v <= 1.0}
    if odd:
        raise ValueError(f"fixed densities must name prunable layers and lie in [0, 1]; got {odd}")
    free = [k for k in sizes if k not in fixed]
    budget = density * sum(sizes.values()) - sum(fixed[k] * sizes[k] for k in fixed)
    if budget < -0.5 or budget > sum(sizes[k] for k in free) + 0.5:
        raise ValueError(f"the fixed layers {sorted(fixed)} leave {budget:.1f} weights for the other layers, which "
                         f"hold {sum(sizes[k] for k in free)}; choose a density the free layers can fill")
    dense: set[str] = set()
    while True:
        mass = sum(base[k] * sizes[k] for k in free if k not in dense)
        rest = budget - sum(sizes[k] for k in dense)
        if mass <= 0.0:
            if abs(rest) > 0.5:
                raise ValueError("every free layer has base density 0, so none can be scaled to meet the target; "
                                 "give the free layers positive base densities")
            scale = 0.0
            break
        scale = max(0.0, rest) / mass
        over = {k for k in free if k not in dense and scale * base[k] > 1.0}
        if not over:
            break
        dense |= over
    out = {k: fixed[k] if k in fixed else (1.0 if k in dense else scale * base[k]) for k in sizes}
    return _exact(sizes, out, density)


def _shift(sizes: Mapping[str, int], values: Mapping[str, float], density: float) -> Densities:
    """d_l = clip(values[l] - tau, 0, 1) with tau (bisection) such that sum n_l d_l = density * total."""
    target = density * sum(sizes.values())

    def total(tau: float) -> float:
        return sum(n * min(1.0, max(0.0, values[k] - tau)) for k, n in sizes.items())

    lo, hi = min(values.values()) - 1.0, max(values.values())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if total(mid) > target else (lo, mid)
    return {k: min(1.0, max(0.0, v - hi)) for k, v in values.items()}


def project(sizes: Mapping[str, int], values: DensityInput, density: float) -> Densities:
    """Euclidean projection of per-weight keep probabilities (layer l's n_l weights all at values[l]) onto the
    budget, a uniform shift clipped to [0, 1], then whole counts."""
    alloc.check_density(density)
    return _exact(sizes, _shift(sizes, as_densities(sizes, values), density), density)


def _endless(batches: Iterable[Batch]) -> Iterator[Batch]:
    """Cycle through `batches`, re-iterating it when it is exhausted (a list or DataLoader, not a one-shot iterator)."""
    while True:
        empty = True
        for b in batches:
            empty = False
            yield b
        if empty:
            raise ValueError("the batch source yielded nothing; pass a re-iterable of (x, y) batches (a list or a "
                             "DataLoader), not an exhausted iterator")


def _sampled_forward(net: nn.Module, weights: Mapping[str, torch.Tensor], probs: torch.Tensor, x: torch.Tensor,
                     g: torch.Generator) -> torch.Tensor:
    """Output with each layer's weights times a Bernoulli(p_l) mask; the straight-through gradient reaches p_l."""
    masked = {}
    for i, (k, w) in enumerate(weights.items()):
        p = probs[i]
        sample = torch.bernoulli(p.detach().expand(w.shape), generator=g)
        masked[k] = w * (sample + p - p.detach())
    return torch.func.functional_call(net, masked, (x,))


def _frozen_copy(model: nn.Module) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """A train-mode copy with every parameter frozen, and its prunable weights."""
    net = copy.deepcopy(model).train()  # batch statistics, as training the subnetwork would use; caller untouched
    for p in net.parameters():
        p.requires_grad_(False)
    return net, {k: p.detach() for k, p in prunable_parameters(net).items()}


def sampled_loss(model: nn.Module, batches: Sequence[Batch], densities: DensityInput, samples: int = 4,
                 seed: int = 0) -> float:
    """Eq. 1 of 004's appendix, estimated: mean cross-entropy of `samples` Bernoulli-masked subnetworks per batch."""
    net, weights = _frozen_copy(model)
    dens = as_densities({k: w.numel() for k, w in weights.items()}, densities)
    dev = next(iter(weights.values())).device
    probs = torch.tensor(list(dens.values()), dtype=next(iter(weights.values())).dtype, device=dev)
    g = torch.Generator(device=dev).manual_seed(seed)
    losses = []
    with torch.no_grad():
        for x, y in batches:
            for _ in range(samples):
                out = _sampled_forward(net, weights, probs, x.to(dev), g)
                losses.append(float(F.cross_entropy(out, y.to(dev))))
    if not losses:
        raise ValueError("sampled_loss needs at least one batch and samples >= 1")
    return sum(losses) / len(losses)


def tune_densities(model: nn.Module, batches: Iterable[Batch], start: DensityInput, density: float, steps: int,
                   lr: float, seed: int = 0) -> Densities:
    """SGD on eq. 1 (004 appendix B): per step, one Bernoulli(p_l) mask per layer on one batch; p_l moves by lr
    times the mean over layer l's weights of d loss / d mask (straight-through), then the projection of project()
    restores the total; whole counts only at the end, so steps smaller than one weight are not rounded away."""
    alloc.check_density(density)
    if steps < 0 or lr <= 0:
        raise ValueError(f"need steps >= 0 and lr > 0, got steps={steps}, lr={lr}")
    net, weights = _frozen_copy(model)
    sizes = {k: w.numel() for k, w in weights.items()}
    dens = _shift(sizes, as_densities(sizes, start), density)
    w0 = next(iter(weights.values()))
    dev = w0.device
    n = torch.tensor(list(sizes.values()), dtype=torch.float64, device=dev)
    g = torch.Generator(device=dev).manual_seed(seed)
    stream = _endless(batches)
    for _ in range(steps):
        x, y = next(stream)
        probs = torch.tensor(list(dens.values()), dtype=w0.dtype, device=dev, requires_grad=True)
        loss = F.cross_entropy(_sampled_forward(net, weights, probs, x.to(dev), g), y.to(dev))
        (grad,) = torch.autograd.grad(loss, probs)
        stepped = probs.detach().double() - lr * grad.double() / n
        dens = _shift(sizes, dict(zip(sizes, stepped.tolist())), density)
    return _exact(sizes, dens, density)


def search_densities(sizes: Mapping[str, int], start: DensityInput, density: float,
                     score: Callable[[Densities], float], radius: float = 0.25) -> Densities:
    """A small search around `start` (004's v4): `start` re-balanced, and each layer's density times 1 - radius
    and 1 + radius (capped at 1) with the other layers re-balanced; returns the candidate of highest score."""
    if not 0.0 < radius < 1.0:
        raise ValueError(f"radius must be in (0, 1) (a relative change of one layer's density), got {radius}")
    start = as_densities(sizes, start)
    best = fill(sizes, start, density)
    best_score = score(best)
    total = density * sum(sizes.values())
    for k, n in sizes.items():
        for factor in (1.0 - radius, 1.0 + radius):
            moved = min(1.0, start[k] * factor)
            others = sum(sizes.values()) - n
            if not 0.0 <= total - moved * n <= others or not any(start[j] > 0 for j in sizes if j != k):
                continue
            cand = fill(sizes, start, density, fixed={k: moved})
            s = score(cand)
            if s > best_score:
                best, best_score = cand, s
    return best


@dataclass
class SRContext:
    """What a smart-ratio variant may use: the model, the target, reference layer densities and data."""

    model: nn.Module
    density: float
    gm_densities: DensityInput | None = None  # Gem-Miner's layer densities at this target (v2, v5: first and last)
    imp_densities: DensityInput | None = None  # IMP's layer densities at this target (v4, v6)
    batches: Iterable[Batch] | None = None  # training batches for the v4 score and the v5/v6 tuning
    steps: int = 100  # SGD steps of the v5/v6 tuning
    lr: float = 0.1  # per-weight step size of the v5/v6 tuning: small moves, as the paper's v5 moved little; much
    # larger steps empty layers until the sampled network's output is uniform (loss ln 10), which eq. 1 rewards
    radius: float = 0.25  # relative size of the v4 search ball
    score_batches: int = 2  # batches of the v4 score (sampled loss, 4 masks each)
    seed: int = 0
    form: str | None = None  # Su et al.'s formula: "resnet" or "vgg"; None: "vgg" when the class name has "vgg"

    def sizes(self) -> dict[str, int]:
        """Weights per prunable layer of the model."""
        return layer_sizes(self.model)

    def need(self, field: str, variant: str) -> DensityInput | Iterable[Batch]:
        """The field's value; a ValueError naming the field when a variant needs it and it is unset."""
        value = getattr(self, field)
        if value is None:
            raise ValueError(f"{variant} needs SRContext.{field}; set it (see SRContext's field comments)")
        return value


SRVariant = Callable[[SRContext], Densities]
SR_VARIANTS: Registry[SRVariant] = Registry("smart-ratio variant")


@SR_VARIANTS.register("sr_v1", "Su et al.'s smart ratio (Linear layers and the classifier at 0.3), the floored "
                                "remainder handed back so the total is met")
def sr_v1(ctx: SRContext) -> Densities:
    sizes = ctx.sizes()
    form = ctx.form or ("vgg" if "vgg" in type(ctx.model).__name__.lower() else "resnet")
    head = linear_names(ctx.model) | {list(sizes)[-1]}  # Rare Gems' classifiers are 1x1 convs; SR keeps 30% there
    counts = alloc.smart_ratio(sizes, head, ctx.density, form)
    return fill(sizes, {k: counts[k] / n for k, n in sizes.items()}, ctx.density)


def _ends(ctx: SRContext, first: float, last: float) -> Densities:
    """sr_v1's densities with the first and last layers fixed, the middle layers re-balanced."""
    sizes = ctx.sizes()
    names = list(sizes)
    return fill(sizes, sr_v1(ctx), ctx.density, fixed={names[0]: first, names[-1]: last})


@SR_VARIANTS.register("sr_v2", "smart ratio in the middle layers, Gem-Miner's densities in the first and last")
def sr_v2(ctx: SRContext) -> Densities:
    gm = as_densities(ctx.sizes(), ctx.need("gm_densities", "sr_v2"))
    names = list(gm)
    return _ends(ctx, gm[names[0]], gm[names[-1]])


@SR_VARIANTS.register("sr_v3", "smart ratio in the middle layers, first and last layers dense")
def sr_v3(ctx: SRContext) -> Densities:
    return _ends(ctx, 1.0, 1.0)


@SR_VARIANTS.register("sr_v4", "best of a small search around IMP's layer densities (score: eq. 1 sampled loss)")
def sr_v4(ctx: SRContext) -> Densities:
    sizes = ctx.sizes()
    imp = as_densities(sizes, ctx.need("imp_densities", "sr_v4"))
    data = list(itertools.islice(ctx.need("batches", "sr_v4"), ctx.score_batches))
    return search_densities(sizes, imp, ctx.density, lambda d: -sampled_loss(ctx.model, data, d, seed=ctx.seed),
                            ctx.radius)


@SR_VARIANTS.register("sr_v5", "sr_v2's densities tuned by SGD on eq. 1 (loss of Bernoulli-sampled subnetworks)")
def sr_v5(ctx: SRContext) -> Densities:
    return tune_densities(ctx.model, ctx.need("batches", "sr_v5"), sr_v2(ctx), ctx.density, ctx.steps, ctx.lr,
                          ctx.seed)


@SR_VARIANTS.register("sr_v6", "sr_v4's densities tuned by SGD on eq. 1 (loss of Bernoulli-sampled subnetworks)")
def sr_v6(ctx: SRContext) -> Densities:
    return tune_densities(ctx.model, ctx.need("batches", "sr_v6"), sr_v4(ctx), ctx.density, ctx.steps, ctx.lr,
                          ctx.seed)
