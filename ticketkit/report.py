"""Presentation every chapter shares: the scale header, paper-shaped tables (ours with the published number
beneath, coloured by the claim's cell outcome), effects tables, and a CSV link for the long-form runs."""
from __future__ import annotations

import base64
import html
from typing import Callable, Hashable, Sequence

import numpy as np
import pandas as pd
from IPython.display import HTML

from .profiles import Profile
from .verdicts import FAILED, HELD, NOT_RUN, NOT_TESTABLE, OPEN, Verdict, where

OUTCOME_COLOURS = {HELD: "#d5ecd5", FAILED: "#f4d0d0", OPEN: "#f7ecc6"}
OUTCOME_LEGEND = ("Cell colour: our effect in that cell supports the claim (green), goes against it (red) or cannot "
                  "decide at this number of seeds (amber); uncoloured cells are not judged.")
_STYLE = """<style>
.tk-box{overflow-x:auto;max-width:100%;margin:0.4em 0 0.2em}
.tk-box table{border-collapse:collapse;font-size:0.85em;margin:0}
.tk-box th,.tk-box td{white-space:nowrap;padding:0.25em 0.6em;border-bottom:1px solid #e3e3e3;text-align:center}
.tk-box th.row_heading{text-align:left}
.tk-box th.col_heading.level0{border-bottom:1px solid #999}
.tk-pub{display:block;font-size:0.82em;color:#777}
.tk-cap{font-size:0.8em;color:#555;margin:0.1em 0 0.8em}
.tk-found{border-left:4px solid #4a7ab7;background:#f4f7fb;padding:0.5em 0.9em;margin:0.6em 0}
.tk-found p{margin:0.25em 0}
</style>"""


def header(profile: Profile) -> str:
    """Markdown stating the profile and its exact scale, shown at the top of every executed notebook."""
    note = f"**{profile.note}.**" if profile.name == "smoke" else f"{profile.note}."
    return f"**Scale.** {profile.scale()}.\n\n{note}"


def scale_line(profile: Profile) -> str:
    """The one-line scale under a page's title; the full statement is in the page's details."""
    warn = " **Smoke scale: its numbers mean nothing.**" if profile.name == "smoke" else ""
    return (f"*Scale:* profile `{profile.name}`: {'/'.join(profile.datasets)}, {len(profile.seeds)} seeds, "
            f"{profile.epochs} epochs (the full scale is under *Details*).{warn}")


def rules(verdicts: Sequence[Verdict]) -> str:
    """Markdown of each claim's statement, rule, margin and scale (the page's details)."""
    return "\n\n".join(v.markdown() for v in verdicts)


def seed_stats(runs: pd.DataFrame, by: list[str], value: str = "final_test_acc") -> pd.DataFrame:
    """Mean, std (ddof=1) and count of `value` over seeds for each group."""
    g = runs.groupby(by, sort=False)[value]
    return g.agg(mean="mean", std=lambda s: s.std(ddof=1) if len(s) > 1 else np.nan, n="count").reset_index()


def fmt(mean: float, std: float | None) -> str:
    """'93.66 ± 0.08', or the mean alone when no spread is known."""
    if std is None or pd.isna(std):
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {std:.2f}"


def plural(n: float, one: str, many: str = "") -> str:
    """'1 epoch', '4 epochs': a count with its noun (`many` for an irregular plural)."""
    return f"{n:g} {one if n == 1 else many or one + 's'}"


def sparsity_label(density: float) -> str:
    """'90%' for density 0.1: the column headers of the seeds' tables."""
    return f"{(1 - density) * 100:.4g}%"


def _cell(mean: float, sd: float, published: str | None) -> str:
    ours = "—" if pd.isna(mean) else html.escape(fmt(mean, sd))
    if published is None:
        return ours
    return f"{ours}<span class='tk-pub'>{html.escape(published) if published else '—'}</span>"


def cell_outcomes(verdicts: Sequence[Verdict], key: Callable[[Verdict, pd.Series], Hashable | None]
                  ) -> dict[Hashable, str]:
    """Table cell -> the outcome that colours it: the worst (failed, then inconclusive, then held) of the judged
    evidence rows that `key` maps to it, so a second comparison of one cell never hides the first; rows that judge
    nothing, or that `key` maps to None, colour nothing."""
    rank = {FAILED: 0, OPEN: 1, HELD: 2}
    out: dict[Hashable, str] = {}
    for v in verdicts:
        for _, e in v.evidence.iterrows():
            k = key(v, e) if e.get("outcome") in rank else None
            if k is not None:
                out[k] = min(out.get(k, HELD), e["outcome"], key=rank.__getitem__)
    return out


