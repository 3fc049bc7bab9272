"""The deconstructing-lottery-tickets chapter (seed 003): Zhou et al.'s mask criteria and their sign variants on
LeNet-300-100, each criterion an IMP trajectory (the LeNet scale of the lottery chapter; level 0 is shared);
tables, figures and the slider ranking the criteria at one level."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import imp
from ..params import chapter_scale
from ..report import cell_outcomes, paper_table
from ..runs import RunConfig
from ..train import TrainSpec
from ..verdicts import Verdict, evaluate
from .lottery import ImpScale, imp_density, remaining_axis

MAIN = ("large_final", "small_final", "large_init", "small_init", "large_init_large_final", "small_init_small_final",
        "magnitude_increase", "movement", "random")
SIGNS = {"large_final": ("large_final", "large_final_same_sign", "large_final_diff_sign"),
         "magnitude_increase": ("magnitude_increase", "magnitude_increase_same_sign", "magnitude_increase_diff_sign")}


@dataclass(frozen=True)
class DLScale(ImpScale):
    """The LeNet IMP scale with the criteria compared."""

    criteria: tuple[str, ...] = MAIN
    supermask_levels: int = 24  # IMP levels' counts at which criterion masks are evaluated untrained (the scripts' 24)
    supermask_epochs: int = 2000  # the learned supermask's training (the repository's README command)

    def supermask_spec(self) -> TrainSpec:
        """Zhou et al.'s learned-supermask optimiser (train_supermask.py): SGD, momentum 0.9, lr 100, batch 250."""
        return TrainSpec(epochs=self.supermask_epochs, batch_size=250, optimizer="sgd", lr=100.0, momentum=0.9,
                         weight_decay=0.0, schedule="constant", augment=False)


SCALES = {
    "smoke": DLScale("smoke", "digits", image_size=8, trials=(0, 1), levels=3, epochs=2, val_size=200, eval_every=10,
                     reinit_levels=(), oneshot_levels=(), curve_levels=(0, 1, 3), supermask_levels=3,
                     supermask_epochs=2,
                     note="scikit-learn's 8x8 digits, 2 epochs: proves the pipeline runs; its numbers mean nothing"),
    "cpu": DLScale("cpu", "fashion_mnist", levels=16, epochs=11, reinit_levels=(), oneshot_levels=(),
                   curve_levels=(0, 3, 7, 12, 16), supermask_epochs=50,
                   note="Fashion-MNIST stands in for MNIST, with Zhou et al.'s optimiser, batch and pruning rates; to "
                        "fit the CPU budget each training is 11 epochs (about 10K iterations instead of 50K), the "
                        "trajectories stop at 2.9% remaining (16 levels) instead of about 1%, and the learned "
                        "supermask trains 50 epochs instead of 2,000"),
    "paper": DLScale("paper", "mnist", levels=21, reinit_levels=(), oneshot_levels=(),
                     curve_levels=(0, 3, 7, 12, 16, 21),
                     note="Zhou et al.'s MNIST setting, levels down to about 1% remaining"),
}


def get_scale(profile: str, overrides: dict[str, Any] | None = None, **named: Any) -> DLScale:
    from ..pruning.criteria import CRITERIA

    s = chapter_scale(SCALES, profile, overrides, named)
    for c in s.criteria:
        CRITERIA.get(c)
    if max(s.curve_levels) > s.levels:
        raise ValueError(f"curve level {max(s.curve_levels)} is deeper than levels = {s.levels}")
    return s


def trajectory(S: DLScale, criterion: str, **actions: str) -> list[RunConfig]:
    """Every level of every trial's trajectory pruned by `criterion` (with mask1 / mask0 actions when given);
    level 0, the dense network, is shared."""
    return [imp.level_config(_with(S.base(seed=t), criterion=criterion, **actions), lv) for t in S.trials
            for lv in range(S.levels + 1)]


def _with(cfg: RunConfig, **opts: Any) -> RunConfig:
    return cfg.__class__(**{**cfg.__dict__, "options": tuple({**dict(cfg.options), **opts}.items())})


def criteria_grid(S: DLScale) -> list[RunConfig]:
    return list(dict.fromkeys(c for crit in S.criteria for c in trajectory(S, crit)))


def signs_grid(S: DLScale, family: str) -> list[RunConfig]:
    return list(dict.fromkeys(c for crit in SIGNS[family] for c in trajectory(S, crit)))


ACTIONS = {"rewind": {}, "reinit": {"mask1": "reinit"}, "reshuffle": {"mask1": "reshuffle"},
           "signed_constant": {"mask1": "signed_constant"}, "frozen": {"mask0": "frozen"},
           "frozen_unless_decreased": {"mask0": "frozen_unless_decreased"}}  # large_final ticket variants


def actions_grid(S: DLScale) -> list[RunConfig]:
    """large_final trajectories with each mask-1 action (pruned weights zero) and each mask-0 action (kept
    weights rewound)."""
    return list(dict.fromkeys(c for opts in ACTIONS.values() for c in trajectory(S, "large_final", **opts)))


