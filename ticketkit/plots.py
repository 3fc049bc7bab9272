"""Figures every chapter shares: our effect against the published effect per cell, the verdict overview, and a
log axis with plain numbers."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import LogFormatter

from .claims import CLAIMS
from .verdicts import FAILED, FAILS, HELD, HOLDS, INCONCLUSIVE, MIXED, NOT_RUN, NOT_TESTABLE, OPEN, Verdict, where

CELL_COLOURS = {HELD: "#2e8b57", FAILED: "#c0392b", OPEN: "#d4a017", "": "#888888"}
VERDICT_COLOURS = {HOLDS: "#5cb85c", FAILS: "#d9534f", MIXED: "#f0ad4e", INCONCLUSIVE: "#f7dc6f",
                   NOT_TESTABLE: "#a9c4e0", NOT_RUN: "#d0d0d0"}
MARKERS = ["o", "s", "^", "D", "v", "P"]


def _cells(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    frames = [v.evidence.assign(claim=v.claim_id) for v in verdicts if len(v.evidence) and "effect" in v.evidence]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# the margin lines a rule holds its cells against (evidence column margin_test; "as good as" when absent): the
# signs of m the lines are drawn at
MARGIN_LINES = {"as good as": (-1,), "matches": (-1, 1), "differs": (-1, 1), "below +m": (1,), "below −m": (-1,)}


def _bounds(df: pd.DataFrame) -> list[tuple[float, str]]:
    """(value, legend label) of each margin line the judged cells were held against, at most four."""
    if "margin" not in df:
        return []
    tests = df["margin_test"].fillna("as good as") if "margin_test" in df else pd.Series("as good as", df.index)
    lines: dict[float, str] = {}
    for m, test in zip(df["margin"], tests):
        if pd.notna(m) and m and test in MARGIN_LINES:
            for sign in MARGIN_LINES[test]:
                lines.setdefault(sign * float(m), f"{'+' if sign > 0 else '−'}m = {sign * float(m):+g} ({test})")
    return sorted(lines.items())[:4]


def _label(r: pd.Series) -> str:
    return f"{r['claim']} {r.get('model', '')} {where(r)}: {r['comparison']}"


def effects_figure(verdicts: Sequence[Verdict], title: str, scale: str, ours: str, theirs: str,
                   unit: str = "accuracy points") -> plt.Figure:
    """Published effect (x) against our effect (y), one point per cell with its 95% interval (and the published
    ± sd where given), the y = x line and both zero lines; colour = the cell's outcome, marker = model. Cells
    without a published effect are drawn as a forest plot of our effects instead (in a panel beside the scatter
    when some cells have one)."""
    df = _cells(verdicts)
    fig_note = f"Scale: {scale}."
    if df.empty:
        fig, ax = plt.subplots(figsize=(6, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{title}: no cells stored yet", ha="center", va="center")
        return fig
    df["outcome"] = df["outcome"].fillna("")
    has_pub = "published" in df and df["published"].notna().any()
    if not has_pub:
        return _forest(df, title, fig_note, ours, unit)
    alone = df[df["published"].isna()].reset_index(drop=True)
    df = df[df["published"].notna()]
    models = list(dict.fromkeys(df.get("model", pd.Series(["all"] * len(df)))))
    if len(alone):
        fig, (ax, side) = plt.subplots(1, 2, figsize=(11, max(3.6, 0.28 * len(alone) + 1.4)),
                                       gridspec_kw={"width_ratios": [1, 1.2]})
        _forest_on(side, alone, ours, unit, "cells with no published effect")
    else:
        fig, ax = plt.subplots(figsize=(4.8, 3.6))
    for i, m in enumerate(models):
        sub = df[df["model"] == m] if "model" in df else df
        for outcome, g in sub.groupby("outcome"):
            yerr = np.vstack([g["effect"] - g["lo"], g["hi"] - g["effect"]])
            xerr = g["published sd"].fillna(0).to_numpy() if "published sd" in g else None
            ax.errorbar(g["published"], g["effect"], yerr=np.nan_to_num(yerr), xerr=xerr, fmt=MARKERS[i % 6],
                        color=CELL_COLOURS.get(outcome, "#888888"), ms=6, capsize=2, lw=1, ls="none")
    lim = np.nanmax(np.abs(np.concatenate([df["published"], df["lo"].fillna(0), df["hi"].fillna(0)]))) * 1.08 + 0.5
    ax.plot([-lim, lim], [-lim, lim], ls="--", c="grey", lw=0.8)
    bounds = _bounds(df)
    for value, _ in bounds:
        ax.axhline(value, c="#2e8b57", lw=0.8, ls=":")
    ax.axhline(0, c="k", lw=0.6)
    ax.axvline(0, c="k", lw=0.6)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel(f"published effect ({unit}; {theirs})")
    ax.set_ylabel(f"our effect ({unit}; {ours})")
    ax.set_title(title, fontsize=10)
    handles = [plt.Line2D([], [], ls="none", marker=MARKERS[i % 6], color="k", label=m) for i, m in enumerate(models)]
    handles += [Patch(color=CELL_COLOURS[o], label=o or "not judged") for o in (HELD, FAILED, OPEN, "")
                if o in set(df["outcome"])]
    handles.append(plt.Line2D([], [], ls="--", color="grey", label="y = x (same effect)"))
    handles += [plt.Line2D([], [], ls=":", color="#2e8b57", label=label) for _, label in bounds]
    ax.legend(handles=handles, fontsize=7, loc="best")
    fig.tight_layout()
    fig.text(0.01, -0.01, "Bars: our 95% Welch interval (vertical), the published ± sd (horizontal). Points on the "
             "dashed line reproduce the published effect; points in the top-right or bottom-left quadrant agree in "
             "sign." + (f" Right: our {len(alone)} cells the papers print no effect for." if len(alone) else "") +
             " " + fig_note, fontsize=6.5, wrap=True, va="top")
    return fig


def _forest(df: pd.DataFrame, title: str, note: str, ours: str, unit: str) -> plt.Figure:
    """Our effects with their intervals, one row per cell (used where the seeds publish no numbers)."""
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(df) + 1.4))
    _forest_on(ax, df, ours, unit, title + " (no published effect for these cells)")
    fig.tight_layout()
    fig.text(0.01, -0.01, "Bars: 95% Welch interval over seeds. " + note, fontsize=6.5, wrap=True, va="top")
    return fig


def _forest_on(ax: plt.Axes, df: pd.DataFrame, ours: str, unit: str, title: str) -> None:
    """Draw our effects with their intervals on `ax`, one row per cell, coloured by outcome."""
    y = np.arange(len(df))[::-1]
    for outcome, idx in df.groupby("outcome").groups.items():
        g = df.loc[idx]
        yy = y[df.index.get_indexer(idx)]
        ax.errorbar(g["effect"], yy, xerr=np.nan_to_num(np.vstack([g["effect"] - g["lo"], g["hi"] - g["effect"]])),
                    fmt="o", color=CELL_COLOURS.get(outcome, "#888888"), ms=4, capsize=2, lw=1, ls="none",
                    label=outcome or "not judged")
    ax.axvline(0, c="k", lw=0.6)
    for value, label in _bounds(df):
        ax.axvline(value, c="#2e8b57", lw=0.8, ls=":", label=label)
    ax.set_yticks(y)
    ax.set_yticklabels([_label(r) for _, r in df.iterrows()], fontsize=7)
    ax.set_xlabel(f"our effect ({unit}; {ours})")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="best")


def verdict_overview(board: pd.DataFrame) -> plt.Figure:
    """Claims grouped by paper, one tile per claim coloured by its verdict, with the counts per paper."""
    papers = list(dict.fromkeys(c.paper for c in CLAIMS))
    widest = max(sum(c.paper == p for c in CLAIMS) for p in papers)
    fig, ax = plt.subplots(figsize=(0.62 * widest + 4.2, 0.62 * len(papers) + 1.0))
    verdict = dict(zip(board["claim"], board["verdict"]))
    for row, paper in enumerate(papers):
        ids = [c.id for c in CLAIMS if c.paper == paper]
        y = len(papers) - 1 - row
        for col, cid in enumerate(ids):
            v = verdict.get(cid, NOT_RUN)
            ax.add_patch(plt.Rectangle((col, y + 0.08), 0.92, 0.84, color=VERDICT_COLOURS[v]))
            ax.text(col + 0.46, y + 0.5, cid, ha="center", va="center", fontsize=7)
        vs = [verdict.get(cid, NOT_RUN) for cid in ids]
        counts = f"{vs.count(HOLDS)} hold, {vs.count(FAILS)} do not, {vs.count(MIXED)} mixed, " \
                 f"{vs.count(INCONCLUSIVE)} inconclusive"
        ax.text(-0.2, y + 0.62, paper, ha="right", va="center", fontsize=8)
        ax.text(-0.2, y + 0.3, counts, ha="right", va="center", fontsize=7, color="#555555")
    ax.set_xlim(-0.1, widest)
    ax.set_ylim(0, len(papers))
    ax.axis("off")
    ax.legend(handles=[Patch(color=c, label=v) for v, c in VERDICT_COLOURS.items()], fontsize=7, ncol=3,
              loc="upper center", bbox_to_anchor=(0.5, 0.0), frameon=False)
    ax.set_title("Every claim's verdict, by paper (grey: not run yet)", fontsize=10)
    fig.tight_layout()
    return fig


class PlainLog(LogFormatter):
    """Log-axis tick labels as plain numbers (0.5, 2, 30), on the ticks matplotlib's log formatter would label."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def log_y(ax: plt.Axes) -> None:
    """A log-scaled y axis labelled in plain numbers, minor ticks too where few decades show."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(PlainLog(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(PlainLog(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
