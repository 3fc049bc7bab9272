"""Sanity checks (Su et al., Gem-Miner): pure transforms of the pruning data, the scores, the mask or the weights.

Data checks change only the data the pruning step sees (pre-training included for partially-trained tickets);
the final training always uses the real training set, as in the seeds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..data import DataBundle
from ..masks import Mask
from ..models import prunable_parameters
from ..registry import Registry
from .scorers import Scores


def random_labels(data: DataBundle, g: torch.Generator) -> DataBundle:
    """Labels drawn uniformly over the classes, independently of the images."""
    y = torch.randint(0, data.num_classes, data.train_y.shape, generator=g).to(data.train_y.device)
    return data.with_train(data.train_x, y)


def random_pixels(data: DataBundle, g: torch.Generator) -> DataBundle:
    """Each image's pixels shuffled by its own independent permutation (channels move with their pixel)."""
    x = data.train_x
    n, c, h, w = x.shape
    perm = torch.argsort(torch.rand(n, h * w, generator=g), dim=1).to(x.device)
    flat = x.reshape(n, c, h * w)
    return data.with_train(torch.gather(flat, 2, perm[:, None, :].expand(n, c, h * w)).reshape(n, c, h, w), data.train_y)


def corrupted_data(data: DataBundle, g: torch.Generator) -> DataBundle:
    """Random labels and random pixels together (Su et al.'s 'corrupted data')."""
    return random_pixels(random_labels(data, g), g)


def half_dataset(data: DataBundle, g: torch.Generator) -> DataBundle:
    """A random half of the training set."""
    idx = torch.randperm(len(data.train_y), generator=g)[: len(data.train_y) // 2].to(data.train_y.device)
    return data.with_train(data.train_x[idx], data.train_y[idx])


def layerwise_rearrange(mask: Mask, g: torch.Generator) -> Mask:
    """Each layer's mask permuted at random: same count per layer, new positions."""
    out = {}
    for k, m in mask.tensors.items():
        perm = torch.randperm(m.numel(), generator=g).to(m.device)
        out[k] = m.flatten()[perm].view(m.shape)
    return Mask(out)


@torch.no_grad()
def shuffle_weights(model: nn.Module, mask: Mask, g: torch.Generator) -> None:
    """Permute the kept weights among the kept positions of each layer (mask unchanged)."""
    for k, p in prunable_parameters(model).items():
        keep = mask.tensors[k].to(p.device).flatten()
        flat = p.view(-1)
        kept = flat[keep]
        flat[keep] = kept[torch.randperm(kept.numel(), generator=g).to(p.device)]


@torch.no_grad()
def weight_reinit(model: nn.Module, mask: Mask, g: torch.Generator) -> None:
    """Fresh Kaiming weights for every prunable layer, same mask (other parameters untouched)."""
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
    fresh = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for k, p in prunable_parameters(model).items():
            t = torch.empty_like(p, device="cpu")
            nn.init.kaiming_normal_(t, nonlinearity="relu")
            fresh[k] = t
    for k, p in prunable_parameters(model).items():
        p.copy_(fresh[k].to(p.device) * mask.tensors[k].to(p.device, p.dtype))


def score_inversion(scores: Scores) -> Scores:
    """Keep the lowest scores instead of the highest."""
    return {k: -v for k, v in scores.items()}


@dataclass(frozen=True)
class SanityCheck:
    """Where a check acts: on the pruning data, the scores, the mask, or the weights training starts from."""

    data: Callable[[DataBundle, torch.Generator], DataBundle] | None = None
    scores: Callable[[Scores], Scores] | None = None
    mask: Callable[[Mask, torch.Generator], Mask] | None = None
    weights: Callable[[nn.Module, Mask, torch.Generator], None] | None = None


SANITY: Registry[SanityCheck] = Registry("sanity check")
for _name, _check, _doc in [
    ("none", SanityCheck(), "no check: the method as published"),
    ("random_labels", SanityCheck(data=random_labels), "prune on uniformly random labels"),
    ("random_pixels", SanityCheck(data=random_pixels), "prune on images whose pixels are shuffled independently"),
    ("corrupted_data", SanityCheck(data=corrupted_data), "prune on random labels and random pixels together"),
    ("half_dataset", SanityCheck(data=half_dataset), "prune (and pre-train) on a random half of the training set"),
    ("layerwise_rearrange", SanityCheck(mask=layerwise_rearrange), "permute each layer's mask: same counts, new positions"),
    ("shuffle_weights", SanityCheck(weights=shuffle_weights), "permute kept weights within each layer, mask fixed"),
    ("weight_reinit", SanityCheck(weights=weight_reinit), "re-initialise the kept weights (Kaiming), mask fixed"),
    ("score_inversion", SanityCheck(scores=score_inversion), "keep the lowest-scoring weights instead of the highest"),
]:
    SANITY.register(_name, _doc)(_check)
