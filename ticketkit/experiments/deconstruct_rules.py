"""The deconstruction chapter's verdict rules (DL-1..DL-4): criteria against random, the best three by area under
the curve, and the sign variants against their criterion; test accuracy at early stopping per IMP level. Seed
003 shows these results as figures only, so no published effect is computed."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..verdicts import (FAILED, HELD, OPEN, Verdict, above, as_good_as, below, decide, dense_margin, effect_row,
                        matches, rule, welch)
from .lottery_rules import SMALLEST

ACC = "early_stop_test_acc"
# (criterion expected above random, its complement expected below): Zhou et al.'s complementary pairs
PAIRS = (("large_final", "small_final"), ("large_init", "small_init"),
         ("large_init_large_final", "small_init_small_final"))
BEST = ("magnitude_increase", "movement", "large_final")
STRONG = SMALLEST  # DL-2's "strong pruning": the level nearest 3.6% remaining, the deepest point LT-1 judges


def _runs(runs: pd.DataFrame) -> pd.DataFrame:
    from .deconstruct import with_criterion

    return with_criterion(runs)


def _acc(r: pd.DataFrame, criterion: str, level: int) -> pd.Series:
    """Per trial: a criterion's test accuracy at early stopping at one level."""
    return r[(r["criterion"] == criterion) & (r["level"] == level)].groupby("seed")[ACC].mean().astype(float)


