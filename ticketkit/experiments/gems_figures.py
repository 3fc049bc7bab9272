"""The rare-gems chapter's tables and figures: seed 004's Figures 3 and 6 as tables (ours with the paper's number
beneath where one of its tables prints it at the same density) and as curves against the weights kept, Table 2
(ProsPr published only), Table 3, Figure 2's density trajectories, and the slider comparing methods at one
density. A variant with no runs in the table stays as a row marked "not run yet"."""
from __future__ import annotations

from typing import Any, Callable, Hashable, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd

from ..data import num_classes
from ..models import layer_names
from ..plots import log_y
from ..report import cell_outcomes, paper_table
from ..scoremask import GEM_MINER
from ..verdicts import Verdict
from . import gems
from .gems import CHECKED, FIG3, FIG6, TABLE3, GemScale, label, published, with_variant
from .gems_rules import ACC, PRE, seeds
from .lottery import remaining_axis

STAGES = {PRE: ("pre", "test accuracy before fine-tuning (%)"), ACC: ("post", "test accuracy after fine-tuning (%)")}


def pct(kept: float) -> str:
    return f"{100 * kept:.4g}%"


def _outcomes(vs: Sequence[Verdict]) -> dict[Hashable, str]:
    """(variant, density, stage) -> the outcome that colours that table cell (rows naming no stage colour none)."""
    return cell_outcomes(vs, lambda v, e: (e["variant"], round(e["density"], 6), e["stage"]) if e.get("stage")
                         else None)


def _stat(x: pd.Series) -> tuple[float, float]:
    return (x.mean() if len(x) else np.nan), (x.std(ddof=1) if len(x) > 1 else np.nan)


def _row_name(r: pd.DataFrame, name: str) -> str:
    return label(name) + ("" if (r["variant"] == name).any() else " (not run yet)")


def _cell(group: str, row: str, col_group: str, col: str, x: pd.Series, published: str = "",
          outcome: str = "") -> dict[str, Any]:
    mean, sd = _stat(x)
    return {"row_group": group, "row": row, "col_group": col_group, "col": col, "mean": mean, "sd": sd,
            "published": published, "outcome": outcome}


def _pub(name: str, kept: float, stage: str, table: str = "") -> str:
    acc, table = published(name, kept, stage, table)
    return f"{acc:.2f} ({table})" if table else ""


def _by_density(r: pd.DataFrame, S: GemScale, names: Sequence[str], value: str, group: str,
                vs: Sequence[Verdict]) -> list[dict[str, Any]]:
    """One row per variant, one column per density: `value` mean ± sd over seeds, the paper's number beneath."""
    outcome = _outcomes(vs)
    return [_cell(group, _row_name(r, n), "% of weights kept", pct(d), seeds(r, n, d, value),
                  _pub(n, d, STAGES[value][0]), outcome.get((n, round(d, 6), STAGES[value][0]), ""))
            for n in names for d in S.densities]


def _caption(S: GemScale, what: str) -> str:
    return (f"Ours: {what}, mean ± sd over {len(S.seeds)} seeds at the {S.name} profile ({S.dataset}). Beneath, the "
            "paper's number (ResNet-20 on CIFAR-10) where one of its tables prints one at the same density; the "
            "figure itself prints none. IMP is short-cold IMP fine-tuned at its level for each density; "
            "learning-rate rewinding is its trained level.")


def post_table(runs: pd.DataFrame, S: GemScale, vs: Sequence[Verdict]) -> Any:
    """004 Figure 3 (ResNet-20) as a table: the methods, then Gem-Miner's sanity checks, by density."""
    r = with_variant(runs)
    cells = _by_density(r, S, FIG3, ACC, "after fine-tuning (%)", [v for v in vs if v.claim_id == "RG-2"])
    cells += _by_density(r, S, CHECKED, ACC, "sanity checks on Gem-Miner (%)", [v for v in vs if v.claim_id == "RG-3"])
    return paper_table(pd.DataFrame(cells), _caption(S, "last-epoch test accuracy after fine-tuning"))


def pre_table(runs: pd.DataFrame, S: GemScale, vs: Sequence[Verdict]) -> Any:
    """004 Figure 6 (ResNet-20) as a table: accuracy before fine-tuning by method and density, with chance."""
    r = with_variant(runs)
    cells = _by_density(r, S, FIG6, PRE, "before fine-tuning (%)", vs)
    chance = pd.Series([100.0 / num_classes(S.dataset)])
    cells += [_cell("before fine-tuning (%)", "chance (100 / classes)", "% of weights kept", pct(d), chance)
              for d in S.densities]
    return paper_table(pd.DataFrame(cells), _caption(S, "test accuracy of the masked network before any weight "
                                                        "training"))


