"""The Su et al. chapter (seeds 000 and 001): the grid each notebook runs, and its tables, figures and slider."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import HTML, display

from .. import reference
from ..claims import claim
from ..models import build_model, hidden_fan_in, prunable_parameters
from ..profiles import Profile
from ..report import fmt, paper_table, sparsity_label
from ..runs import RunConfig
from ..store import Store
from ..plots import effects_figure
from ..verdicts import Verdict, collapsed, evaluate
from . import su_rules

MODELS = ("vgg19", "resnet32_2x")
RT_METHODS = ("lottery", "snip", "grasp", "random_tickets")
INITIAL_CHECKS = ("none", "corrupted_data", "layerwise_rearrange")
PARTIAL_ROWS = (("lottery", "none"), ("lottery", "shuffle_weights"), ("lottery", "half_dataset"),
                ("lr_rewinding", "none"))
HYBRID_METHODS = ("lr_rewinding", "hybrid")


def _grid(P: Profile, datasets, models, sparsities, cells) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    out = []
    for d in datasets or P.datasets:
        for m in models or MODELS:
            for seed in P.seeds:
                out.append(P.run(d, m, seed=seed))
                for s in sparsities or P.sparsities:
                    out += [P.run(d, m, method, s, seed, sanity) for method, sanity in cells]
    return out


def random_tickets(P: Profile, datasets=None, models=None, sparsities=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """Dense, lottery tickets, SNIP, GraSP and random tickets (000 Table 1, 001 random tickets table)."""
    return _grid(P, datasets, models, sparsities, [(m, "none") for m in RT_METHODS])


def initial_sanity(P: Profile, datasets=None, models=None, sparsities=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """SNIP and GraSP: original vs corrupted data vs layerwise rearrange (000 Figure 1)."""
    return _grid(P, datasets, models, sparsities, [(m, c) for m in ("snip", "grasp") for c in INITIAL_CHECKS])


def partial_sanity(P: Profile, datasets=None, models=None, sparsities=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """Lottery tickets, shuffled weights, half dataset, learning-rate rewinding (001 first table)."""
    return _grid(P, datasets, models, sparsities, list(PARTIAL_ROWS))


def hybrid(P: Profile, datasets=None, models=None, sparsities=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """Learning-rate rewinding vs hybrid tickets (000 Table 2, 001 hybrid table)."""
    return _grid(P, datasets, models, sparsities, [(m, "none") for m in HYBRID_METHODS])


def chapter(P: Profile, models=None) -> list[RunConfig]:  # type: ignore[no-untyped-def]
    """Every run of the chapter, ordered model by model so finished models have complete tables."""
    out: list[RunConfig] = []
    for m in models or MODELS:
        for part in (random_tickets, initial_sanity, partial_sanity, hybrid):
            out += part(P, models=[m])
    return list(dict.fromkeys(out))


# ---- tables, figures and slider pages shared by the chapter's notebooks ----
LABELS = su_rules.LABELS
DATASET_LABELS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "fashion_mnist": "Fashion-MNIST",
                  "synthetic": "synthetic", "digits": "digits", "mnist": "MNIST"}
MODEL_LABELS = {"vgg19": "VGG19", "resnet32_2x": "ResNet32 (2x wide)"}


@dataclass(frozen=True)
class SeedTable:
    """The layout of one seed table: its rows (method, check), what its column groups are, where its published
    numbers come from, and which claim colours which row."""

    rows: tuple[tuple[str, str], ...]
    columns: str  # "dataset" (models are row groups) or "model" (datasets are row groups)
    published: tuple[tuple[str, str], ...] = ()  # (source, table name) pairs, the first is the main one
    colour: tuple[tuple[str, str], ...] = ()  # (check or method, claim id)
    method_in_label: bool = False  # rows read "SNIP: corrupted data" (several methods under the same checks)


TABLES = {
    "random tickets": SeedTable(
        (("dense", "none"), ("lottery", "none"), ("snip", "none"), ("grasp", "none"), ("random_tickets", "none")),
        "dataset", ((reference.SU_POSTER, "random tickets table"), (reference.SU_REPRO, "Table 1")),
        (("random_tickets", "SU-3"),)),
    "initial sanity": SeedTable(
        tuple((m, c) for m in ("snip", "grasp") for c in INITIAL_CHECKS), "model", (),
        (("corrupted_data", "SU-1"), ("layerwise_rearrange", "SU-2")), method_in_label=True),
    "partial sanity": SeedTable(
        (("dense", "none"),) + PARTIAL_ROWS, "model",
        ((reference.SU_POSTER, "sanity checks on partially-trained tickets"),),
        (("shuffle_weights", "SU-4"), ("half_dataset", "SU-4"))),
    "hybrid": SeedTable(
        (("dense", "none"), ("obd", "none"), ("lr_rewinding", "none"), ("hybrid", "none")), "dataset",
        ((reference.SU_POSTER, "hybrid tickets table"), (reference.SU_REPRO, "Table 2")), (("hybrid", "SU-5"),)),
}


def with_ticket(runs: pd.DataFrame) -> pd.DataFrame:
    """Add `ticket` (the method's label, with its sanity check's when checked: SNIP's and GraSP's checks never
    share a line) and `sparsity` columns."""
    out = runs.copy()
    out["ticket"] = [ticket_label(m, c) for m, c in zip(out["method"], out["sanity"])]
    out["sparsity"] = (1 - out["density"]).round(6)
    return out


NOTHING_YET = pd.DataFrame({"note": ["no runs of this grid are stored yet at this profile"]})


def ticket_label(method: str, sanity: str) -> str:
    """A ticket as figures name it: the method, with its sanity check where it has one."""
    return LABELS[method] if sanity == "none" else f"{LABELS[method]}: {LABELS[sanity]}"


def _row_label(method: str, sanity: str, checks: bool) -> str:
    if checks:
        return f"{LABELS[method]}: {LABELS[sanity]}"
    return LABELS[sanity if sanity != "none" else method]


def _published_text(pub: pd.DataFrame, spec: SeedTable, dataset: str, model: str, method: str, sanity: str,
                    sparsity: float) -> str:
    """The published number(s) of a cell: the main source's 'mean ± sd', then '[Re] x' where it has one."""
    target = su_rules.PUBLISHED_DATASET.get(dataset, dataset)
    name = reference.MODEL_ALIASES.get(model, model)
    what = sanity if sanity != "none" else method
    parts = []
    for i, (source, table_name) in enumerate(spec.published):
        if what == "dense":
            sel = pub[(pub["method"] == "dense") & (pub["source"] == source)]
            sel = sel[(sel["dataset"] == target) & (sel["model"] == name)] if i == 0 else sel.iloc[:0]
        else:
            sel = pub[(pub["source"] == source) & (pub["table"] == table_name) & (pub["dataset"] == target)
                      & (pub["model"] == name) & (pub["method"] == what) & ((pub["sparsity"] - sparsity).abs() < 1e-9)]
        if len(sel):
            r = sel.iloc[0]
            parts.append(("" if i == 0 else "[Re] ") + fmt(r["accuracy"], r["std"]))
    return " · ".join(parts)


