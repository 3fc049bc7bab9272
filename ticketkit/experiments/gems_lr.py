"""004 Figure 9's search-lr sweep: Gem-Miner's runs at lrs ten times apart on one seed, as a table, and the three
things the paper reads off the figure, computed from our runs."""
from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from ..report import plain_table
from ..scoremask import GEM_MINER
from .gems import GemScale, label, with_variant
from .gems_figures import pct
from .gems_rules import ACC, PRE
from .gems_studies import layer_sizes

COLUMNS = ["kept", "search_lr", "factor", PRE, ACC, "collapsed_layers", "connected", "head_kept"]


def sweep(runs: pd.DataFrame, S: GemScale) -> pd.DataFrame:
    """Gem-Miner's runs on the sweep's seed at the densities searched at more than one lr, highest lr first: the
    lr and its ratio to the chapter's, accuracy before and after fine-tuning, layers pruned whole, whether a path
    joins input and output, and the weights the classifier keeps."""
    r = with_variant(runs)
    r = r[(r["variant"] == GEM_MINER) & (r["seed"] == S.seeds[0])] if "opt.search_lr" in r else r.iloc[:0]
    head, size = list(layer_sizes(S).items())[-1]
    rows = [(d, lr, lr / S.setting(d).search_lr, x[PRE], x[ACC], int(x["collapsed_layers"]), bool(x["connected"]),
             round(float(x["layer_densities"][head]) * size))
            for d, at in sorted(r.groupby("kept"), key=lambda g: -g[0]) if at["opt.search_lr"].nunique() > 1
            for lr, x in at.set_index("opt.search_lr").sort_index(ascending=False).iterrows()]
    return pd.DataFrame(rows, columns=COLUMNS)


def table(runs: pd.DataFrame, S: GemScale) -> Any:
    """The sweep as the page prints it."""
    t = sweep(runs, S)
    size = list(layer_sizes(S).values())[-1]
    shown = pd.DataFrame({
        "weights kept": [pct(d) for d in t["kept"]], "search lr": [f"{lr:g}" for lr in t["search_lr"]],
        "x the chapter's": [f"{f:g}" for f in t["factor"]],
        "before fine-tuning (%)": [f"{a:.2f}" for a in t[PRE]], "after fine-tuning (%)": [f"{a:.2f}" for a in t[ACC]],
        "layers pruned whole": t["collapsed_layers"], "input joined to output": np.where(t["connected"], "yes", "no"),
        f"classifier weights kept (of {size})": t["head_kept"]})
    return plain_table(shown, f"Ours: Gem-Miner on seed {S.seeds[0]} at the {S.name} profile ({S.dataset}), one run "
                              "per row; 'x the chapter's' is the search lr over the one every other page uses "
                              "(Table 8's, scaled as the scale line says). Figure 9 prints no numbers.",
                       "Nothing of this page's learning-rate sweep is stored yet.")


def _concordant(at: pd.DataFrame) -> tuple[int, int]:
    """Of the pairs of lrs whose accuracies differ both before and after fine-tuning, how many order both alike."""
    pairs = [(a[PRE] - b[PRE], a[ACC] - b[ACC]) for (_, a), (_, b) in combinations(at.iterrows(), 2)]
    pairs = [(p, q) for p, q in pairs if p != 0 and q != 0]
    return sum(np.sign(p) == np.sign(q) for p, q in pairs), len(pairs)


def _ours(at: pd.DataFrame) -> str:
    """Whether the chapter's search lr is the best of one density's lrs before and after fine-tuning."""
    ours = at[np.isclose(at["factor"], 1)]
    if not len(ours):
        return "The chapter's search lr is not stored here."
    x = ours.iloc[0]
    best = [s for s, v in (("before", PRE), ("after", ACC)) if x[v] >= at[v].max()]
    verdict = f"the best of the {len(at)} lrs {' and '.join(best)}" if best else \
        f"not the best of the {len(at)} lrs before or after"
    return (f"The chapter's search lr ({x['search_lr']:g}: Table 8's, scaled) is {verdict} fine-tuning "
            f"({x[PRE]:.1f}% before, {x[ACC]:.1f}% after).")


def findings(runs: pd.DataFrame, S: GemScale) -> str:
    """What we found, for the three readings of Figure 9 in 004's appendix: the highest lr is best before and
    after fine-tuning; higher before usually means higher after; Edge-Popup gains little from fine-tuning."""
    t = sweep(runs, S)
    if not len(t):
        return "*Nothing of this page's learning-rate sweep is stored yet.*"
    lines = []
    for d, at in t.groupby("kept", sort=False):
        same, n = _concordant(at)
        lines.append(f"- **{pct(d)} kept.** {_ours(at)} Of the {n} pairs of lrs whose accuracies differ both before "
                     f"and after, the one higher before is higher after in {same}.")
    r = with_variant(runs)
    gains = [f"{label(n)} {(g[ACC] - g[PRE]).mean():+.1f}" for n in ("ep", GEM_MINER)
             for g in [r[r["variant"] == n]] if len(g)]
    lines.append(f"- **Mean gain from fine-tuning** (points, over every run of the figure): {', '.join(gains)}.")
    return "**What we found** (Gem-Miner's lr sweep on one seed, so no interval):\n\n" + "\n".join(lines)
