"""Training throughput in images/s, data pipeline included, at batch 64 on 32x32 RGB input: ticketkit (data as
tensors, batched augmentation) vs a seeds-style loop (torchvision DataLoader with per-image PIL transforms:
random crop 4, flip, ToTensor, Normalize; fp32), same model, measured in this process."""
from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

from _common import made_data, timed
from ticketkit.models import build_model
from ticketkit.train import TrainSpec, default_device, precision, train

BATCH = 64


class Images(torch.utils.data.Dataset):
    """CIFAR-like dataset of HWC uint8 arrays decoded to PIL per item, as torchvision's CIFAR10 does."""

    def __init__(self, x: np.ndarray, y: np.ndarray, transform) -> None:  # type: ignore[no-untyped-def]
        self.x, self.y, self.t = x, y, transform

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):  # type: ignore[no-untyped-def]
        return self.t(Image.fromarray(self.x[i])), int(self.y[i])


def seeds_style(model: torch.nn.Module, data, steps: int) -> float:  # type: ignore[no-untyped-def]
    tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])
    ds = Images(data.train_x.permute(0, 2, 3, 1).numpy(), data.train_y.numpy(), tf)
    loader = torch.utils.data.DataLoader(ds, batch_size=BATCH, shuffle=True, num_workers=2, drop_last=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def run() -> None:
        for i, (x, y) in enumerate(loader):
            if i == steps:
                break
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

    return steps * BATCH / timed(run)


def ticketkit(model: torch.nn.Module, data, steps: int) -> float:  # type: ignore[no-untyped-def]
    spec = TrainSpec(epochs=1, batch_size=BATCH, lr=0.01, augment=True)
    return steps * BATCH / timed(lambda: train(model, data, spec))


def main(steps: int = 12) -> None:
    device = default_device()
    print(f"device: {device}, threads: {torch.get_num_threads()}, ticketkit precision: {precision(device)}; "
          f"batch {BATCH}, {steps} steps, 32x32x3, augmentation on")
    for name in ("vgg19", "resnet32_2x"):
        data = made_data(steps * BATCH)
        data = data.__class__(**{**data.__dict__, "test_x": data.test_x[:0], "test_y": data.test_y[:0]})
        torch.manual_seed(0)
        model = build_model(name)
        ticketkit(model, data, 2)  # warm-up
        ours = ticketkit(model, data, steps)
        torch.manual_seed(0)
        theirs = seeds_style(build_model(name), data, steps)
        print(f"{name:>12}: ticketkit {ours:7.1f} img/s | seeds-style loop {theirs:7.1f} img/s | ratio {ours / theirs:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