def paper_cells(runs: pd.DataFrame, P: Profile, name: str, vs: Sequence[Verdict] = ()) -> pd.DataFrame:
    """The long frame report.paper_table lays out like the seed table `name`: one row per table cell."""
    spec = TABLES[name]
    pub = pd.concat([reference.published(), reference.full_networks()], ignore_index=True)
    colour_by = dict(spec.colour)
    outcomes = {}
    for v in vs:
        for _, e in v.evidence.iterrows():
            if "method" in e and isinstance(e.get("method"), str):
                outcomes[(v.claim_id, e["dataset"], e["model"], round(e["density"], 6), e["method"],
                          e["sanity"])] = e["outcome"]
    datasets = list(dict.fromkeys(runs["dataset"])) or list(P.datasets)
    models = [m for m in MODELS if m in set(runs["model"])]
    first = min(P.sparsities)
    rows = []
    for d in datasets:
        for m in models:
            for method, sanity in spec.rows:
                for s in sorted(P.sparsities):
                    if method == "dense" and s != first:
                        continue  # the seeds print the full network once, in the first column
                    sel = runs[(runs["dataset"] == d) & (runs["model"] == m) & (runs["method"] == method)
                               & (runs["sanity"] == sanity)]
                    if method != "dense":
                        sel = sel[(sel["density"] - (1 - s)).abs() < 1e-9]
                    acc = sel["final_test_acc"]
                    claim_id = colour_by.get(sanity if sanity != "none" else method)
                    group, col_group = ((MODEL_LABELS.get(m, m), _dataset_header(d)) if spec.columns == "dataset"
                                        else (_dataset_header(d), MODEL_LABELS.get(m, m)))
                    rows.append({"row_group": group, "row": _row_label(method, sanity, spec.method_in_label),
                                 "col_group": col_group, "col": sparsity_label(round(1 - s, 10)),
                                 "mean": acc.mean() if len(acc) else np.nan,
                                 "sd": acc.std(ddof=1) if len(acc) > 1 else np.nan,
                                 "published": _published_text(pub, spec, d, m, method, sanity, s),
                                 "outcome": outcomes.get((claim_id, d, m, round(1 - s, 6), method, sanity), "")})
    return pd.DataFrame(rows)


