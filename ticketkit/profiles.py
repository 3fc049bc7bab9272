"""Named scales (smoke, cpu, paper): the defaults a notebook starts from and may override field by field."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from .runs import RunConfig
from .train import TrainSpec


@dataclass(frozen=True)
class Profile:
    """Scale of an experiment. `widths`, `lrs`, `image_sizes` (per model) and `batch_sizes` (per method) override
    the profile-wide values."""

    name: str
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    widths: tuple[tuple[str, float], ...] = ()
    seeds: tuple[int, ...] = (0, 1, 2)
    sparsities: tuple[float, ...] = (0.9, 0.95, 0.98)
    epochs: int = 160
    batch_size: int = 128
    batch_sizes: tuple[tuple[str, int], ...] = ()
    lr: float = 0.1
    lrs: tuple[tuple[str, float], ...] = ()
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: tuple[float, ...] = (0.5, 0.75)
    augment: bool = True
    rewind_epoch: int = 40
    image_size: int = 32
    image_sizes: tuple[tuple[str, int], ...] = ()
    train_subset: int | None = None
    test_subset: int | None = None
    synflow_iterations: int = 100
    note: str = ""

    def width(self, model: str) -> float:
        return dict(self.widths).get(model, 1.0)

    def spec(self, method: str = "dense", model: str = "") -> TrainSpec:
        return TrainSpec(epochs=self.epochs, batch_size=dict(self.batch_sizes).get(method, self.batch_size),
                         lr=dict(self.lrs).get(model, self.lr), momentum=self.momentum, weight_decay=self.weight_decay,
                         milestones=tuple(self.milestones), augment=self.augment)

    def run(self, dataset: str, model: str, method: str = "dense", sparsity: float = 0.0, seed: int = 0,
            sanity: str = "none", **options: Any) -> RunConfig:
        """The RunConfig for one cell of a grid at this scale (sparsity 0 = dense)."""
        if method in ("lottery", "lr_rewinding", "hybrid"):
            options.setdefault("rewind_epoch", self.rewind_epoch)
        if method == "synflow":
            options.setdefault("synflow_iterations", self.synflow_iterations)
        return RunConfig(dataset=dataset, model=model, method=method, density=round(1.0 - sparsity, 10),
                         sanity=sanity, seed=seed, width=self.width(model),
                         image_size=dict(self.image_sizes).get(model, self.image_size),
                         train_subset=self.train_subset, test_subset=self.test_subset, train=self.spec(method, model),
                         options=tuple(options.items()))

    def scale(self) -> str:
        """One line stating the exact scale, printed beside every comparison with a published number."""
        widths = ", ".join(f"{m} x{self.width(m):g} (lr {dict(self.lrs).get(m, self.lr):g})" for m in self.models)
        data = f"{self.train_subset} training images" if self.train_subset else "full training set"
        test = f"{self.test_subset} test images" if self.test_subset else "full test set"
        return (f"profile `{self.name}`: {'/'.join(self.datasets)}, {widths}; {data}, {test}; {self.epochs} epochs, "
                f"batch {self.batch_size}, SGD (lr /10 at {'/'.join(f'{m:g}' for m in self.milestones)} of "
                f"training), momentum {self.momentum}, wd {self.weight_decay:g}, augmentation {'on' if self.augment else 'off'}; rewind epoch {self.rewind_epoch}; "
                f"seeds {list(self.seeds)}")


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke", datasets=("synthetic",), models=("vgg19", "resnet32_2x", "lenet300_100"),
        widths=(("vgg19", 0.125), ("resnet32_2x", 0.125), ("lenet300_100", 0.25)), seeds=(0, 1),
        sparsities=(0.9, 0.98), epochs=2, batch_size=64, lr=0.05, rewind_epoch=1, train_subset=256,
        test_subset=200, synflow_iterations=5,
        note="made data and tiny models: proves the pipeline runs; its numbers mean nothing"),
    "cpu": Profile(
        name="cpu", datasets=("fashion_mnist",), models=("vgg19", "resnet32_2x", "lenet300_100"),
        widths=(("vgg19", 0.25), ("resnet32_2x", 0.5)), lrs=(("vgg19", 0.02),), image_sizes=(("lenet300_100", 28),),
        epochs=4, batch_size=64, rewind_epoch=1, augment=False, train_subset=20000, test_subset=5000,
        note="Fashion-MNIST (28x28 grey, zero-padded to 32x32 for the conv nets) stands in for CIFAR-10. VGG19 at a "
             "quarter width (16-128 channels, 1.25M weights) and the 2x-wide ResNet32 at half width (16/32/64 "
             "channels, 0.46M weights) keep the seeds' depth and layer count. 20,000 class-balanced training images, "
             "5,000 test images, 4 epochs with the seeds' schedule shape (lr /10 at 1/2 and 3/4), rewind at 1/4, "
             "batch 64 for every method, no augmentation. VGG19 trains at lr 0.02: at 0.1 it does not get going "
             "within this budget. The Su et al. chapter page gives the measured time per run"),
    "paper": Profile(
        name="paper", datasets=("cifar10", "cifar100"), models=("vgg19", "resnet32_2x", "lenet300_100"),
        batch_sizes=(("snip", 64), ("lottery", 64), ("lr_rewinding", 64), ("hybrid", 64), ("grasp", 128),
                     ("random_tickets", 128)),
        note="the seeds' settings (Su et al. [Re] section 4.1): needs a GPU and the CIFAR files"),
}


def get_profile(name: str, **overrides: Any) -> Profile:
    """A named profile with notebook overrides applied; unknown names and fields raise one clear error."""
    if name not in PROFILES:
        raise KeyError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}")
    valid = {f.name for f in fields(Profile)}
    bad = sorted(set(overrides) - valid)
    if bad:
        raise KeyError(f"unknown profile field(s) {bad}; valid fields: {', '.join(sorted(valid))}")
    clean = {k: tuple(map(tuple, v)) if k in ("widths", "batch_sizes") and isinstance(v, (list, dict)) and
             not isinstance(v, dict) else (tuple(v.items()) if isinstance(v, dict) else
                                           (tuple(v) if isinstance(v, list) else v))
             for k, v in overrides.items() if v is not None}
    return replace(PROFILES[name], **clean)
