"""Two trainings side by side on one CPU (as `book --jobs 2` runs two notebook kernels): images per second of
each, with every core per process (what train.default_device used to set) against cores // 2 threads each
($TICKETKIT_THREADS, what book.execute now gives each kernel), as ratios to one training alone on every core.
Smoke-profile shapes (VGG-16 x0.125, 3x32x32, batch 64), where parallel ops are short and barriers frequent."""
from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import torch

from _common import made_data, timed
from ticketkit.models import build_model
from ticketkit.train import TrainSpec, default_device, train


def images_per_s(threads: int, steps: int) -> float:
    """One training in a fresh process on `threads` threads (the env var is read by default_device)."""
    os.environ["TICKETKIT_THREADS"] = str(threads)
    default_device()
    spec = TrainSpec(epochs=1, batch_size=64, lr=0.01, augment=False)
    torch.manual_seed(0)
    model = build_model("vgg16", in_channels=3, width=0.125)
    train(model, made_data(2 * 64), spec)  # warm-up: oneDNN picks its kernels
    data = made_data(steps * 64)
    return steps * 64 / timed(lambda: train(model, data, spec))


def side_by_side(processes: int, threads: int, steps: int) -> list[float]:
    """Images per second of each of `processes` trainings started together."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
        return list(pool.map(images_per_s, [threads] * processes, [steps] * processes))


def main(steps: int = 40) -> None:
    cores = os.cpu_count() or 1
    alone = side_by_side(1, cores, steps)[0]
    print(f"{cores} cores; one training alone on {cores} threads: {alone:.0f} img/s (the baseline)")
    for threads in sorted({cores, max(1, cores // 2)}, reverse=True):
        each = side_by_side(2, threads, steps)
        print(f"two at once, {threads} thread(s) each: " + ", ".join(f"{v / alone:.2f}x" for v in each)
              + f" each; together {sum(each) / alone:.2f}x the lone training's throughput")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
