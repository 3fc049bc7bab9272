"""The claims dashboard: every claim with its verdict computed from the stored records at one profile."""
from __future__ import annotations

import contextlib
import html
import io

import pandas as pd

from .claims import CLAIMS
from .experiments import notebook_grids
from .profiles import Profile
from .grid import frame
from .store import Store
from .plots import VERDICT_COLOURS
from .verdicts import NOT_RUN, RULES, evaluate
from .walks import walk_levels


def _stored(cfgs: list, store: Store | None = None) -> pd.DataFrame:  # type: ignore[type-arg]
    """Runs table of the configs that have a record, reading the store only (corrupt-record warnings muted: the
    store remembers them for `corrupt_note`)."""
    store = store or Store()
    with contextlib.redirect_stderr(io.StringIO()):
        return frame([r for r in map(store.get, cfgs) if r is not None])


def stored_runs(P: Profile, notebook: str, store: Store | None = None, also: tuple[str, ...] = ()
                ) -> tuple[pd.DataFrame, int, int, str]:
    """(runs table, stored count, grid size, scale line) of a notebook's grid (with the grids of the notebooks
    `also`), reading the store only."""
    grids = notebook_grids()
    cfgs, scale = grids[notebook](P)
    cfgs = list(dict.fromkeys([*cfgs, *(c for n in also for c in grids[n](P)[0])]))
    runs = _stored(cfgs, store)
    return runs, len(runs), len(cfgs), scale


def corrupt_note(store: Store) -> str:
    """One line naming the record files the store skipped as corrupt (empty when none), so that a verdict resting on
    fewer runs than were computed says why."""
    if not store.corrupt:
        return ""
    paths = ", ".join(str(p) for p in sorted(store.corrupt))
    return (f"{len(store.corrupt)} stored result record(s) skipped as corrupt, so not counted here (a grid run with "
            f"compute=True recomputes them): {paths}.")


def table(P: Profile) -> pd.DataFrame:
    """One row per claim: its verdict at this profile from the stored runs, the cell counts, the cells that
    decided against it, how much of its grid is stored, and its page. attrs["corrupt_note"] names the records
    skipped as corrupt (`styled` shows it as the caption)."""
    store = Store()
    grids = notebook_grids()
    rows = []
    for c in CLAIMS:
        verdict, runs_txt, cells, against, scale = NOT_RUN, "", "", "", "not run yet"
        if c.notebook in grids and c.id in RULES:
            runs, found, total, line = stored_runs(P, c.notebook, store, c.also)
            runs_txt = f"{found}/{total}"
            if found:
                v = evaluate(c.id, runs, line)
                verdict, cells, against = v.verdict, v.counts() or v.note, v.against()
                scale = f"{P.name} profile" + ("" if found == total else f" (partial: {found} of {total} runs)")
        page = f'<a href="{c.notebook}.html">{c.notebook}</a>' if c.notebook else ""
        rows.append({"claim": c.id, "paper": c.paper, "statement": c.statement, "verdict": verdict,
                     "cells": cells, "cells against the claim": against, "runs stored": runs_txt, "scale": scale,
                     "notebook": page})
    board = pd.DataFrame(rows)
    board.attrs["corrupt_note"] = corrupt_note(store)
    return board


def styled(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    """The dashboard as HTML with the verdict column coloured, one cell against the claim per line (the paper is
    in the overview figure above it), captioned with the note on records skipped as corrupt, if any."""
    note = df.attrs.get("corrupt_note", "")
    df = df.drop(columns=["paper"], errors="ignore")
    text = [c for c in df.columns if c not in ("notebook", "cells against the claim")]
    style = (df.style.hide(axis="index")
             .map(lambda v: f"background-color: {VERDICT_COLOURS.get(v, '')}", subset=["verdict"])
             .format(escape="html", subset=text)
             .format(lambda v: "<br>".join(html.escape(p) for p in v.split("; ")), subset=["cells against the claim"])
             .set_properties(**{"text-align": "left", "font-size": "0.85em"}))
    return style.set_caption(html.escape(note)) if note else style


def findings(P: Profile, prefix: str) -> pd.DataFrame:
    """One chapter's claims (ids starting with `prefix`) with their verdicts from the stored runs."""
    board = table(P)
    return board[board["claim"].str.startswith(prefix)][["claim", "verdict", "cells", "cells against the claim",
                                                      "runs stored", "statement", "notebook"]]


COST_NOTES = {
    "su": "Pre-training for partially-trained tickets is cached and shared between runs of one seed; its time is "
          "counted in the first run that needed it.",
    "lottery": "Each IMP level of a trial trains after the one before it; the trials' levels (and their branches) "
               "train together as one batched model, and each record holds its share of that time.",
    "deconstruct": "Each criterion is an IMP trajectory whose levels train one after another, the trials of a level "
                   "together as one batched model (each record holds its share); the dense level 0 is shared by "
                   "every criterion.",
    "gems": "Runs train one at a time. A Gem-Miner search is cached and shared by its shuffling and reinitialisation "
            "checks: its time is counted in the first of them that needed it, and every record also holds its "
            "search and fine-tuning seconds apart. IMP and learning-rate rewinding are trajectories: the trials "
            "advance level by level, each level's record holds its own round's time, and a fine-tuned level's "
            "record its fine-tuning.",
}


def cost_note(P: Profile, chapter: str = "su") -> str:
    """How many of the chapter's runs are stored, the training time their records sum to (a run trained in a batch
    of K counts a K-th of the batch's time) with the IMP levels the grid trains on the way to the levels it asks for
    (ticketkit.walks), and the median run time per model and method with the whole grid projected from it (the sum
    also counts runs slowed by other work on the cores)."""
    cfgs = list(dict.fromkeys(c for grid in notebook_grids(chapter).values() for c in grid(P)[0]))
    walked = walk_levels(cfgs)
    done, steps = _stored(cfgs), _stored(walked)
    if done.empty:
        return f"None of the chapter's {len(cfgs)} runs is stored yet at the {P.name} profile."
    both = pd.concat([done, steps]) if len(steps) else done
    both = both.assign(share_s=both["wall_s"] / both["batch"].fillna(1))
    kinds = pd.Series([f"{c.model} / {c.method}" for c in cfgs + walked]).value_counts(sort=False)
    kind = both["model"] + " / " + both["method"]
    medians = both.groupby(kind)["share_s"].median()
    timed = [f"{medians[k]:.0f} s for {k} ({(kind == k).sum()} of {n} stored)"
             for k, n in kinds.items() if k in medians]
    untimed = [k for k in kinds.index if k not in medians]
    projected = sum(n * medians[k] for k, n in kinds.items() if k in medians) / 3600
    walk_txt = (f", and the {len(walked)} trajectory levels the grid trains on the way to the levels it asks for "
                f"({len(steps)} stored) to {both['share_s'].iloc[len(done):].sum() / 3600:.1f} hours more"
                if walked else "")
    return (f"The chapter's grid has {len(cfgs)} runs; {len(done)} are stored. Their records sum to "
            f"{both['share_s'].iloc[:len(done)].sum() / 3600:.1f} hours of training{walk_txt}, on "
            f"{', '.join(sorted(set(both['device'])))}, including runs slowed by other work on the same cores. The "
            "median run took " + "; ".join(timed) +
            f", so {'the whole grid takes' if not untimed else 'the runs of the timed kinds take'} about "
            f"{projected:.1f} hours at those medians" + (f" ({', '.join(untimed)} not timed yet)" if untimed else "") +
            ". " + COST_NOTES[chapter])