def paper_table(cells: pd.DataFrame, caption: str = "") -> HTML:
    """A table laid out like the seed's: rows = (row_group, row), columns = (col_group, col); each cell our
    mean ± sd over seeds with the published number beneath (muted), background = the cell's outcome.

    `cells` columns: row_group, row, col_group, col, mean, sd, published (text, "" when none), outcome
    ("" when the cell is not judged). Row and column order follow their first appearance in `cells`."""
    if cells.empty:
        return HTML(f"{_STYLE}<p class='tk-cap'>No runs of this table are stored yet at this profile.</p>")
    any_pub = cells["published"].astype(bool).any()
    c = cells.assign(html=[_cell(m, s, p if any_pub else None)
                           for m, s, p in zip(cells["mean"], cells["sd"], cells["published"])])
    rows = list(dict.fromkeys(zip(c["row_group"], c["row"])))
    cols = list(dict.fromkeys(zip(c["col_group"], c["col"])))
    index, columns = pd.MultiIndex.from_tuples(rows), pd.MultiIndex.from_tuples(cols)
    wide = pd.DataFrame("—", index=index, columns=columns)
    colour = pd.DataFrame("", index=index, columns=columns)
    for r in c.itertuples(index=False):
        wide.loc[(r.row_group, r.row), (r.col_group, r.col)] = r.html
        colour.loc[(r.row_group, r.row), (r.col_group, r.col)] = (
            f"background-color:{OUTCOME_COLOURS[r.outcome]}" if r.outcome in OUTCOME_COLOURS else "")
    if len(set(c["row_group"])) == 1:  # one group: its name goes into the caption, not a column of its own
        caption = f"{c['row_group'].iloc[0]}. {caption}" if c["row_group"].iloc[0] else caption
        wide.index, colour.index = wide.index.droplevel(0), colour.index.droplevel(0)
    styler = wide.style.apply(lambda _: colour, axis=None)
    body = styler.to_html(table_attributes='class="tk-paper"', sparse_index=True, sparse_columns=True)
    cap = f"<p class='tk-cap'>{html.escape(caption)} {OUTCOME_LEGEND}</p>" if caption else ""
    return HTML(f"{_STYLE}<div class='tk-box'>{body}</div>{cap}")


def plain_table(frame: pd.DataFrame, caption: str = "", empty: str = "Nothing of this table is stored yet.") -> HTML:
    """A table of text cells in the report's box with its caption beneath (no outcomes, no published numbers)."""
    if frame.empty:
        return HTML(f"{_STYLE}<p class='tk-cap'>{html.escape(empty)}</p>")
    cap = f"<p class='tk-cap'>{html.escape(caption)}</p>" if caption else ""
    return HTML(f"{_STYLE}<div class='tk-box'>{frame.to_html(index=False)}</div>{cap}")


def csv_link(frame: pd.DataFrame, filename: str, label: str = "Download every run of this page (CSV)") -> HTML:
    """A download link with the long-form table inlined (a data: URI), so it works in the static book offline."""
    data = base64.b64encode(frame.to_csv(index=False).encode()).decode()
    return HTML(f"<p><a download='{html.escape(filename)}' href='data:text/csv;base64,{data}'>{html.escape(label)}"
                f"</a> ({len(frame)} rows)</p>")


def _interval(row: pd.Series) -> str:
    if pd.isna(row.get("lo", np.nan)):
        return f"{row['effect']:+.2f}" if "effect" in row and not pd.isna(row["effect"]) else row.get("measured", "")
    return f"{row['effect']:+.2f} [{row['lo']:+.2f}, {row['hi']:+.2f}]"


def _published(row: pd.Series) -> str:
    if pd.isna(row.get("published", np.nan)):
        return "—"
    sd = row.get("published sd", np.nan)
    return f"{row['published']:+.2f}" + ("" if pd.isna(sd) else f" ± {sd:.2f}")


def effects_frame(v: Verdict) -> pd.DataFrame:
    """A verdict's evidence as the page shows it: cell, our effect [95% interval], published effect, outcome."""
    ev = v.evidence
    if not len(ev):
        return pd.DataFrame()
    out = pd.DataFrame(index=ev.index)
    if "model" in ev:
        out["model"] = ev["model"].fillna("")
    if "density" in ev:
        header = "remaining" if "remaining" in ev else "prune ratio" if "ratio" in ev else "sparsity"
        out[header] = [where(r) for _, r in ev.iterrows()]
    out["comparison"] = ev["comparison"]
    out["ours: effect [95% CI]"] = [_interval(r) for _, r in ev.iterrows()]
    if "published" in ev:
        out["published effect"] = [_published(r) for _, r in ev.iterrows()]
    if "published [Re]" in ev and ev["published [Re]"].notna().any():
        out["published, [Re]"] = [("—" if pd.isna(x) else f"{x:+.2f}") for x in ev["published [Re]"]]
    out["outcome"] = [o if o else f"not judged: {n}" if isinstance(n, str) and n else "not judged"
                      for o, n in zip(ev["outcome"], ev.get("note", pd.Series([""] * len(ev), index=ev.index)))]
    return out.reset_index(drop=True)


