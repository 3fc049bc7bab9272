"""Paper-scale cost per model family: time a slice of one training at the paper's settings on this device and
scale it to the full run (images of the paper's shape; the cost does not depend on the pixel values).

Prints, per family: iterations timed, seconds per 1,000 iterations, and the hours one full training takes here
(alone, and for fully connected nets also per member when K trials train as one batched model); for Rare Gems'
ResNet-20 also Gem-Miner's score search, so search + fine-tune gives one gem's cost at the paper's setting.
`--save FILE` also writes the rows as a timing record (results/timings/ is where the book's pages read them).
"""
from __future__ import annotations

import argparse
import fnmatch
from pathlib import Path

import torch

from _common import made_data, timed
from ticketkit.batched import train_many
from ticketkit.experiments.gems import table_setting
from ticketkit.gem_models import signed_constant_init
from ticketkit.masks import Mask
from ticketkit.models import build_model
from ticketkit.runs import GIT_COMMIT
from ticketkit.scoremask import SearchConfig, search
from ticketkit.timings import GEM_FINETUNE, GEM_SEARCH, save
from ticketkit.train import TrainSpec, default_device, precision, train

# name: (model, channels, size, optimiser, lr, batch, full-run iterations, source of the setting)
FAMILIES = {
    "LeNet-300-100 IMP level": ("lenet300_100", 1, 28, "adam", 1.2e-3, 60, 50_000, "Frankle & Carbin"),
    "Conv-2 IMP level": ("conv2", 3, 32, "adam", 2e-4, 60, 20_000, "Frankle & Carbin"),
    "Conv-6 IMP level": ("conv6", 3, 32, "adam", 3e-4, 60, 30_000, "Frankle & Carbin"),
    "VGG-19 rewinding level": ("vgg19", 3, 32, "sgd", 0.1, 64, 112_000, "Frankle & Carbin, 112K"),
    "VGG-16 (Liu lr study)": ("vgg16", 3, 32, "sgd", 0.1, 64, 160 * 782, "Liu et al., 160 epochs"),
    "ResNet-50 basic (Liu)": ("resnet50", 3, 32, "sgd", 0.1, 64, 160 * 782, "Liu et al., 160 epochs"),
    "ResNet-56 (Li et al.)": ("resnet56", 3, 32, "sgd", 0.1, 128, 160 * 391, "Li et al., 160 epochs"),
    GEM_FINETUNE: ("resnet20_gem", 3, 32, "sgd", 0.1, 128, 150 * 391, "Rare Gems, 150 epochs"),
}
GEM_DENSITY = 0.0144  # Table 8's ResNet-20 setting timed for the search (150 epochs, freezing every 5)


def seconds_per_iteration(model: str, channels: int, size: int, opt: str, lr: float, batch: int,
                          iterations: int, k: int = 1) -> float:
    """Wall seconds per iteration of one member (k members trained together share the time)."""
    device = default_device()
    data = made_data(batch * iterations, channels, size).to(device)
    spec = TrainSpec(epochs=1, batch_size=batch, optimizer=opt, lr=lr, augment=False)
    nets = []
    for i in range(k):
        torch.manual_seed(i)
        nets.append(build_model(model, channels, 10, size).to(device))
    masks = [Mask.ones_like(n) for n in nets]
    warm = made_data(batch * 5, channels, size).to(device)
    run = (lambda d: train_many(nets, d, spec, masks=masks, data_seeds=list(range(k)))) if k > 1 else \
        (lambda d: train(nets[0], d, spec, mask=masks[0]))
    run(warm)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return timed(lambda: (run(data), torch.cuda.synchronize() if device.type == "cuda" else None)) / iterations / k


def search_seconds_per_iteration(model: str, channels: int, size: int, batch: int, iterations: int) -> float:
    """Wall seconds per iteration of Gem-Miner's score search over the model's signed-constant weights (two epochs
    of half the iterations each, so one freezing event falls inside the timing)."""
    device = default_device()
    data = made_data(batch * (iterations // 2), channels, size).to(device)
    lam = table_setting(GEM_DENSITY).lam  # period 1 of 2 epochs: one freezing event inside the timing
    cfg = SearchConfig(density=GEM_DENSITY, lam=lam, period=1, epochs=2, batch_size=batch, augment=False)
    torch.manual_seed(0)
    net = signed_constant_init(build_model(model, channels, 10, size)).to(device)
    search(net, made_data(batch * 2, channels, size).to(device), cfg)  # warm-up
    torch.manual_seed(0)
    net = signed_constant_init(build_model(model, channels, 10, size)).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    return timed(lambda: (search(net, data, cfg), sync())) / (2 * (iterations // 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iterations", type=int, default=300, help="iterations timed per family")
    ap.add_argument("--k", type=int, default=8, help="members trained together for the fully connected net")
    ap.add_argument("--families", default="*", help="only families whose names match this pattern ('ResNet-20*')")
    ap.add_argument("--save", type=Path, help="also write the rows here as a timing record (a .json file)")
    args = ap.parse_args()
    device = default_device()
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name}, {precision(device)}; {args.iterations} iterations timed per family")
    print(f"{'family':28s} {'setting':26s} {'s/1k it':>8s} {'full run h':>10s}")
    rows = []

    def show(family: str, setting: str, per: float, full: int) -> None:
        print(f"{family:28s} {setting:26s} {1000 * per:8.2f} {full * per / 3600:10.3f}")
        rows.append({"family": family, "setting": setting, "ms_per_iteration": 1000 * per,
                     "full_iterations": full})

    for family, (model, c, s, opt, lr, batch, full, source) in FAMILIES.items():
        if not fnmatch.fnmatch(family, args.families):
            continue
        per = seconds_per_iteration(model, c, s, opt, lr, batch, args.iterations)
        show(family, source, per, full)
        if model == "lenet300_100":
            per_k = seconds_per_iteration(model, c, s, opt, lr, batch, args.iterations, args.k)
            show(f"{family}, per member of {args.k}", "batched", per_k, full)
        if model == "resnet20_gem":
            per_s = search_seconds_per_iteration(model, c, s, batch, args.iterations)
            show(GEM_SEARCH, "Table 8, 1.44%, 150 epochs", per_s, full)
            print(f"{'  one gem: search + fine-tune':28s} {'':26s} {'':8s} {full * (per + per_s) / 3600:10.3f}")
    if args.save and rows:
        print("saved", save(args.save, name, precision(device), args.iterations, rows, GIT_COMMIT))


if __name__ == "__main__":
    main()
