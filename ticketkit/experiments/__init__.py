"""One module per notebook family: the grid of configs it runs and the tables/figures it shows.

GRIDS names every experiment's full grid so `python -m ticketkit run` can compute it headless."""
from __future__ import annotations

from typing import Callable

from ..profiles import Profile
from ..runs import RunConfig
from . import lottery_rules, su_rules  # noqa: F401  (register the rules of LT-1..LT-4 and SU-1..SU-7)


def _dense(P: Profile) -> list[RunConfig]:
    from .dense import configs

    return configs(P, list(P.models))


def _su(P: Profile) -> list[RunConfig]:
    from .su import chapter

    return chapter(P)


def _lottery(P: Profile) -> list[RunConfig]:
    from . import lottery, lottery_liu, lottery_size

    return (lottery.chapter(lottery.get_scale(P.name)) + lottery_size.network_size(lottery_size.get_scale(P.name))
            + lottery_liu.lr_study(lottery_liu.get_scale(P.name)))


GRIDS: dict[str, Callable[[Profile], list[RunConfig]]] = {"dense": _dense, "su": _su, "lottery": _lottery}
NotebookGrid = Callable[[Profile], tuple[list[RunConfig], str]]  # profile -> (configs, the scale line)


def notebook_grids(chapter: str | None = None) -> dict[str, NotebookGrid]:
    """Every notebook's grid (or one chapter's: "su", "lottery") as a function of the profile, with its scale."""
    from . import lottery, lottery_liu, lottery_size, su

    out: dict[str, dict[str, NotebookGrid]] = {
        "su": {n: (lambda P, g=g: (g(P), P.scale())) for n, g in su.NOTEBOOK_GRIDS.items()},
        "lottery": {n: (lambda P, g=g, mod=mod: (g(mod.get_scale(P.name)), mod.get_scale(P.name).scale()))
                    for mod in (lottery, lottery_liu, lottery_size) for n, g in mod.NOTEBOOK_GRIDS.items()},
    }
    if chapter is not None:
        return out[chapter]
    return {n: g for grids in out.values() for n, g in grids.items()}
