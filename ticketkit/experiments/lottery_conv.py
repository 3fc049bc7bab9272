"""Frankle & Carbin's conv nets (002 section 3.1.2): IMP on Conv-2/4/6 with their per-layer rates and Adam
settings, the winning ticket against its random re-initialisation; one ImpScale per network."""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import pandas as pd

from ..params import chapter_scale
from ..runs import RunConfig
from ..verdicts import Verdict, evaluate
from .lottery import ImpScale, figure, lenet_imp, table

MODELS = ("conv2", "conv4", "conv6")
# model -> (Adam lr, epochs): Frankle & Carbin's 20K / 25K / 30K iterations at batch 60 on 45K CIFAR-10 images
PAPER = {"conv2": (2e-4, 27), "conv4": (3e-4, 34), "conv6": (3e-4, 40)}

_PAPER = ImpScale("paper", "cifar10", image_size=32, levels=20, reinit_levels=(2, 5, 8, 11, 14, 17, 20),
                  oneshot_levels=(), curve_levels=(0, 5, 10, 15, 20), note="Frankle & Carbin's CIFAR-10 setting")
SCALES = {
    "smoke": ImpScale("smoke", "digits", model="conv2", width=0.25, image_size=8, trials=(0, 1), levels=2, epochs=1,
                      val_size=200, eval_every=5, reinit_levels=(1, 2), oneshot_levels=(), curve_levels=(0, 1, 2),
                      note="scikit-learn's 8x8 digits and quarter-width nets: proves the pipeline runs; its numbers "
                           "mean nothing"),
    "cpu": ImpScale("cpu", "fashion_mnist", model="conv2", width=0.25, image_size=32, train_subset=10000,
                    trials=(0, 1, 2), levels=8, epochs=6, eval_every=50, reinit_levels=(2, 5, 8), oneshot_levels=(),
                    curve_levels=(0, 2, 5, 8),
                    note="Fashion-MNIST (zero-padded to 32x32) stands in for CIFAR-10; quarter-width nets, 10,000 "
                         "training images, about 1,000 iterations and 8 levels instead of 20-30K iterations and 20"),
    "paper": _PAPER,
}


def get_scales(profile: str, overrides: dict[str, Any] | None = None, **named: Any) -> dict[str, ImpScale]:
    """One scale per conv net at a profile: the profile's values with the notebook's overrides, each net's own
    Adam lr (and at the paper profile its own number of epochs)."""
    models = named.pop("models", None) or MODELS
    unknown = [m for m in models if m not in PAPER]
    if unknown:
        raise KeyError(f"unknown conv net {unknown[0]!r}; choose from {', '.join(MODELS)}")
    base = chapter_scale(SCALES, profile, overrides, named)
    given = set(overrides or {}) | {k for k, v in named.items() if v is not None}
    out = {}
    for m in models:
        lr, epochs = PAPER[m]
        own = {"lr": lr, **({"epochs": epochs} if profile == "paper" else {})}
        out[m] = dataclasses.replace(base, model=m, **{k: v for k, v in own.items() if k not in given})
    return out


def conv_imp(scales: dict[str, ImpScale]) -> list[RunConfig]:
    """Tickets at every level and random re-initialisations, for every conv net."""
    return [c for S in scales.values() for c in lenet_imp(S)]


def scale_line(scales: dict[str, ImpScale]) -> str:
    """The scales of all the nets in one statement."""
    return "; ".join(S.scale() for S in scales.values())


def verdicts(runs: pd.DataFrame, scales: dict[str, ImpScale], ids: Sequence[str] = ("LT-1", "LT-3")) -> list[Verdict]:
    """The LeNet claims' rules applied to the conv nets (supporting evidence; each claim's own verdict is its
    LeNet page's)."""
    return [evaluate(cid, runs, scale_line(scales)) for cid in ids]


def per_network(runs: pd.DataFrame, scales: dict[str, ImpScale], vs: Sequence[Verdict]) -> None:
    """Each net's table (ticket and re-initialisation against the dense network) and figure."""
    from IPython.display import Markdown, display
    import matplotlib.pyplot as plt

    for model, S in scales.items():
        sel = runs[runs["model"] == model] if len(runs) else runs
        display(Markdown(f"### {model.replace('conv', 'Conv-')}"))
        display(table(sel, S, ("ticket", "reinit"), vs, section="3.1.2"))
        figure(sel, S, ("ticket", "reinit"), f"IMP on {model}: winning tickets and their random re-initialisation")
        plt.show()

