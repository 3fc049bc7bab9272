"""The statistics every verdict uses (CLAIMS.md, "Statistics") and the registry of the chapters' rules.

A cell compares two groups of runs (seeds): its effect is the difference of means, its interval the 95% Welch
t-interval. "above"/"below" ask the interval to clear zero; "matches"/"as good as" are equivalence tests against a
stated margin. A claim's verdict combines its deciding cells. Chapters register their rules with `rule()`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from .claims import claim
from .data import num_classes

HOLDS, FAILS, MIXED, INCONCLUSIVE = "holds", "does not hold", "mixed", "inconclusive"
NOT_TESTABLE, NOT_RUN = "not testable at this scale", "not run"
WORDS = (HOLDS, FAILS, MIXED, INCONCLUSIVE, NOT_TESTABLE, NOT_RUN)
HELD, FAILED, OPEN = "held", "failed", "inconclusive"  # one cell's outcome ("" = the cell decides nothing)
CELL = ["dataset", "model", "density"]
LEVEL = 0.95


@dataclass(frozen=True)
class Effect:
    """Difference of means of two groups of seeds with its Welch interval (nan where a group has < 2 runs)."""

    diff: float
    lo: float
    hi: float
    df: float
    n_test: int
    n_base: int


def welch(test: pd.Series | np.ndarray, base: pd.Series | np.ndarray, level: float = LEVEL) -> Effect:
    """mean(test) - mean(base) and its Welch t-interval (Welch-Satterthwaite degrees of freedom)."""
    a, b = np.asarray(test, dtype=float), np.asarray(base, dtype=float)
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else np.nan
    if min(len(a), len(b)) < 2:
        return Effect(diff, np.nan, np.nan, np.nan, len(a), len(b))
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    if se == 0:  # identical runs in both groups (e.g. both at chance): the interval is the point itself
        return Effect(diff, diff, diff, np.inf, len(a), len(b))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return Effect(diff, diff - half, diff + half, float(df), len(a), len(b))


def above(e: Effect, bound: float = 0.0) -> str:
    """Held when the interval lies above `bound`, failed when it lies entirely below it, else inconclusive."""
    if np.isnan(e.lo):
        return OPEN
    return HELD if e.lo > bound else FAILED if e.hi < bound else OPEN


def below(e: Effect, bound: float = 0.0) -> str:
    """Held when the interval lies below `bound`, failed when it lies entirely above it, else inconclusive."""
    if np.isnan(e.lo):
        return OPEN
    return HELD if e.hi < bound else FAILED if e.lo > bound else OPEN


def matches(e: Effect, margin: float) -> str:
    """Equivalence: held inside [-m, m], failed when the interval lies wholly outside it, else inconclusive."""
    if np.isnan(e.lo) or np.isnan(margin):
        return OPEN
    if -margin <= e.lo and e.hi <= margin:
        return HELD
    return FAILED if e.lo > margin or e.hi < -margin else OPEN


def as_good_as(e: Effect, margin: float) -> str:
    """"Matches or beats": held when the interval lies above -m, failed when it lies wholly below -m."""
    return OPEN if np.isnan(margin) else above(e, -margin)


def dense_margin(runs: pd.DataFrame, value: str = "final_test_acc") -> tuple[float, str]:
    """Equivalence margin m = 2 x the pooled seed-to-seed sd of the dense networks in the table, and why.

    Two runs of the same dense network with different seeds differ by about sqrt(2) sd; a pruned ticket whose
    mean lies within 2 sd of its rival's is as close as the full network is to itself. nan without dense spread."""
    dense = runs[runs["method"] == "dense"] if "method" in runs else runs.iloc[:0]
    groups = [g[value].to_numpy(float) for _, g in dense.groupby(["dataset", "model"]) if len(g) > 1]
    if not groups:
        return np.nan, "no margin: the table has no dense network with two or more seeds"
    dof = sum(len(g) - 1 for g in groups)
    sd = float(np.sqrt(sum(((g - g.mean()) ** 2).sum() for g in groups) / dof))
    m = float(np.ceil(2 * sd * 10) / 10)
    return m, (f"margin m = {m:.1f} points: twice the seed-to-seed sd of the dense networks ({sd:.2f}, pooled over "
               f"{len(groups)} network{'' if len(groups) == 1 else 's'}, {dof} degrees of freedom), rounded up to 0.1")


def effect_row(keys: dict, e: Effect, outcome: str, **extra: object) -> dict:
    """One evidence row: the cell's keys, the effect and interval (2 decimals), the outcome."""
    r2 = lambda x: round(float(x), 2)  # noqa: E731
    return {**keys, "effect": r2(e.diff), "lo": r2(e.lo), "hi": r2(e.hi),
            "df": round(float(e.df), 1), "n": f"{e.n_test} vs {e.n_base}", "outcome": outcome, **extra}


