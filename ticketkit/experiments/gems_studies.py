"""The rare-gems chapter's further studies: the grids of its cost (Table 1, Figure 5), long Gem-Miner (Table 4),
smart-ratio variants (Table 16), layerwise densities (Figure 7), pre- vs post-finetune (Figure 9) and IMP variants
(Figure 10) pages, and their tables and figures (ours, the paper's number beneath where a table prints one)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd

from .. import gem_runs, reference_gems, timings
from ..data import image_channels, num_classes
from ..models import build_model, layer_names, prunable_parameters
from ..plots import log_y
from ..report import paper_table, plain_table
from ..runs import RunConfig
from ..scoremask import GEM_MINER
from ..store import Store
from ..verdicts import Verdict
from . import gems_imp
from .gems import FIG2_DENSITY, GemScale, label, nearest, run, with_variant
from .gems_figures import STAGES, _by_density, _cell, _outcomes, _pub, pct
from .gems_rules import ACC, PRE, seeds
from .gems_studies_rules import COST, COST_IMP, SR_RUN, cost

TABLE4 = (GEM_MINER, "gem_miner_long", "imp_long_warm", gems_imp.LRR)
FIG10 = (GEM_MINER, *gems_imp.IMP_LABELS)
FIG9 = (GEM_MINER, "ep", "sr_v1")
LAYERWISE = (GEM_MINER, "imp", "sr_v1", "ep")  # Figure 7
FIG9_DENSITIES = (0.014, 0.005)  # Figure 9's 1.4% and 0.5% kept
FIG9_LR_FACTORS = (1.0, 0.1, 0.01, 0.001)  # Figure 9's four search lrs, ten times apart (0.01 ... 0.00001)
MATCHED_IMP = ("imp", "imp_long_warm")  # RG-8's "matches" cell (with the further seeds)
MATCHED_LONG = ("gem_miner_long", gems_imp.LRR)  # RG-9's


def _each(S: GemScale, densities: Sequence[float], names: Sequence[str]) -> list[RunConfig]:
    return [gems_imp.imp_run(S, seed, d, n) if n in gems_imp.IMP_LABELS or n == gems_imp.LRR else run(S, seed, d, n)
            for d in densities for seed in S.seeds for n in names]


def cost_grid(S: GemScale) -> list[RunConfig]:
    """004 Table 1 / Figure 5 at the density nearest 1.44%: Gem-Miner, Edge-Popup, smart ratio, long-cold IMP with
    the tickets of every level behind its mask."""
    d = nearest(S, FIG2_DENSITY)
    return (_each(S, [d], (GEM_MINER, "ep", "sr_v1")) + gems_imp.cost_levels(S, d, COST_IMP)
            + [tracked(S, seed, d) for seed in S.seeds])


def tracked(S: GemScale, seed: int, density: float) -> RunConfig:
    """Gem-Miner's run at `density` that also records its test accuracy after every search epoch (Figure 5's
    curve; a search of its own, since the evaluations would otherwise count in the cost of the shared one)."""
    c = run(S, seed, density, GEM_MINER)
    return gem_runs.config(c, **{**dict(c.options), "track": True})


def long_gm(S: GemScale) -> list[RunConfig]:
    """004 Table 4 at the density nearest 1.44%: Gem-Miner, long Gem-Miner, long-warm IMP, LR rewinding; long
    Gem-Miner and LR rewinding, which RG-9 asks to match, with the scale's further seeds too."""
    d = nearest(S, FIG2_DENSITY)
    return _each(S, [d], (GEM_MINER, "imp_long_warm")) + [
        c for seed in S.seeds + S.match_seeds
        for c in (gems_imp.imp_run(S, seed, d, gems_imp.LRR), run(S, seed, d, GEM_MINER, long=True))]