def _row(criterion: str, level: int, density: float, comparison: str, e, outcome: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    return effect_row({"model": "lenet300_100", "criterion": criterion, "level": level, "density": density,
                       "remaining": round(100 * density, 2), "comparison": comparison}, e, outcome,
                      published=np.nan, **extra)


def _levels(r: pd.DataFrame, *criteria: str) -> list[tuple[int, float]]:
    """(level, density) of the pruned levels every named criterion has runs at."""
    have = [set(r[(r["criterion"] == c) & (r["level"] > 0)]["level"]) for c in criteria]
    common = sorted(set.intersection(*have)) if have else []
    return [(lv, float(r[(r["level"] == lv) & (r["criterion"] == criteria[0])]["density"].iloc[0])) for lv in common]


SHOWN = "shown; the mean over the levels decides"
NOT_CLAIMED = "shown; the claim does not speak of it"


def _curve(r: pd.DataFrame, levels: list[int]) -> pd.Series:
    """Per trial: mean test accuracy at early stopping over `levels` (trials missing a level left out)."""
    g = r[r["level"].isin(levels)].groupby("seed")[ACC]
    return g.mean()[g.count() == len(levels)]


def curve_cells(test: pd.DataFrame, base: pd.DataFrame, name: str, comparison: str, judge=None, **extra  # type: ignore[no-untyped-def]
                ) -> list[dict]:
    """One curve against another: the effect at each common pruned level (shown), and (given a `judge`) the
    deciding cell on each trial's mean over all those levels (the area under the curve), which stands for "one
    curve above the other at most pruning levels" with one test instead of one per level."""
    levels = sorted(set(test[test["level"] > 0]["level"]) & set(base[base["level"] > 0]["level"]))
    rows = []
    for level in levels:
        e = welch(test[test["level"] == level][ACC].astype(float), base[base["level"] == level][ACC].astype(float))
        d = float(test[test["level"] == level]["density"].iloc[0])
        rows.append(_row(name, level, d, comparison, e, "", note=SHOWN if judge else NOT_CLAIMED, **extra))
    if levels and judge is not None:
        e = welch(_curve(test, levels), _curve(base, levels))
        rows.append(_row(name, np.nan, np.nan, f"{comparison}, mean over levels {levels[0]}-{levels[-1]}", e, judge(e),
                         **extra))
    return rows


def _of(r: pd.DataFrame, criterion: str) -> pd.DataFrame:
    return r[r["criterion"] == criterion]


@rule("DL-1")
def dl1(runs: pd.DataFrame, scale: str) -> Verdict:
    r = _runs(runs)
    r = r[r["action"] == "rewind"] if len(r) else r
    rows = []
    for good, bad in PAIRS:
        rows += curve_cells(_of(r, good), _of(r, "random"), good, f"{good} − random", above)
        rows += curve_cells(_of(r, bad), _of(r, "random"), bad, f"{bad} − random", below)
    return decide("DL-1", pd.DataFrame(rows), scale, "a curve is above (below) random when each trial's mean test "
                                                     "accuracy over the pruned levels is; per-level effects shown")


def area(r: pd.DataFrame, criterion: str, levels: list[int]) -> pd.Series:
    """Per trial: mean test accuracy at early stopping over `levels` (the area under the curve)."""
    return _curve(_of(r, criterion), levels)


@rule("DL-2")
def dl2(runs: pd.DataFrame, scale: str) -> Verdict:
    r = _runs(runs)
    m, why = dense_margin(r[r["level"] == 0].assign(method="dense"), ACC)
    r = r[r["action"] == "rewind"] if len(r) else r
    present = [c for c in r["criterion"].dropna().unique() if len(_levels(r, c))]
    common = [lv for lv, _ in _levels(r, *present)] if present else []  # every criterion over the same levels
    others = [c for c in present if c not in BEST]
    rows = []
    if others and all(c in present for c in BEST) and common:
        rival = max(others, key=lambda c: area(r, c, common).mean())
        for c in BEST:
            e = welch(area(r, c, common), area(r, rival, common))
            rows.append(effect_row({"model": "lenet300_100", "criterion": c,
                                    "comparison": f"{c} − {rival} (best of the rest), mean over levels"}, e,
                                   above(e), published=np.nan))
    dense = r[r["level"] == 0][ACC].astype(float)
    for c in (c for c in BEST if c in present):
        level, d = min(_levels(r, c), key=lambda ld: abs(np.log(ld[1] / STRONG)))
        e = welch(_acc(r, c, level), dense)
        near = abs(np.log(d / STRONG)) <= np.log(1.25)  # within one IMP level (20%) of 3.6%
        rows.append(_row(c, level, d, f"{c} − dense, level nearest {100 * STRONG:g}% remaining (keeps the dense "
                                      "accuracy)", e, as_good_as(e, m) if near else "", margin=m,
                         note="" if near else "no level within one IMP round of 3.6% stored yet: shown"))
    return decide("DL-2", pd.DataFrame(rows), scale, "area under the curve: each trial's mean test accuracy at early "
                                                     "stopping over the pruned levels every criterion has; strong "
                                                     f"pruning: the level nearest {100 * STRONG:g}% remaining; {why}")


def _signs(cid: str, family: str, runs: pd.DataFrame, scale: str) -> Verdict:
    r = _runs(runs)
    m, why = dense_margin(r[r["level"] == 0].assign(method="dense"), ACC)
    r = r[r["action"] == "rewind"] if len(r) else r
    same, diff = f"{family}_same_sign", f"{family}_diff_sign"
    rows = curve_cells(_of(r, same), _of(r, family), same, f"{same} − {family} (within noise: inside ±m)",
                       lambda e: matches(e, m), margin=m, margin_test="matches")
    rows += curve_cells(_of(r, diff), _of(r, family), diff, f"{diff} − {family} (below: under −m)",
                        lambda e: below(e, -m), margin=m, margin_test="below −m")
    rows += _falling(r, diff, family)
    return decide(cid, pd.DataFrame(rows), scale, f"{why}; each variant by its trials' mean over the pruned levels; "
                                                  "the diff-sign collapse also as a gap that widens from the "
                                                  "shallowest to the deepest level")


def _gap(r: pd.DataFrame, test: str, base: str, level: int) -> pd.Series:
    """Per trial: test − base at one level (trials share their level-0 network, so the gap pairs them)."""
    return (_acc(r, test, level) - _acc(r, base, level)).dropna()


def _falling(r: pd.DataFrame, test: str, base: str) -> list[dict]:
    """"Drops rapidly as pruning deepens": per trial, test − base at the deepest common level minus the same gap
    at the shallowest; held when the one-sample interval of that change lies below zero."""
    levels = _levels(r, test, base)
    if len(levels) < 2:
        return []
    (first, _), (deepest, _) = levels[0], levels[-1]
    change = (_gap(r, test, base, deepest) - _gap(r, test, base, first)).dropna()  # paired by trial
    e = welch(change, np.zeros(max(len(change), 2)))  # against a constant: the one-sample t-interval
    # a change across levels, not a value at one density: no table cell is coloured by it
    return [_row(test, deepest, np.nan, f"({test} − {base}) at level {deepest} minus at level {first} (the gap "
                 "widens)", e, below(e))]


@rule("DL-3")
def dl3(runs: pd.DataFrame, scale: str) -> Verdict:
    return _signs("DL-3", "large_final", runs, scale)


@rule("DL-4")
def dl4(runs: pd.DataFrame, scale: str) -> Verdict:
    return _signs("DL-4", "magnitude_increase", runs, scale)



def differs(e, margin: float) -> str:  # type: ignore[no-untyped-def]
    """Failed when the interval lies inside [-m, m] (any difference is within noise, even one that excludes zero),
    held when it excludes zero otherwise, else inconclusive."""
    if np.isnan(e.lo) or np.isnan(margin):
        return OPEN
    if -margin <= e.lo and e.hi <= margin:
        return FAILED
    return HELD if e.lo > 0 or e.hi < 0 else OPEN


# DL-7: each action of the large_final ticket against rewinding with pruned weights zero, and how it is judged by
# the curves' means: the sign-keeping constant as good as rewinding; losing the sign pattern (reinit, reshuffle)
# below; freezing the pruned weights at their initial values different; the paper's third mask-0 variant is shown,
# not judged (the claim does not speak of it)
ACTION_TESTS = {"signed_constant": "as good as", "reinit": "below", "reshuffle": "below", "frozen": "differs",
                "frozen_unless_decreased": ""}


@rule("DL-7")
def dl7(runs: pd.DataFrame, scale: str) -> Verdict:
    r = _runs(runs)
    r = r[(r["criterion"] == "large_final") | (r["level"] == 0)]
    m, why = dense_margin(r[r["level"] == 0].assign(method="dense"), ACC)
    rewind, rows = r[r["action"] == "rewind"], []
    for action, how in ACTION_TESTS.items():
        test, what = r[r["action"] == action], f"{action} − rewind" + (f" ({how})" if how else "")
        judge = {"as good as": lambda e: as_good_as(e, m), "below": below, "differs": lambda e: differs(e, m),
                 "": None}[how]
        rows += curve_cells(test, rewind, action, what, judge, action=action, margin=m if how else np.nan,
                            margin_test=how)  # "below" draws no line: it is held against zero
    return decide("DL-7", pd.DataFrame(rows), scale, why)