def verdicts(runs: pd.DataFrame, P: Profile, ids: tuple[str, ...]) -> list[Verdict]:
    """The verdicts of these claims on this page's runs; a claim judged on several pages' grids (Claim.also) on the
    stored runs of them all, so that every page and the dashboard give it one verdict."""
    from ..dashboard import stored_runs

    def spanning(cid: str) -> pd.DataFrame:
        c = claim(cid)
        return stored_runs(P, c.notebook, also=c.also)[0] if c.also else runs

    return [evaluate(cid, spanning(cid), P.scale()) for cid in ids]


def effects(vs: Sequence[Verdict], P: Profile, title: str) -> plt.Figure:
    """Our effect against the published one, per cell, for one claim family."""
    ours = f"{', '.join(DATASET_LABELS.get(d, d) for d in P.datasets)}, {P.name} profile"
    return effects_figure(vs, title, P.scale(), ours, "the seeds' CIFAR runs, full scale")


def _dataset_header(dataset: str) -> str:
    """'Fashion-MNIST (published: CIFAR-10)' when our dataset stands in for the published one."""
    target = su_rules.PUBLISHED_DATASET.get(dataset, dataset)
    ours = DATASET_LABELS.get(dataset, dataset)
    return ours if target == dataset else f"{ours} (published: {DATASET_LABELS.get(target, target)})"


def table(runs: pd.DataFrame, P: Profile, name: str, vs: Sequence[Verdict] = ()) -> HTML:
    """The seed table `name` with our numbers in it (mean ± sd over seeds, last epoch), published beneath."""
    spec = TABLES[name]
    sources = "; ".join(f"{s}, {t}" for s, t in spec.published)
    beneath = (f"Beneath, muted: published at full scale ({sources}). Compare effects within a column, not our "
               "numbers with theirs: the datasets and scales differ." if sources else
               "The seeds give this experiment as a figure only, so no published number is beneath.")
    caption = (f"Ours: last-epoch test accuracy (%), mean ± sd over {len(P.seeds)} seeds at the {P.name} profile. "
               + beneath)
    return paper_table(paper_cells(runs, P, name, vs), caption)


def thinnest_layer(model: str, width: float, image_size: int, densities: dict[str, float]) -> float:
    """Fewest kept incoming weights per output unit (density x fan-in) over the layers after the first. Below
    about one, most units of that layer receive nothing: the mask is close to cutting the network there."""
    return min(densities[n] * fan for n, fan in hidden_fan_in(model, width, image_size))


COLLAPSE_NOTE = ("**Layer collapse.** Per cell: runs whose mask lost a whole layer or every input-output path and "
                 "trained to about chance; the most zero-density layers in one run; whether every run kept a path; "
                 "and the mean kept incoming weights per unit of the thinnest layer after the first (density x "
                 "fan-in; below about one, most units of that layer receive nothing).")


