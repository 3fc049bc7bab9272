"""Liu et al.'s objection to the lottery ticket (002 Table 2, Liu et al.'s Table 11): one-shot magnitude pruning of
VGG-16 and their CIFAR ResNet-50 (one global threshold over the conv weights), the winning ticket (original init
+ mask) against a random initialisation of the same mask, at initial learning rates 0.1 and 0.01."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import imp, reference
from ..params import chapter_scale
from ..plots import effects_figure
from ..report import fmt, paper_table
from ..runs import RunConfig
from ..train import TrainSpec
from ..verdicts import Verdict, evaluate

MODEL_LABELS = {"vgg16": "VGG-16", "resnet50": "ResNet-50 (basic blocks)"}
ARMS = {"ticket": "winning ticket", "reinit": "random init"}


@dataclass(frozen=True)
class LiuScale:
    """Scale of the learning-rate study: models, the two initial learning rates, one-shot prune ratios, and Liu
    et al.'s schedule (SGD, momentum 0.9, wd 1e-4, batch 64, lr /10 at 1/2 and 3/4; best test accuracy)."""

    name: str
    dataset: str
    models: tuple[str, ...] = ("vgg16", "resnet50")
    widths: tuple[float, ...] = (1.0, 1.0)  # per model, in the order of `models`
    lrs: tuple[float, ...] = (0.1, 0.01)
    ratios: tuple[float, ...] = reference.LIU_RATIOS
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 160
    batch_size: int = 64
    augment: bool = True
    train_subset: int | None = None
    test_subset: int | None = None
    note: str = ""

    @property
    def datasets(self) -> tuple[str, ...]:
        return (self.dataset,)

    def spec(self, lr: float) -> TrainSpec:
        return TrainSpec(epochs=self.epochs, batch_size=self.batch_size, lr=lr, momentum=0.9, weight_decay=1e-4,
                         milestones=(0.5, 0.75), augment=self.augment)

    def run(self, model: str, lr: float, seed: int, ratio: float = 0.0, arm: str = "ticket") -> RunConfig:
        """Dense (ratio 0) or one-shot pruned at `ratio`: level 1 of a global-conv IMP trajectory at that rate."""
        width = dict(zip(self.models, self.widths)).get(model, 1.0)
        base = RunConfig(dataset=self.dataset, model=model, method="imp", seed=seed, width=width,
                         train_subset=self.train_subset, test_subset=self.test_subset, train=self.spec(lr),
                         options=(("scope", "global_conv"), ("rate", ratio or 0.2)))
        return imp.level_config(base, 1 if ratio else 0, arm)

    def scale(self) -> str:
        widths = ", ".join(f"{m} x{w:g}" for m, w in zip(self.models, self.widths))
        data = f"{self.train_subset} training images" if self.train_subset else "full training set"
        return (f"profile `{self.name}`: {self.dataset}, {widths}; {data}; SGD momentum 0.9, wd 1e-4, batch "
                f"{self.batch_size}, {self.epochs} epochs (lr /10 at 1/2 and 3/4), initial lr "
                f"{' and '.join(f'{lr:g}' for lr in self.lrs)}; one-shot pruning of the conv weights at "
                f"{', '.join(f'{r:.0%}' for r in self.ratios)} under one global threshold; best test accuracy over "
                f"epochs; seeds {list(self.seeds)}"
                + ("; ResNet-50's downsampling shortcuts pad with zeros where Liu et al.'s code uses 1x1 projections"
                   if "resnet50" in self.models else ""))


SCALES = {
    "smoke": LiuScale("smoke", "synthetic", widths=(0.125, 0.25), ratios=(0.95,), seeds=(0, 1), epochs=2,
                      train_subset=256, test_subset=200,
                      note="made data and tiny models: proves the pipeline runs; its numbers mean nothing"),
    "cpu": LiuScale("cpu", "fashion_mnist", widths=(0.25, 0.5), ratios=(0.2, 0.6, 0.95), epochs=4, augment=False,
                    train_subset=20000, test_subset=5000,
                    note="Fashion-MNIST (zero-padded to 32x32) stands in for CIFAR-10; VGG-16 at a quarter width and "
                         "the ResNet-50 at half width, 20,000 training and 5,000 test images, 4 epochs with Liu et "
                         "al.'s schedule shape, three of the five prune ratios"),
    "paper": LiuScale("paper", "cifar10", note="Liu et al.'s setting (needs a GPU and CIFAR-10)"),
}


