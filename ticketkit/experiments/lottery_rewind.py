"""Frankle & Carbin's VGG-19 at a high learning rate (002 Figure 5, their Figure 7): iterative pruning with the
weights rewound to their initial values, rewound to an early iteration instead, or trained with learning-rate
warm-up, at three training lengths; test accuracy at the end of training against the weights remaining."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import imp
from ..params import chapter_scale
from ..plots import effects_figure
from ..report import paper_table, plural
from ..runs import RunConfig
from ..train import TrainSpec
from ..verdicts import Verdict, evaluate
from .lottery import remaining_axis

VARIANTS = {"rewind_0": "rewind to init", "rewind_k": "rewind to iteration k", "warmup": "lr warm-up, rewind to init"}


@dataclass(frozen=True)
class RewindScale:
    """VGG-19 trajectories (global pruning, `rate` of the remaining weights per level) at each training length,
    for each variant; SGD momentum 0.9 at a high learning rate, lr /10 at 1/2 and 3/4 of training."""

    name: str
    dataset: str
    width: float = 1.0
    lengths: tuple[int, ...] = (39, 77, 143)  # epochs of 782 iterations: about 30K, 60K and 112K iterations
    lr: float = 0.1
    rate: float = 0.2
    levels: int = 20
    rewind_step: int = 1000  # "rewind to iteration k"
    warmup_epochs: float = 13.0  # about 10K iterations of linear warm-up
    seeds: tuple[int, ...] = (0, 1, 2)
    batch_size: int = 64
    augment: bool = True
    train_subset: int | None = None
    test_subset: int | None = None
    note: str = ""

    @property
    def datasets(self) -> tuple[str, ...]:
        return (self.dataset,)

    @property
    def epochs(self) -> str:
        return "/".join(map(str, self.lengths))

    def spec(self, epochs: int, variant: str) -> TrainSpec:
        return TrainSpec(epochs=epochs, batch_size=self.batch_size, lr=self.lr, momentum=0.9, weight_decay=1e-4,
                         milestones=(0.5, 0.75), augment=self.augment,
                         warmup_epochs=self.warmup_epochs if variant == "warmup" else 0.0)

    def run(self, epochs: int, variant: str, seed: int, level: int) -> RunConfig:
        base = RunConfig(dataset=self.dataset, model="vgg19", method="imp", seed=seed, width=self.width,
                         train_subset=self.train_subset, test_subset=self.test_subset,
                         train=self.spec(epochs, variant),
                         options=(("scope", "global"), ("rate", self.rate),
                                  ("rewind_step", self.rewind_step if variant == "rewind_k" else 0)))
        return imp.level_config(base, level)

    def scale(self) -> str:
        data = f"{self.train_subset} training images" if self.train_subset else "the full training set"
        return (f"profile `{self.name}`: {self.dataset}, VGG-19 x{self.width:g}, {data}; SGD momentum 0.9, lr "
                f"{self.lr:g} (/10 at 1/2 and 3/4), batch {self.batch_size}, {self.epochs} epochs; global pruning of "
                f"{self.rate:.0%} of the remaining weights per level, levels 0-{self.levels}; rewinding to iteration "
                f"{self.rewind_step}, or {self.warmup_epochs:g} epochs of linear warm-up; augmentation "
                f"{'on' if self.augment else 'off'}; last-epoch test accuracy; "
                f"seeds {list(self.seeds)}")


SCALES = {
    "smoke": RewindScale("smoke", "synthetic", width=0.125, lengths=(1, 2), rate=0.9, levels=1, rewind_step=2,
                         warmup_epochs=0.5, seeds=(0, 1), train_subset=256, test_subset=200,
                         note="made data and a tiny VGG-19: proves the pipeline runs; its numbers mean nothing"),
    "cpu": RewindScale("cpu", "fashion_mnist", width=0.25, lengths=(1, 2, 4), rate=0.6, levels=3, rewind_step=20,
                       warmup_epochs=0.5, augment=False, train_subset=10000, test_subset=5000,
                       note="Fashion-MNIST (zero-padded to 32x32) stands in for CIFAR-10; VGG-19 at a quarter width, "
                            "10,000 training images, 1/2/4 epochs for 30K/60K/112K iterations, 60% pruned per level "
                            "to reach 6% in 3 levels, rewinding to iteration 20 of 156 per epoch, no augmentation"),
    "paper": RewindScale("paper", "cifar10", note="Frankle & Carbin's VGG-19 setting (needs a GPU and CIFAR-10)"),
}


def get_scale(profile: str, overrides: dict[str, Any] | None = None, **named: Any) -> RewindScale:
    s = chapter_scale(SCALES, profile, overrides, named)
    if not 0 < s.rate < 1:
        raise ValueError(f"rate = {s.rate} is not valid: give the pruned fraction per level in (0, 1)")
    return s


def rewinding(S: RewindScale) -> list[RunConfig]:
    """Every level of every variant's trajectory at every training length and seed."""
    return [S.run(e, v, seed, lv) for e in S.lengths for v in VARIANTS for seed in S.seeds
            for lv in range(S.levels + 1)]


