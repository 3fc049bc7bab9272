"""Dense baselines: full-network accuracy of the seeds' models beside the published full-network numbers."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML
from matplotlib.ticker import MaxNLocator
import seaborn as sns

from .. import reference
from ..profiles import Profile
from ..report import paper_table
from ..runs import RunConfig
from ..store import Store

STAND_IN = {"fashion_mnist": ("cifar10", "mnist"), "digits": ("mnist", "cifar10"), "synthetic": ("cifar10", "mnist")}


def configs(profile: Profile, models: list[str], datasets: list[str] | None = None) -> list[RunConfig]:
    return [profile.run(d, m, seed=s) for d in (datasets or profile.datasets) for m in models for s in profile.seeds]


def cells(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, dataset, epoch kind) for report.paper_table: ours beside the published full network of
    the dataset ours stands in for (the first in STAND_IN with a published row for that model)."""
    pub = reference.full_networks()
    rows = []
    for (d, m), g in runs.groupby(["dataset", "model"], sort=False):
        name = reference.MODEL_ALIASES.get(m, m)
        target = next((t for t in (d, *STAND_IN.get(d, ())) if ((pub["dataset"] == t) & (pub["model"] == name)).any()),
                      None)
        p = pub[(pub["dataset"] == target) & (pub["model"] == name)]
        published = f"{p['accuracy'].iloc[0]:.2f} on {target}" if len(p) else ""
        for col, value in (("last epoch", "final_test_acc"), ("best epoch", "best_test_acc")):
            v = g[value]
            rows.append({"row_group": "", "row": m, "col_group": d, "col": col, "mean": v.mean(),
                         "sd": v.std(ddof=1) if len(v) > 1 else float("nan"),
                         "published": published if col == "last epoch" else "", "outcome": ""})
    return pd.DataFrame(rows)


def table(runs: pd.DataFrame, profile: Profile) -> HTML:
    """Last- and best-epoch accuracy per model, mean ± sd over seeds, the published full network beneath."""
    return paper_table(cells(runs), f"Test accuracy (%), mean ± sd over {len(profile.seeds)} seeds at the "
                       f"{profile.name} profile. Beneath: the published full network ({reference.SU_POSTER}; "
                       "LeNet: seed 003's text) on the dataset ours stands in for, at full scale.")


def curves(store: Store, cfgs: list[RunConfig]) -> pd.DataFrame:
    """Per-epoch test accuracy of every run, long format."""
    rows = []
    for c in cfgs:
        rec = store.get(c)
        if rec:
            rows += [{"model": c.model, "dataset": c.dataset, "seed": c.seed, "epoch": h["epoch"],
                      "test accuracy (%)": h["test_acc"]} for h in rec["history"]]
    return pd.DataFrame(rows)


def figure(curve: pd.DataFrame, profile: Profile) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=curve, x="epoch", y="test accuracy (%)", hue="model", style="dataset", errorbar="sd", ax=ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"Dense networks, mean ± sd over seeds ({profile.name} profile)")
    fig.tight_layout()
    return fig


def budget_note(runs: pd.DataFrame, aim: float = 88.0) -> str:
    """What each dense network reaches at this profile against the accuracy the profile aims for."""
    means = runs.groupby(["dataset", "model"])["final_test_acc"].mean()
    parts = [f"{m} on {d}: {v:.2f}%" for (d, m), v in means.items()]
    short = [m for (d, m), v in means.items() if v < aim]
    verdict = (f"All reach the {aim:g}% this profile aims for." if not short else
               f"Below the {aim:g}% aim: {', '.join(short)}; the budget of this profile (its epochs, subset and "
               "width, stated above) stops them there, and pruned results are read against these dense numbers.")
    return f"Dense last-epoch accuracy, mean over seeds: {'; '.join(parts)}. {verdict}"
