"""The lottery chapter's verdict rules (LT-1..LT-4): per IMP level, the ticket against the dense network, its
random re-initialisation and one-shot pruning, on the test accuracy at early stopping (and the early-stop
iteration for LT-2). Seed 002 states these results in words (section 3.1.1), so no published effect is computed."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..report import plural
from ..verdicts import Verdict, above, as_good_as, below, decide, dense_margin, effect_row, rule, welch

BRANCH_LABELS = {"dense": "dense network", "ticket": "winning ticket (iterative)", "reinit": "random re-init",
                 "oneshot": "one-shot"}
COMPARISONS = {"ticket": "ticket − dense", "reinit": "re-init − ticket", "oneshot": "iterative − one-shot"}
IN_ITERATIONS = " (thousand iterations)"  # LT-2 compares the early-stop iteration, not the accuracy
ACC = "early_stop_test_acc"
MODERATE = 0.513  # "a winning ticket with 51.3% of the weights remaining" beats the dense network (002, 3.1.1)
SMALLEST = 0.036  # "when P_m = 3.6% the winning ticket performs on par with the original network"
FAST_DOWN_TO = 0.2  # learns faster "until P_m is 21.1%"
REINIT_SPAN = (0.2, 0.52)  # "for P_m between 51.3% and 21%" re-initialised tickets learn slower and lose accuracy
ONESHOT_BELOW = 0.1  # "at small sizes": levels keeping under 10% of the weights


def with_level(runs: pd.DataFrame) -> pd.DataFrame:
    """IMP runs with `level`, `branch` and `remaining` (% of weights kept) columns."""
    if not len(runs):
        return runs.assign(level=pd.Series(dtype=int), branch=pd.Series(dtype=str), remaining=pd.Series(dtype=float))
    out = runs[runs["method"] == "imp"].copy()
    out["level"] = out["opt.level"].astype(int)
    out["branch"] = out["opt.branch"]
    out["remaining"] = 100 * out["density"]
    return out


def _margin(r: pd.DataFrame) -> tuple[float, str]:
    """Twice the trial-to-trial sd of the dense network's accuracy at early stopping (as every chapter does)."""
    return dense_margin(r[r["level"] == 0].assign(method="dense"), ACC)


def _pairs(r: pd.DataFrame, test: str, base: str, value: str = ACC):  # type: ignore[no-untyped-def]
    """(model, density, test runs, base runs) per model and level where both branches have runs (base "dense"
    = the model's level 0)."""
    for (model, level), g in r[(r["branch"] == test) & (r["level"] > 0)].groupby(["model", "level"]):
        same = r[r["model"] == model]
        other = same[same["level"] == 0] if base == "dense" else same[(same["branch"] == base) & (same["level"] == level)]
        if len(other):
            yield model, float(g["density"].iloc[0]), g[value].astype(float), other[value].astype(float)


