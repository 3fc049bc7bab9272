"""The Su et al. chapter (seeds 000 and 001): the grid each notebook runs, and its tables, figures and slider."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import HTML, display

from .. import reference
from ..models import build_model, hidden_fan_in, prunable_parameters
from ..profiles import Profile
from ..report import comparison, seed_stats
from ..runs import RunConfig, Store
from ..verdicts import collapsed

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
STAND_IN = {"fashion_mnist": ("cifar10",), "digits": ("cifar10",), "synthetic": ("cifar10",)}
LABELS = {"random_tickets": "random tickets", "lottery": "lottery tickets", "lr_rewinding": "LR rewinding",
          "hybrid": "hybrid tickets", "snip": "SNIP", "grasp": "GraSP", "dense": "full network",
          "shuffle_weights": "shuffle weights", "half_dataset": "half dataset", "corrupted_data": "corrupted data",
          "layerwise_rearrange": "layerwise rearrange", "none": "original"}


def with_ticket(runs: pd.DataFrame) -> pd.DataFrame:
    """Add `ticket` (the sanity check's name, or the method's when unchecked) and `sparsity` columns."""
    out = runs.copy()
    out["ticket"] = out["sanity"].where(out["sanity"] != "none", out["method"])
    out["sparsity"] = (1 - out["density"]).round(6)
    return out


NOTHING_YET = pd.DataFrame({"note": ["no runs of this grid are stored yet at this profile"]})


def summary(runs: pd.DataFrame, by: tuple[str, ...] = ("dataset", "model", "ticket", "sparsity")) -> pd.DataFrame:
    """Last- and best-epoch mean +- std over seeds per cell."""
    if runs.empty:
        return NOTHING_YET
    runs = with_ticket(runs)
    last = seed_stats(runs, list(by))
    best = seed_stats(runs, list(by), "best_test_acc")
    last["best-epoch mean"] = best["mean"].round(2)
    return last


def table(runs: pd.DataFrame, P, table_name: str, source: str = reference.SU_POSTER) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Ours (mean +- std, last epoch) beside the published numbers of one seed table; sparse rows only."""
    s = summary(runs[runs["method"] != "dense"])
    if "note" in s:
        return s
    pub = reference.published()
    pub = pub[(pub["table"] == table_name) & (pub["source"] == source)].rename(columns={"method": "ticket"})
    out = comparison(s, pub, ["dataset", "model", "ticket", "sparsity"], P, STAND_IN)
    out["ticket"] = out["ticket"].map(lambda t: LABELS.get(t, t))
    out.insert(5, "ours (best epoch)", s["best-epoch mean"].to_numpy())
    return out


def thinnest_layer(model: str, width: float, image_size: int, densities: dict[str, float]) -> float:
    """Fewest kept incoming weights per output unit (density x fan-in) over the layers after the first. Below
    about one, most units of that layer receive nothing: the mask is close to cutting the network there."""
    return min(densities[n] * fan for n, fan in hidden_fan_in(model, width, image_size))


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
    out["ticket"] = out["ticket"].map(lambda t: LABELS.get(t, t))
    return out


def figure(runs: pd.DataFrame, P, title: str) -> plt.Figure:  # type: ignore[no-untyped-def]
    """Accuracy vs sparsity per model, one line per ticket, dense accuracy as a dashed line."""
    r = with_ticket(runs)
    sparse = r[r["method"] != "dense"].assign(ticket=lambda d: d["ticket"].map(lambda t: LABELS.get(t, t)))
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
        ax.set_title(m)
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
        ticket = c.sanity if c.sanity != "none" else c.method
        order = orders.setdefault((c.model, c.width), layer_order(c.model, c.width))
        for i, name in enumerate(order):
            rows.append({"ticket": LABELS.get(ticket, ticket), "model": c.model, "layer": i + 1, "name": name,
                         "density": rec["layer_densities"][name]})
    return pd.DataFrame(rows)


def slider_page(runs: pd.DataFrame, P, cfgs: list, table_name: str | None, tickets: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """The function a sparsity slider calls for each position: the accuracy table and the layer-density plot."""
    store = Store()
    full = table(runs, P, table_name) if table_name else summary(runs[runs["method"] != "dense"])
    seed = min(P.seeds)

    compact = [c for c in full.columns if c not in ("source", "scale", "dataset")]

    def render(s: float) -> None:
        if "note" in full:
            display(full)
            return
        display(HTML(f"<p><b>Sparsity {s:.0%}</b>: ours at the {P.name} profile; published numbers are at full "
                     "scale on CIFAR-10 (the source and scale columns of the table above give the detail).</p>"))
        display(full.loc[(full["sparsity"] - s).abs() < 1e-9, compact].reset_index(drop=True))
        dens = layer_densities(store, cfgs, s, seed)
        dens = dens[dens["ticket"].isin([LABELS.get(t, t) for t in tickets])]
        if len(dens) == 0:
            return
        g = sns.relplot(data=dens, x="layer", y="density", hue="ticket", col="model", kind="line", marker="o",
                        height=3.2, aspect=1.5, facet_kws={"sharex": False})
        g.set_axis_labels("layer (conv/linear, input to output)", "density (fraction kept)")
        g.set(yscale="log")
        g.figure.suptitle(f"Per-layer density of each mask at {s:.0%} sparsity (seed {seed})", y=1.04)

    return render


NOTEBOOK_GRIDS = {"su_random_tickets": random_tickets, "su_initial_sanity": initial_sanity,
                  "su_partial_sanity": partial_sanity, "su_hybrid": hybrid}
