"""Evaluation speed against the batch size, same process: images per second of ticketkit's evaluate() at the
cpu profile's shapes (grey 32x32 input) for batches of 64 to 1000, as a ratio to batch 1000 (what evaluate used
before train.EVAL_BATCH)."""
from __future__ import annotations

import time

import torch

from _common import made_data
from ticketkit.models import build_model
from ticketkit.train import EVAL_BATCH, autocast_enabled, default_device, evaluate, precision


def images_per_s(model: torch.nn.Module, data, batch: int, n: int = 4000) -> float:  # type: ignore[no-untyped-def]
    evaluate(model, data, data.train_x[:batch], data.train_y[:batch], batch)  # warm-up: oneDNN picks its kernels
    best = float("inf")
    for _ in range(3):  # best of three: the machine's other work only ever slows a pass down
        t0 = time.perf_counter()
        evaluate(model, data, data.train_x[:n], data.train_y[:n], batch)
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> None:
    device = default_device()
    print(f"device: {device}, threads: {torch.get_num_threads()}, precision: {precision(device)}")
    data = made_data(4000, channels=1)
    for name, width in (("lenet300_100", 1.0), ("conv2", 0.25), ("conv6", 0.25), ("vgg16", 0.25),
                        ("resnet20_gem", 0.5)):
        torch.manual_seed(0)
        model = build_model(name, in_channels=1, width=width).to(device)
        if autocast_enabled(device) and name != "lenet300_100":
            model.to(memory_format=torch.channels_last)
        base = images_per_s(model, data, 1000)
        ratios = " ".join(f"{b}: {images_per_s(model, data, b) / base:.2f}x" for b in (500, 256, 128, 64))
        print(f"{name:<14} batch 1000: {base:8.0f} img/s; {ratios}")
    print(f"evaluate() uses batches of {EVAL_BATCH}")


if __name__ == "__main__":
    main()
