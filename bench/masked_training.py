"""Masked-training overhead on the CPU: ticketkit's masked training loop vs plain dense PyTorch training of the
same model, same data on tensors, same precision, measured in this process. Target: overhead <= 5%."""
from __future__ import annotations

import statistics

import torch
import torch.nn.functional as F

from _common import made_data, timed
from ticketkit.masks import Mask
from ticketkit.models import build_model, prunable_parameters
from ticketkit.train import TrainSpec, autocast_enabled, default_device, train

BATCH, ROUNDS = 128, 9
STEPS = {"lenet300_100": 400, "resnet20": 30}  # about a second per measurement on 2 cores


def plain(model: torch.nn.Module, data, amp: bool, steps: int) -> float:  # type: ignore[no-untyped-def]
    """A textbook loop: normalised float tensors, fused SGD with momentum and weight decay (the optimiser
    ticketkit uses, so the ratio isolates the loop and the mask), no mask."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4, fused=True)
    x = data.normalize(data.train_x)
    x = x.contiguous(memory_format=torch.channels_last) if amp and x.dim() == 4 else x  # as ticketkit.train does
    g = torch.Generator().manual_seed(0)

    def run() -> None:
        order = torch.randperm(len(x), generator=g)
        for i in range(steps):
            idx = order[i * BATCH:(i + 1) * BATCH]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
                out = model(x[idx])
            loss = F.cross_entropy(out.float(), data.train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return steps * BATCH / timed(run)


def ticketkit(model: torch.nn.Module, data, mask: Mask | None, steps: int) -> float:  # type: ignore[no-untyped-def]
    spec = TrainSpec(epochs=1, batch_size=BATCH, lr=0.01, augment=False)
    return steps * BATCH / timed(lambda: train(model, data, spec, mask=mask))


def main() -> None:
    device = default_device()
    amp = autocast_enabled(device)
    print(f"device: {device}, threads: {torch.get_num_threads()}, precision: {'bf16 autocast' if amp else 'fp32'}, "
          f"batch {BATCH}, median of {ROUNDS} interleaved rounds (evaluation excluded)")
    for name, channels, size in [("lenet300_100", 1, 28), ("resnet20", 3, 32)]:
        steps = STEPS[name]
        data = made_data(steps * BATCH, channels, size)
        data = data.__class__(**{**data.__dict__, "test_x": data.test_x[:0], "test_y": data.test_y[:0]})
        torch.manual_seed(0)
        model = build_model(name, channels, 10, size)
        model = model.to(memory_format=torch.channels_last) if amp else model
        g = torch.Generator().manual_seed(1)
        mask = Mask({k: torch.rand(p.shape, generator=g) < 0.1 for k, p in prunable_parameters(model).items()})
        runs: dict[str, list[float]] = {"plain": [], "dense": [], "masked": []}
        for _ in range(ROUNDS):
            runs["plain"].append(plain(model, data, amp, steps))
            runs["dense"].append(ticketkit(model, data, None, steps))
            runs["masked"].append(ticketkit(model, data, mask, steps))
        base, dense, masked = (statistics.median(runs[k]) for k in ("plain", "dense", "masked"))
        print(f"{name:>14} ({steps} steps): plain PyTorch {base:8.0f} img/s | ticketkit dense {dense:8.0f} img/s "
              f"({dense / base:.3f}x) | ticketkit masked (density 0.1) {masked:8.0f} img/s "
              f"({masked / base:.3f}x plain, overhead {100 * (base / masked - 1):+.1f}%)")


if __name__ == "__main__":
    main()
