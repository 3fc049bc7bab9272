"""Shared helpers for the benchmarks: made CIFAR-shaped data and a timer."""
from __future__ import annotations

import time
from typing import Callable

import torch

from ticketkit.data import DataBundle


def made_data(n: int, channels: int = 3, size: int = 32, classes: int = 10, seed: int = 0) -> DataBundle:
    """Random uint8 images in a DataBundle (the pipeline's cost does not depend on the pixel values)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, channels, size, size), generator=g, dtype=torch.uint8)
    y = torch.randint(0, classes, (n,), generator=g)
    stats = tuple([0.5] * channels), tuple([0.25] * channels)
    return DataBundle("made", x, y, x[:0], y[:0], x[:64], y[:64], classes, *stats, "made in memory")


def timed(fn: Callable[[], None]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
