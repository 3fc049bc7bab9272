"""Structured pruning after Li et al. (2016), as Liu et al.'s code runs it: keep the filters with the largest L1
norm and build the physically smaller network, its kept weights copied for fine-tuning; count its FLOPs; and the
training budgets of the small network trained from scratch (Scratch-E: the same epochs; Scratch-B: the same
computation, epochs x FLOPs full / FLOPs pruned)."""
from __future__ import annotations

import copy

import torch
from torch import nn

from .models import VGG, ResNet, _ch

VGG16_A = (32, 64, "M", 128, 128, "M", 256, 256, 256, "M", 256, 256, 256, "M", 256, 256, 256)  # Li et al.
# (depth, variant) -> (conv layer ids never pruned, fraction of filters pruned per stage); layer ids count convs
# from 1 (the stem), so a block's first conv has an even id (Liu et al.'s res56prune.py / res110prune.py)
RESNET_PLANS = {
    (56, "A"): ((16, 20, 38, 54), (0.1, 0.1, 0.1)),
    (56, "B"): ((16, 18, 20, 34, 38, 54), (0.6, 0.3, 0.1)),
    (110, "A"): ((36,), (0.5, 0.0, 0.0)),
    (110, "B"): ((36, 38, 74), (0.5, 0.4, 0.3)),
}
PLANS = ("vgg16_a", "resnet56_a", "resnet56_b", "resnet110_a", "resnet110_b")


def largest_l1(weight: torch.Tensor, keep: int) -> torch.Tensor:
    """Indices (ascending) of the `keep` filters (output channels) with the largest L1 norm."""
    norms = weight.detach().abs().flatten(1).sum(1)
    return torch.sort(torch.argsort(norms, descending=True, stable=True)[:keep]).values


def vgg_channels(width: float = 1.0) -> list[int]:
    """VGG-16-pruned-A's conv channels, input to output, at a width multiplier (the published ones at width 1)."""
    return [_ch(int(v), width) for v in VGG16_A if v != "M"]


def resnet_mids(model: ResNet, depth: int, variant: str) -> tuple[int, ...]:
    """Inner channels of every block after pruning: int(channels x (1 - stage fraction)), skipped blocks whole."""
    skip, fractions = RESNET_PLANS[(depth, variant)]
    blocks = list(model.layers)
    per_stage = len(blocks) // 3
    return tuple(b.conv1.out_channels if 2 + 2 * i in skip else int(b.conv1.out_channels * (1 - fractions[i // per_stage]))
                 for i, b in enumerate(blocks))


def _copy_bn(dst: nn.BatchNorm2d, src: nn.BatchNorm2d, idx: torch.Tensor) -> None:
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(dst, name).data.copy_(getattr(src, name).data[idx])
    dst.num_batches_tracked.data.copy_(src.num_batches_tracked.data)


@torch.no_grad()
def prune_vgg(model: VGG, channels: list[int]) -> VGG:
    """`model`'s VGG with `channels` in its convs (its pooling kept), each keeping the largest-L1 filters of
    `model`'s (weights copied)."""
    widths = iter(channels)
    cfg = tuple("M" if isinstance(m, nn.MaxPool2d) else next(widths) for m in model.features
                if isinstance(m, (nn.MaxPool2d, nn.Conv2d)))
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.features if isinstance(m, nn.BatchNorm2d)]
    small = VGG(0, convs[0].in_channels, model.classifier.out_features, 1.0, cfg)
    small_convs = [m for m in small.features if isinstance(m, nn.Conv2d)]
    small_bns = [m for m in small.features if isinstance(m, nn.BatchNorm2d)]
    prev = torch.arange(convs[0].in_channels)
    for conv, bn, s_conv, s_bn in zip(convs, bns, small_convs, small_bns):
        kept = largest_l1(conv.weight, s_conv.out_channels)
        s_conv.weight.copy_(conv.weight[kept][:, prev])
        _copy_bn(s_bn, bn, kept)
        prev = kept
    small.classifier.weight.copy_(model.classifier.weight[:, prev])
    small.classifier.bias.copy_(model.classifier.bias)
    return small


@torch.no_grad()
def prune_resnet(model: ResNet, mids: tuple[int, ...]) -> ResNet:
    """The ResNet with each block's first conv cut to `mids` largest-L1 filters (weights copied, the second conv's
    matching input channels kept); block outputs, the stem and the head are unchanged."""
    small = copy.deepcopy(model)
    for block, s_block, mid in zip(model.layers, small.layers, mids):
        kept = largest_l1(block.conv1.weight, mid)
        s_block.conv1 = nn.Conv2d(block.conv1.in_channels, mid, 3, block.conv1.stride, 1, bias=False)
        s_block.conv1.weight.copy_(block.conv1.weight[kept])
        s_block.bn1 = nn.BatchNorm2d(mid)
        _copy_bn(s_block.bn1, block.bn1, kept)
        s_block.conv2 = nn.Conv2d(mid, block.conv2.out_channels, 3, 1, 1, bias=False)
        s_block.conv2.weight.copy_(block.conv2.weight[:, kept])
    return small


def filter_prune(model: nn.Module, plan: str, width: float = 1.0) -> nn.Module:
    """The physically smaller network of `plan` (vgg16_a, resnet56_a/b, resnet110_a/b), kept weights copied."""
    if plan == "vgg16_a" and isinstance(model, VGG):
        return prune_vgg(model, vgg_channels(width))
    if plan in PLANS and isinstance(model, ResNet):
        depth, variant = int(plan[6:-2]), plan[-1].upper()
        if len(model.layers) != 3 * (depth - 2) // 6:
            raise ValueError(f"plan {plan!r} needs a ResNet-{depth}, got one with {len(model.layers)} blocks")
        return prune_resnet(model, resnet_mids(model, depth, variant))
    raise ValueError(f"no filter-pruning plan {plan!r} for a {type(model).__name__}; plans: {', '.join(PLANS)}")


def flops(model: nn.Module, in_channels: int = 3, image_size: int = 32) -> int:
    """Multiply-accumulates of one image's forward pass through the conv and linear layers (Li et al.'s count)."""
    total = 0

    def hook(m: nn.Module, _inp: tuple, out: torch.Tensor) -> None:  # type: ignore[type-arg]
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += out[0].numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        else:
            total += m.in_features * m.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, in_channels, image_size, image_size, device=next(model.parameters()).device))
    model.train(was)
    for h in handles:
        h.remove()
    return total


def scratch_b_epochs(epochs: int, full_flops: int, pruned_flops: int) -> int:
    """Scratch-B's budget: the unpruned network's computation spent on the small one (Liu et al.)."""
    return int(round(epochs * full_flops / pruned_flops))
