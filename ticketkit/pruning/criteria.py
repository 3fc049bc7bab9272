"""Zhou et al.'s mask criteria: per layer, which weights to keep given their values at the start (w_i) and the end
(w_f) of a training run. Each criterion is a score (keep the highest); ties are broken at random with the run's
generator, so exactly the asked number is kept. The quadrant criteria keep a weight iff both magnitudes lie above
(below) a common per-layer percentile: ranking by the smaller (larger) of the two percentile ranks and keeping the
top n places that percentile exactly where n weights pass, which is what the original code's bisection seeks."""
from __future__ import annotations

from typing import Callable

import torch

from ..registry import Registry

Criterion = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (w_i, w_f) -> score, higher = keep
CRITERIA: Registry[Criterion] = Registry("mask criterion")


def _pct(x: torch.Tensor) -> torch.Tensor:
    """Percentile rank of each |x| within its tensor, in (0, 1]; equal values share their highest rank."""
    flat = x.abs().flatten()
    sorted_, _ = torch.sort(flat)
    return (torch.searchsorted(sorted_, flat, right=True).float() / flat.numel()).view_as(x)


def _same_sign(wi: torch.Tensor, wf: torch.Tensor) -> torch.Tensor:
    return torch.sign(wi) == torch.sign(wf)


_BASE: dict[str, tuple[str, Criterion]] = {
    "large_final": ("|w_f|", lambda wi, wf: wf.abs()),
    "small_final": ("-|w_f|", lambda wi, wf: -wf.abs()),
    "large_init": ("|w_i|", lambda wi, wf: wi.abs()),
    "small_init": ("-|w_i|", lambda wi, wf: -wi.abs()),
    "large_init_large_final": ("both |w_i| and |w_f| above a common percentile",
                               lambda wi, wf: torch.minimum(_pct(wi), _pct(wf))),
    "small_init_small_final": ("both |w_i| and |w_f| below a common percentile",
                               lambda wi, wf: -torch.maximum(_pct(wi), _pct(wf))),
    "magnitude_increase": ("|w_f| - |w_i|", lambda wi, wf: wf.abs() - wi.abs()),
    "movement": ("|w_f - w_i|", lambda wi, wf: (wf - wi).abs()),
}
for _name, (_what, _fn) in _BASE.items():
    CRITERIA.register(_name, f"keep the highest {_what}")(_fn)
for _name in ("large_final", "magnitude_increase"):
    _fn = _BASE[_name][1]
    CRITERIA.register(f"{_name}_same_sign", f"{_name}, 0 where the sign flipped in training")(
        lambda wi, wf, f=_fn: torch.where(_same_sign(wi, wf), f(wi, wf), torch.zeros_like(wf)))
    CRITERIA.register(f"{_name}_diff_sign", f"{_name}, 0 where the sign stayed")(
        lambda wi, wf, f=_fn: torch.where(_same_sign(wi, wf), torch.zeros_like(wf), f(wi, wf)))
CRITERIA.register("random", "uniform random scores (with the tie-breaking generator)")(
    lambda wi, wf: torch.zeros_like(wf))
INIT_FREE = ("large_final", "small_final", "random")  # the criteria that never read w_i


def keep(criterion: str, wi: torch.Tensor, wf: torch.Tensor, alive: torch.Tensor, n: int,
         generator: torch.Generator) -> torch.Tensor:
    """The mask keeping `n` of the `alive` weights of one layer with the highest criterion score; ties (and the
    random criterion) broken by a random order from `generator`. Pruned weights stay pruned."""
    if not 0 <= n <= int(alive.sum()):
        raise ValueError(f"cannot keep {n} of {int(alive.sum())} remaining weights")
    live = alive.cpu()
    # pruned weights count as zero in both magnitudes, as the original code sinks them to the bottom of both
    # rankings: a pruned weight's w_f is 0 but its w_i is not, which would skew the quadrant criteria's percentiles
    wi, wf = (torch.where(live, w.detach().float().cpu(), 0.0) for w in (wi, wf))
    score = CRITERIA.get(criterion)(wi, wf).flatten()
    score = torch.where(live.flatten(), score, torch.full_like(score, -torch.inf))
    tie = torch.randperm(score.numel(), generator=generator)  # a random order among equal scores
    by_tie = torch.argsort(tie, stable=True)
    order = by_tie[torch.argsort(-score[by_tie], stable=True)]  # descending score, ties in the random order
    out = torch.zeros(score.numel(), dtype=torch.bool)
    out[order[:n]] = True
    return out.view_as(alive).to(alive.device)