def sr_variants(S: GemScale) -> list[RunConfig]:
    """004 Table 16 at the density nearest 1.44%: SR-v1 ... v6 and Gem-Miner, with the short-cold IMP run that v4
    and v6 start from (trained first: IMP trajectories lead a grid's tasks)."""
    return _each(S, [nearest(S, FIG2_DENSITY)], ("imp", *SR_RUN, GEM_MINER))


def layerwise(S: GemScale) -> list[RunConfig]:
    """004 Figure 7: Gem-Miner, short-cold IMP, smart ratio and Edge-Popup at every density."""
    return _each(S, S.densities, LAYERWISE)


def pre_vs_post(S: GemScale) -> list[RunConfig]:
    """004 Figure 9: Gem-Miner, Edge-Popup and smart ratio at every density; Gem-Miner also at search lrs 10, 100
    and 1000 times lower near 1.4% and 0.5%, one seed each (the paper's four lrs, one point each)."""
    near = sorted({nearest(S, d) for d in FIG9_DENSITIES})
    return _each(S, S.densities, FIG9) + [at_lr(S, S.seeds[0], d, f) for d in near for f in FIG9_LR_FACTORS[1:]]


def at_lr(S: GemScale, seed: int, density: float, factor: float) -> RunConfig:
    """The chapter's Gem-Miner run with its search lr times `factor`."""
    c = run(S, seed, density, GEM_MINER)
    o = dict(c.options)
    return c if factor == 1 else gem_runs.config(c, **{**o, "search_lr": float(o["search_lr"]) * factor})


def imp_figure(S: GemScale) -> list[RunConfig]:
    """004 Figure 10: the four IMP variants and Gem-Miner at every density; short-cold and long-warm IMP, which
    RG-8 asks to match, with the scale's further seeds too."""
    more = [gems_imp.imp_run(S, seed, d, n) for d in S.densities for seed in S.match_seeds
            for n in MATCHED_IMP]
    return gems_imp.imp_variants(S) + more + _each(S, S.densities, (GEM_MINER,))


def _caption(S: GemScale, what: str, beneath: str, matched: Sequence[str] = ()) -> str:
    more = f" ({len(S.seeds) + len(S.match_seeds)} for {' and '.join(label(n) for n in matched)}, compared for a " \
           "match)" if matched and S.match_seeds else ""
    return (f"Ours: {what}, mean ± sd over {len(S.seeds)} seeds{more} at the {S.name} profile ({S.dataset}); beneath, "
            f"{beneath} (ResNet-20 on CIFAR-10). IMP is compared at its level for each density (the scale line "
            "gives both densities).")


def _where(table: str) -> str:
    return f"{table}'s number where it prints one at the same density"


def cost_table(runs: pd.DataFrame, S: GemScale) -> Any:
    """004 Table 1's last column: epochs and seconds to find the mask near 1.44%, Table 1's epochs beneath."""
    r, d = with_variant(runs), nearest(S, FIG2_DENSITY)
    c = cost(r, d) if len(r) else pd.DataFrame(columns=["variant", "seed", "epochs", "seconds"])
    t1 = reference_gems.computation().set_index("method")["computation"]
    pub = {GEM_MINER: t1["gem_miner"], COST_IMP: t1["imp"], "ep": t1["edge_popup"], "sr_v1": t1["smart_ratio"]}
    cells = [_cell("", label(n), f"{pct(d)} kept", col, c[c["variant"] == n][v], pub[n] if v == "epochs" else "")
             for n in COST for col, v in (("epochs to find the mask", "epochs"), ("seconds", "seconds"))]
    return paper_table(pd.DataFrame(cells), _caption(S, "epochs and wall time spent finding the mask (fine-tuning "
                                                        "not counted)", "Table 1's epochs at 1.4% density"))