def prospr_table(runs: pd.DataFrame, S: GemScale, vs: Sequence[Verdict]) -> Any:
    """004 Table 2: ProsPr's published row (not implemented here) and our Gem-Miner at the density nearest 3.72%
    after fine-tuning, random shuffling and weight reinitialisation."""
    r, d = with_variant(runs), gems.nearest(S, gems.TABLE2_DENSITY)
    outcome, cells = _outcomes(vs), []
    for method, kept, note in (("prospr", 0.05, "published only: not implemented here"), (GEM_MINER, d, "ours")):
        for suffix, col in (("", "after finetune"), ("_shuffle", "after random shuffling"),
                            ("_reinit", "after weight reinitialisation")):
            name = method + suffix
            x = seeds(r, name, kept, ACC) if method == GEM_MINER else pd.Series(dtype=float)
            pub_kept = gems.TABLE2_DENSITY if method == GEM_MINER else kept
            cells.append(_cell("", f"{label(method)}, {pct(kept)} kept ({note})", "accuracy (%)", col, x,
                               _pub(name, pub_kept, "post"), outcome.get((name, round(kept, 6), "post"), "")))
    return paper_table(pd.DataFrame(cells), f"Ours: last-epoch test accuracy, mean ± sd over {len(S.seeds)} seeds "
                                            f"at the {S.name} profile ({S.dataset}); beneath, Table 2 (ResNet-20 on "
                                            "CIFAR-10, Gem-Miner at 3.72% kept, ProsPr at 5%).")


def ep_table(runs: pd.DataFrame, S: GemScale, vs: Sequence[Verdict]) -> Any:
    """004 Table 3 at the smallest density: pre- and post-finetune accuracy of the Edge-Popup variants and
    Gem-Miner, the paper's numbers beneath."""
    r, d = with_variant(runs), min(S.densities)
    outcome = _outcomes(vs)
    cells = [_cell("", f"{STAGES[v][0]}-finetune accuracy (%)", f"{pct(d)} of weights kept", label(n),
                   seeds(r, n, d, v), _pub(n, d, STAGES[v][0], "Table 3"),
                   outcome.get((n, round(d, 6), STAGES[v][0]), "")) for v in (PRE, ACC) for n in TABLE3]
    whole = f"layers pruned whole (of {len(layer_names(S.model, S.width))})"
    cells += [_cell("", whole, f"{pct(d)} of weights kept", label(n), seeds(r, n, d, "collapsed_layers"))
              for n in TABLE3]
    return paper_table(pd.DataFrame(cells), f"Ours: mean ± sd over {len(S.seeds)} seeds at the {S.name} profile "
                                            f"({S.dataset}); beneath, Table 3 (ResNet-20 on CIFAR-10, 0.59% kept) "
                                            "where our density is the paper's. A layer pruned whole cuts the "
                                            "network's path (accuracy at chance) unless a shortcut bypasses it.")


def accuracy_figure(runs: pd.DataFrame, S: GemScale, value: str = ACC) -> plt.Figure:
    """004 Figure 3 (after fine-tuning: methods above, sanity checks below) or Figure 6 (before fine-tuning, with
    chance): accuracy against the weights kept, mean ± sd over seeds."""
    r = with_variant(runs)
    panels = [(FIG3, "methods"), (CHECKED, "sanity checks on Gem-Miner")] if value == ACC else [(FIG6, "methods")]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 3.4 * len(panels)), squeeze=False)
    for ax, (names, title) in zip(axes[:, 0], panels):
        for n in names:
            sel = r[r["variant"] == n]
            if len(sel):
                g = sel.assign(x=100 * sel["kept"]).groupby("x")[value].agg(["mean", "std"])
                ax.errorbar(g.index, g["mean"], yerr=g["std"].fillna(0), marker="o", ms=3, capsize=2, label=label(n))
        missing = [label(n) for n in names if not (r["variant"] == n).any()]
        if missing:
            ax.text(0.01, 0.02, "not run yet: " + ", ".join(missing), transform=ax.transAxes, fontsize=7, c="grey")
        if value == PRE:
            ax.axhline(100 / num_classes(S.dataset), c="grey", ls=":", lw=0.8, label="chance")
        remaining_axis(ax, [100 * d for d in S.densities])
        ax.set_xlabel("weights kept (%, log scale)")
        ax.set_ylabel(STAGES[value][1])
        ax.set_title(title, fontsize=9)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.text(0.01, -0.01, f"Mean ± sd over {len(S.seeds)} seeds. Scale: {S.scale()}.", fontsize=6.5, wrap=True,
             va="top")
    fig.tight_layout()
    return fig


def density_page(runs: pd.DataFrame, S: GemScale) -> Callable[[float], None]:
    """What the slider shows at one density: each method and check before and after fine-tuning."""
    r = with_variant(runs)
    names = [n for n in dict.fromkeys(FIG3 + CHECKED) if (r["variant"] == n).any()]

    def render(kept: float) -> None:
        fig, ax = plt.subplots(figsize=(6.5, 3.4))
        y = np.arange(len(names))
        for shift, value, colour in ((0.2, PRE, "#b7c9e2"), (-0.2, ACC, "#4a7ab7")):
            stats = [_stat(seeds(r, n, kept, value)) for n in names]
            ax.barh(y + shift, [m for m, _ in stats], 0.4, xerr=[0 if np.isnan(s) else s for _, s in stats],
                    color=colour, label=STAGES[value][1])
        ax.axvline(100 / num_classes(S.dataset), c="grey", ls=":", lw=0.8, label="chance")
        ax.set_yticks(y, [label(n) for n in names], fontsize=8)
        ax.set_xlabel("test accuracy (%)")
        ax.set_title(f"{pct(kept)} of weights kept; mean ± sd over {len(S.seeds)} seeds, {S.name} profile",
                     fontsize=9)
        ax.legend(fontsize=7, loc="lower right")

    return render


