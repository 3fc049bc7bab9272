"""The Rare Gems networks (Sreenivasan et al. 2022, appendix A.2): ResNet-20, MobileNet-V2, VGG-16 and
WideResNet-28-2 with non-affine BatchNorm, no biases anywhere, and a 1x1-conv classifier after global average
pooling, so every prunable tensor is a conv weight. Score-based searches start from signed constants
(`signed_constant_init`); IMP and random pruning keep build_model's Kaiming-normal weights."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .models import MODELS, VGG_CFGS, _ch, prunable_parameters


class NonAffineBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d(affine=False): nothing learned. The unit scale and zero shift are kept as constant buffers, not
    left as None, so code written for affine BN (models.kaiming_init, the mask's layer-collapse check) still runs."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, affine=False)
        del self.weight, self.bias
        self.register_buffer("weight", torch.ones(channels))
        self.register_buffer("bias", torch.zeros(channels))


def _conv(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """A bias-free conv with 'same' padding for odd kernels."""
    return nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False)


class ConvHead(nn.Module):
    """Global average pooling, then a bias-free 1x1 conv as the classifier (prunable like every other conv)."""

    def __init__(self, c_in: int, num_classes: int) -> None:
        super().__init__()
        self.fc = _conv(c_in, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.adaptive_avg_pool2d(x, 1)).flatten(1)


class GemBlock(nn.Module):
    """ResNet basic block with option-A shortcut: a strided identity zero-padded to the new channel count."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv(c_in, c_out, 3, stride), NonAffineBatchNorm2d(c_out)
        self.conv2, self.bn2 = _conv(c_out, c_out, 3), NonAffineBatchNorm2d(c_out)
        self.stride, self.pad = stride, c_out - c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        skip = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.pad:
            skip = F.pad(skip, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(out + skip)


class GemResNet20(nn.Module):
    """Their CIFAR ResNet-20: 3 stages of 3 blocks, 16/32/64 channels times `width`."""

    def __init__(self, in_channels: int, num_classes: int, width: float) -> None:
        super().__init__()
        widths = [_ch(c, width) for c in (16, 32, 64)]
        self.conv1, self.bn1 = _conv(in_channels, widths[0], 3), NonAffineBatchNorm2d(widths[0])
        blocks, c_in = [], widths[0]
        for i, c_out in enumerate(widths):
            for j in range(3):
                blocks.append(GemBlock(c_in, c_out, 2 if i > 0 and j == 0 else 1))
                c_in = c_out
        self.layers = nn.Sequential(*blocks)
        self.head = ConvHead(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(F.relu(self.bn1(self.conv1(x)))))


class InvertedResidual(nn.Module):
    """MobileNet-V2 block: 1x1 expand, 3x3 depthwise, 1x1 project; residual at stride 1 (1x1 conv if widths differ)."""

    def __init__(self, c_in: int, c_out: int, expansion: int, stride: int) -> None:
        super().__init__()
        mid = c_in * expansion
        self.body = nn.Sequential(
            _conv(c_in, mid, 1), NonAffineBatchNorm2d(mid), nn.ReLU(inplace=True),
            _conv(mid, mid, 3, stride, groups=mid), NonAffineBatchNorm2d(mid), nn.ReLU(inplace=True),
            _conv(mid, c_out, 1), NonAffineBatchNorm2d(c_out))
        self.residual = stride == 1
        self.shortcut = (nn.Sequential(_conv(c_in, c_out, 1), NonAffineBatchNorm2d(c_out))
                         if self.residual and c_in != c_out else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out + self.shortcut(x) if self.residual else out


# (expansion, output channels, blocks, first stride): the CIFAR MobileNet-V2 of the paper's Table 7
MOBILENETV2_CFG = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                   (6, 320, 1, 1))


class MobileNetV2(nn.Module):
    """CIFAR MobileNet-V2: 3x3 stem of 32 at stride 1, 17 inverted-residual blocks, 1x1 conv to 1280, conv head."""

    def __init__(self, in_channels: int, num_classes: int, width: float) -> None:
        super().__init__()
        c_in = _ch(32, width)
        layers: list[nn.Module] = [_conv(in_channels, c_in, 3), NonAffineBatchNorm2d(c_in), nn.ReLU(inplace=True)]
        for expansion, c, n, stride in MOBILENETV2_CFG:
            for i in range(n):
                layers.append(InvertedResidual(c_in, _ch(c, width), expansion, stride if i == 0 else 1))
                c_in = _ch(c, width)
        last = _ch(1280, width)
        layers += [_conv(c_in, last, 1), NonAffineBatchNorm2d(last), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.head = ConvHead(last, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class GemVGG16(nn.Module):
    """The paper's 14-layer VGG-16 (Table 6): 13 conv-BN-ReLU layers with 5 max-pools, then the 1x1-conv head."""

    def __init__(self, in_channels: int, num_classes: int, width: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_channels
        for v in VGG_CFGS[16]:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                c_out = _ch(int(v), width)
                layers += [_conv(c_in, c_out, 3), NonAffineBatchNorm2d(c_out), nn.ReLU(inplace=True)]
                c_in = c_out
        self.features = nn.Sequential(*layers)
        self.head = ConvHead(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class WideBlock(nn.Module):
    """Pre-activation wide-ResNet block; a 1x1-conv shortcut from the activated input where the width changes."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.bn1, self.conv1 = NonAffineBatchNorm2d(c_in), _conv(c_in, c_out, 3, stride)
        self.bn2, self.conv2 = NonAffineBatchNorm2d(c_out), _conv(c_out, c_out, 3)
        self.shortcut = _conv(c_in, c_out, 1, stride) if c_in != c_out or stride != 1 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(act))))
        return out + (self.shortcut(act) if self.shortcut is not None else x)


class WideResNet(nn.Module):
    """WRN-depth-k for CIFAR: a 3x3 stem of 16, three groups of (depth-4)/6 blocks at 16k/32k/64k channels."""

    def __init__(self, depth: int, k: int, in_channels: int, num_classes: int, width: float) -> None:
        super().__init__()
        n = (depth - 4) // 6
        c_in = _ch(16, width)
        layers: list[nn.Module] = [_conv(in_channels, c_in, 3)]
        for i, base in enumerate((16, 32, 64)):
            c_out = _ch(base * k, width)
            for j in range(n):
                layers.append(WideBlock(c_in, c_out, 2 if i > 0 and j == 0 else 1))
                c_in = c_out
        layers += [NonAffineBatchNorm2d(c_in), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.head = ConvHead(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@torch.no_grad()
def signed_constant_init(model: nn.Module) -> nn.Module:
    """Every prunable weight to sign(w) x sqrt(2 / fan_in) (Ramanujan et al.'s signed constant, the Kaiming-normal
    std), in place: the frozen weights Gem-Miner and Edge-Popup search over."""
    for p in prunable_parameters(model).values():
        p.copy_(torch.sign(p) * math.sqrt(2.0 / p[0].numel()))
    return model


def _register() -> None:
    """Add the Rare Gems networks to the model registry (factories take channels, classes, size, width)."""
    MODELS.register("resnet20_gem", "Rare Gems ResNet-20: 16/32/64, zero-padded shortcuts, non-affine BN, no biases, "
                                    "1x1-conv classifier")(lambda c, k, s, w: GemResNet20(c, k, w))
    MODELS.register("mobilenetv2", "Rare Gems CIFAR MobileNet-V2: non-affine BN, no biases, 1x1-conv classifier")(
        lambda c, k, s, w: MobileNetV2(c, k, w))
    MODELS.register("vgg16_gem", "Rare Gems VGG-16: 13 convs, non-affine BN, no biases, 1x1-conv classifier")(
        lambda c, k, s, w: GemVGG16(c, k, w))
    MODELS.register("wrn28_2", "Rare Gems WideResNet-28-2: pre-activation, non-affine BN, no biases, 1x1-conv "
                               "classifier")(lambda c, k, s, w: WideResNet(28, 2, c, k, w))


_register()
