"""The deconstruction chapter's verdict rules (DL-1..DL-4): criteria against random, the best three by area under
the curve, and the sign variants against their criterion; test accuracy at early stopping per IMP level. Seed
003 shows these results as figures only, so no published effect is computed."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..verdicts import (FAILED, HELD, OPEN, Verdict, above, as_good_as, below, decide, dense_margin, effect_row, rule,
                        welch)

ACC = "early_stop_test_acc"
# (criterion expected above random, its complement expected below): Zhou et al.'s complementary pairs
PAIRS = (("large_final", "small_final"), ("large_init", "small_init"),
         ("large_init_large_final", "small_init_small_final"))
BEST = ("magnitude_increase", "movement", "large_final")


def _runs(runs: pd.DataFrame) -> pd.DataFrame:
    from .deconstruct import with_criterion

    return with_criterion(runs)


def _acc(r: pd.DataFrame, criterion: str, level: int) -> pd.Series:
    return r[(r["criterion"] == criterion) & (r["level"] == level)][ACC].astype(float)


def _row(criterion: str, level: int, density: float, comparison: str, e, outcome: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    return effect_row({"model": "lenet300_100", "criterion": criterion, "level": level, "density": density,
                       "remaining": round(100 * density, 2), "comparison": comparison}, e, outcome,
                      published=np.nan, **extra)


def _levels(r: pd.DataFrame, *criteria: str) -> list[tuple[int, float]]:
    """(level, density) of the pruned levels every named criterion has runs at."""
    have = [set(r[(r["criterion"] == c) & (r["level"] > 0)]["level"]) for c in criteria]
    common = sorted(set.intersection(*have)) if have else []
    return [(lv, float(r[(r["level"] == lv) & (r["criterion"] == criteria[0])]["density"].iloc[0])) for lv in common]


@rule("DL-1")
def dl1(runs: pd.DataFrame, scale: str) -> Verdict:
    r = _runs(runs)
    rows = []
    for good, bad in PAIRS:
        for level, d in _levels(r, good, bad, "random"):
            base = _acc(r, "random", level)
            up, down = welch(_acc(r, good, level), base), welch(_acc(r, bad, level), base)
            rows.append(_row(good, level, d, f"{good} − random", up, above(up)))
            rows.append(_row(bad, level, d, f"{bad} − random", down, below(down)))
    return decide("DL-1", pd.DataFrame(rows), scale)


def area(r: pd.DataFrame, criterion: str) -> pd.Series:
    """Per trial: mean test accuracy at early stopping over the pruned levels (the area under the curve)."""
    sel = r[(r["criterion"] == criterion) & (r["level"] > 0)]
    return sel.groupby("seed")[ACC].mean()


@rule("DL-2")
def dl2(runs: pd.DataFrame, scale: str) -> Verdict:
    r = _runs(runs)
    present = [c for c in r["criterion"].dropna().unique() if len(area(r, c))]
    others = [c for c in present if c not in BEST]
    rows = []
    if others and all(c in present for c in BEST):
        rival = max(others, key=lambda c: area(r, c).mean())
        for c in BEST:
            e = welch(area(r, c), area(r, rival))
            rows.append(effect_row({"model": "lenet300_100", "criterion": c,
                                    "comparison": f"{c} − {rival} (best of the rest), mean over levels"}, e,
                                   above(e), published=np.nan))
    return decide("DL-2", pd.DataFrame(rows), scale, "area under the curve: each trial's mean test accuracy at early "
                                                     "stopping over the pruned levels")


def _signs(cid: str, family: str, runs: pd.DataFrame, scale: str) -> Verdict:
    r = _runs(runs)
    m, why = dense_margin(r[r["level"] == 0].assign(method="dense"), ACC)
    rows = []
    same, diff = f"{family}_same_sign", f"{family}_diff_sign"
    for level, d in _levels(r, family, same, diff):
        base = _acc(r, family, level)
        e_same, e_diff = welch(_acc(r, same, level), base), welch(_acc(r, diff, level), base)
        rows.append(_row(same, level, d, f"{same} − {family}", e_same, as_good_as(e_same, m), margin=m))
        rows.append(_row(diff, level, d, f"{diff} − {family} (far below: under −m)", e_diff, below(e_diff, -m),
                         margin=m))
    return decide(cid, pd.DataFrame(rows), scale, why)


@rule("DL-3")
def dl3(runs: pd.DataFrame, scale: str) -> Verdict:
    return _signs("DL-3", "large_final", runs, scale)


@rule("DL-4")
def dl4(runs: pd.DataFrame, scale: str) -> Verdict:
    return _signs("DL-4", "magnitude_increase", runs, scale)



def differs(e, margin: float) -> str:  # type: ignore[no-untyped-def]
    """Held when the interval excludes zero, failed when it lies inside [-m, m], else inconclusive."""
    if np.isnan(e.lo) or np.isnan(margin):
        return OPEN
    if e.lo > 0 or e.hi < 0:
        return HELD
    return FAILED if -margin <= e.lo and e.hi <= margin else OPEN


# DL-7: each action of the large_final ticket against rewinding with pruned weights zero, and how it is judged
ACTION_TESTS = {"signed_constant": "as good as", "reinit": "below", "reshuffle": "below", "frozen": "differs",
                "frozen_unless_decreased": "differs"}


@rule("DL-7")
def dl7(runs: pd.DataFrame, scale: str) -> Verdict:
    r = _runs(runs)
    r = r[(r["criterion"] == "large_final") | (r["level"] == 0)]
    m, why = dense_margin(r[r["level"] == 0].assign(method="dense"), ACC)
    rows = []
    for action, how in ACTION_TESTS.items():
        for level, g in r[(r["action"] == action) & (r["level"] > 0)].groupby("level"):
            base = r[(r["action"] == "rewind") & (r["level"] == level)][ACC]
            if not len(base):
                continue
            e = welch(g[ACC], base)
            outcome = as_good_as(e, m) if how == "as good as" else below(e) if how == "below" else differs(e, m)
            d = float(g["density"].iloc[0])
            rows.append(_row(action, int(level), d, f"{action} − rewind ({how})", e, outcome, action=action,
                             margin=m))
    return decide("DL-7", pd.DataFrame(rows), scale, why)
