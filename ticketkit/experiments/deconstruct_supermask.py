"""Zhou et al.'s supermasks as the reproduction (seed 003, Figure 6) tests them: a criterion's masks, ranked on a
base network trained to convergence or stopped at 25 / 50 / 75% validation accuracy, applied to the untrained
initial weights (or their signed constants) at every IMP level's counts and evaluated with no training; plus a
learned supermask. Its grid, table, four-panel figure and the DL-5 / DL-6 rules."""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import supermask_runs
from ..data import num_classes
from ..report import paper_table
from ..runs import RunConfig
from ..verdicts import Verdict, above, decide, effect_row, evaluate, rule, welch
from .deconstruct import DLScale
from .lottery import imp_density, remaining_axis

BASES = ("25", "50", "75", "converged")  # stopped at 25 / 50 / 75% validation accuracy, or trained to the end
CRITERIA = ("large_final", "large_final_same_sign", "magnitude_increase", "magnitude_increase_same_sign", "random")
GOOD = ("large_final_same_sign", "magnitude_increase_same_sign")  # the reproduction's top supermask criteria
WELL_ABOVE = 10.0  # DL-5: "far above chance" = more than 10 accuracy points above random masks
LEARNED = supermask_runs.LEARNED


def run(S: DLScale, base: str, criterion: str, seed: int, signed_constant: bool = False) -> RunConfig:
    """One supermask run: `criterion`'s masks at levels 1..S.supermask_levels from a base network trained to
    convergence or stopped at `base` % validation accuracy (checked every iteration, so nearby targets give
    different bases)."""
    return supermask_runs.config(S.base(seed), criterion=criterion, base_acc=base, signed_constant=signed_constant,
                                 levels=S.supermask_levels, eval_every=S.eval_every if base == "converged" else 1)


def learned(S: DLScale, seed: int) -> RunConfig:
    """One learned supermask on trial `seed`'s initial weights, trained with Zhou et al.'s supermask optimiser."""
    return supermask_runs.config(dataclasses.replace(S.base(seed), train=S.supermask_spec()), criterion=LEARNED)


def grid(S: DLScale) -> list[RunConfig]:
    """Per trial: each base x criterion, plain and as signed constants; and one learned supermask."""
    return [run(S, b, c, t, sc) for t in S.trials for b in BASES for c in CRITERIA for sc in (False, True)] + \
        [learned(S, t) for t in S.trials]


