"""What "pruning at initialisation is cheap" means: SNIP, GraSP and SynFlow scoring time on the CPU for VGG19
and ResNet32-2x (full width), as a multiple of one training step (batch 128) of the same model, in this process."""
from __future__ import annotations

import sys

import torch
import torch.nn.functional as F

from _common import made_data, timed
from ticketkit.data import balanced_batch
from ticketkit.models import build_model
from ticketkit.pruning import scorers
from ticketkit.pruning.methods import METHODS, PruneContext
from ticketkit.train import TrainSpec, default_device


def step_time(model: torch.nn.Module, data) -> float:  # type: ignore[no-untyped-def]
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = data.normalize(data.train_x[:128]), data.train_y[:128]

    def one() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    one()
    return min(timed(one) for _ in range(3))


def main(synflow_iterations: int = 100) -> None:
    default_device()
    print(f"threads: {torch.get_num_threads()}, fp32; SNIP/GraSP on 10 images per class; SynFlow with "
          f"{synflow_iterations} iterations (float64)")
    data = made_data(1000)
    for name in ("vgg19", "resnet32_2x"):
        torch.manual_seed(0)
        model = build_model(name)
        step = step_time(build_model(name), data)
        x, y = balanced_batch(data, 10, 0)
        costs = {"snip": timed(lambda: scorers.snip(model, x, y)),
                 "grasp": timed(lambda: scorers.grasp(model, x, y))}
        ctx = PruneContext(model, data, 0.02, TrainSpec(), 0, 0, {"synflow_iterations": synflow_iterations})
        costs["synflow"] = timed(lambda: METHODS.get("synflow")(ctx))
        parts = " | ".join(f"{k} {v:6.2f}s = {v / step:6.1f} steps" for k, v in costs.items())
        print(f"{name:>12}: one training step {step:.2f}s | {parts}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