def get_scale(profile: str, overrides: dict[str, Any] | None = None, **named: Any) -> LiuScale:
    s = chapter_scale(SCALES, profile, overrides, named)
    if len(s.widths) != len(s.models) or any(not 0 < r < 1 for r in s.ratios):
        raise ValueError(f"widths {s.widths} must give one width per model {s.models}, and ratios {s.ratios} "
                         "must lie in (0, 1) (the pruned fraction)")
    return s


def lr_study(S: LiuScale) -> list[RunConfig]:
    """Per model, lr and seed: the dense network, and the ticket and random init at every ratio."""
    return [c for m in S.models for lr in S.lrs for seed in S.seeds
            for c in [S.run(m, lr, seed)] + [S.run(m, lr, seed, r, arm) for r in S.ratios for arm in ARMS]]


def with_arms(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with `lr`, `ratio` (0 = dense) and `arm` columns."""
    r = runs.copy()
    r["lr"] = r["train.lr"]
    level = r["opt.level"].astype(int)
    rate = r["opt.rate"] if "opt.rate" in r else pd.Series(np.nan, index=r.index)  # absent: only dense runs yet
    r["ratio"] = np.where(level > 0, rate.astype(float), 0.0)
    r["arm"] = np.where(level > 0, r["opt.branch"], "unpruned")
    return r


def published_effect(lr: float, model: str, ratio: float) -> tuple[float, float]:
    """Ticket minus random init in 002 Table 2 at one cell, with the sd of that difference."""
    pub = reference.liu_lottery()
    cell = pub[(pub["lr"] == lr) & (pub["model"] == model) & (np.isclose(pub["ratio"], ratio))].set_index("arm")
    if not {"ticket", "random_init"} <= set(cell.index):
        return np.nan, np.nan
    t, r = cell.loc["ticket"], cell.loc["random_init"]
    return float(t["accuracy"] - r["accuracy"]), float(np.hypot(t["std"], r["std"]))


def table(runs: pd.DataFrame, S: LiuScale, vs: Sequence[Verdict] = ()) -> Any:
    """002 Table 2's layout: per model and ratio, the ticket and random init at each initial lr (best test
    accuracy, mean ± sd), the published accuracy beneath."""
    r = with_arms(runs) if len(runs) else runs
    pub = reference.liu_lottery()
    outcome = {(e["model"], e["lr"], round(e["ratio"], 6)): e["outcome"] for v in vs for _, e in v.evidence.iterrows()}
    cells = []
    for m in S.models:
        for ratio in (0.0, *S.ratios):
            for lr in S.lrs:  # the unpruned row names every column first, so columns read unpruned, ticket, init
                for arm in (("unpruned", "ticket", "reinit") if ratio == 0 else ("ticket", "reinit")):
                    sel = r[(r["model"] == m) & (r["lr"] == lr) & np.isclose(r["ratio"], ratio) & (r["arm"] == arm)] \
                        if len(r) else r  # (the unpruned row has no ticket or init runs: those cells read "—")
                    acc = sel["best_test_acc"] if len(sel) else pd.Series(dtype=float)
                    p = pub[(pub["lr"] == lr) & (pub["model"] == m) & np.isclose(pub["ratio"], ratio)
                            & (pub["arm"] == {"reinit": "random_init"}.get(arm, arm))]
                    cells.append({"row_group": MODEL_LABELS.get(m, m),
                                  "row": "unpruned" if ratio == 0 else f"prune ratio {ratio:.0%}",
                                  "col_group": f"initial lr {lr:g}",
                                  "col": "unpruned" if arm == "unpruned" else ARMS[arm],
                                  "mean": acc.mean() if len(acc) else np.nan,
                                  "sd": acc.std(ddof=1) if len(acc) > 1 else np.nan,
                                  "published": fmt(p["accuracy"].iloc[0], p["std"].iloc[0]) if len(p) else "",
                                  "outcome": outcome.get((m, lr, round(ratio, 6)), "") if arm == "ticket" else ""})
    caption = (f"Ours: best test accuracy over epochs (%), mean ± sd over {len(S.seeds)} seeds at the {S.name} "
               "profile. Beneath, muted: published on CIFAR-10 at full scale (002 Table 2 = Liu et al.'s Table 11; "
               "its caption says errors, the values are accuracies). Compare effects, not our numbers with theirs.")
    return paper_table(pd.DataFrame(cells), caption)


def verdicts(runs: pd.DataFrame, S: LiuScale) -> list[Verdict]:
    return [evaluate("LT-5", runs, S.scale())]


def effects(vs: Sequence[Verdict], S: LiuScale) -> Any:
    return effects_figure(vs, "LT-5: winning ticket − random init, per lr and prune ratio", S.scale(),
                          f"{S.dataset}, {S.name} profile", "CIFAR-10, full scale")

