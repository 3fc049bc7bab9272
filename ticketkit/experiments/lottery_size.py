"""Neyshabur et al.'s network-size study (002 Figure 3): training and test error of a 2-layer fully connected net
against its number of hidden units H, trained by momentum SGD; larger nets generalise no worse."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..params import chapter_scale
from ..plots import effects_figure
from ..report import paper_table
from ..runs import RunConfig
from ..train import TrainSpec
from ..verdicts import Verdict, evaluate

UNITS_PER_WIDTH = 1024  # the fc2 model's hidden units at width 1


@dataclass(frozen=True)
class SizeScale:
    """Hidden-layer sizes (log-spaced), seeds and the momentum-SGD schedule of the network-size study."""

    name: str
    dataset: str
    image_size: int = 28
    hidden: tuple[int, ...] = (4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 100
    batch_size: int = 64
    lr: float = 0.01
    train_subset: int | None = None
    note: str = ""

    @property
    def datasets(self) -> tuple[str, ...]:
        return (self.dataset,)

    def spec(self) -> TrainSpec:
        return TrainSpec(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, momentum=0.9, weight_decay=0.0,
                         schedule="constant", augment=False)

    def run(self, hidden: int, seed: int) -> RunConfig:
        return RunConfig(dataset=self.dataset, model="fc2", seed=seed, width=hidden / UNITS_PER_WIDTH,
                         image_size=self.image_size, train_subset=self.train_subset, train=self.spec(),
                         options=(("train_eval", True),))

    def scale(self) -> str:
        data = f"{self.train_subset} training images" if self.train_subset else "the full training set"
        return (f"profile `{self.name}`: {self.dataset}, 2-layer net with H = {', '.join(map(str, self.hidden))} "
                f"hidden units, {data}; SGD momentum 0.9 at a constant lr {self.lr:g}, batch {self.batch_size}, "
                f"{self.epochs} epochs, no weight decay or augmentation (Neyshabur et al.'s exact schedule is not in "
                f"the seeds: this is ours); last-epoch errors; seeds {list(self.seeds)}")


SCALES = {
    "smoke": SizeScale("smoke", "digits", image_size=8, hidden=(4, 16, 64), seeds=(0, 1), epochs=3,
                       note="scikit-learn's 8x8 digits: proves the pipeline runs; its numbers mean nothing"),
    "cpu": SizeScale("cpu", "fashion_mnist", hidden=(4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048), epochs=30,
                     note="Fashion-MNIST stands in for MNIST; H up to 2048 and 30 epochs"),
    "paper": SizeScale("paper", "mnist", note="MNIST, H from 4 to 4096"),
}


def get_scale(profile: str, overrides: dict[str, Any] | None = None, **named: Any) -> SizeScale:
    s = chapter_scale(SCALES, profile, overrides, named)
    if any(h < 1 for h in s.hidden) or list(s.hidden) != sorted(set(s.hidden)):
        raise ValueError(f"hidden = {s.hidden} is not valid: give distinct positive unit counts in increasing order")
    return s


def network_size(S: SizeScale) -> list[RunConfig]:
    return [S.run(h, seed) for h in S.hidden for seed in S.seeds]


def errors(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with `hidden`, `train_err` and `test_err` (%, last epoch) columns."""
    r = runs.copy()
    r["hidden"] = (r["width"] * UNITS_PER_WIDTH).round().astype(int)
    r["test_err"] = 100 - r["final_test_acc"]
    r["train_err"] = 100 - r["final_train_acc"]
    return r


def table(runs: pd.DataFrame, S: SizeScale, vs: Sequence[Verdict] = ()) -> Any:
    """Train and test error (%) per hidden-layer size, mean ± sd over seeds (the seed shows a figure only)."""
    r = errors(runs) if len(runs) else runs
    outcome = {int(e["hidden"]): e["outcome"] for v in vs for _, e in v.evidence.iterrows()}
    cells = [{"row_group": "", "row": label, "col_group": "hidden units H", "col": str(h),
              "mean": r.loc[r["hidden"] == h, col].mean() if len(r) else np.nan,
              "sd": r.loc[r["hidden"] == h, col].std(ddof=1) if len(r) else np.nan, "published": "",
              "outcome": outcome.get(h, "") if col == "test_err" else ""}
             for label, col in (("training error (%)", "train_err"), ("test error (%)", "test_err"))
             for h in S.hidden]
    return paper_table(pd.DataFrame(cells), f"Ours: last-epoch errors, mean ± sd over {len(S.seeds)} seeds at the "
                                            f"{S.name} profile. A test-error cell is coloured by the step from the "
                                            "next smaller H (LT-8).")


def figure(runs: pd.DataFrame, S: SizeScale) -> plt.Figure:
    """Training and test error against H (log scale), mean ± sd over seeds, as in 002 Figure 3."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if len(runs):
        r = errors(runs)
        for col, label in (("train_err", "training error"), ("test_err", "test error")):
            g = r.groupby("hidden")[col].agg(["mean", "std"])
            ax.errorbar(g.index, g["mean"], yerr=g["std"].fillna(0), marker="o", ms=3, capsize=2, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden units H (log scale)")
    ax.set_ylabel("error, last epoch (%)")
    ax.set_title("2-layer network: error against size", fontsize=10)
    ax.legend(fontsize=8)
    fig.text(0.01, -0.02, f"Mean ± sd over seeds. Scale: {S.scale()}.", fontsize=6.5, wrap=True, va="top")
    fig.tight_layout()
    return fig


def verdicts(runs: pd.DataFrame, S: SizeScale) -> list[Verdict]:
    return [evaluate("LT-8", runs, S.scale())]


def effects(vs: Sequence[Verdict], S: SizeScale) -> plt.Figure:
    return effects_figure(vs, "LT-8: test error, H minus the next smaller H", S.scale(),
                          f"{S.dataset}, {S.name} profile", "MNIST", unit="error points")

