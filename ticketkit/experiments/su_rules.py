"""The Su et al. chapter's verdict rules (SU-1..SU-7): which cells decide, what each compares, with which test,
and the published effect of the same comparison (seed 001's poster tables, seed 000's Tables 1 and 2)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import reference
from ..report import plural
from ..verdicts import (CELL, FAILED, HELD, Verdict, above, as_good_as, below, collapsed, decide,
                        dense_margin, effect_row, not_testable, rule, welch)

# Our dataset -> the published dataset its effects are read against (the cpu profile's stand-in for CIFAR-10).
PUBLISHED_DATASET = {"fashion_mnist": "cifar10", "digits": "cifar10", "synthetic": "cifar10"}
LABELS = {"random_tickets": "random tickets", "lottery": "lottery tickets", "lr_rewinding": "LR rewinding",
          "hybrid": "hybrid tickets", "snip": "SNIP", "grasp": "GraSP", "dense": "full network", "obd": "OBD",
          "shuffle_weights": "shuffle weights", "half_dataset": "half dataset", "corrupted_data": "corrupted data",
          "layerwise_rearrange": "layerwise rearrange", "none": "original"}  # what the pages call methods and checks
MIN_FINAL_PHASE = 10  # epochs after the last lr decay that a best-vs-last gap needs (SU-7)


def _is(runs: pd.DataFrame, method: str, sanity: str = "none") -> pd.Series:
    return (runs["method"] == method) & (runs["sanity"] == sanity)


def _published(row: dict, table: str, source: str, test: str, base: str | tuple[str, ...]) -> tuple[float, float]:
    pub = reference.published()
    pub = pub[(pub["table"] == table) & (pub["source"] == source)]
    dataset = PUBLISHED_DATASET.get(row["dataset"], row["dataset"])
    return reference.published_effect(pub, dataset, row["model"], round(1 - row["density"], 6), test, base)


def _with_published(row: dict, test: str, base: str | tuple[str, ...], poster: str | None,
                    repro: str | None) -> dict:
    """Add the published effect of the same comparison: the poster's (with its sd) and the [Re] paper's."""
    eff, sd = _published(row, poster, reference.SU_POSTER, test, base) if poster else (np.nan, np.nan)
    re_eff, _ = _published(row, repro, reference.SU_REPRO, test, base) if repro else (np.nan, np.nan)
    return {**row, "published": round(eff, 2), "published sd": round(sd, 2), "published [Re]": round(re_eff, 2)}


def _cells(runs: pd.DataFrame, test: tuple[str, str], base: tuple[str, str], comparison: str, decide_cell,  # type: ignore[no-untyped-def]
           published: tuple[str, str | tuple[str, ...], str | None, str | None] | None = None) -> list[dict]:
    """One evidence row per (dataset, model, density) cell where both groups, given as (method, check), have runs."""
    rows = []
    base_rows = _is(runs, *base)
    for key, grp in runs[_is(runs, *test)].groupby(CELL, sort=True):
        keys = dict(zip(CELL, key))
        other = runs[base_rows & (runs[CELL] == pd.Series(keys)).all(axis=1)]
        if not len(other):
            continue
        e = welch(grp["final_test_acc"], other["final_test_acc"])
        row = effect_row({**keys, "method": test[0], "sanity": test[1], "comparison": comparison}, e, decide_cell(e))
        rows.append(_with_published(row, *published) if published else row)
    return rows


def _unchanged_by_check(runs: pd.DataFrame, method: str, check: str, margin: float) -> list[dict]:
    """Checked minus original ticket, "as good as" within the margin; a cell whose original collapsed to chance in
    most seeds decides nothing (no check can hurt a ticket that already trains to chance)."""
    rows = [{**r, "margin": margin} for r in
            _cells(runs, (method, check), (method, "none"), f"{LABELS[method]}: {LABELS[check]} − original",
                   lambda e: as_good_as(e, margin))]
    return _dead_decide_nothing(rows, runs, method)


def _dead_decide_nothing(rows: list[dict], runs: pd.DataFrame, method: str) -> list[dict]:
    """`rows` with the cells whose unchecked `method` ticket collapsed to chance in most seeds deciding nothing."""
    b = runs[_is(runs, method)]
    dead = collapsed(b).groupby([b[c] for c in CELL]).mean() > 0.5
    for r in rows:
        if dead.get(tuple(r[c] for c in CELL), False):
            r["outcome"], r["note"] = "", "original collapsed to chance: decides nothing"
    return rows


@rule("SU-1")
def su1(runs: pd.DataFrame, scale: str) -> Verdict:
    m, why = dense_margin(runs)
    rows = [r for meth in ("snip", "grasp") for r in _unchanged_by_check(runs, meth, "corrupted_data", m)]
    return decide("SU-1", pd.DataFrame(rows), scale, why)


@rule("SU-2")
def su2(runs: pd.DataFrame, scale: str) -> Verdict:
    m, why = dense_margin(runs)
    rows = [r for meth in ("snip", "grasp") for r in _unchanged_by_check(runs, meth, "layerwise_rearrange", m)]
    return decide("SU-2", pd.DataFrame(rows), scale, why)


@rule("SU-3")
def su3(runs: pd.DataFrame, scale: str) -> Verdict:
    """Random tickets minus the better (by mean) of SNIP and GraSP in each cell, "as good as" within the margin."""
    m, why = dense_margin(runs)
    rows = []
    rt = runs[_is(runs, "random_tickets")]
    for key, grp in rt.groupby(CELL):
        keys = dict(zip(CELL, key))
        here = runs[(runs[CELL] == pd.Series(keys)).all(axis=1)]
        rivals = {r: here[_is(here, r)]["final_test_acc"] for r in ("snip", "grasp")}
        rivals = {r: v for r, v in rivals.items() if len(v)}
        if not rivals:
            continue
        best = max(rivals, key=lambda r: rivals[r].mean())
        e = welch(grp["final_test_acc"], rivals[best])
        row = effect_row({**keys, "method": "random_tickets", "sanity": "none",
                          "comparison": f"random tickets − best of SNIP/GraSP ({LABELS[best]})"}, e,
                         as_good_as(e, m), margin=m)
        # the published effect against the same rival as ours (the seeds' better one may be the other)
        rows.append(_with_published(row, "random_tickets", best, "random tickets table", "Table 1"))
    return decide("SU-3", pd.DataFrame(rows), scale, why)


@rule("SU-4")
def su4(runs: pd.DataFrame, scale: str) -> Verdict:
    """The checked partially-trained ticket below the unmodified lottery ticket (interval below zero); a cell whose
    lottery ticket collapsed to chance decides nothing."""
    rows = [r for check in ("shuffle_weights", "half_dataset")
            for r in _cells(runs, ("lottery", check), ("lottery", "none"),
                            f"lottery tickets: {LABELS[check]} − original", below,
                            (check, "lottery", "sanity checks on partially-trained tickets", None))]
    return decide("SU-4", pd.DataFrame(_dead_decide_nothing(rows, runs, "lottery")), scale)


@rule("SU-5")
def su5(runs: pd.DataFrame, scale: str) -> Verdict:
    """Hybrid minus LRR above zero, decided at the highest sparsity of the grid; the others shown."""
    rows = _cells(runs, ("hybrid", "none"), ("lr_rewinding", "none"), "hybrid tickets − LR rewinding", above,
                  ("hybrid", "lr_rewinding", "hybrid tickets table", "Table 2"))
    if rows:
        lowest = min(r["density"] for r in rows)
        for r in rows:
            if r["density"] != lowest:
                r["outcome"], r["note"] = "", "shown; the claim is decided at the highest sparsity"
    return decide("SU-5", pd.DataFrame(rows), scale)


@rule("SU-6")
def su6(runs: pd.DataFrame, scale: str) -> Verdict:
    """At the highest sparsity: random tickets never collapse; SNIP, lottery and LRR tickets of VGG19 can, so at
    least one seed does (a count, not a difference: no interval)."""
    top = runs[runs["density"] == runs["density"].min()]
    rows = []
    for method, expect in [("random_tickets", False), ("snip", True), ("lottery", True), ("lr_rewinding", True)]:
        for (dataset, model), grp in top[_is(top, method)].groupby(["dataset", "model"]):
            if expect and model != "vgg19":
                continue
            frac = float(collapsed(grp).mean())
            ok = frac == 0 if not expect else frac > 0
            rows.append({"dataset": dataset, "model": model, "density": grp["density"].iloc[0],
                         "method": method, "sanity": "none",
                         "comparison": f"{LABELS[method]} collapsed runs (expected: "
                                       f"{'at least one' if expect else 'none'})",
                         "measured": f"{int(collapsed(grp).sum())}/{len(grp)}", "outcome": HELD if ok else FAILED})
    return decide("SU-6", pd.DataFrame(rows), scale)


@rule("SU-7")
def su7(runs: pd.DataFrame, scale: str) -> Verdict:
    """Best-minus-last-epoch gap per method; testable only with a final learning-rate phase of MIN_FINAL_PHASE
    epochs or more (the paper's 160 epochs leave 40 after the last decay)."""
    rows = []
    gap = runs["best_test_acc"] - runs["final_test_acc"]
    for method, g in gap.groupby(runs["method"]):
        e = welch(g.to_numpy(), np.zeros(len(g)))  # one-sample interval: the zero group adds no variance
        rows.append(effect_row({"comparison": f"{LABELS.get(method, method)}: best − last epoch"}, e, above(e)))
    ev = pd.DataFrame(rows)
    final_phase = min((float(e) * (1 - max(ms, default=0.0)) for e, ms in
                       zip(runs.get("train.epochs", []), runs.get("train.milestones", []))
                       if isinstance(ms, (list, tuple))), default=0.0)
    if final_phase < MIN_FINAL_PHASE:
        return not_testable("SU-7", ev, scale, f"not testable here: the runs have {plural(final_phase, 'epoch')} after "
                            f"the last learning-rate decay, and a best-vs-last gap needs at least "
                            f"{MIN_FINAL_PHASE} (the paper profile's 160 epochs leave 40)")
    return decide("SU-7", ev, scale)