def paper_scale_cost(root: Path | None = None) -> Any:
    """One gem's cost at the paper's setting on each device a `bench/paper_timing.py --save` record came from:
    Gem-Miner's search and the fine-tuning, ms per iteration and hours for 150 epochs each, and their sum."""
    t, skipped = timings.load(root)
    t = t[t["family"].isin([timings.GEM_SEARCH, timings.GEM_FINETUNE])]
    rows = []
    for (device, prec, created, n), g in t.groupby(["device", "precision", "created", "iterations_timed"]):
        by = g.set_index("family")
        row = {"device": f"{device} ({prec})", "measured": created[:10], "iterations timed": n}
        for fam, name in ((timings.GEM_SEARCH, "search"), (timings.GEM_FINETUNE, "fine-tuning")):
            row[f"{name}, ms / iteration"] = f"{by.at[fam, 'ms_per_iteration']:.1f}" if fam in by.index else "—"
            row[f"{name}, hours"] = f"{by.at[fam, 'hours']:.2f}" if fam in by.index else "—"
        both = {timings.GEM_SEARCH, timings.GEM_FINETUNE} <= set(by.index)
        row["one gem, hours"] = f"{by['hours'].sum():.2f}" if both else "—"
        rows.append(row)
    cap = ("Timed slices on CIFAR-shaped images (32x32x3, batch 128; the cost does not depend on pixel values), "
           "scaled to the paper's full runs: Table 8's Gem-Miner search at 1.44% and Table 15's fine-tuning, 150 "
           "epochs of 391 iterations each; with CUDA graphs (TICKETKIT_CUDA_GRAPHS=1) both replay each step's "
           "forward and backward." + (f" Skipped as corrupt: {'; '.join(skipped)}." if skipped else ""))
    empty = ("No paper-scale timing is stored yet: on a GPU, run python bench/paper_timing.py --families "
             "'ResNet-20*' --save results/timings/NAME.json." + (f" Skipped as corrupt: {'; '.join(skipped)}."
                                                               if skipped else ""))
    return plain_table(pd.DataFrame(rows), cap, empty)


def convergence(S: GemScale, store: Store | None = None) -> pd.DataFrame:
    """Figure 5's curves from the stored tracked Gem-Miner runs near 1.44%: per seed and epoch (search epochs
    first, fine-tuning epochs after them), the phase, the test accuracy and the mask's density."""
    store, d, rows = store or Store(), nearest(S, FIG2_DENSITY), []
    for seed in S.seeds:
        rec = store.get(tracked(S, seed, d))
        if rec is None:
            continue
        search = rec["search_history"]
        rows += [{"seed": seed, "phase": "search", "epoch": h["epoch"], "test_acc": h["test_acc"],
                  "density": h["density"]} for h in search]
        rows += [{"seed": seed, "phase": "fine-tuning", "epoch": len(search) + h["epoch"], "test_acc": h["test_acc"],
                  "density": rec["density"]} for h in rec["history"]]
    return pd.DataFrame(rows, columns=["seed", "phase", "epoch", "test_acc", "density"])


def _reference(r: pd.DataFrame, name: str, level: float | None = None) -> float:
    """Mean final test accuracy of a variant's runs (of one IMP level where given): Figure 5's reference lines."""
    at = r[r["variant"] == name]
    if level is not None and "opt.level" in at:
        at = at[at["opt.level"].astype(float) == level]
    return float(at["final_test_acc"].mean()) if len(at) else np.nan