def levels(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per supermask run and level: base, criterion, signed constant, seed, level, density, accuracy at
    initialisation (the learned supermask: one row, level 0, its sampled density)."""
    cols = ["base", "criterion", "signed_constant", "seed", "level", "density", "remaining", "acc", "base_test_acc"]
    if not len(runs) or "level_acc" not in runs:
        return pd.DataFrame(columns=cols)
    rows = []
    for _, r in runs[runs["method"] == "supermask"].iterrows():
        learned = r["opt.criterion"] == LEARNED
        for i, (acc, d) in enumerate(zip(r["level_acc"], r["level_density"])):
            rows.append({"base": "" if learned else r["opt.base"], "criterion": r["opt.criterion"],
                         "signed_constant": _flag(r.get("opt.signed_constant")), "seed": r["seed"],
                         "level": 0 if learned else i + 1, "density": d, "remaining": 100 * d, "acc": acc,
                         "base_test_acc": r.get("base_test_acc", np.nan)})
    return pd.DataFrame(rows, columns=cols)


def _flag(value: Any) -> bool:
    """An option read back from a runs table: True only for a stored boolean True (absent reads as NaN)."""
    return isinstance(value, (bool, np.bool_)) and bool(value)


def best(lv: pd.DataFrame, criterion: str, base: str, signed_constant: bool) -> pd.Series:
    """Per seed: the accuracy at initialisation at the criterion's best level (random treated alike)."""
    sel = lv[(lv["criterion"] == criterion) & (lv["base"] == base) & (lv["signed_constant"] == signed_constant)]
    return sel.groupby("seed")["acc"].max()


def _variant(sc: bool) -> str:
    return "signed constants" if sc else "initial weights"


@rule("DL-5")
def dl5(runs: pd.DataFrame, scale: str) -> Verdict:
    lv, rows = levels(runs), []
    for crit in GOOD:
        for sc in (False, True):
            e = welch(best(lv, crit, "converged", sc), best(lv, "random", "converged", sc))
            rows.append(effect_row({"model": "lenet300_100", "criterion": crit, "signed_constant": sc,
                                    "comparison": f"{crit} − random mask, {_variant(sc)}, best level"}, e,
                                   above(e, WELL_ABOVE), published=np.nan))
    learned = lv[lv["criterion"] == LEARNED].groupby("seed")["acc"].mean()
    e = welch(learned, best(lv, "random", "converged", False))
    rows.append(effect_row({"model": "lenet300_100", "criterion": LEARNED, "signed_constant": False,
                            "comparison": "learned supermask − random mask (best level)"}, e,
                           above(e, WELL_ABOVE), published=np.nan))
    return decide("DL-5", pd.DataFrame(rows), scale,
                  f"accuracy at initialisation, no training; each mask at its best pruning level per trial, random "
                  f"masks alike; held when the interval lies above +{WELL_ABOVE:g} points")


# DL-6: better trained bases give better supermasks; judged from the least trained base (25%) to the 75% and the
# converged base, and from the 75% base to the converged one; the adjacent pairs 25/50 and 50/75 are shown only
# (Adam reaches 25% and 50% validation accuracy a step or two apart)
JUDGED_BASES = (("25", "75"), ("25", "converged"), ("75", "converged"))


@rule("DL-6")
def dl6(runs: pd.DataFrame, scale: str) -> Verdict:
    lv, rows = levels(runs), []
    for crit in GOOD:
        for sc in (False, True):
            for lo, hi in dict.fromkeys(JUDGED_BASES + tuple(zip(BASES, BASES[1:]))):
                e = welch(best(lv, crit, hi, sc), best(lv, crit, lo, sc))
                judged = (lo, hi) in JUDGED_BASES
                rows.append(effect_row({"model": "lenet300_100", "criterion": crit, "signed_constant": sc,
                                        "comparison": f"{crit}, {_variant(sc)}: base {_base(hi)} − base {_base(lo)}"},
                                       e, above(e) if judged else "", published=np.nan,
                                       note="" if judged else "adjacent bases: shown"))
    return decide("DL-6", pd.DataFrame(rows), scale, "each supermask at its best pruning level per trial; judged "
                                                     "from the 25% base to the 75% and the converged base, and "
                                                     "from the 75% base to the converged one")


def _base(base: str) -> str:
    return base if base == "converged" else f"{base}%"


def scale(S: DLScale) -> str:
    """The supermask page's full scale: the bases' training (the IMP scale) and how the supermasks are made."""
    return f"{S.scale()}. {supermask_scale(S)}"


def supermask_scale(S: DLScale) -> str:
    """How the supermasks are made and evaluated (the bases train at the IMP scale)."""
    t = S.supermask_spec()
    return ("Supermasks: each criterion ranks a base network trained to the end, or stopped at the "
            "first iteration whose validation accuracy reaches 25, 50 or 75% (checked every iteration); its masks at "
            f"levels 1-{S.supermask_levels} are applied to the untrained initial weights (or their signed constants) "
            f"and evaluated with no training. Learned supermasks: {t.epochs} epochs of SGD (lr {t.lr:g}, momentum "
            f"{t.momentum:g}, batch {t.batch_size}) on scores over the initial weights")


def verdicts(runs: pd.DataFrame, S: DLScale) -> list[Verdict]:
    return [evaluate(cid, runs, scale(S)) for cid in ("DL-5", "DL-6")]


def table(runs: pd.DataFrame, S: DLScale) -> Any:
    """Accuracy at initialisation (%) per base and criterion at the curve levels, mean ± sd; the learned
    supermask and the bases' own test accuracy as extra rows."""
    lv, cells = levels(runs), []
    for base in BASES:
        b = lv[lv["base"] == base].groupby("seed")["base_test_acc"].first()
        cells.append(_cell(_base(base), "trained base network", "its own test accuracy", b))
        for crit in CRITERIA:
            for sc in (False, True):
                for level in sorted({x for x in S.curve_levels if 0 < x <= S.supermask_levels} |
                                    {S.supermask_levels}):
                    sel = lv[(lv["base"] == base) & (lv["criterion"] == crit) & (lv["signed_constant"] == sc)
                             & (lv["level"] == level)]["acc"]
                    cells.append(_cell(_base(base), crit + (" (signed constant)" if sc else ""),
                                       f"{100 * imp_density(S, level):.3g}%", sel))
    cells.append(_cell("none", "learned supermask", "learned density", lv[lv["criterion"] == LEARNED]["acc"]))
    spec = S.supermask_spec()
    return paper_table(pd.DataFrame(cells), f"Ours: test accuracy (%) of the masked, untrained network, mean ± sd "
                                            f"over {len(S.trials)} trials at the {S.name} profile; columns: % of "
                                            f"weights remaining. The learned supermask trains {spec.epochs} epochs of "
                                            f"SGD (momentum {spec.momentum:g}, lr {spec.lr:g}, batch "
                                            f"{spec.batch_size}), Zhou et al.'s supermask optimiser. The seed shows "
                                            "this as a figure only.")


def _cell(group: str, row: str, col: str, x: pd.Series) -> dict[str, Any]:
    x = x.astype(float)
    return {"row_group": f"base: {group}", "row": row, "col_group": "% of weights remaining", "col": col,
            "mean": x.mean() if len(x) else np.nan, "sd": x.std(ddof=1) if len(x) > 1 else np.nan, "published": "",
            "outcome": ""}


def figure(runs: pd.DataFrame, S: DLScale, signed_constant: bool = False) -> plt.Figure:
    """003 Figure 6: accuracy at initialisation against % remaining, one panel per base network, one line per
    criterion (mean ± sd), the learned supermask as a point and the chance line."""
    lv = levels(runs)
    chance = 100.0 / num_classes(S.dataset)
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.4), sharey=True)
    learned = lv[lv["criterion"] == LEARNED]
    for ax, base in zip(axes.flat, ("converged", "75", "50", "25")):
        for crit in CRITERIA:
            sel = lv[(lv["base"] == base) & (lv["criterion"] == crit) & (lv["signed_constant"] == signed_constant)]
            if len(sel):
                g = sel.groupby("remaining")["acc"].agg(["mean", "std"])
                style = {"color": "k", "ls": "--"} if crit == "random" else {}
                ax.plot(g.index, g["mean"], marker="o", ms=2.5, lw=1.2, label=crit, **style)
                ax.fill_between(g.index, g["mean"] - g["std"].fillna(0), g["mean"] + g["std"].fillna(0), alpha=0.15)
        if len(learned):
            ax.errorbar([learned["remaining"].mean()], [learned["acc"].mean()], yerr=[learned["acc"].std()],
                        fmt="*", ms=9, color="crimson", label="learned supermask (initial weights"
                        + (", for reference)" if signed_constant else ")"))
        ax.axhline(chance, color="grey", lw=0.8, ls=":", label=f"chance ({chance:.0f}%)")
        remaining_axis(ax, lv[lv["level"] > 0]["remaining"] if len(lv) else ())
        base_acc = lv[lv["base"] == base]["base_test_acc"].astype(float)
        acc = f", base test accuracy {base_acc.mean():.1f}%" if len(base_acc) else ""
        ax.set_title(f"base {'trained to the end' if base == 'converged' else f'stopped at {base}% val. acc.'}{acc}",
                     fontsize=8.5)
        ax.set_xlabel("weights remaining (%, log scale)")
        ax.set_ylabel("test accuracy at initialisation (%)")
    axes.flat[0].legend(fontsize=6.5, ncol=2)
    fig.suptitle(f"Supermasks on the untrained LeNet-300-100 ({_variant(signed_constant)})", fontsize=10)
    fig.text(0.01, -0.01, f"Mean ± sd over trials, no training after masking. Scale: {scale(S)}.", fontsize=6.5,
             wrap=True, va="top")
    fig.tight_layout()
    return fig
