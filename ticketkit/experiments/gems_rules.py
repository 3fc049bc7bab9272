"""The rare-gems chapter's verdict rules (RG-1, RG-2, RG-3, RG-5): per density, differences of seed means with 95%
Welch intervals; beside each, the same difference as printed in one of seed 004's tables at the same density
(Tables 2, 3, 4, 16), NaN where none prints it (Figures 3 and 6 are figures only). IMP is compared at its level
for each density, the deepest keeping about the density or more (gems.with_variant)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ..data import num_classes
from ..report import plural
from ..scoremask import GEM_MINER
from ..verdicts import Effect, Verdict, above, as_good_as, below, decide, effect_row, rule, welch
from .gems import TABLE3, label, published_effect, with_variant

ACC, PRE = "final_test_acc", "pre_finetune_acc"  # last-epoch test accuracy after / before fine-tuning
GAIN = "finetune_gain"  # ACC minus PRE of one run
NEAR_CHANCE = 5.0  # RG-1: "near chance" = within 5 points of 100 / classes
CHECKS = ("gem_miner_shuffle", "gem_miner_reinit", "gem_miner_inverted")
SPARSE = 0.0144  # the sparse regime: <= 1.44% of weights kept


def seeds(r: pd.DataFrame, name: str, kept: float, value: str) -> pd.Series:
    """One variant's `value` per seed at one density."""
    if value not in r:
        return pd.Series(dtype=float)
    sel = r[(r["variant"] == name) & np.isclose(r["kept"], kept)]
    return sel.groupby("seed")[value].mean().astype(float)


def gem_margin(r: pd.DataFrame) -> tuple[float, str]:
    """Equivalence margin m = 2 x the pooled seed-to-seed sd of Gem-Miner's accuracy after fine-tuning (its short
    and long searches) over the densities of the table, rounded up to 0.1, and why; nan with fewer than two seeds
    at every density."""
    gm = r[r["variant"].isin([GEM_MINER, "gem_miner_long"])]
    groups = [g[ACC].to_numpy(float) for _, g in gm.groupby(["variant", "kept"]) if len(g) > 1]
    dof = sum(len(g) - 1 for g in groups)
    if not dof:
        return np.nan, "no margin: Gem-Miner has fewer than two seeds at every density"
    sd = float(np.sqrt(sum(((g - g.mean()) ** 2).sum() for g in groups) / dof))
    m = float(np.ceil(2 * sd * 10) / 10)
    return m, (f"margin m = {m:.1f} points: twice Gem-Miner's seed-to-seed sd after fine-tuning ({sd:.2f}, pooled "
               f"over {plural(len(groups), 'search and density', 'searches and densities')}, "
               f"{plural(dof, 'degree')} of freedom), rounded up to 0.1")


def sparse(r: pd.DataFrame, names: tuple[str, ...]) -> list[float]:
    """The sparse regime's densities where every named variant has runs (<= 1.44%; the smallest at scales with
    none)."""
    have = _densities(r, *names)
    return [d for d in have if d <= SPARSE * (1 + 1e-6)] or have[-1:]


def _densities(r: pd.DataFrame, *names: str) -> list[float]:
    """Densities (largest first) at which every named variant has runs."""
    have = [set(r[r["variant"] == n]["kept"]) for n in names]
    return sorted(set.intersection(*have), reverse=True)


def _row(r: pd.DataFrame, cell: str, kept: float, comparison: str, e: Effect, outcome: str, published: float,
         stage: str = "", **extra: object) -> dict:
    """An evidence row; `variant` and `stage` ("pre" or "post" fine-tuning; "" for none) name the table cell the
    outcome colours."""
    return effect_row({"model": str(r["model"].iloc[0]), "variant": cell, "density": kept,
                       "remaining": round(100 * kept, 4), "comparison": comparison, "stage": stage}, e, outcome,
                      published=published, **extra)


def _diff(r: pd.DataFrame, test: str, base: str, kept: float, value: str, judge: Callable[[Effect], str],
          cell: str) -> dict:
    """test minus base at one density, judged by `judge` (above / below zero), the published effect beside it."""
    e = welch(seeds(r, test, kept, value), seeds(r, base, kept, value))
    stage = "pre" if value == PRE else "post"
    return _row(r, cell, kept, f"{label(test)} − {label(base)}", e, judge(e),
                published_effect(test, base, kept, stage), stage)


@rule("RG-1")
def rg1(runs: pd.DataFrame, scale: str) -> Verdict:
    r, rows = with_variant(runs), []
    for kept in _densities(r, GEM_MINER, "sr_v1"):
        rows.append(_diff(r, GEM_MINER, "sr_v1", kept, PRE, above, GEM_MINER))
    for name in ("imp", "sr_v1"):
        for kept in _densities(r, name):
            rows.append(near_chance(r, name, kept))
    return decide("RG-1", pd.DataFrame(rows), scale,
                  "accuracy before fine-tuning: the masked network with no weight training, its BatchNorm "
                  "statistics re-estimated on training images alike for every method; IMP's is its short-cold "
                  "ticket rewound to initialisation, at its level for each density")