def with_variant(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with `epochs`, `variant`, `level` and `remaining` columns."""
    r = runs.copy()
    r["epochs"] = r["train.epochs"]
    r["level"] = r["opt.level"].astype(int)
    r["variant"] = np.where(r["train.warmup_epochs"] > 0, "warmup",
                            np.where(r["opt.rewind_step"].fillna(0).astype(int) > 0, "rewind_k", "rewind_0"))
    r["remaining"] = 100 * r["density"]
    return r


def table(runs: pd.DataFrame, S: RewindScale, vs: Sequence[Verdict] = ()) -> Any:
    """Last-epoch test accuracy per training length, variant and level (mean ± sd over seeds)."""
    r = with_variant(runs) if len(runs) else runs
    outcome = {(int(e["epochs"]), e["variant"], round(e["density"], 6)): e["outcome"]
               for v in vs for _, e in v.evidence.iterrows()}
    cells = []
    for e in S.lengths:
        for v, label in VARIANTS.items():
            for lv in range(S.levels + 1):
                sel = r[(r["epochs"] == e) & (r["variant"] == v) & (r["level"] == lv)] if len(r) else r
                acc = sel["final_test_acc"] if len(sel) else pd.Series(dtype=float)
                d = S.run(e, v, 0, lv).density
                cells.append({"row_group": plural(e, "epoch"), "row": label, "col_group": "% of weights remaining",
                              "col": f"{100 * d:.3g}%", "mean": acc.mean() if len(acc) else np.nan,
                              "sd": acc.std(ddof=1) if len(acc) > 1 else np.nan, "published": "",
                              "outcome": outcome.get((e, v, round(d, 6)), "")})
    return paper_table(pd.DataFrame(cells), f"Ours: last-epoch test accuracy (%), mean ± sd over {len(S.seeds)} "
                                            f"seeds at the {S.name} profile. The seed shows this as a figure only.")


def figure(runs: pd.DataFrame, S: RewindScale) -> plt.Figure:
    """Test accuracy against weights remaining, one panel per training length, one line per variant."""
    fig, axes = plt.subplots(1, len(S.lengths), figsize=(4.2 * len(S.lengths), 3.4), squeeze=False, sharey=True)
    r = with_variant(runs) if len(runs) else runs
    for ax, e in zip(axes[0], S.lengths):
        for v, label in VARIANTS.items():
            sel = r[(r["epochs"] == e) & (r["variant"] == v)] if len(r) else r
            if len(sel):
                g = sel.groupby("remaining")["final_test_acc"].agg(["mean", "std"])
                ax.errorbar(g.index, g["mean"], yerr=g["std"].fillna(0), marker="o", ms=3, capsize=2, label=label)
        remaining_axis(ax, r["remaining"] if len(r) else ())
        ax.set_title(plural(e, "epoch"), fontsize=9)
        ax.set_xlabel("weights remaining (%, log scale)")
    axes[0][0].set_ylabel("test accuracy, last epoch (%)")
    axes[0][0].legend(fontsize=7)
    fig.text(0.01, -0.03, f"Mean ± sd over seeds. Scale: {S.scale()}.", fontsize=6.5, wrap=True, va="top")
    fig.tight_layout()
    return fig


def verdicts(runs: pd.DataFrame, S: RewindScale) -> list[Verdict]:
    return [evaluate("LT-6", runs, S.scale())]


def effects(vs: Sequence[Verdict], S: RewindScale) -> plt.Figure:
    return effects_figure(vs, "LT-6: rewinding to iteration k or warm-up, minus rewinding to init", S.scale(),
                          f"{S.dataset}, {S.name} profile", "CIFAR-10")


def premise(runs: pd.DataFrame, S: RewindScale) -> str:
    """The dense network's last-epoch accuracy (level 0) at each length, without and with warm-up: the claim
    presumes a dense VGG-19 that trains at this learning rate, and rewinding to iteration k inherits its start."""
    r = with_variant(runs) if len(runs) else None
    parts = []
    for e in S.lengths if r is not None else ():
        dense = {v: r[(r["epochs"] == e) & (r["variant"] == v) & (r["level"] == 0)]["final_test_acc"]
                 for v in ("rewind_0", "warmup")}
        if all(len(a) for a in dense.values()):
            parts.append(f"{plural(e, 'epoch')}: {dense['rewind_0'].mean():.1f}% without warm-up, "
                         f"{dense['warmup'].mean():.1f}% with it")
    if not parts:
        return "**The dense network.** No level-0 runs are stored yet."
    return (f"**The dense network** (level 0, mean over seeds, lr {S.lr:g}): {'; '.join(parts)}. The claim presumes "
            f"a dense VGG-19 that trains at this learning rate. Where it does not without warm-up, its weights at "
            f"iteration {S.rewind_step} come from that unstable start, and rewinding to them carries it into every "
            f"level.")