def search_figure(runs: pd.DataFrame, S: GemScale) -> plt.Figure:
    """004 Figure 5: Gem-Miner's test accuracy through its search and its fine-tuning, with the density of its
    mask, beside the dense network and long-cold IMP after fine-tuning."""
    c, r = convergence(S), with_variant(runs)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4))
    for seed, g in c.groupby("seed"):
        line, = a.plot(g["epoch"], g["test_acc"], marker="o", ms=2, label=f"Gem-Miner, seed {seed}")
        s = g[g["phase"] == "search"]
        b.plot(s["epoch"], 100 * s["density"], marker="o", ms=2, color=line.get_color(), label=f"seed {seed}")
    if len(c):
        a.axvline(c[c["phase"] == "search"]["epoch"].max() + 0.5, color="grey", ls=":", lw=1)
    refs = ((f"dense, one long IMP round ({S.imp_long_epochs} epochs)", _reference(r, f"{COST_IMP}_ticket", 0), "--"),
            (f"{label(COST_IMP)} at {pct(nearest(S, FIG2_DENSITY))}, fine-tuned", _reference(r, COST_IMP), "-."))
    for name, acc, ls in refs:
        if not np.isnan(acc):
            a.axhline(acc, color="black", ls=ls, lw=1, label=name)
    a.set(xlabel="epoch (search, then fine-tuning after the dotted line)", ylabel="test accuracy (%)")
    log_y(b)
    b.set(xlabel="search epoch", ylabel="weights kept (%, log scale)")
    for ax in (a, b):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not stored yet", transform=ax.transAxes, ha="center")
    fig.text(0.01, -0.02, f"Scale: {S.scale()}.", fontsize=6.5, wrap=True, va="top")
    fig.tight_layout()
    return fig


def at_one(runs: pd.DataFrame, S: GemScale, names: Sequence[str], vs: Sequence[Verdict], where: str,
           stages: Sequence[str] = (ACC,)) -> Any:
    """Tables 4 and 16: each variant near 1.44% (its pre- and/or post-finetune accuracy), the paper's beneath."""
    r, d, outcome = with_variant(runs), nearest(S, FIG2_DENSITY), _outcomes(vs)
    cells = [_cell("", label(n), f"{pct(d)} kept", STAGES[v][1], seeds(r, n, d, v),
                   _pub(n, d, STAGES[v][0], where), outcome.get((n, round(d, 6), STAGES[v][0]), ""))
             for n in names for v in stages]
    matched = [n for n in names if n in MATCHED_LONG]
    return paper_table(pd.DataFrame(cells), _caption(S, "last-epoch test accuracy", _where(where), matched))


def by_density(runs: pd.DataFrame, S: GemScale, names: Sequence[str], vs: Sequence[Verdict]) -> Any:
    """Figure 10 as a table: each variant before and after fine-tuning by density."""
    r = with_variant(runs)
    cells = [c for v in (PRE, ACC) for c in _by_density(r, S, names, v, STAGES[v][1], vs)]
    return paper_table(pd.DataFrame(cells), _caption(S, "test accuracy", "the number one of the paper's tables prints "
                                                     "at the same density, if any (Figure 10 itself prints none)",
                                                     [n for n in names if n in MATCHED_IMP]))


def layer_table(runs: pd.DataFrame, S: GemScale) -> pd.DataFrame:
    """Figure 7's data: per variant, density and layer, the mean kept fraction (%) and the layer's size."""
    r = with_variant(runs)
    rows = [(n, k, i, layer, 100 * float(dens[layer]))
            for n, k, dens, m, w in zip(r["variant"], r["kept"], r["layer_densities"], r["model"], r["width"])
            if n in LAYERWISE for i, layer in enumerate(layer_names(m, float(w)))]
    df = pd.DataFrame(rows, columns=["variant", "kept", "index", "layer", "density_pct"])
    return df.groupby(["variant", "kept", "index", "layer"], as_index=False)["density_pct"].mean()


def layer_sizes(S: GemScale) -> dict[str, int]:
    """Weights per prunable layer of the scale's network, in layer order."""
    net = build_model(S.model, image_channels(S.dataset), num_classes(S.dataset), S.image_size, S.width)
    return {k: p.numel() for k, p in prunable_parameters(net).items()}


