"""The lottery-tickets chapter (seed 002): Frankle & Carbin's IMP on LeNet-300-100, random re-initialisation and
one-shot pruning; its scales, grids, paper-shaped tables, figures and the learning-curve slider."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator
import numpy as np
import pandas as pd

from .. import imp
from ..params import chapter_scale
from ..plots import effects_figure
from ..report import cell_outcomes, paper_table
from ..runs import RunConfig
from ..store import Store
from ..train import TrainSpec
from ..verdicts import Verdict, evaluate
from . import lottery_rules
from .lottery_rules import BRANCH_LABELS, with_level


@dataclass(frozen=True)
class ImpScale:
    """Scale of Frankle & Carbin's IMP experiments on one network: their optimisation (Adam, constant lr, batch
    60; about 50K iterations for LeNet) on the profile's dataset, `trials` seeds, levels 0..`levels`, branches at
    chosen levels."""

    name: str
    dataset: str
    model: str = "lenet300_100"
    width: float = 1.0
    image_size: int = 28
    train_subset: int | None = None
    trials: tuple[int, ...] = (0, 1, 2, 3, 4)
    levels: int = 15  # LeNet-300-100 at level 15 keeps 3.6% of its weights
    epochs: int = 55  # 55 passes over 55K training images at batch 60: 50,380 iterations
    batch_size: int = 60
    lr: float = 1.2e-3
    val_size: int = 5000
    eval_every: int = 100
    reinit_levels: tuple[int, ...] = (1, 3, 5, 7, 9, 12, 15)
    oneshot_levels: tuple[int, ...] = (3, 7, 12, 15)
    curve_levels: tuple[int, ...] = (0, 3, 7, 12, 15)  # 100 / 51.3 / 21.1 / 7.0 / 3.6% remaining
    note: str = ""

    @property
    def datasets(self) -> tuple[str, ...]:
        return (self.dataset,)

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.trials

    def spec(self) -> TrainSpec:
        return TrainSpec(epochs=self.epochs, batch_size=self.batch_size, optimizer="adam", lr=self.lr,
                         weight_decay=0.0, schedule="constant", augment=False)

    def base(self, seed: int = 0) -> RunConfig:
        """The level-0 run of one trial: the dense network, validation split held out, curves every `eval_every`."""
        return RunConfig(dataset=self.dataset, model=self.model, method="imp", seed=seed, width=self.width,
                         image_size=self.image_size, train_subset=self.train_subset, val_size=self.val_size,
                         train=self.spec(), options=(("eval_every", self.eval_every),))

    def scale(self) -> str:
        conv, fc, out = imp.LAYERWISE_RATES[self.model]
        rates = (f"conv {conv:.0%}, " if conv else "") + f"hidden fc {fc:.0%}, output {out:.0%}"
        data = f", {self.train_subset} training images" if self.train_subset else ""
        return (f"profile `{self.name}`: {self.dataset}{data}, {self.model} x{self.width:g}, {len(self.trials)} "
                f"trials, IMP levels 0-{self.levels} ({rates} of the remaining weights per level, rewound to "
                f"their initial values); Adam lr {self.lr:g}, batch {self.batch_size}, {self.epochs} epochs, no "
                f"weight decay or augmentation; {self.val_size} training images held out for validation, "
                f"evaluated every {self.eval_every} iterations; early stopping at the minimum validation loss")


SCALES = {
    "smoke": ImpScale("smoke", "digits", image_size=8, trials=(0, 1), levels=3, epochs=2, val_size=200,
                      eval_every=10, reinit_levels=(1, 3), oneshot_levels=(2, 3), curve_levels=(0, 1, 3),
                      note="scikit-learn's 8x8 digits, 2 epochs: proves the pipeline runs; its numbers mean nothing"),
    "cpu": ImpScale("cpu", "fashion_mnist",
                    note="Fashion-MNIST stands in for MNIST; everything else is Frankle & Carbin's setting"),
    "paper": ImpScale("paper", "mnist", note="Frankle & Carbin's setting on MNIST"),
}


def get_scale(profile: str, overrides: dict[str, Any] | None = None, **named: Any) -> ImpScale:
    """The chapter's LeNet scale at a profile with a notebook's overrides and named parameters (see
    params.chapter_scale), refusing levels the IMP trajectory does not reach."""
    s = chapter_scale(SCALES, profile, overrides, named)
    deepest = max(s.reinit_levels + s.oneshot_levels + s.curve_levels)
    if deepest > s.levels:
        raise ValueError(f"level {deepest} is asked for but levels = {s.levels}; raise levels or drop that level")
    return s


def level_densities(S: ImpScale, levels: Sequence[int]) -> list[float]:
    """Fraction of weights kept at each level (for sliders and axes)."""
    return [imp_density(S, lv) for lv in levels]


def runs_at(S: ImpScale, levels: Sequence[int], branch: str) -> list[RunConfig]:
    return [imp.level_config(S.base(seed=t), lv, branch) for t in S.trials for lv in levels]


def lenet_imp(S: ImpScale) -> list[RunConfig]:
    """Tickets at every level (the trajectory) and random re-initialisations at `reinit_levels` (LT-1..LT-3)."""
    return runs_at(S, range(S.levels + 1), "ticket") + runs_at(S, S.reinit_levels, "reinit")


def oneshot_vs_iterative(S: ImpScale) -> list[RunConfig]:
    """Iterative tickets and one-shot pruning to the same per-layer counts at `oneshot_levels` (LT-4)."""
    return runs_at(S, (0, *S.oneshot_levels), "ticket") + runs_at(S, S.oneshot_levels, "oneshot")


def verdicts(runs: pd.DataFrame, S: ImpScale, ids: tuple[str, ...]) -> list[Verdict]:
    return [evaluate(cid, runs, S.scale()) for cid in ids]


def table(runs: pd.DataFrame, S: ImpScale, branches: Sequence[str], vs: Sequence[Verdict] = (),
          levels: Sequence[int] | None = None, section: str = "3.1.1") -> Any:
    """Frankle & Carbin's figure as a table: rows = dense and each branch, columns = % of weights remaining at the
    curve levels (or `levels`); test accuracy at early stopping and the early-stop iteration (thousands), mean ± sd."""
    r = with_level(runs)
    outcome = cell_outcomes(vs, lambda v, e: (e["model"], e["comparison"], round(e["density"], 6))
                            if v.claim_id in ("LT-1", "LT-2", "LT-3", "LT-4") else None)
    cells = []
    for value, group, scale in (("early_stop_test_acc", "test accuracy at early stop (%)", 1.0),
                                ("early_stop_iteration", "early-stop iteration (thousands)", 1e-3)):
        for branch in ("dense", *branches):
            for level in ((0,) if branch == "dense" else [lv for lv in levels or S.curve_levels if lv > 0]):
                sel = r[(r["level"] == level) & (r["branch"] == ("ticket" if branch == "dense" else branch))]
                x = sel[value].astype(float) * scale
                comparison = lottery_rules.COMPARISONS.get(branch, "") + ("" if scale == 1.0 else
                                                                          lottery_rules.IN_ITERATIONS)
                key = (S.model, comparison, round(imp_density(S, level), 6))
                cells.append({"row_group": group, "row": BRANCH_LABELS[branch],
                              "col_group": "% of weights remaining", "col": _pct(imp_density(S, level)),
                              "mean": x.mean() if len(x) else np.nan, "sd": x.std(ddof=1) if len(x) > 1 else np.nan,
                              "published": "", "outcome": outcome.get(key, "") if len(sel) else ""})
    caption = (f"Ours: mean ± sd over {len(S.trials)} trials at the {S.name} profile. Seed 002 reports this "
               f"experiment in words and figures (section {section}), without numbers; the verdicts above compare "
               "effects.")
    return paper_table(pd.DataFrame(cells), caption)


def imp_density(S: ImpScale, level: int) -> float:
    return imp.level_config(S.base(), level).density


def _pct(density: float) -> str:
    return f"{100 * density:.3g}%"


def figure(runs: pd.DataFrame, S: ImpScale, branches: Sequence[str], title: str) -> plt.Figure:
    """Test accuracy at early stopping and the early-stop iteration against % remaining (log scale), mean ± sd
    over trials per branch, the dense network as a dashed line with its sd band."""
    r = with_level(runs)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    dense = r[r["level"] == 0]
    for ax, value, label, scale in ((axes[0], "early_stop_test_acc", "test accuracy at early stop (%)", 1.0),
                                    (axes[1], "early_stop_iteration", "early-stop iteration (thousands)", 1e-3)):
        for branch in branches:
            sel = r[(r["branch"] == branch) & (r["level"] > 0)]
            if not len(sel):
                continue
            g = sel.assign(v=sel[value].astype(float) * scale).groupby("remaining")["v"].agg(["mean", "std"])
            ax.plot(g.index, g["mean"], marker="o", ms=3, label=BRANCH_LABELS[branch])
            ax.fill_between(g.index, g["mean"] - g["std"].fillna(0), g["mean"] + g["std"].fillna(0), alpha=0.2)
        if len(dense):
            m, s = dense[value].astype(float).mean() * scale, dense[value].astype(float).std() * scale
            ax.axhline(m, ls="--", c="grey", lw=1, label="dense (100%)")
            ax.axhspan(m - (s if s == s else 0), m + (s if s == s else 0), color="grey", alpha=0.1)
        remaining_axis(ax, r["remaining"])
        ax.set_xlabel("weights remaining (%, log scale)")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.text(0.01, -0.03, f"Mean ± sd over trials. Scale: {S.scale()}.", fontsize=6.5, wrap=True, va="top")
    fig.tight_layout()
    return fig


def remaining_axis(ax: plt.Axes, values: Sequence[float] = ()) -> None:
    """Log-scaled % of weights remaining, decreasing to the right, with plain tick labels: at the levels shown
    when they are few, else at 100/50/20/10/5/2/1%."""
    ax.set_xscale("log")
    few = sorted({round(v, 1) for v in values}, reverse=True)
    ax.xaxis.set_major_locator(FixedLocator(few if 0 < len(few) <= 6 else [100, 50, 20, 10, 5, 2, 1]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.invert_xaxis()


def curves(cfgs: Sequence[RunConfig], store: Store | None = None) -> pd.DataFrame:
    """Every stored run's evaluation curve, long format: level, branch, seed, iteration, test accuracy, val loss."""
    store = store or Store()
    rows = []
    for c in cfgs:
        rec = store.get(c)
        if rec is None or not rec.get("curve"):
            continue
        o = imp.options(c)
        rows += [{"level": o["level"], "branch": o["branch"], "seed": c.seed, "remaining": 100 * c.density,
                  "iteration": p["iteration"], "test_acc": p["test_acc"], "val_loss": p.get("val_loss")}
                 for p in rec["curve"]]
    return pd.DataFrame(rows)


