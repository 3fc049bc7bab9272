"""How much of a small network's training step is per-step overhead on this device: ticketkit's masked train()
(eager, and with TICKETKIT_CUDA_GRAPHS=1 on a GPU) against a plain eager PyTorch step and that step captured as
CUDA graphs (torch.compile, mode "reduce-overhead"): Rare Gems' ResNet-20 at batch 128 on CIFAR-shaped images, bf16
autocast, in one process.

Prints ms per iteration and each one's ratio to the plain eager step; on a GPU a large eager / graph ratio means the
step is bound by launching kernels rather than by arithmetic.
"""
from __future__ import annotations

import argparse
import os

import torch
import torch.nn.functional as F

from _common import made_data, timed
from ticketkit.masks import Mask
from ticketkit.models import build_model, prunable_parameters
from ticketkit.train import TrainSpec, default_device, train


def plain_step(model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    """One SGD step with no mask, schedule or bookkeeping."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16):
        loss = F.cross_entropy(model(x).float(), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def per_iteration(step, x: torch.Tensor, y: torch.Tensor, iterations: int, sync) -> float:
    for _ in range(10):
        step(x, y)
    sync()
    return timed(lambda: ([step(x, y) for _ in range(iterations)], sync())) / iterations


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    device = default_device()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    data = made_data(args.batch * args.iterations, 3, 32).to(device)
    x = data.train_x[:args.batch].float().div(255).to(device).contiguous(memory_format=torch.channels_last)
    y = data.train_y[:args.batch].to(device)
    rows = {}
    torch.manual_seed(0)
    net = build_model("resnet20_gem", 3, 10, 32).to(device).to(memory_format=torch.channels_last)  # as train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    rows["plain eager step"] = per_iteration(lambda a, b: plain_step(net, opt, a, b), x, y, args.iterations, sync)
    if device.type == "cuda":
        graphed = torch.compile(net, mode="reduce-overhead")  # forward and backward as CUDA graphs
        rows["CUDA-graph step (compiled)"] = per_iteration(lambda a, b: plain_step(graphed, opt, a, b), x, y,
                                                           args.iterations, sync)
    g = torch.Generator().manual_seed(0)
    mask = Mask({n: torch.rand(p.shape, generator=g) < 0.05 for n, p in prunable_parameters(net).items()})
    spec = TrainSpec(epochs=1, batch_size=args.batch, optimizer="sgd", lr=0.01, augment=False)
    train(net, made_data(args.batch * 5, 3, 32).to(device), spec, mask=mask)  # warm-up
    sync()
    rows["ticketkit train(), masked"] = timed(lambda: (train(net, data, spec, mask=mask), sync())) / args.iterations
    if device.type == "cuda":
        os.environ["TICKETKIT_CUDA_GRAPHS"] = "1"
        train(net, made_data(args.batch * 5, 3, 32).to(device), spec, mask=mask)  # warm-up: compiles
        sync()
        rows["train(), masked, CUDA graphs"] = timed(lambda: (train(net, data, spec, mask=mask), sync())) / \
            args.iterations
    base = rows["plain eager step"]
    print(f"device: {torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU'}; batch {args.batch}")
    for name, s in rows.items():
        print(f"{name:30s} {1000 * s:8.2f} ms/it   x{s / base:5.2f} of the plain eager step")


if __name__ == "__main__":
    main()
