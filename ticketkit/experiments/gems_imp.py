"""IMP in the rare-gems chapter (seed 004, appendix B): global magnitude pruning of 20% of the remaining weights per
round, optimiser and schedule restarting every round, "short" rounds of a few epochs or "long" rounds of a full
training, rewinding "cold" to the initialisation or "warm" to an early iteration, and its level for each of the
chapter's densities fine-tuned like a gem (the finetune branch); learning-rate rewinding (Renda et al.) is long
rounds each starting from the previous level's trained weights. Run names ("variant") come from the options, so
that a runs table alone says which trajectory a record belongs to."""
from __future__ import annotations

import math
from typing import Any, Mapping, Protocol

from .. import imp
from ..report import plural
from ..runs import RunConfig
from ..scoremask import finetune_spec

RATE = 0.2  # global: 20% of the remaining prunable weights per round
LRR = "lr_rewinding"
IMP_NAMES = {("short", "cold"): "imp", ("short", "warm"): "imp_short_warm", ("long", "cold"): "imp_long_cold",
             ("long", "warm"): "imp_long_warm"}  # Figure 10's four IMP variants (fine-tuned); "imp" is the cheapest
IMP_LABELS = {"imp": "IMP (short, cold)", "imp_short_warm": "IMP (short, warm)",
              "imp_long_cold": "IMP (long, cold)", "imp_long_warm": "IMP (long, warm)"}


class ImpScale(Protocol):
    """What the IMP runs take from the chapter's scale (GemScale)."""

    dataset: str
    model: str
    width: float
    image_size: int
    train_subset: int | None
    seeds: tuple[int, ...]
    densities: tuple[float, ...]
    batch_size: int
    augment: bool
    finetune_epochs: int
    imp_short_epochs: int
    imp_long_epochs: int
    imp_warm_step: int
    imp_lr: float

    def setting(self, density: float) -> Any: ...


def level(density: float) -> int:
    """The deepest global-20% level whose density 0.8^j is `density` or more, within the chapter's same-density
    tolerance (1.44% -> 19, 0.59% -> 23; 3.72% -> 14 at 4.40%, denser, so that mismatch works against Gem-Miner;
    13.74% -> 9 at 13.42%)."""
    from .gems import SAME_DENSITY

    floor = math.log(density) - SAME_DENSITY
    return max(1, math.floor(floor / math.log(1 - RATE) + 1e-9))


def round_epochs(S: ImpScale, rounds: str) -> int:
    return S.imp_short_epochs if rounds == "short" else S.imp_long_epochs


def finetune_lr(S: ImpScale) -> float:
    """The lr IMP retrains its tickets at: its own rounds' (appendix A: competing methods train with their authors'
    settings; Table 15's lower lr is for fine-tuning the rare gems' constant-valued weights)."""
    return float(S.imp_lr)


def root(S: ImpScale, seed: int, rounds: str, start: str, restart: str = "rewind") -> RunConfig:
    """One seed's trajectory: rounds of `rounds` length (SGD lr imp_lr, momentum 0.9, wd 1e-4, lr / 10 at 80/150
    and 120/150), Kaiming-normal init (build_model's), rewinding to iteration 0 ("cold") or imp_warm_step ("warm"),
    fine-tuning any level for finetune_epochs at finetune_lr."""
    spec = finetune_spec(round_epochs(S, rounds), S.imp_lr, S.batch_size, S.augment)
    opts: dict[str, Any] = {"scope": "global", "rate": RATE, "rewind_step": S.imp_warm_step if start == "warm" else 0,
                            "rounds": rounds, "finetune_epochs": S.finetune_epochs, "finetune_lr": finetune_lr(S)}
    if restart != "rewind":
        opts["restart"] = restart
    return RunConfig(dataset=S.dataset, model=S.model, method="imp", seed=seed, width=S.width,
                     image_size=S.image_size, train_subset=S.train_subset, train=spec, options=tuple(opts.items()))


def imp_run(S: ImpScale, seed: int, density: float, name: str = "imp") -> RunConfig:
    """A named IMP variant's record at its level for `density`: the fine-tuned ticket, or learning-rate
    rewinding's trained level (its result: it is never rewound nor fine-tuned)."""
    if name == LRR:
        return imp.level_config(root(S, seed, "long", "cold", "trained"), level(density))
    rounds, start = next(k for k, v in IMP_NAMES.items() if v == name)
    return imp.level_config(root(S, seed, rounds, start), level(density), "finetune")


def levels(S: ImpScale, seed: int, top: int, name: str = "imp") -> list[RunConfig]:
    """The trained tickets of levels 0 .. top-1 of a variant's trajectory: the rounds behind level top's mask."""
    rounds, start = next(k for k, v in IMP_NAMES.items() if v == name)
    return [imp.level_config(root(S, seed, rounds, start), j) for j in range(top)]


def imp_variants(S: ImpScale) -> list[RunConfig]:
    """004 Figure 10: short / long x cold / warm IMP fine-tuned at its level for each density, every seed."""
    return [imp_run(S, seed, d, n) for d in S.densities for seed in S.seeds for n in IMP_NAMES.values()]


def variant(opts: Mapping[str, Any]) -> str:
    """An IMP run's name: lr_rewinding, a Figure 10 variant (fine-tuned), or that name + "_ticket" for a level's
    trained ticket."""
    if opts.get("restart", "rewind") == "trained":
        return LRR
    name = IMP_NAMES[(str(opts.get("rounds", "short")), "warm" if int(opts.get("rewind_step", 0)) else "cold")]
    return name if opts.get("branch", "ticket") == "finetune" else f"{name}_ticket"


def cost_levels(S: ImpScale, density: float, name: str) -> list[RunConfig]:
    """An IMP variant at `density` with the tickets whose rounds found its mask (what RG-4 counts)."""
    return [c for seed in S.seeds for c in [imp_run(S, seed, density, name)] + levels(S, seed, level(density), name)]


def describe(S: ImpScale) -> str:
    """IMP's part of the scale line."""
    return (f"IMP: global {RATE:.0%} per round, SGD lr {S.imp_lr:g} (momentum 0.9, wd 1e-4, lr / 10 at 80/150 and "
            f"120/150 of each round), short rounds {plural(S.imp_short_epochs, 'epoch')}, long {S.imp_long_epochs}, cold "
            f"rewinding to iteration 0, warm to iteration {S.imp_warm_step}; each density's level (the deepest "
            "keeping about it or more; 0.8^j: "
            f"{', '.join(f'{100 * 0.8 ** level(d):.3g}% for {100 * d:.4g}%' for d in S.densities)}) "
            f"fine-tuned {S.finetune_epochs} epochs at lr {finetune_lr(S):g}; learning-rate rewinding: long rounds "
            "from the previous level's trained weights")