def layer_pivot(runs: pd.DataFrame, S: GemScale) -> Any:
    """Figure 7 as a table: per layer its size and each method's mean kept percentage, density by density."""
    t, sizes = layer_table(runs, S), layer_sizes(S)
    if not len(t):
        return plain_table(pd.DataFrame())
    t = t.assign(column=[(f"{pct(k)} kept", label(n)) for k, n in zip(t["kept"], t["variant"])])
    wide = t.pivot_table(index=["index", "layer"], columns="column", values="density_pct").map("{:.2f}".format)
    order = [(f"{pct(d)} kept", label(n)) for d in S.densities for n in LAYERWISE if (f"{pct(d)} kept", label(n))
             in wide.columns]
    wide = wide[order].reset_index()
    wide.insert(2, "weights", [sizes.get(layer, "") for layer in wide["layer"]])
    wide.columns = pd.MultiIndex.from_tuples([("", c) if isinstance(c, str) else c for c in wide.columns])
    return plain_table(wide.drop(columns=[("", "index")]),
                       f"Ours: the percentage of each layer's weights kept in the mask that is fine-tuned, mean over "
                       f"{len(S.seeds)} seeds at the {S.name} profile ({S.dataset}), beside the layer's size in "
                       "weights; Figure 7 prints no numbers. IMP is short-cold IMP at its level for each density "
                       "(the scale line gives both densities).")


def layer_figure(runs: pd.DataFrame, S: GemScale) -> plt.Figure:
    """004 Figure 7: layer density against the layer index per method, one panel per density, layer sizes below."""
    t, sizes = layer_table(runs, S), layer_sizes(S)
    fig, axes = plt.subplots(1, len(S.densities), figsize=(4.2 * len(S.densities), 3.4), squeeze=False)
    for ax, d in zip(axes[0], S.densities):
        for n in LAYERWISE:
            g = t[(t["variant"] == n) & np.isclose(t["kept"], d)]
            if len(g):
                ax.plot(g["index"], g["density_pct"], marker="o", ms=3, label=label(n))
        log_y(ax)
        ax.set(xlabel="layer (index; sizes in the caption)", ylabel="weights kept in the layer (%)",
               title=f"{pct(d)} kept overall")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.text(0.01, -0.02, "Layer sizes: " + ", ".join(f"{i}: {n}" for i, n in enumerate(sizes.values()))
             + f". Scale: {S.scale()}.", fontsize=6.5, wrap=True, va="top")
    fig.tight_layout()
    return fig


def scatter(runs: pd.DataFrame, S: GemScale, names: Sequence[str]) -> plt.Figure:
    """004 Figures 9 and 10: accuracy after against before fine-tuning, one point per run, one panel per density,
    y = x dotted; Gem-Miner's lower search lrs lighter."""
    r = with_variant(runs)
    r = r[r["variant"].isin(names)] if PRE in r else r.iloc[:0]
    kept = [d for d in S.densities if np.isclose(r["kept"], d).any()] or list(S.densities[:1])
    fig, axes = plt.subplots(1, len(kept), figsize=(4.2 * len(kept), 3.9), squeeze=False, sharey=True)
    for ax, d in zip(axes[0], kept):
        for i, n in enumerate(names):
            sel = r[(r["variant"] == n) & np.isclose(r["kept"], d)]
            lrs = sorted(set(sel["opt.search_lr"].dropna()), reverse=True) if "opt.search_lr" in sel else []
            groups = [(sel[sel["opt.search_lr"] == lr], f"{label(n)}, search lr {lr:g}", 1 - 0.75 * j / (len(lrs) - 1))
                      for j, lr in enumerate(lrs)] if n == GEM_MINER and len(lrs) > 1 else [(sel, label(n), 1.0)]
            for at, name, alpha in groups:
                if len(at):
                    ax.scatter(at[PRE], at[ACC], s=14, c=f"C{i}", alpha=alpha, label=name)
        ax.plot([0, 100], [0, 100], c="grey", ls=":", lw=0.8)
        ax.set(xlabel=STAGES[PRE][1], title=f"{pct(d)} kept")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6.5)
    axes[0][0].set_ylabel(STAGES[ACC][1])
    fig.text(0.01, -0.02, f"One point per run and seed. Scale: {S.scale()}.", fontsize=6.5, wrap=True, va="top")
    fig.tight_layout()
    return fig
