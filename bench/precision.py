"""Training speed at the cpu profile's shapes (grey 32x32 input, batch 64, VGG19 x0.25 and ResNet32-2x x0.5):
bf16 autocast with channels_last (ticketkit's default where the CPU has native bf16) against fp32, same process."""
from __future__ import annotations

import os
import sys

import torch

from _common import made_data, timed
from ticketkit.models import build_model
from ticketkit.profiles import get_profile
from ticketkit.train import TrainSpec, default_device, precision, train


def images_per_s(model_name: str, width: float, steps: int, mode: str) -> float:
    os.environ["TICKETKIT_PRECISION"] = mode
    data = made_data(steps * 64, channels=1)
    spec = TrainSpec(epochs=1, batch_size=64, lr=0.01, augment=False)
    torch.manual_seed(0)
    model = build_model(model_name, in_channels=1, width=width)
    train(model, made_data(2 * 64, channels=1), spec)  # warm-up: oneDNN picks its kernels
    return steps * 64 / timed(lambda: train(model, data, spec))


def main(steps: int = 30) -> None:
    device = default_device()
    P = get_profile("cpu")
    print(f"device: {device}, threads: {torch.get_num_threads()}, auto precision here: {precision(device)}; "
          f"batch 64, {steps} steps, 1x32x32")
    for name in ("vgg19", "resnet32_2x"):
        fp32 = images_per_s(name, P.width(name), steps, "fp32")
        auto = images_per_s(name, P.width(name), steps, "auto")
        print(f"{name:>12} x{P.width(name):g}: auto {auto:7.1f} img/s | fp32 {fp32:7.1f} img/s | "
              f"ratio {auto / fp32:.2f}x")
    os.environ.pop("TICKETKIT_PRECISION")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
