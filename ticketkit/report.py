"""Tables and headers for the notebooks: mean +- std over seeds, published numbers beside ours, the scale stated."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from .profiles import Profile


def overrides(**params: Any) -> dict[str, Any]:
    """Notebook parameters that are set (not None), to pass to get_profile."""
    return {k: v for k, v in params.items() if v is not None}


def header(profile: Profile) -> str:
    """Markdown stating the profile and its exact scale, shown at the top of every executed notebook."""
    note = f"**{profile.note}.**" if profile.name == "smoke" else f"{profile.note}."
    return f"**Scale.** {profile.scale()}.\n\n{note}"


def seed_stats(runs: pd.DataFrame, by: list[str], value: str = "final_test_acc") -> pd.DataFrame:
    """Mean, std (ddof=1) and count of `value` over seeds for each group."""
    g = runs.groupby(by, sort=False)[value]
    out = g.agg(mean="mean", std=lambda s: s.std(ddof=1) if len(s) > 1 else np.nan, n="count").reset_index()
    return out


def fmt(mean: float, std: float | None) -> str:
    """'93.66 ± 0.08', or the mean alone when no spread is known."""
    if std is None or (isinstance(std, float) and np.isnan(std)):
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {std:.2f}"


def comparison(ours: pd.DataFrame, published: pd.DataFrame, keys: Iterable[str], profile: Profile,
               stand_in: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """Our mean +- std beside the published number for the same keys (model, method, sparsity...) and the difference.

    When we measured on a stand-in dataset (Fashion-MNIST for CIFAR-10), the first dataset in `stand_in` that
    has a published row for the model is used, and the 'scale' column says so."""
    from .reference import MODEL_ALIASES

    keys = list(keys)
    rows = []
    for _, r in ours.iterrows():
        pub_model = published["model"] == MODEL_ALIASES.get(r["model"], r["model"])
        candidates = (r["dataset"], *(stand_in or {}).get(r["dataset"], ()))
        target = next((d for d in candidates if (pub_model & (published["dataset"] == d)).any()), None)
        sel = pub_model & (published["dataset"] == target)
        for k in keys:
            if k not in ("model", "dataset"):
                sel &= np.isclose(published[k], r[k]) if published[k].dtype.kind == "f" else published[k] == r[k]
        pub = published[sel]
        row = {k: r[k] for k in keys}
        row.update({"ours (last epoch)": fmt(r["mean"], r["std"]), "seeds": int(r["n"])})
        if len(pub):
            p = pub.iloc[0]
            row.update({"published": fmt(p["accuracy"], p["std"]), "difference": round(r["mean"] - p["accuracy"], 2),
                        "source": f"{p['source']}, {p['table']}",
                        "scale": f"ours: {profile.name} profile on {r['dataset']}; published: full scale on {target}"})
        else:
            row.update({"published": "n/a", "difference": np.nan, "source": "", "scale": f"{profile.name} profile"})
        rows.append(row)
    return pd.DataFrame(rows)
