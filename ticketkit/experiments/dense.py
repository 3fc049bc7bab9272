"""Dense baselines: full-network accuracy of the seeds' models beside the published full-network numbers."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator
import seaborn as sns

from .. import reference
from ..profiles import Profile
from ..report import comparison, seed_stats
from ..runs import RunConfig, Store

STAND_IN = {"fashion_mnist": ("cifar10", "mnist"), "digits": ("mnist", "cifar10"), "synthetic": ("cifar10", "mnist")}


def configs(profile: Profile, models: list[str], datasets: list[str] | None = None) -> list[RunConfig]:
    return [profile.run(d, m, seed=s) for d in (datasets or profile.datasets) for m in models for s in profile.seeds]


def table(runs: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Last-epoch mean +- std per model beside the published full network; best-epoch mean alongside."""
    last = seed_stats(runs, ["dataset", "model"])
    best = seed_stats(runs, ["dataset", "model"], "best_test_acc")
    out = comparison(last, reference.full_networks(), ["dataset", "model"], profile, STAND_IN)
    out.insert(3, "ours (best epoch)", [f"{m:.2f}" for m in best["mean"]])
    return out


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