def effects_table(verdicts: Sequence[Verdict]) -> HTML:
    """Every cell of these claims: our effect with its interval beside the published effect, coloured by outcome."""
    frames = [effects_frame(v).assign(claim=v.claim_id) for v in verdicts if len(v.evidence)]
    if not frames:
        return HTML(f"{_STYLE}<p class='tk-cap'>No cells to show yet at this profile.</p>")
    df = pd.concat(frames, ignore_index=True)
    df = df[["claim"] + [c for c in df.columns if c != "claim"]]
    df = df.fillna({c: "—" if c.startswith("published") else "" for c in df.columns})
    colours = df["outcome"].map(lambda o: f"background-color:{OUTCOME_COLOURS.get(o, '')}" if o in OUTCOME_COLOURS
                                else "")
    styler = df.style.hide(axis="index").apply(lambda _: colours, subset=["outcome"]).format(escape="html")
    return HTML(f"{_STYLE}<div class='tk-box'>{styler.to_html()}</div>")


def _key_cells(v: Verdict, most: int = 4) -> pd.DataFrame:
    """The cells a findings box quotes: the deciding cells at each model's highest sparsity, those against the
    claim first, then the largest |effect|."""
    ev = v.evidence
    if not len(ev):
        return ev
    pool = ev[ev["outcome"].isin([HELD, FAILED, OPEN])]
    pool = pool if len(pool) else ev
    if "density" in pool and pool["density"].notna().any():  # (cells summarising a whole curve have none)
        model = pool["model"] if "model" in pool else pd.Series("", index=pool.index)
        lowest = pool.groupby(model, dropna=False)["density"].transform("min")
        pool = pool[(pool["density"] == lowest) | pool["density"].isna()]
    if "effect" in pool:
        order = pd.DataFrame({"held_or_open": pool["outcome"] != FAILED, "size": -pool["effect"].abs()},
                             index=pool.index)
        pool = pool.loc[order.sort_values(["held_or_open", "size"], kind="stable").index]
    return pool.head(most)


def _phrase(row: pd.Series) -> str:
    place = " ".join(x for x in (row.get("model"), where(row)) if isinstance(x, str) and x)
    pub = _published(row) if "published" in row else "—"
    vs = f" vs published {pub}" if pub != "—" else ""
    return f"{html.escape(str(row['comparison']))}, {html.escape(place)}: <b>{html.escape(_interval(row))}</b>{vs}"


def precision_note(runs: pd.DataFrame) -> str:
    """The precision the page's runs trained at, and a warning when they differ (their effects then include it)."""
    kinds = runs["precision"].fillna("unrecorded").value_counts() if "precision" in runs else pd.Series(dtype=int)
    if len(kinds) < 2:
        return f"Every run on this page trained in {kinds.index[0]}." if len(kinds) else ""
    return ("Runs on this page were trained at different precisions (" +
            ", ".join(f"{k}: {n}" for k, n in kinds.items()) + "); an effect between two of them includes that "
            "difference. Each record states its precision (CSV below).")


def findings(verdicts: Sequence[Verdict], runs: pd.DataFrame | None = None,
             dashboard: str = "claims_dashboard.html") -> HTML:
    """The "What we found" box that opens a page: each claim's verdict and counts, its key effects beside the
    published ones, the runs' precision (a warning where they mix), and a link back to the dashboard."""
    parts = []
    for v in verdicts:
        counts = f" ({v.counts()})" if v.counts() else ""
        testable = v.verdict not in (NOT_RUN, NOT_TESTABLE)
        cells = "; ".join(_phrase(r) for _, r in _key_cells(v).iterrows()) if testable else ""
        note = "" if testable or not v.note else f" <i>{html.escape(v.note)}.</i>"
        body = " ".join(x for x in (cells, note.strip()) if x)
        parts.append(f"<p><b>{v.claim_id}: {html.escape(v.verdict)}</b>{counts}. {body}</p>")
    warn = precision_note(runs) if runs is not None else ""
    if warn:
        parts.append(f"<p style='font-size:0.85em'><b>Note.</b> {html.escape(warn)}</p>")
    link = f"<p style='font-size:0.85em'>All claims at a glance: <a href='{dashboard}'>claims dashboard</a>. " \
           "Effects are differences within one setting, in accuracy points unless the comparison names another " \
           "measure, with 95% Welch intervals.</p>"
    return HTML(f"{_STYLE}<div class='tk-found'><p><b>What we found</b></p>{''.join(parts)}{link}</div>")
