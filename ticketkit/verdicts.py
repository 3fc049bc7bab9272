"""Verdicts computed from runs. "Within noise": |difference of means| < 2 standard errors of that difference
over seeds. Each rule returns the per-cell evidence table it decided on, so a page can show why."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .claims import claim
from .data import num_classes

HOLDS, FAILS, MIXED, NOT_RUN = "holds", "does not hold", "mixed", "not run"
CELL = ["dataset", "model", "density"]


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    verdict: str
    rule: str
    scale: str
    evidence: pd.DataFrame

    def decided(self) -> list[bool]:
        """Pass/fail of the cells that decide (a `pass` left empty marks a cell that decides nothing)."""
        return [bool(p) for p in self.evidence["pass"].dropna()] if len(self.evidence) else []

    def failing(self) -> str:
        """The cells that decided against the claim, one short phrase each ("vgg19 snip 98%: -1.00 ± 0.96")."""
        if not len(self.evidence):
            return ""
        bad = self.evidence[self.evidence["pass"].eq(False)]
        many_sets = self.evidence.get("dataset", pd.Series(dtype=object)).nunique() > 1
        return "; ".join(_cell_phrase(row, many_sets) for _, row in bad.iterrows())

    def markdown(self) -> str:
        c = claim(self.claim_id)
        return (f"**{self.claim_id}: {self.verdict}.** {c.statement}\n\n*Rule:* {self.rule}. "
                f"*Scale:* {self.scale}.")


def _cell_phrase(row: pd.Series, with_dataset: bool) -> str:
    """One evidence row as text: what the cell is (model, method, check, sparsity), then what it measured."""
    names = [row[c] for c in (["dataset"] if with_dataset else []) + ["model", "method", "check"]
             if c in row and isinstance(row[c], str)]
    if "best rival" in row:
        names.append(f"vs {row['best rival']}")
    if "density" in row:
        names.append(f"{(1 - row['density']) * 100:g}%")
    if "difference" in row:
        measured = f"{row['difference']:+.2f} ± {row['2 se']:.2f}"
    elif "collapsed runs" in row:
        measured = f"{row['collapsed runs']} runs collapsed, expected {row['expected']}"
    else:
        measured = f"mean gap {row['mean gap (best - last)']:+.2f} ± {row['2 se']:.2f}"
    return f"{' '.join(names)}: {measured}"


def combine(passes: list[bool]) -> str:
    """All cells pass: holds; none: does not hold; some: mixed; no cells: not run."""
    if not passes:
        return NOT_RUN
    return HOLDS if all(passes) else FAILS if not any(passes) else MIXED


def difference(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """(mean(a) - mean(b), standard error of that difference); the error is nan with fewer than 2 seeds each."""
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if min(len(a), len(b)) > 1 else np.nan
    return float(a.mean() - b.mean()), float(se)


def _pairs(runs: pd.DataFrame, cell: list[str], test: pd.Series, base: pd.Series, value: str) -> pd.DataFrame:
    rows = []
    t, b = runs[test], runs[base]
    for key, grp in t.groupby(cell, sort=True):
        other = b
        for col, k in zip(cell, key if isinstance(key, tuple) else (key,)):
            other = other[other[col] == k]
        if len(other) == 0:
            continue
        diff, se = difference(grp[value], other[value])
        rows.append({**dict(zip(cell, key if isinstance(key, tuple) else (key,))), "difference": round(diff, 2),
                     "2 se": round(2 * se, 2), "n": f"{len(grp)} vs {len(other)}"})
    return pd.DataFrame(rows)


def not_worse(runs: pd.DataFrame, test: pd.Series, base: pd.Series, cell: list[str] = CELL,
              value: str = "final_test_acc") -> pd.DataFrame:
    """Per cell: passes when test is within noise of base or better (difference > -2 se)."""
    ev = _pairs(runs, cell, test, base, value)
    if len(ev):
        ev["pass"] = ev["difference"] >= -ev["2 se"].fillna(0)
    return ev


def below(runs: pd.DataFrame, test: pd.Series, base: pd.Series, cell: list[str] = CELL,
          value: str = "final_test_acc") -> pd.DataFrame:
    """Per cell: passes when test is below base by more than noise (difference < -2 se)."""
    ev = _pairs(runs, cell, test, base, value)
    if len(ev):
        ev["pass"] = ev["difference"] < -ev["2 se"].fillna(np.inf)
    return ev


def above(runs: pd.DataFrame, test: pd.Series, base: pd.Series, cell: list[str] = CELL,
          value: str = "final_test_acc") -> pd.DataFrame:
    """Per cell: passes when test is above base by more than noise (difference > 2 se)."""
    ev = _pairs(runs, cell, test, base, value)
    if len(ev):
        ev["pass"] = ev["difference"] > ev["2 se"].fillna(np.inf)
    return ev


def _is(runs: pd.DataFrame, method: str, sanity: str = "none") -> pd.Series:
    return (runs["method"] == method) & (runs["sanity"] == sanity)


def _verdict(cid: str, ev: pd.DataFrame, scale: str) -> Verdict:
    """Combine the cells that decide."""
    v = Verdict(cid, NOT_RUN, claim(cid).rule, scale, ev)
    return replace(v, verdict=combine(v.decided()))


def unchanged_by_check(runs: pd.DataFrame, method: str, check: str) -> pd.DataFrame:
    """Per cell: the checked ticket within noise of the original or better. A cell whose original collapsed in
    most seeds decides nothing: no check can hurt a ticket that already trains to chance."""
    base = _is(runs, method)
    ev = not_worse(runs, _is(runs, method, check), base, CELL)
    if len(ev):
        b = runs[base]
        dead = collapsed(b).groupby([b[c] for c in CELL]).mean() > 0.5
        ev["original collapsed"] = [bool(dead.get(k, False)) for k in zip(*(ev[c] for c in CELL))]
        ev["pass"] = ev["pass"].astype(object).where(~ev["original collapsed"])
    return ev.assign(method=method)


def su1(runs: pd.DataFrame, scale: str) -> Verdict:
    parts = [unchanged_by_check(runs, m, "corrupted_data") for m in ("snip", "grasp")]
    return _verdict("SU-1", pd.concat(parts, ignore_index=True), scale)


def su2(runs: pd.DataFrame, scale: str) -> Verdict:
    parts = [unchanged_by_check(runs, m, "layerwise_rearrange") for m in ("snip", "grasp")]
    return _verdict("SU-2", pd.concat(parts, ignore_index=True), scale)


def su3(runs: pd.DataFrame, scale: str) -> Verdict:
    """Random tickets vs the better (by mean) of SNIP and GraSP in each cell."""
    rows = []
    rt = runs[_is(runs, "random_tickets")]
    for key, grp in rt.groupby(CELL):
        sel = (runs[CELL] == pd.Series(dict(zip(CELL, key)))).all(axis=1)
        rivals = {m: runs[sel & _is(runs, m)]["final_test_acc"] for m in ("snip", "grasp")}
        rivals = {m: v for m, v in rivals.items() if len(v)}
        if not rivals:
            continue
        best = max(rivals, key=lambda m: rivals[m].mean())
        diff, se = difference(grp["final_test_acc"], rivals[best])
        rows.append({**dict(zip(CELL, key)), "best rival": best, "difference": round(diff, 2), "2 se": round(2 * se, 2),
                     "pass": diff >= -2 * (0 if np.isnan(se) else se)})
    return _verdict("SU-3", pd.DataFrame(rows), scale)


def su4(runs: pd.DataFrame, scale: str) -> Verdict:
    parts = [below(runs, _is(runs, "lottery", c), _is(runs, "lottery"), CELL).assign(check=c)
             for c in ("shuffle_weights", "half_dataset")]
    return _verdict("SU-4", pd.concat(parts, ignore_index=True), scale)


def su5(runs: pd.DataFrame, scale: str) -> Verdict:
    """Decided at the highest sparsity of the grid; all sparsities shown."""
    ev = above(runs, _is(runs, "hybrid"), _is(runs, "lr_rewinding"), CELL)
    if len(ev):
        lowest = ev["density"] == ev["density"].min()
        ev["decides"] = lowest
        ev = ev.assign(**{"pass": ev["pass"].astype(object).where(lowest)})
    return _verdict("SU-5", ev, scale)


def collapsed(runs: pd.DataFrame) -> pd.Series:
    """A run collapsed when its mask lost a layer or every input-output path and it trained to about chance
    (within 5 points of 100 / the dataset's class count)."""
    chance = 100.0 / runs["dataset"].map(num_classes)
    structural = (runs["collapsed_layers"] > 0) | (~runs["connected"].astype(bool))
    return structural & (runs["final_test_acc"] < chance + 5)


def su6(runs: pd.DataFrame, scale: str) -> Verdict:
    top = runs[runs["density"] == runs["density"].min()]
    rows = []
    for method, expect in [("random_tickets", False), ("snip", True), ("lottery", True), ("lr_rewinding", True)]:
        for model, grp in top[_is(top, method)].groupby("model"):
            if expect and model != "vgg19":
                continue
            frac = float(collapsed(grp).mean())
            ok = frac == 0 if not expect else frac > 0.5
            rows.append({"model": model, "method": method, "density": grp["density"].iloc[0],
                         "collapsed runs": f"{int(collapsed(grp).sum())}/{len(grp)}",
                         "expected": "collapse" if expect else "no collapse", "pass": ok})
    return _verdict("SU-6", pd.DataFrame(rows), scale)


def su7(runs: pd.DataFrame, scale: str) -> Verdict:
    gap = runs["best_test_acc"] - runs["final_test_acc"]
    rows = []
    for method, g in gap.groupby(runs["method"]):
        se = g.std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else np.nan
        rows.append({"method": method, "runs": len(g), "mean gap (best - last)": round(float(g.mean()), 2),
                     "max gap": round(float(g.max()), 2), "2 se": round(float(2 * se), 2),
                     "pass": bool(g.mean() > 2 * se) if not np.isnan(se) else False})
    return _verdict("SU-7", pd.DataFrame(rows), scale)


RULES = {"SU-1": su1, "SU-2": su2, "SU-3": su3, "SU-4": su4, "SU-5": su5, "SU-6": su6, "SU-7": su7}


def evaluate(cid: str, runs: pd.DataFrame, scale: str) -> Verdict:
    """The verdict of one claim on a runs table (from runs.frame); `not run` when the table is empty."""
    if cid not in RULES:
        raise KeyError(f"no rule for claim {cid!r} yet; rules exist for {', '.join(RULES)}")
    if runs is None or len(runs) == 0:
        return Verdict(cid, NOT_RUN, claim(cid).rule, scale, pd.DataFrame())
    return RULES[cid](runs, scale)


def show(ids: list[str], runs: pd.DataFrame, scale: str) -> list[Verdict]:
    """Display each claim's verdict, its rule and scale, and the per-cell evidence it was decided on."""
    from IPython.display import Markdown, display

    out = []
    for cid in ids:
        v = evaluate(cid, runs, scale)
        display(Markdown(v.markdown()))
        if len(v.evidence):
            display(v.evidence)
        out.append(v)
    return out