def with_criterion(runs: pd.DataFrame) -> pd.DataFrame:
    """IMP runs with `criterion`, `level` and `remaining`; level 0 (shared) appears once per criterion asked."""
    if not len(runs):
        return runs.assign(criterion=pd.Series(dtype=str), level=pd.Series(dtype=int),
                           remaining=pd.Series(dtype=float))
    r = runs[runs["method"] == "imp"].copy()
    r["level"] = r["opt.level"].astype(int)
    r["criterion"] = r["opt.criterion"] if "opt.criterion" in r else None
    r["remaining"] = 100 * r["density"]
    mask1 = r["opt.mask1"].fillna("rewind") if "opt.mask1" in r else "rewind"
    mask0 = r["opt.mask0"].fillna("zero") if "opt.mask0" in r else "zero"
    r["action"] = np.where(pd.Series(mask0, index=r.index) != "zero", mask0, mask1)  # ACTIONS' names
    return r


def table(runs: pd.DataFrame, S: DLScale, criteria: Sequence[str], vs: Sequence[Verdict] = (),
          by: str = "criterion") -> Any:
    """Criteria (or, by="action", the large_final ticket's actions) as rows by % remaining at the curve levels and
    every level a verdict judges a cell at: test accuracy at early stopping, mean ± sd."""
    r = with_criterion(runs)
    if by == "action" and len(r):
        r = r[r["criterion"].isin(["large_final"]) | (r["level"] == 0)].assign(criterion=lambda d: d["action"])
    at_one = lambda e: by in e and not pd.isna(e.get("density", np.nan))  # noqa: E731 (means over levels: none)
    outcome = cell_outcomes(vs, lambda v, e: (e[by], round(e["density"], 6)) if at_one(e) else None)
    judged = {int(e["level"]) for v in vs for _, e in v.evidence.iterrows()
              if at_one(e) and e[by] in criteria and e["outcome"] and not pd.isna(e.get("level", np.nan))}
    dense = r[r["level"] == 0]["early_stop_test_acc"] if len(r) else pd.Series(dtype=float)
    cells = [_cell("dense network", "100%", dense, "")]
    for crit in criteria:
        for lv in sorted({lv for lv in S.curve_levels if lv > 0} | judged):
            d = imp_density(S, lv)
            sel = r[(r["criterion"] == crit) & (r["level"] == lv)]["early_stop_test_acc"] if len(r) else dense[:0]
            cells.append(_cell(crit, f"{100 * d:.3g}%", sel, outcome.get((crit, round(d, 6)), "")))
    return paper_table(pd.DataFrame(cells), f"Ours: test accuracy (%) at early stopping, mean ± sd over "
                                            f"{len(S.trials)} trials at the {S.name} profile. The seed shows this "
                                            "as a figure only.")


def _cell(row: str, col: str, x: pd.Series, outcome: str) -> dict[str, Any]:
    return {"row_group": "", "row": row, "col_group": "% of weights remaining", "col": col,
            "mean": x.mean() if len(x) else np.nan, "sd": x.std(ddof=1) if len(x) > 1 else np.nan, "published": "",
            "outcome": outcome}


def figure(runs: pd.DataFrame, S: DLScale, criteria: Sequence[str], title: str, by: str = "criterion") -> plt.Figure:
    """Test accuracy at early stopping against % remaining, one line per criterion (or action; mean ± sd)."""
    r = with_criterion(runs)
    if by == "action" and len(r):
        r = r[r["criterion"] == "large_final"].assign(criterion=lambda d: d["action"])
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for crit in criteria:
        sel = r[(r["criterion"] == crit) & (r["level"] > 0)] if len(r) else r
        if len(sel):
            g = sel.groupby("remaining")["early_stop_test_acc"].agg(["mean", "std"])
            style = {"color": "k", "ls": "--"} if crit == "random" else {}
            ax.plot(g.index, g["mean"], marker="o", ms=2.5, lw=1.2, label=crit, **style)
            ax.fill_between(g.index, g["mean"] - g["std"].fillna(0), g["mean"] + g["std"].fillna(0), alpha=0.15)
    remaining_axis(ax, r["remaining"] if len(r) else ())
    ax.set_xlabel("weights remaining (%, log scale)")
    ax.set_ylabel("test accuracy at early stop (%)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.text(0.01, -0.02, f"Mean ± sd over trials. Scale: {S.scale()}.", fontsize=6.5, wrap=True, va="top")
    fig.tight_layout()
    return fig


def ranking_page(runs: pd.DataFrame, S: DLScale, criteria: Sequence[str]):  # type: ignore[no-untyped-def]
    """What the slider shows at one % remaining: the criteria ranked by test accuracy at early stopping there."""
    r = with_criterion(runs)

    def render(density: float) -> None:
        level = min(range(1, S.levels + 1), key=lambda lv: abs(imp_density(S, lv) - density))
        sel = r[(r["level"] == level) & r["criterion"].isin(criteria)] if len(r) else r
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        if len(sel):
            g = sel.groupby("criterion")["early_stop_test_acc"].agg(["mean", "std"]).sort_values("mean")
            ax.barh(g.index, g["mean"], xerr=g["std"].fillna(0), color=["k" if c == "random" else "#4a7ab7"
                                                                        for c in g.index])
            ax.set_xlim(max(0.0, float((g["mean"] - g["std"].fillna(0)).min()) - 2), 100)
        ax.set_xlabel("test accuracy at early stop (%)")
        ax.set_title(f"Criteria ranked at {100 * imp_density(S, level):.3g}% remaining (level {level}); mean ± sd "
                     f"over {len(S.trials)} trials, {S.name} profile", fontsize=9)

    return render


def verdicts(runs: pd.DataFrame, S: DLScale, ids: Sequence[str]) -> list[Verdict]:
    return [evaluate(cid, runs, S.scale()) for cid in ids]