def curve_page(cfgs: Sequence[RunConfig], S: ImpScale):  # type: ignore[no-untyped-def]
    """What the level slider shows at each curve level: test accuracy against iteration, mean ± sd over trials,
    for the ticket (and its re-initialisation where run) beside the dense network."""
    c = curves(cfgs)

    def render(density: float) -> None:
        level = min(S.curve_levels, key=lambda lv: abs(imp_density(S, lv) - density))
        fig, ax = plt.subplots(figsize=(7, 3.2))
        if c.empty:
            ax.text(0.5, 0.5, "no curves stored yet at this profile", ha="center")
            return
        for (lv, branch), g in c[c["level"].isin({0, level})].groupby(["level", "branch"]):
            if lv == 0 and level != 0 and branch != "ticket":
                continue
            s = g.groupby("iteration")["test_acc"].agg(["mean", "std"])
            name = "dense (100%)" if lv == 0 else f"{BRANCH_LABELS[branch]} ({_pct(imp_density(S, lv))})"
            ax.plot(s.index / 1000, s["mean"], lw=1, label=name)
            ax.fill_between(s.index / 1000, s["mean"] - s["std"].fillna(0), s["mean"] + s["std"].fillna(0), alpha=0.2)
        lo = np.nanpercentile(c["test_acc"], 5)
        ax.set_ylim(lo, min(100, c["test_acc"].max() + 1))
        ax.set_xlabel("training iteration (thousands)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"Learning curves at {_pct(imp_density(S, level))} remaining (level {level}); "
                     f"mean ± sd over {len(S.trials)} trials, {S.name} profile", fontsize=9)
        ax.legend(fontsize=7)

    return render


def effects(vs: Sequence[Verdict], S: ImpScale, title: str, unit: str = "accuracy points",
            scale: str = "") -> plt.Figure:
    """The effects figure of these verdicts' cells in `unit`: the early-stop iteration cells (LT-2, LT-3) under
    "thousand iterations", every other cell under accuracy points, so one axis never mixes the two; `scale` (default
    S's) is the caption's scale."""
    iters = unit == "thousand iterations"
    own = [dataclasses.replace(v, evidence=v.evidence[v.evidence["comparison"].str.endswith(
        lottery_rules.IN_ITERATIONS) == iters]) if len(v.evidence) else v for v in vs]
    return effects_figure(own, title, scale or S.scale(), f"{S.dataset}, {S.name} profile", "MNIST, full scale",
                          unit=unit)
