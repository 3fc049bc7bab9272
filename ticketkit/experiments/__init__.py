"""One module per notebook family: the grid of configs it runs and the tables/figures it shows.

GRIDS names every experiment's full grid so `python -m ticketkit run` can compute it headless."""
from __future__ import annotations

from typing import Any, Callable

from ..profiles import Profile
from ..runs import RunConfig
from . import (deconstruct_rules, deconstruct_supermask, gems_rules, gems_studies_rules, lottery_rules,  # noqa: F401
               su_rules)  # (their rules)


def _dense(P: Profile) -> list[RunConfig]:
    from .dense import configs

    return configs(P, list(P.models))


def _su(P: Profile) -> list[RunConfig]:
    from .su import chapter

    return chapter(P)


def _chapter(name: str) -> Callable[[Profile], list[RunConfig]]:
    """Every run of a chapter's notebooks, in the order of its notebooks."""
    return lambda P: list(dict.fromkeys(c for grid in notebook_grids(name).values() for c in grid(P)[0]))


GRIDS: dict[str, Callable[[Profile], list[RunConfig]]] = {"dense": _dense, "su": _su, "lottery": _chapter("lottery"),
                                                          "deconstruct": _chapter("deconstruct"),
                                                          "gems": _chapter("gems")}
NotebookGrid = Callable[[Profile], tuple[list[RunConfig], str]]  # profile -> (configs, the scale line)


def _at(get: Callable[[str], Any], grid: Callable[[Any], list[RunConfig]],
        line: Callable[[Any], str] = lambda S: S.scale()) -> NotebookGrid:
    """A notebook grid of a chapter whose scale is looked up by profile name."""
    return lambda P: (grid(get(P.name)), line(get(P.name)))


def notebook_grids(chapter: str | None = None) -> dict[str, NotebookGrid]:
    """Every notebook's grid (or one chapter's: "su", "lottery", "deconstruct", "gems") as a function of the
    profile, with its scale;
    the lottery chapter's grids in the order its CPU budget is best spent."""
    from . import (deconstruct, gems, gems_studies as st, lottery, lottery_conv, lottery_liu, lottery_rewind,
                   lottery_size, lottery_structured, su)

    out: dict[str, dict[str, NotebookGrid]] = {
        "su": {n: (lambda P, g=g: (g(P), P.scale())) for n, g in su.NOTEBOOK_GRIDS.items()},
        "lottery": {
            "lt_lenet_imp": _at(lottery.get_scale, lottery.lenet_imp),
            "lt_oneshot_vs_iterative": _at(lottery.get_scale, lottery.oneshot_vs_iterative),
            "lt_network_size": _at(lottery_size.get_scale, lottery_size.network_size),
            "lt_conv": _at(lottery_conv.get_scales, lottery_conv.conv_imp, lottery_conv.scale_line),
            "lt_liu_lr": _at(lottery_liu.get_scale, lottery_liu.lr_study),
            "lt_structured": _at(lottery_structured.get_scale, lottery_structured.structured),
            "lt_vgg_rewinding": _at(lottery_rewind.get_scale, lottery_rewind.rewinding),
        },
        "deconstruct": {
            "dl_criteria": _at(deconstruct.get_scale, deconstruct.criteria_grid),
            "dl_signs_large_final": _at(deconstruct.get_scale, lambda S: deconstruct.signs_grid(S, "large_final")),
            "dl_signs_magnitude_increase": _at(deconstruct.get_scale,
                                               lambda S: deconstruct.signs_grid(S, "magnitude_increase")),
            "dl_mask_actions": _at(deconstruct.get_scale, deconstruct.actions_grid),
            "dl_supermasks": _at(deconstruct.get_scale, deconstruct_supermask.grid),
        },
        "gems": {
            "rg_post_finetune": _at(gems.get_scale, gems.post_finetune),
            "rg_pre_finetune": _at(gems.get_scale, gems.pre_finetune),
            "rg_sanity_prospr": _at(gems.get_scale, gems.prospr_sanity),
            "rg_ep_variants": _at(gems.get_scale, gems.ep_variants),
            "rg_sparsity_trajectory": _at(gems.get_scale, gems.sparsity_trajectory),
            "rg_cost": _at(gems.get_scale, st.cost_grid),
            "rg_long_gm": _at(gems.get_scale, st.long_gm),
            "rg_sr_variants": _at(gems.get_scale, st.sr_variants),
            "rg_layerwise": _at(gems.get_scale, st.layerwise),
            "rg_pre_vs_post": _at(gems.get_scale, st.pre_vs_post),
            "rg_imp_variants": _at(gems.get_scale, st.imp_figure),
        },
    }
    if chapter is not None:
        return out[chapter]
    return {n: g for grids in out.values() for n, g in grids.items()}