def collapse_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs whose mask lost a layer or every path and trained to about chance, per cell, with the kept weights
    per unit of the thinnest layer (mean over seeds)."""
    if (runs["method"] != "dense").sum() == 0:
        return NOTHING_YET
    r = with_ticket(runs[runs["method"] != "dense"])
    r["collapsed"] = collapsed(r)
    r["zero-density layers"] = r["collapsed_layers"]
    r["thinnest"] = [thinnest_layer(m, w, i, d) for m, w, i, d in
                     zip(r["model"], r["width"], r["image_size"], r["layer_densities"])]
    g = r.groupby(["model", "ticket", "sparsity"])
    out = g.agg(runs=("collapsed", "size"), collapsed=("collapsed", "sum"),
                max_zero_layers=("zero-density layers", "max"), path_kept=("connected", "all"),
                thinnest_layer_kept_per_unit=("thinnest", "mean")).reset_index()
    out["thinnest_layer_kept_per_unit"] = out["thinnest_layer_kept_per_unit"].round(2)
    return out


def figure(runs: pd.DataFrame, P, title: str) -> plt.Figure:  # type: ignore[no-untyped-def]
    """Accuracy vs sparsity per model, one line per ticket, dense accuracy as a dashed line."""
    r = with_ticket(runs)
    sparse = r[r["method"] != "dense"]
    models = list(dict.fromkeys(sparse["model"]))
    if not models:
        fig, ax = plt.subplots(figsize=(6, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{title}: no runs stored yet at the {P.name} profile", ha="center", va="center")
        return fig
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4), squeeze=False)
    for ax, m in zip(axes[0], models):
        cell = sparse[sparse["model"] == m]
        sns.pointplot(data=cell, x="sparsity", y="final_test_acc", hue="ticket", errorbar="sd", ax=ax,
                      dodge=0.3 if cell["ticket"].nunique() > 1 else False, markersize=4)
        dense = r[(r["model"] == m) & (r["method"] == "dense")]["final_test_acc"]
        if len(dense):
            ax.axhline(dense.mean(), ls="--", c="grey", lw=1, label="full network")
        ax.set_xlabel("sparsity (fraction of weights pruned)")
        ax.set_ylabel("test accuracy, last epoch (%)")
        ax.set_title(MODEL_LABELS.get(m, m))
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.text(0.01, -0.02, f"Mean ± sd over seeds. Scale: {P.scale()}", fontsize=7, wrap=True)
    fig.tight_layout()
    return fig


def layer_order(model: str, width: float) -> list[str]:
    """Prunable layer names in module order (input to output); records store them sorted by name."""
    return list(prunable_parameters(build_model(model, width=width)))


def layer_densities(store: Store, cfgs: list, sparsity: float, seed: int) -> pd.DataFrame:  # type: ignore[type-arg]
    """Per-layer density of each ticket's mask at one sparsity (one seed), long format, layers in module order."""
    rows = []
    orders: dict[tuple[str, float], list[str]] = {}
    for c in cfgs:
        if c.seed != seed or abs((1 - c.density) - sparsity) > 1e-9 or c.method == "dense":
            continue
        rec = store.get(c)
        if rec is None:
            continue
        order = orders.setdefault((c.model, c.width), layer_order(c.model, c.width))
        for i, name in enumerate(order):
            rows.append({"ticket": ticket_label(c.method, c.sanity), "method": c.method, "sanity": c.sanity,
                         "model": MODEL_LABELS.get(c.model, c.model), "layer": i + 1, "name": name,
                         "density": rec["layer_densities"][name]})
    return pd.DataFrame(rows)


def slider_page(runs: pd.DataFrame, P: Profile, cfgs: list, name: str, tickets: tuple[str, ...],  # type: ignore[type-arg]
                vs: Sequence[Verdict] = ()):  # type: ignore[no-untyped-def]
    """The function a sparsity slider calls for each position: that column of the seed table, and the per-layer
    density of each ticket's mask there."""
    store = Store()
    cells = paper_cells(runs, P, name, vs)
    seed = min(P.seeds)

    def render(s: float) -> None:
        column = cells["col"] == sparsity_label(round(1 - s, 10))
        display(paper_table(cells[column & (cells["row"] != LABELS["dense"])]))
        dens = layer_densities(store, cfgs, s, seed)
        if len(dens):  # the tickets named: unchecked methods, and checks (of any method)
            dens = dens[(dens["method"].isin(tickets) & (dens["sanity"] == "none")) | dens["sanity"].isin(tickets)]
        if len(dens) == 0:
            return
        g = sns.relplot(data=dens, x="layer", y="density", hue="ticket", col="model", kind="line", marker="o",
                        height=2.6, aspect=1.6, facet_kws={"sharex": False})
        g.set_axis_labels("layer (conv/linear, input to output)", "density (fraction kept, log scale)")
        g.set(yscale="log")
        g.figure.suptitle(f"Per-layer density of each mask at {s:.0%} sparsity (seed {seed}; {P.name} profile)",
                          y=1.04)

    return render


NOTEBOOK_GRIDS = {"su_random_tickets": random_tickets, "su_initial_sanity": initial_sanity,
                  "su_partial_sanity": partial_sanity, "su_hybrid": hybrid}
