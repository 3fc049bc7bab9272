"""One module per notebook family: the grid of configs it runs and the tables/figures it shows.

GRIDS names every experiment's full grid so `python -m ticketkit run` can compute it headless."""
from __future__ import annotations

from typing import Callable

from ..profiles import Profile
from ..runs import RunConfig
from . import su_rules  # noqa: F401  (registers the rules of SU-1..SU-7)


def _dense(P: Profile) -> list[RunConfig]:
    from .dense import configs

    return configs(P, list(P.models))


def _su(P: Profile) -> list[RunConfig]:
    from .su import chapter

    return chapter(P)


GRIDS: dict[str, Callable[[Profile], list[RunConfig]]] = {"dense": _dense, "su": _su}