def near_chance(r: pd.DataFrame, name: str, kept: float) -> dict:
    """A variant's accuracy before fine-tuning minus chance, below +NEAR_CHANCE (one-sample t-interval)."""
    chance = 100.0 / num_classes(str(r["dataset"].iloc[0]))
    x = seeds(r, name, kept, PRE)
    e = welch(x, np.full(max(len(x), 2), chance))  # against a constant: the one-sample t-interval
    return _row(r, name, kept, f"{label(name)} − chance ({chance:g}%)", e, below(e, NEAR_CHANCE), np.nan,
                "pre", n=f"{e.n_test} vs chance")


@rule("RG-2")
def rg2(runs: pd.DataFrame, scale: str) -> Verdict:
    r, rows = with_variant(runs), []
    m, why = gem_margin(r)
    for kept in _densities(r, GEM_MINER, "imp"):
        judge = above if kept <= SPARSE * (1 + 1e-6) else lambda e: as_good_as(e, m)
        rows.append(_diff(r, GEM_MINER, "imp", kept, ACC, judge, "imp"))
    for base in ("ep", "sr_v1"):
        for kept in _densities(r, GEM_MINER, base):
            rows.append(_diff(r, GEM_MINER, base, kept, ACC, above, base))
    return decide("RG-2", pd.DataFrame(rows), scale,
                  f"IMP is short-cold IMP fine-tuned at its level for each density (Table 4's published IMP is "
                  f"warm, so no published effect is set beside it); {why}")


@rule("RG-3")
def rg3(runs: pd.DataFrame, scale: str) -> Verdict:
    r, rows = with_variant(runs), []
    for check in CHECKS:
        for kept in _densities(r, check, GEM_MINER):
            rows.append(_diff(r, check, GEM_MINER, kept, ACC, below, check))
    return decide("RG-3", pd.DataFrame(rows), scale)


@rule("RG-5")
def rg5(runs: pd.DataFrame, scale: str) -> Verdict:
    r, rows = with_variant(runs), []
    if ACC in r and PRE in r:
        r = r.assign(**{GAIN: r[ACC] - r[PRE]})
    table3 = r[r["variant"].isin(TABLE3)]["kept"]
    kept = float(table3.min()) if len(table3) else np.nan
    have = lambda *names: all(len(seeds(r, n, kept, ACC)) for n in names)  # noqa: E731
    if have("ep", GEM_MINER):
        rows += [_diff(r, "ep", GEM_MINER, kept, ACC, below, "ep"), _gain(r, "ep", GEM_MINER, kept)]
    rows += [_most_of_gap(r, fix, "ep", GEM_MINER, kept) for fix in ("global_ep_gradual", "global_ep_gradual_reg")
             if have(fix, "ep", GEM_MINER)]
    if have("global_ep", "ep"):
        rows.append({**_diff(r, "global_ep", "ep", kept, ACC, lambda e: "", "global_ep"),
                     "note": "shown: the claim credits global scores and gradual pruning together"})
    return decide("RG-5", pd.DataFrame(rows), scale,
                  "'not finetunable': Edge-Popup gains less from fine-tuning (accuracy after minus before, per run) "
                  "than Gem-Miner; 'fix most of that': a gradual global variant ends above the midpoint of "
                  "Edge-Popup and Gem-Miner (per seed), i.e. closes more than half the gap between them")


def _gain(r: pd.DataFrame, test: str, base: str, kept: float) -> dict:
    """Fine-tuning gain (after minus before, per run) of `test` minus that of `base`: held below zero."""
    e = welch(seeds(r, test, kept, GAIN), seeds(r, base, kept, GAIN))
    pub = published_effect(test, base, kept, "post") - published_effect(test, base, kept, "pre")
    return _row(r, test, kept, f"fine-tuning gain: {label(test)} − {label(base)}", e, below(e), round(pub, 2))


def _most_of_gap(r: pd.DataFrame, fix: str, low: str, high: str, kept: float) -> dict:
    """`fix` minus the per-seed midpoint of `low` and `high` after fine-tuning: held above zero (more than half
    of the gap between them closed)."""
    mid = ((seeds(r, low, kept, ACC) + seeds(r, high, kept, ACC)) / 2).dropna()
    e = welch(seeds(r, fix, kept, ACC), mid)
    pub = published_effect(fix, low, kept) - published_effect(high, low, kept) / 2
    return _row(r, fix, kept, f"{label(fix)} − midpoint of {label(low)} and {label(high)}", e, above(e),
                round(pub, 2), "post")