def _histories(r: pd.DataFrame) -> pd.DataFrame:
    """Search histories, long: variant, seed, epoch, density, bound, schedule (as % of weights kept)."""
    rows = [] if "search_history" not in r else [
        {"variant": v, "seed": s, **h} for v, s, hist in zip(r["variant"], r["seed"], r["search_history"])
        if isinstance(hist, list) for h in hist]
    df = pd.DataFrame(rows, columns=["variant", "seed", "epoch", "density", "bound", "schedule"])
    return df.assign(**{c: 100 * df[c].astype(float) for c in ("density", "bound", "schedule")})


def trajectory_names(S: GemScale) -> list[str]:
    """The variants of Figure 2 here, in the order of their λ, Edge-Popup last."""
    d = gems.nearest(S, gems.FIG2_DENSITY)
    return [gems.variant({"search": GEM_MINER, "density": d, "lam": x}) for x in gems.trajectory_lams(S)] + ["ep"]


def _trajectory_label(S: GemScale, name: str) -> str:
    lam = S.setting(gems.nearest(S, gems.FIG2_DENSITY)).lam
    return f"Gem-Miner, λ = {lam:g} (Table 8)" if name == GEM_MINER else label(name)


def trajectory_table(runs: pd.DataFrame, S: GemScale) -> Any:
    """Per variant of Figure 2: the density its search ended at and its accuracy before and after fine-tuning."""
    r, d = with_variant(runs), gems.nearest(S, gems.FIG2_DENSITY)
    r = r.assign(found_pct=100 * r["found_density"].astype(float) if "found_density" in r else np.nan)
    cells = [_cell("", _trajectory_label(S, n), "", col, seeds(r, n, d, value))
             for n in trajectory_names(S) for col, value in (("density found (% kept)", "found_pct"),
                                                              (STAGES[PRE][1], PRE), (STAGES[ACC][1], ACC))]
    return paper_table(pd.DataFrame(cells), f"Ours at a target of {pct(d)} kept: mean ± sd over {len(S.seeds)} seeds "
                                            f"at the {S.name} profile ({S.dataset}). The paper's Figure 2 is on "
                                            "MobileNet-V2 and prints no table.")


def trajectory_figure(runs: pd.DataFrame, S: GemScale) -> plt.Figure:
    """004 Figure 2 on this chapter's network: the density of each search's mask over the search epochs (Gem-Miner's
    freezing bound dotted, the exponential schedule dashed), and the accuracies the searches end with."""
    r = with_variant(runs)
    hist = _histories(r)
    names = trajectory_names(S)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    for i, n in enumerate(names):
        h = hist[hist["variant"] == n].groupby("epoch")[["density", "bound", "schedule"]].mean()
        if len(h):
            left.plot(h.index, h["density"], c=f"C{i}", marker="o", ms=2, label=_trajectory_label(S, n))
            if n != "ep":
                left.plot(h.index, h["bound"], c=f"C{i}", ls=":", lw=1)
            if n == GEM_MINER:
                left.plot(h.index, h["schedule"], c="k", ls="--", lw=0.8, label="exponential schedule")
    log_y(left)
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("search epoch")
    left.set_ylabel("weights kept by the mask (%, log scale)")
    left.set_title("density during the search (dotted: Gem-Miner's freezing bound)", fontsize=9)
    if left.get_legend_handles_labels()[0]:
        left.legend(fontsize=7)
    d, x = gems.nearest(S, gems.FIG2_DENSITY), np.arange(len(names))
    for shift, value, colour in ((-0.2, PRE, "#b7c9e2"), (0.2, ACC, "#4a7ab7")):
        stats = [_stat(seeds(r, n, d, value)) for n in names]
        right.bar(x + shift, [m for m, _ in stats], 0.4, yerr=[0 if np.isnan(s) else s for _, s in stats],
                  color=colour, label=STAGES[value][1])
    right.set_xticks(x, [_trajectory_label(S, n).replace(", ", "\n") for n in names], fontsize=7)
    right.set_ylabel("test accuracy (%)")
    right.set_title(f"final accuracy at a target of {pct(d)} kept", fontsize=9)
    right.legend(fontsize=7)
    fig.text(0.01, -0.02, f"Mean over {len(S.seeds)} seeds (bars ± sd). Scale: {S.scale()}.", fontsize=6.5,
             wrap=True, va="top")
    fig.tight_layout()
    return fig