def _row(model: str, density: float, comparison: str, e, outcome: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    return effect_row({"model": model, "density": density, "remaining": round(100 * density, 2),
                       "comparison": comparison}, e, outcome, published=np.nan, **extra)


@rule("LT-1")
def lt1(runs: pd.DataFrame, scale: str) -> Verdict:
    r = with_level(runs)
    m, why = _margin(r)
    pairs = list(_pairs(r, "ticket", "dense"))
    rows = []
    for model, d, t, b in pairs:
        e = welch(t, b)
        moderate = min((x for mo, x, _, _ in pairs if mo == model), key=lambda x: abs(x - MODERATE))
        if d == moderate and abs(d - MODERATE) < 0.05:
            rows.append(_row(model, d, "ticket − dense", e, above(e), note="the level near 51.3%: above zero"))
        elif d >= SMALLEST - 0.001:
            rows.append(_row(model, d, "ticket − dense", e, as_good_as(e, m), margin=m))
        else:
            rows.append(_row(model, d, "ticket − dense", e, "", note="below 3.6% remaining: shown, not judged"))
    return decide("LT-1", pd.DataFrame(rows), scale, why)


@rule("LT-2")
def lt2(runs: pd.DataFrame, scale: str) -> Verdict:
    r = with_level(runs)
    rows = []
    for model, d, t, b in _pairs(r, "ticket", "dense", "early_stop_iteration"):
        e = welch(t / 1000, b / 1000)
        judged = d >= FAST_DOWN_TO
        rows.append(_row(model, d, COMPARISONS["ticket"] + IN_ITERATIONS, e, below(e) if judged else "",
                         note="" if judged else "below 20% remaining: shown, not judged"))
    return decide("LT-2", pd.DataFrame(rows), scale, "effects in thousands of iterations to early stopping")


@rule("LT-3")
def lt3(runs: pd.DataFrame, scale: str) -> Verdict:
    r = with_level(runs)
    rows = []
    for value, judge, unit in ((ACC, below, ""), ("early_stop_iteration", above, IN_ITERATIONS)):
        for model, d, t, b in _pairs(r, "reinit", "ticket", value):
            e = welch(t, b) if not unit else welch(t / 1000, b / 1000)
            judged = REINIT_SPAN[0] <= d <= REINIT_SPAN[1]
            rows.append(_row(model, d, COMPARISONS["reinit"] + unit, e, judge(e) if judged else "",
                             note="" if judged else "outside 21-51% remaining: shown, not judged"))
    return decide("LT-3", pd.DataFrame(rows), scale, "learning slower: a later early-stop iteration, in thousands")


@rule("LT-4")
def lt4(runs: pd.DataFrame, scale: str) -> Verdict:
    r = with_level(runs)
    rows = []
    for model, d, oneshot, ticket in _pairs(r, "oneshot", "ticket"):
        e = welch(ticket, oneshot)
        judged = d < ONESHOT_BELOW
        rows.append(_row(model, d, "iterative − one-shot", e, above(e) if judged else "",
                         note="" if judged else "10% or more remaining: shown, not judged"))
    return decide("LT-4", pd.DataFrame(rows), scale)


@rule("LT-5")
def lt5(runs: pd.DataFrame, scale: str) -> Verdict:
    from .lottery_liu import published_effect, with_arms

    r = with_arms(runs[runs["method"] == "imp"])
    unpruned = r[r["arm"] == "unpruned"]
    m, why = dense_margin(unpruned.assign(method="dense", dataset=unpruned["lr"].astype(str)), "best_test_acc")
    rows = []
    for (model, lr, ratio), g in r[r["arm"] == "ticket"].groupby(["model", "lr", "ratio"]):
        base = r[(r["model"] == model) & (r["lr"] == lr) & (r["ratio"] == ratio) & (r["arm"] == "reinit")]
        if not len(base):
            continue
        e = welch(g["best_test_acc"], base["best_test_acc"])
        high = lr >= 0.1 - 1e-12  # "no better than random" at 0.1: below +m; "better" at 0.01: above zero
        pub, sd = published_effect(lr, model, ratio)
        rows.append(effect_row({"model": model, "lr": lr, "ratio": ratio, "density": float(g["density"].iloc[0]),
                                "comparison": f"ticket − random init, lr {lr:g}"}, e,
                               below(e, m) if high else above(e), margin=m if high else np.nan,
                               margin_test="below +m", published=round(pub, 2), **{"published sd": round(sd, 2)}))
    return decide("LT-5", pd.DataFrame(rows), scale, why)


INTERPOLATED = 1.0  # training error (%) below which a 2-layer net counts as fitting its training set (LT-8)


@rule("LT-8")
def lt8(runs: pd.DataFrame, scale: str) -> Verdict:
    from .lottery_size import errors

    r = errors(runs[runs["model"] == "fc2"])
    sizes = sorted(r["hidden"].unique())
    train_err = r.groupby("hidden")["train_err"].mean()
    fit = [h for h in sizes if train_err[h] < INTERPOLATED]
    start = fit[0] if fit else sizes[0]
    judged = r[r["hidden"] >= start]  # the seed spread of the sizes judged (tiny nets vary far more)
    m, why = dense_margin(judged.assign(method="dense", dataset="", model=judged["hidden"].astype(str)), "test_err")
    rows = []
    for a, b in zip(sizes, sizes[1:]):
        e = welch(r.loc[r["hidden"] == b, "test_err"], r.loc[r["hidden"] == a, "test_err"])
        judged = a >= start
        rows.append(effect_row({"model": "fc2", "hidden": int(b), "comparison": f"test error, H {b} − H {a}"}, e,
                               below(e, m) if judged else "", margin=m, margin_test="below +m", published=np.nan,
                               note="" if judged else "before the interpolation point: shown, not judged"))
    where = (f"from H = {start}, the first size whose training error is below {INTERPOLATED:g}%" if fit else
             f"every step: no size fits its training set (training error below {INTERPOLATED:g}%) at this scale")
    return decide("LT-8", pd.DataFrame(rows), scale, f"{why.replace('dense networks', 'networks of one size')}; "
                                                     f"steps judged {where}")


REWIND_JUDGED = 0.2  # LT-6: levels keeping at most 20% of the weights, where rewinding to init fails at high lr


@rule("LT-6")
def lt6(runs: pd.DataFrame, scale: str) -> Verdict:
    from .lottery_rewind import VARIANTS, with_variant

    r = with_variant(runs[(runs["method"] == "imp") & (runs["model"] == "vgg19")])
    rows = []
    for (epochs, level), g in r[r["level"] > 0].groupby(["epochs", "level"]):
        base = g[g["variant"] == "rewind_0"]["final_test_acc"]
        d = float(g["density"].iloc[0])
        for v in ("rewind_k", "warmup"):
            test = g[g["variant"] == v]["final_test_acc"]
            if not len(test) or not len(base):
                continue
            e = welch(test, base)
            judged = d <= REWIND_JUDGED + 1e-9
            rows.append(effect_row({"model": "vgg19", "epochs": int(epochs), "variant": v, "density": d,
                                    "remaining": round(100 * d, 2),
                                    "comparison": f"{VARIANTS[v]} − rewind to init, {plural(int(epochs), 'epoch')}"}, e,
                                   above(e) if judged else "", published=np.nan,
                                   note="" if judged else "more than 20% remaining: shown, not judged"))
    return decide("LT-6", pd.DataFrame(rows), scale)


SAME_BUDGET = "Scratch-B's budget rounds to Scratch-E's epochs at this scale: the same training, shown, not judged"


def _same_budget(g: pd.DataFrame) -> bool:
    """Whether a plan's Scratch-B trained exactly Scratch-E's epochs (its extra computation rounded away)."""
    if "epochs_trained" not in g:
        return False
    e, b = (set(g.loc[g["arm"] == a, "epochs_trained"].dropna()) for a in ("scratch_e", "scratch_b"))
    return bool(e) and e == b


@rule("LT-7")
def lt7(runs: pd.DataFrame, scale: str) -> Verdict:
    from .lottery_structured import ARM_LABELS, published_effect, with_arm

    r = with_arm(runs[runs["method"] == "structured"])
    unpruned = r[r["arm"] == "unpruned"]
    m, why = dense_margin(unpruned.assign(method="dense"))
    rows = []
    for (model, plan), g in r[r["arm"] != "unpruned"].groupby(["model", "plan"]):
        tuned = g[g["arm"] == "finetuned"]["final_test_acc"]
        for arm, base, base_arm, test in (("finetuned", unpruned[unpruned["model"] == model], "unpruned", as_good_as),
                                          ("scratch_e", g[g["arm"] == "finetuned"], "finetuned", below),
                                          ("scratch_b", g[g["arm"] == "finetuned"], "finetuned", as_good_as)):
            sel = g[g["arm"] == arm]["final_test_acc"]
            if not len(sel) or not len(base) or (base_arm == "finetuned" and not len(tuned)):
                continue
            e = welch(sel, base["final_test_acc"])
            outcome = test(e, m) if test is as_good_as else test(e)
            same = arm == "scratch_b" and _same_budget(g)
            rows.append(effect_row({"model": model, "plan": plan, "arm": arm,
                                    "comparison": f"{plan}: {ARM_LABELS[arm]} − {ARM_LABELS[base_arm]}"}, e,
                                   "" if same else outcome, margin=m if test is as_good_as else np.nan,
                                   published=round(published_effect(plan, arm, base_arm), 2),
                                   note=f"{SAME_BUDGET} ({int(g['epochs_trained'].max())} epochs)" if same else ""))
    return decide("LT-7", pd.DataFrame(rows), scale, why)