@dataclass(frozen=True)
class Verdict:
    """A claim's verdict with the per-cell evidence it was decided on (columns of effect_row)."""

    claim_id: str
    verdict: str
    rule: str
    scale: str
    evidence: pd.DataFrame
    note: str = ""  # the margin used, or why the claim is not testable here

    def outcomes(self) -> list[str]:
        """Outcomes of the cells that decide (an empty outcome marks a cell that decides nothing)."""
        if not len(self.evidence) or "outcome" not in self.evidence:
            return []
        return [o for o in self.evidence["outcome"] if o in (HELD, FAILED, OPEN)]

    def counts(self) -> str:
        """'held 5, failed 1, inconclusive 2 of 8' (empty when no cell decides)."""
        o = self.outcomes()
        if not o or self.verdict == NOT_TESTABLE:
            return ""
        return f"held {o.count(HELD)}, failed {o.count(FAILED)}, inconclusive {o.count(OPEN)} of {len(o)}"

    def against(self) -> str:
        """The cells that decided against the claim, one short phrase each ("vgg19 SNIP 98%: -1.00 [-2.1, 0.1]")."""
        if not len(self.evidence) or self.verdict == NOT_TESTABLE:
            return ""
        bad = self.evidence[self.evidence["outcome"] == FAILED]
        return "; ".join(cell_phrase(row) for _, row in bad.iterrows())

    def markdown(self) -> str:
        """Verdict, counts, statement, rule and margin (the page states the scale once, beneath)."""
        c = claim(self.claim_id)
        counts = f" ({self.counts()})" if self.counts() else ""
        note = f" {self.note[0].upper()}{self.note[1:]}." if self.note else ""
        return f"**{self.claim_id}: {self.verdict}**{counts}. {c.statement}\n\n*Rule:* {self.rule}.{note}"


def where(row: pd.Series | dict) -> str:
    """A cell's place: its sparsity ('90%'), or '51.3% remaining' where the claim reads in weights remaining."""
    if "remaining" in row and not pd.isna(row["remaining"]):
        return f"{row['remaining']:.3g}% remaining"
    if "ratio" in row and not pd.isna(row["ratio"]):
        return f"prune ratio {row['ratio']:.0%}"
    if "density" in row and not pd.isna(row["density"]):
        return f"{(1 - row['density']) * 100:.4g}%"
    return ""


def cell_phrase(row: pd.Series) -> str:
    """One evidence row as text: the cell (model, what is compared, sparsity), then the effect and its interval."""
    names = [str(row[c]) for c in ("model", "comparison") if c in row and isinstance(row[c], str)]
    if where(row):
        names.append(where(row))
    if "effect" in row and not pd.isna(row.get("lo", np.nan)):
        measured = f"{row['effect']:+.2f} [{row['lo']:+.2f}, {row['hi']:+.2f}]"
    elif "effect" in row:
        measured = f"{row['effect']:+.2f}"
    else:
        measured = str(row.get("measured", ""))
    return f"{' '.join(names)}: {measured}"


def combine(outcomes: list[str]) -> str:
    """All held: holds; all failed: does not hold; some of each: mixed; otherwise inconclusive; none: not run."""
    if not outcomes:
        return NOT_RUN
    held, failed = outcomes.count(HELD), outcomes.count(FAILED)
    if held == len(outcomes):
        return HOLDS
    if failed == len(outcomes):
        return FAILS
    return MIXED if held and failed else INCONCLUSIVE


def decide(cid: str, evidence: pd.DataFrame, scale: str, note: str = "") -> Verdict:
    """A claim's Verdict from its evidence rows (combined over the cells that decide); cells shown where none
    decides (none lies where the claim is judged at this scale) make it not testable here."""
    v = Verdict(cid, NOT_RUN, claim(cid).rule, scale, evidence, note)
    if len(evidence) and not v.outcomes():
        why = "no cell at this scale lies where the claim is judged"
        return replace(v, verdict=NOT_TESTABLE, note=f"{note}; {why}" if note else why)
    return replace(v, verdict=combine(v.outcomes()))


def not_testable(cid: str, evidence: pd.DataFrame, scale: str, why: str) -> Verdict:
    """A rule that needs a scale the profile lacks: the evidence is shown, no verdict drawn."""
    return Verdict(cid, NOT_TESTABLE, claim(cid).rule, scale, evidence, why)


def collapsed(runs: pd.DataFrame) -> pd.Series:
    """A run collapsed when its mask lost a layer or every input-output path and it trained to about chance
    (within 5 points of 100 / the dataset's class count)."""
    chance = 100.0 / runs["dataset"].map(num_classes)
    structural = (runs["collapsed_layers"] > 0) | (~runs["connected"].astype(bool))
    return structural & (runs["final_test_acc"] < chance + 5)


Rule = Callable[[pd.DataFrame, str], Verdict]
RULES: dict[str, Rule] = {}


def rule(cid: str) -> Callable[[Rule], Rule]:
    """Register a chapter's rule for one claim: `@rule("SU-3")` above `def su3(runs, scale) -> Verdict`."""
    claim(cid)

    def add(fn: Rule) -> Rule:
        if cid in RULES:
            raise ValueError(f"claim {cid} has two rules")
        RULES[cid] = fn
        return fn

    return add


def evaluate(cid: str, runs: pd.DataFrame, scale: str) -> Verdict:
    """The verdict of one claim on a runs table (from runs.frame); `not run` when the table is empty."""
    from . import experiments  # noqa: F401  (importing the chapters registers their rules)

    if cid not in RULES:
        raise KeyError(f"no rule for claim {cid!r} yet; rules exist for {', '.join(sorted(RULES))}")
    if runs is None or len(runs) == 0:
        return Verdict(cid, NOT_RUN, claim(cid).rule, scale, pd.DataFrame())
    return RULES[cid](runs, scale)
