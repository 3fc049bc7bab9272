"""Named scales (smoke, cpu, paper): the defaults a notebook starts from and may override field by field."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, get_args, get_origin, get_type_hints

from .data import DATASETS
from .models import MODELS
from .pruning.methods import METHODS
from .runs import RunConfig
from .train import TrainSpec

SMART_RATIO = ("random_tickets", "hybrid")  # smart-ratio counts need something pruned: sparsity 0 cannot run


def check_sparsity(sparsity: float, method: str = "") -> float:
    """The pruned fraction as given, checked before it becomes a density, so a grid that cannot run fails early."""
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float)):
        raise TypeError(f"sparsity {sparsity!r} is not a number; give the pruned fraction, e.g. 0.9")
    low = 0.0 < sparsity if method in SMART_RATIO else 0.0 <= sparsity
    if not (low and sparsity < 1.0):
        span = "(0, 1)" if method in SMART_RATIO else "[0, 1)"
        who = f" for method {method!r}" if method else ""
        raise ValueError(f"sparsity {sparsity!r} is out of range{who}: give a sparsity in {span} (the pruned "
                         "fraction; 0.9 keeps 10% of the weights)")
    return float(sparsity)


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
        check_sparsity(sparsity, method)
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


_WORDS = {int: ("an integer", "integers"), float: ("a number", "numbers"), bool: ("True or False", ""),
          str: ("a string", "names")}
_SELECTIONS = ("datasets", "models", "seeds", "sparsities")  # an empty one leaves nothing to run
_POSITIVE = ("epochs", "batch_size", "lr", "image_size", "train_subset", "test_subset", "synflow_iterations", "widths",
             "lrs", "image_sizes", "batch_sizes")
_NON_NEGATIVE = ("seeds", "rewind_epoch", "momentum", "weight_decay")
_KEYS = {"datasets": DATASETS, "models": MODELS, "widths": MODELS, "lrs": MODELS, "image_sizes": MODELS,
         "batch_sizes": METHODS}


def _expected(hint: Any) -> str:
    """A field type in words, for the error a value of the wrong type gets."""
    args = get_args(hint)
    if type(None) in args:
        return f"{_expected(args[0])} or None"
    if get_origin(hint) is tuple and get_origin(args[0]) is tuple:
        return f"a mapping of name to {_expected(get_args(args[0])[1])}, e.g. {{vgg19: ...}}"
    if get_origin(hint) is tuple:
        return f"a list of {_WORDS[args[0]][1]} (one value is taken as a one-element list)"
    return _WORDS[hint][0]


def _coerce(hint: Any, value: Any) -> Any:
    """`value` as the field type `hint` (lists and mappings become tuples, one scalar a 1-tuple); TypeError if not."""
    args = get_args(hint)
    if type(None) in args:
        return None if value is None else _coerce(args[0], value)
    if get_origin(hint) is tuple and args[-1] is Ellipsis:
        items = list(value.items()) if isinstance(value, dict) else value
        return tuple(_coerce(args[0], v) for v in (items if isinstance(items, (list, tuple)) else [items]))
    if get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise TypeError
        return tuple(_coerce(a, v) for a, v in zip(args, value))
    if isinstance(value, bool) != (hint is bool) or not isinstance(value, (int, float) if hint is float else hint):
        raise TypeError
    return float(value) if hint is float else value


def _field(name: str, value: Any) -> Any:
    """A profile field override in the field's type, or one error naming the field, the value and the type wanted."""
    hint = get_type_hints(Profile)[name]
    try:
        return _coerce(hint, value)
    except TypeError:
        raise TypeError(f"{name} = {value!r} is not valid: expected {_expected(hint)}") from None


def _values(p: Profile, name: str) -> list[Any]:
    """The numbers held by a field: itself, its items, or the values of its (name, value) pairs."""
    v = getattr(p, name)
    if not isinstance(v, tuple):
        return [] if v is None else [v]
    return [x[1] if isinstance(x, tuple) else x for x in v]


def _check(p: Profile) -> Profile:
    """Refuse values that cannot run (empty selections, unknown names, non-positive sizes, bad sparsities) early."""
    for name in _SELECTIONS:
        if not getattr(p, name):
            raise ValueError(f"{name} is empty; give at least one")
    for name, registry in _KEYS.items():
        for key in getattr(p, name):
            registry.get(key[0] if isinstance(key, tuple) else key)
    for name in _POSITIVE + _NON_NEGATIVE:
        bad = [v for v in _values(p, name) if v < 0 or (v == 0 and name in _POSITIVE)]
        if bad:
            raise ValueError(f"{name} = {getattr(p, name)!r} is not valid: {bad[0]!r} is not "
                             f"{'above 0' if name in _POSITIVE else '0 or more'}")
    for s in p.sparsities:
        check_sparsity(s)
    if p.rewind_epoch > p.epochs:
        raise ValueError(f"rewind_epoch = {p.rewind_epoch} is after the last epoch (epochs = {p.epochs})")
    return p


def get_profile(name: str, **overrides: Any) -> Profile:
    """A named profile with notebook overrides applied, each in its field's type and range; one clear error if not."""
    if not isinstance(name, str) or name not in PROFILES:
        raise KeyError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}")
    valid = {f.name for f in fields(Profile)}
    bad = sorted(set(overrides) - valid)
    if bad:
        raise KeyError(f"unknown profile field(s) {bad}; valid fields: {', '.join(sorted(valid))}")
    clean = {k: _field(k, v) for k, v in overrides.items() if v is not None}
    return _check(replace(PROFILES[name], **clean))
