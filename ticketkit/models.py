"""Model registry: LeNet-300-100, Conv-2/4/6, VGG-11/16/19 and CIFAR ResNets, each built from
(in_channels, num_classes, image_size, width) so one notebook parameter swaps architectures."""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import torch
from torch import nn
import torch.nn.functional as F

from .registry import Registry

ModelFactory = Callable[[int, int, int, float], nn.Module]
MODELS: Registry[ModelFactory] = Registry("model")


def _ch(base: int, width: float) -> int:
    """Channels after a width multiplier (never below 1)."""
    return max(1, int(round(base * width)))


def kaiming_init(model: nn.Module) -> nn.Module:
    """Kaiming-normal conv/linear weights, zero biases, BN at (1, 0): the seeds' initialisation."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


class LeNet(nn.Module):
    """Fully connected LeNet: flattened input, hidden layers with ReLU, linear output."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        sizes = (in_features, *hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Linear(sizes[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)


class ConvNet(nn.Module):
    """Frankle & Carbin's Conv-2/4/6: pairs of 3x3 convs with max-pooling, then FC 256-256-out."""

    def __init__(self, stages: int, in_channels: int, num_classes: int, image_size: int, width: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_channels
        for s in range(stages):
            c_out = _ch(64 * 2**s, width)
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True),
                       nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        side = image_size // 2**stages
        hidden = _ch(256, width)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c_in * side * side, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


VGG_CFGS = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"),
}


class VGG(nn.Module):
    """CIFAR VGG with BatchNorm, global average pooling and one linear head (GraSP/Su style); `cfg` gives the
    channels of a filter-pruned variant as they are (no width multiplier)."""

    def __init__(self, depth: int, in_channels: int, num_classes: int, width: float,
                 cfg: tuple[int | str, ...] | None = None) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_channels
        for v in cfg or VGG_CFGS[depth]:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                c_out = int(v) if cfg else _ch(int(v), width)
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                           nn.ReLU(inplace=True)]
                c_in = c_out
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a shortcut: zero-padded identity ('pad') or 1x1 conv ('conv'); `mid` channels
    between the two convs (fewer in a filter-pruned block)."""

    def __init__(self, c_in: int, c_out: int, stride: int, shortcut: str, mid: int | None = None) -> None:
        super().__init__()
        mid = mid or c_out
        self.conv1 = nn.Conv2d(c_in, mid, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module | None = None
        self.pad = 0
        self.stride = stride
        if stride != 1 or c_in != c_out:
            if shortcut == "conv":
                self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
            else:
                self.pad = c_out - c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut is not None:
            skip = self.shortcut(x)
        elif self.pad or self.stride != 1:
            skip = x[:, :, :: self.stride, :: self.stride]
            skip = F.pad(skip, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        else:
            skip = x
        return F.relu(out + skip)


class ResNet(nn.Module):
    """He et al.'s CIFAR ResNet-(6n+2): stages of 16/32/64 channels times `width`; `mids` sets each block's inner
    channels (a filter-pruned variant)."""

    def __init__(self, depth: int, in_channels: int, num_classes: int, width: float, shortcut: str,
                 mids: tuple[int, ...] | None = None) -> None:
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2, got {depth}")
        n = (depth - 2) // 6
        widths = [_ch(c, width) for c in (16, 32, 64)]
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        blocks: list[nn.Module] = []
        c_in = widths[0]
        for i, c_out in enumerate(widths):
            for j in range(n):
                mid = mids[len(blocks)] if mids else None
                blocks.append(BasicBlock(c_in, c_out, 2 if (i > 0 and j == 0) else 1, shortcut, mid))
                c_in = c_out
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def _register_all() -> None:
    MODELS.register("lenet300_100", "LeNet-300-100: fully connected 300-100 hidden units (Frankle & Carbin)")(
        lambda c, k, s, w: LeNet(c * s * s, (_ch(300, w), _ch(100, w)), k))
    MODELS.register("fc2", "2-layer fully connected net: one hidden layer of 1024 x width units (Neyshabur et al.)")(
        lambda c, k, s, w: LeNet(c * s * s, (_ch(1024, w),), k))
    for stages in (1, 2, 3):
        MODELS.register(f"conv{2 * stages}", f"Conv-{2 * stages}: {2 * stages} 3x3 convs, FC 256-256 (Frankle & Carbin)")(
            lambda c, k, s, w, st=stages: ConvNet(st, c, k, s, w))
    for depth in VGG_CFGS:
        MODELS.register(f"vgg{depth}", f"VGG-{depth} for CIFAR: BatchNorm, global pooling, one linear head")(
            lambda c, k, s, w, d=depth: VGG(d, c, k, w))
    for depth in (20, 32, 50, 56, 110):  # 50: Liu et al.'s CIFAR "ResNet-50", basic blocks (8 per stage)
        MODELS.register(f"resnet{depth}", f"ResNet-{depth} for CIFAR: basic blocks, 16/32/64 channels, zero-padded "
                                          "identity shortcuts")(lambda c, k, s, w, d=depth: ResNet(d, c, k, w, "pad"))
    MODELS.register("resnet32_2x", "Su/GraSP ResNet-32: 2x wide (32/64/128), 1x1-conv projection shortcuts")(
        lambda c, k, s, w: ResNet(32, c, k, 2 * w, "conv"))


_register_all()


def build_model(name: str, in_channels: int = 3, num_classes: int = 10, image_size: int = 32,
                width: float = 1.0) -> nn.Module:
    """Build a registered model with Kaiming initialisation (seed torch before calling)."""
    factory = MODELS.get(name)
    if width <= 0:
        raise ValueError(f"width multiplier must be positive, got {width}")
    model = kaiming_init(factory(in_channels, num_classes, image_size, width))
    model.input_size = image_size  # read by the layer-collapse path check
    return model


def prunable_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    """Conv and linear weights in module order: the only tensors pruning touches (never biases or BN)."""
    out: dict[str, nn.Parameter] = {}
    for mod_name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            out[f"{mod_name}.weight" if mod_name else "weight"] = m.weight
    return out


@lru_cache(maxsize=None)
def hidden_fan_in(name: str, width: float, image_size: int = 32) -> tuple[tuple[str, int], ...]:
    """(layer, incoming weights per output unit) of every prunable layer after the first, in module order. The
    first layer is left out: its fan-in depends on the input channels, which a run's config may leave implicit."""
    layers = prunable_parameters(build_model(name, image_size=image_size, width=width))
    return tuple((n, int(p[0].numel())) for n, p in list(layers.items())[1:])


@lru_cache(maxsize=None)
def layer_names(name: str, width: float = 1.0) -> tuple[str, ...]:
    """A registered model's prunable layers in module order (the first is the input layer, the last the
    classifier); records store their per-layer dicts sorted by name, so read those in this order."""
    return tuple(prunable_parameters(build_model(name, width=width)))


def linear_names(model: nn.Module) -> set[str]:
    """Names of prunable weights that belong to nn.Linear layers."""
    return {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, nn.Linear)}


from . import gem_models  # noqa: E402,F401  (registers the Rare Gems networks; imported last: it uses this module)
