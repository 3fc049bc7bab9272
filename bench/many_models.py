"""Many tickets at once: K masked networks trained as one model (ticketkit.batched.train_many) vs the same K
runs one after another (ticketkit.train.train), in this process, same data, masks and seeds.

Images per second count every member's images. Target: >= 4x at K = 16 for LeNet-300-100 on a 2-core CPU.
Conv-2 and a BatchNorm net are measured too; where batching does not pay (`batches_well` is False) the grid
trains them one at a time, and the last column says so.
"""
from __future__ import annotations

import argparse
import statistics

import torch

from _common import made_data, timed
from ticketkit.batched import batches_well, train_many
from ticketkit.masks import Mask
from ticketkit.models import build_model, prunable_parameters
from ticketkit.train import TrainSpec, default_device, precision, train

BATCH = 60
NETS = {  # name: (channels, size, optimiser, lr, steps per measurement)
    "lenet300_100": (1, 28, "adam", 1.2e-3, 100),
    "conv2": (3, 32, "adam", 2e-4, 10),
    "resnet20": (3, 32, "sgd", 0.1, 4),
}


def members(name: str, k: int, channels: int, size: int) -> tuple[list[torch.nn.Module], list[Mask]]:
    """k seeded networks with k random masks at density 0.2."""
    models, masks = [], []
    for i in range(k):
        torch.manual_seed(i)
        models.append(build_model(name, channels, 10, size))
        g = torch.Generator().manual_seed(1000 + i)
        masks.append(Mask({n: torch.rand(p.shape, generator=g) < 0.2 for n, p in prunable_parameters(models[-1]).items()}))
    return models, masks


def measure(name: str, k: int, rounds: int) -> tuple[float, float]:
    """(sequential, batched) images per second, medians of interleaved rounds, evaluation excluded."""
    channels, size, opt, lr, steps = NETS[name]
    data = made_data(steps * BATCH, channels, size)
    data = data.__class__(**{**data.__dict__, "test_x": data.test_x[:0], "test_y": data.test_y[:0]})
    spec = TrainSpec(epochs=1, batch_size=BATCH, optimizer=opt, lr=lr, augment=False)
    models, masks = members(name, k, channels, size)
    seq, bat = [], []
    train_many(models[:1], data, spec, masks=masks[:1], data_seeds=[0])  # warm-up: first calls pay allocations
    for _ in range(rounds):
        seq.append(timed(lambda: [train(m, data, spec, mask=mk, data_seed=i)
                                  for i, (m, mk) in enumerate(zip(models, masks))]))
        bat.append(timed(lambda: train_many(models, data, spec, masks=masks, data_seeds=list(range(k)))))
    images = k * steps * BATCH
    return images / statistics.median(seq), images / statistics.median(bat)


def matmul_peak(n: int = 2048, reps: int = 10) -> float:
    """This device's fp32 matrix-product rate (GFLOP/s): the most any batched training step can use."""
    device = default_device()
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(3):
        a @ b
    sync()
    return 2 * n**3 * reps / timed(lambda: ([a @ b for _ in range(reps)], sync())) / 1e9


def ceiling(name: str, sequential: float) -> str:
    """The batched speed-up no implementation can beat: the matmul peak over the sequential runs' FLOP rate
    (training ~ 3 x the forward pass's 2 FLOP per weight per image; fully connected nets only)."""
    channels, size = NETS[name][:2]
    weights = sum(p.numel() for p in prunable_parameters(build_model(name, channels, 10, size)).values())
    rate = sequential * 6 * weights / 1e9
    peak = matmul_peak()
    return (f"{name}: sequential runs reach {rate:.0f} GFLOP/s of a {peak:.0f} GFLOP/s fp32 matmul peak, so no "
            f"batching can exceed {peak / rate:.1f}x here")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--nets", nargs="+", default=list(NETS))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    device = default_device()
    print(f"device: {device}, threads: {torch.get_num_threads()}, precision: {precision(device)}, batch {BATCH} per "
          f"member, median of {args.rounds} interleaved rounds")
    for name in args.nets:
        grid_mode = "batched" if batches_well(build_model(name, NETS[name][0], 10, NETS[name][1])) else \
            "one at a time (batching does not pay for it)"
        for k in args.ks:
            seq, bat = measure(name, k, args.rounds)
            print(f"{name:>13} K={k:>2}: sequential {seq:8.0f} img/s | batched {bat:8.0f} img/s | "
                  f"ratio {bat / seq:5.2f}x | grid trains it {grid_mode}", flush=True)
        if name == "lenet300_100":
            print("  ceiling: " + ceiling(name, seq), flush=True)


if __name__ == "__main__":
    main()
