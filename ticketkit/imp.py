"""Iterative magnitude pruning as trajectories (open_lth's levels and branches).

Level 0 of a trial is the dense network trained from its initialisation; level j prunes each layer's remaining
weights of the trained level j-1 by the layer's rate (or all weights by one global rate), rewinds the kept weights
to their initial values (or to iteration k of the dense training) and retrains. Each level is a run of its own
(method "imp", option level=j); branches start from a level: "reinit" keeps the level's mask with a fresh
initialisation from the same distribution, "oneshot" prunes the trained dense network straight to the level's
per-layer counts in one round and rewinds, "finetune" trains the level's rewound ticket with a longer schedule
(options finetune_epochs, finetune_lr: short-round IMP then fine-tuning, as Rare Gems does). With restart="trained"
each level starts from the previous level's trained weights instead of rewinding them: learning-rate rewinding. One
pass computes every level and branch a grid asks for; the trained weights and mask of each level are cached beside
the records, so later notebooks asking for more levels or branches of the same trial continue from there (on another
machine too, from the files ticketkit.resume lists). K trials advance level by level together as one batched model where batching pays (ticketkit.batched);
records are yielded as they are made.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Iterator

import torch
from torch import nn

from .data import image_channels, num_classes
from . import trained
from .masks import Mask
from .models import build_model, linear_names, prunable_parameters
from .pruning import allocators as alloc
from .pruning import actions, criteria, scorers
from .pruning.methods import Ticket
from .runs import Prepared, RunConfig, load_run_data, record
from .supermask import calibrated_accuracy
from .train import TrainSpec, default_device, train

BRANCHES = ("ticket", "reinit", "oneshot", "finetune")
RESTARTS = ("rewind", "trained")  # levels start from the rewind point (IMP) or the trained weights (LRR)
# Frankle & Carbin's per-round, per-layer rates (fraction of the remaining weights removed): (conv, fc, output)
LAYERWISE_RATES = {"lenet300_100": (0.0, 0.2, 0.1), "lenet_fc": (0.0, 0.2, 0.1), "conv2": (0.1, 0.2, 0.1),
                   "conv4": (0.1, 0.2, 0.1), "conv6": (0.15, 0.2, 0.1)}
OPTION_DEFAULTS = {"level": 0, "branch": "ticket", "scope": "layerwise", "rate": 0.2, "criterion": "large_final",
                   "mask1": "rewind", "mask0": "zero", "rewind_step": 0, "eval_every": 0}
# options absent from OPTION_DEFAULTS (so that existing runs keep their keys): restart ("rewind"), finetune_epochs,
# finetune_lr
# how levels prune and start (level 0 depends on none)
PRUNING = ("scope", "rate", "criterion", "mask1", "mask0", "restart")


def options(cfg: RunConfig) -> dict[str, Any]:
    """The run's IMP options with their defaults filled in."""
    return {**OPTION_DEFAULTS, **dict(cfg.options)}


SCOPES = ("layerwise", "global", "global_conv")


def layer_rates(model_name: str, model: nn.Module, scope: str = "layerwise", rate: float = 0.2) -> dict[str, float]:
    """Fraction of each layer's remaining weights one round removes: Frankle & Carbin's conv / fc / output rates
    for their networks ("layerwise"), or `rate` under one threshold over every layer ("global") or over the conv
    layers alone, linear layers never pruned ("global_conv", Liu et al.'s code)."""
    names = list(prunable_parameters(model))
    if scope not in SCOPES:
        raise ValueError(f"unknown IMP scope {scope!r}; choose one of {', '.join(SCOPES)}")
    if scope == "global":
        return {n: rate for n in names}
    linear = linear_names(model)
    if scope == "global_conv":
        return {n: 0.0 if n in linear else rate for n in names}
    if model_name not in LAYERWISE_RATES:
        raise ValueError(f"no per-layer IMP rates for model {model_name!r} (known: {', '.join(LAYERWISE_RATES)}); "
                         "use scope='global' with a rate")
    conv, fc, out = LAYERWISE_RATES[model_name]
    return {n: out if n == names[-1] else fc if n in linear else conv for n in names}


def level_counts(sizes: dict[str, int], rates: dict[str, float], level: int, scope: str = "layerwise"
                 ) -> dict[str, int] | int:
    """Weights kept after `level` rounds: per layer (alive - round(rate x alive) each round), or for a global scope
    the total kept in the layers it prunes (the same rounding on their total)."""
    if scope != "layerwise":
        alive = sum(n for k, n in sizes.items() if rates[k] > 0)
        rate = max(rates.values())
        for _ in range(level):
            alive -= int(round(rate * alive))
        return alive
    counts = dict(sizes)
    for _ in range(level):
        counts = {k: a - int(round(rates[k] * a)) for k, a in counts.items()}
    return counts


def level_density(sizes: dict[str, int], rates: dict[str, float], level: int, scope: str = "layerwise") -> float:
    """Overall fraction of prunable weights kept at `level` (layers a global scope leaves alone count as kept)."""
    kept = level_counts(sizes, rates, level, scope)
    untouched = sum(n for k, n in sizes.items() if rates[k] == 0)
    return (kept + untouched if isinstance(kept, int) else sum(kept.values())) / sum(sizes.values())


def prune_round(trained: nn.Module, started: nn.Module, keep: Mask, rates: dict[str, float], scope: str,
                criterion: str = "large_final", generator: torch.Generator | None = None) -> Mask:
    """One IMP round. Per layer: keep the remaining weights that `criterion` ranks highest on (w_i = the weights
    the level's training started from, w_f = the trained ones; large_final is magnitude pruning), ties broken by
    `generator`. Global scopes: the largest trained magnitudes under one threshold."""
    if scope != "layerwise":
        kept = {k: c for k, (c, _) in keep.counts().items()}
        return _global_mask(scorers.magnitude(trained), level_counts(kept, rates, 1, scope), rates, keep)
    wi, wf = prunable_parameters(started), prunable_parameters(trained)
    g = generator or torch.Generator().manual_seed(0)
    out = {}
    for name, alive in keep.tensors.items():
        n = int(alive.sum())
        out[name] = criteria.keep(criterion, wi[name], wf[name], alive, n - int(round(rates[name] * n)), g)
    return Mask(out)


def _global_mask(scores: dict[str, torch.Tensor], total: int, rates: dict[str, float], keep: Mask | None = None
                 ) -> Mask:
    """The `total` highest scores over the layers with a positive rate (within `keep`); other layers kept whole."""
    pruned = [k for k in scores if rates[k] > 0]
    size = sum(scores[k].numel() for k in pruned)
    part = alloc.global_topk({k: scores[k] for k in pruned}, total / size,
                             Mask({k: keep.tensors[k] for k in pruned}) if keep is not None else None)
    whole = {k: torch.ones_like(v, dtype=torch.bool) for k, v in scores.items() if k not in part.tensors}
    return Mask({k: part.tensors[k] if k in part.tensors else whole[k] for k in scores})


def oneshot_mask(dense_trained: nn.Module, counts: dict[str, int] | int, rates: dict[str, float]) -> Mask:
    """Prune the trained dense network in one round to the given per-layer counts (or global total)."""
    s = scorers.magnitude(dense_trained)
    return _global_mask(s, counts, rates) if isinstance(counts, int) else alloc.counts_topk(s, counts)


def reinitialised(cfg: RunConfig, model: nn.Module, in_channels: int, num_classes: int, level: int) -> nn.Module:
    """A fresh initialisation from the same distribution (its own seed per trial and level)."""
    torch.manual_seed(1_000_003 * (cfg.seed + 1) + level)
    fresh = build_model(cfg.model, in_channels, num_classes, cfg.image_size, cfg.width)
    return fresh.to(next(model.parameters()).device)


def level_config(cfg: RunConfig, level: int, branch: str = "ticket") -> RunConfig:
    """The run of `cfg`'s trajectory at `level` on `branch` (density filled in from the level's counts)."""
    if branch not in BRANCHES:
        raise ValueError(f"unknown IMP branch {branch!r}; choose one of {', '.join(BRANCHES)}")
    if level < 0 or (level == 0 and branch != "ticket"):
        raise ValueError(f"level {level} on branch {branch!r}: levels start at 0, and branches start at level 1")
    opts = {**options(cfg), "level": level, "branch": branch}
    criteria.CRITERIA.get(opts["criterion"])
    actions.MASK1.get(opts["mask1"])
    actions.MASK0.get(opts["mask0"])
    if opts.get("restart", "rewind") not in RESTARTS:
        raise ValueError(f"unknown IMP restart {opts['restart']!r}; choose one of {', '.join(RESTARTS)}")
    if branch == "finetune" and not {"finetune_epochs", "finetune_lr"} <= set(opts):
        raise ValueError("the finetune branch needs options finetune_epochs and finetune_lr on the trajectory")
    if opts["criterion"] not in criteria.INIT_FREE and (opts["mask1"] != "rewind" or opts.get("restart") == "trained"):
        raise ValueError(f"criterion {opts['criterion']!r} reads each level's starting weights, which are the rewind "
                         "point only with mask1='rewind' and no restart='trained': use one of "
                         f"{', '.join(criteria.INIT_FREE)} with those options")
    if opts["scope"] != "layerwise" and opts["criterion"] != "large_final":
        raise ValueError(f"criterion {opts['criterion']!r} needs scope='layerwise' (global scopes prune by magnitude)")
    if level == 0:  # the dense network does not depend on how later levels prune: one level 0 serves them all
        opts = {k: v for k, v in opts.items() if k not in PRUNING}
        return dataclasses.replace(cfg, method="imp", density=1.0, options=tuple(opts.items()))
    model = build_model(cfg.model, cfg.channels or image_channels(cfg.dataset), num_classes(cfg.dataset),
                        cfg.image_size, cfg.width)
    rates = layer_rates(cfg.model, model, opts["scope"], float(opts["rate"]))
    sizes = {k: p.numel() for k, p in prunable_parameters(model).items()}
    density = round(level_density(sizes, rates, level, opts["scope"]), 10)
    return dataclasses.replace(cfg, method="imp", density=density, options=tuple(opts.items()))


def trajectory_key(cfg: RunConfig, ignore: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """Runs with equal keys belong to one trajectory family: all but seed, level and branch (and `ignore`)."""
    opts = {k: v for k, v in options(cfg).items() if k not in ("level", "branch", *ignore)}
    return (dataclasses.replace(cfg, seed=0, data_seed=None, density=1.0, options=()), tuple(sorted(opts.items())))


def batch_key(cfg: RunConfig) -> tuple[Any, ...]:
    """Families with equal keys differ only in how their levels prune and start (PRUNING): their trials advance
    level by level together, their members of a level trained as one batched model, level 0 shared."""
    return trajectory_key(cfg, PRUNING)


@dataclass
class Trial:
    """One seed's trajectory in progress: its initial and rewind weights, the current level's mask and weights."""

    root: RunConfig
    init: dict[str, torch.Tensor]
    mask: Mask | None = None
    trained: dict[str, torch.Tensor] | None = None  # the current level's trained ticket
    dense: dict[str, torch.Tensor] | None = None  # level 0 trained
    rewind: dict[str, torch.Tensor] | None = None  # weights the levels restart from


def compute(cfgs: list[RunConfig], progress: bool = False) -> Iterator[dict[str, Any]]:
    """Train the IMP runs `cfgs` (families of one batch_key, any seeds, levels and branches); yield their records
    in the order given, each as soon as it and those before it are done."""
    if len({batch_key(c) for c in cfgs}) != 1:
        raise ValueError("imp.compute needs runs of families that train together (see imp.batch_key)")
    base = cfgs[0]
    data = load_run_data(base)
    opts = options(base)
    n = len(data.train_y)
    steps = base.train.epochs * (n // max(1, min(base.train.batch_size, n)))  # as train() counts them
    if not 0 <= int(opts["rewind_step"]) < steps:
        raise ValueError(f"rewind_step {opts['rewind_step']} is not an iteration of level 0's training: choose one "
                         f"in [0, {steps})")
    wanted = {c: i for i, c in enumerate(cfgs)}
    done: dict[int, dict[str, Any]] = {}
    nxt = 0
    of = {c: (trajectory_key(c), c.seed, c.data_seed) for c in cfgs}  # each run's trial
    roots = {t: c for c, t in reversed(of.items())}  # (level_config sets the level and branch asked)
    top = {t: max(options(c)["level"] for c in cfgs if of[c] == t) for t in roots}
    trials = {t: _start(c, data) for t, c in roots.items()}
    from .resume import resume  # (resume builds on this module)

    first = {t: resume(trial, min(options(c)["level"] for c in cfgs if of[c] == t)) for t, trial in trials.items()}
    for level in range(min(first.values()), max(top.values()) + 1):
        members: list[tuple[RunConfig, nn.Module, Mask, Trial]] = []
        ready: list[tuple[RunConfig, dict[str, Any]]] = []  # tickets trained earlier (an interrupted grid)
        later: list[Trial] = []  # trials whose level 0 another trial trains now (families share it)
        for t, trial in trials.items():
            if first[t] <= level <= top[t]:
                if level == 0 and any(level_config(m[3].root, 0) == level_config(trial.root, 0) for m in members):
                    later.append(trial)
                    continue
                todo, cached = _members(trial, level, data, {c for c in wanted if of[c] == t})
                members, ready = members + todo, ready + cached
        trained_now = list(_train_members(members, data, opts, progress))
        ready += [r for trial in later for r in _members(trial, 0, data, set())[1]]  # now cached
        for c, rec in ready + trained_now:
            if c in wanted:
                done[wanted[c]] = rec
        while nxt in done:
            yield done.pop(nxt)
            nxt += 1
    if nxt != len(cfgs):
        raise RuntimeError(f"IMP trajectory computed {nxt} of {len(cfgs)} runs")


def _start(root: RunConfig, data: Any) -> Trial:
    torch.manual_seed(root.seed)
    model = build_model(root.model, data.in_channels, data.num_classes, data.image_size, root.width)
    return Trial(root, {k: v.detach().clone() for k, v in model.state_dict().items()})


def _model(trial: Trial, data: Any, state: dict[str, torch.Tensor]) -> nn.Module:
    model = build_model(trial.root.model, data.in_channels, data.num_classes, data.image_size, trial.root.width)
    model.load_state_dict(state)
    return model.to(default_device())


def _members(trial: Trial, level: int, data: Any, asked: set[RunConfig]
             ) -> tuple[list[tuple[RunConfig, nn.Module, Mask, Trial]], list[tuple[RunConfig, dict[str, Any]]]]:
    """(what trains at `level` for one trial: its ticket unless cached and the branches asked for; the cached
    ticket's record)."""
    opts = options(trial.root)
    ticket_cfg = level_config(trial.root, level, "ticket")
    start = trial.init if level == 0 else trial.trained if opts.get("restart") == "trained" else trial.rewind
    assert start is not None
    probe = _model(trial, data, start)
    rates = layer_rates(trial.root.model, probe, opts["scope"], float(opts["rate"])) if level else {}
    cached = trained.load(ticket_cfg, ("rewind",) if level == 0 else ())
    if level == 0:
        trial.mask = Mask.ones_like(probe)
    elif cached is not None and isinstance(cached.get("mask"), dict):  # the mask the cached ticket trained under
        trial.mask = Mask(cached["mask"]).to(next(probe.parameters()).device)
    else:
        assert trial.mask is not None and trial.trained is not None
        started = trial.init if level == 1 else trial.rewind  # what the previous level's training began from
        g = torch.Generator().manual_seed(1_000_003 * (trial.root.seed + 1) + 7 * level + 1)
        trial.mask = prune_round(_model(trial, data, trial.trained), _model(trial, data, started), trial.mask, rates,
                                 opts["scope"], opts["criterion"], g)
    out, ready = [], []
    if cached is None:
        model, mask = probe, trial.mask
        if level and (opts["mask1"], opts["mask0"]) != ("rewind", "zero"):
            assert trial.trained is not None
            g = torch.Generator().manual_seed(1_000_003 * (trial.root.seed + 1) + 7 * level + 2)
            mask = with_actions(model, trial.mask, trial.trained, opts["mask1"], opts["mask0"], g)
        out.append((ticket_cfg, model, mask, trial))
    else:
        _advance(trial, ticket_cfg, cached)
        ready.append((ticket_cfg, cached["record"]))
    for branch in ("reinit", "oneshot", "finetune"):
        if branch == "finetune" and "finetune_epochs" not in opts:
            continue
        cfg = level_config(trial.root, level, branch) if level else None
        if cfg is None or cfg not in asked:
            continue
        if branch == "reinit":
            model = reinitialised(cfg, probe, data.in_channels, data.num_classes, level)
            mask = trial.mask
        elif branch == "finetune":
            model, mask = _model(trial, data, start), trial.mask
        else:
            assert trial.dense is not None
            counts = {k: c for k, (c, _) in trial.mask.counts().items()}
            total: dict[str, int] | int = counts if opts["scope"] == "layerwise" else \
                sum(c for k, c in counts.items() if rates[k] > 0)
            mask = oneshot_mask(_model(trial, data, trial.dense), total, rates)
            model = _model(trial, data, start)
        out.append((cfg, model, mask, trial))
    return out, ready


@torch.no_grad()
def with_actions(model: nn.Module, mask: Mask, trained_state: dict[str, torch.Tensor], mask1: str, mask0: str,
                 g: torch.Generator) -> Mask:
    """Zhou et al.'s actions on a ticket about to train: its kept weights (`model` holds the start values, w_i)
    reset by `mask1`; the returned mask freezes the pruned ones as `mask0` says (w_f: `trained_state`)."""
    frozen = {}
    for name, p in prunable_parameters(model).items():
        keep = mask.tensors[name].to(p.device)
        wi = p.detach().clone()
        p.copy_(actions.MASK1.get(mask1)(wi, keep, g))
        fill = actions.MASK0.get(mask0)(wi, trained_state[name].to(p.device), keep)
        if fill is not None:
            frozen[name] = fill
    return Mask(mask.tensors, frozen or None)


def _advance(trial: Trial, cfg: RunConfig, blob: dict[str, Any]) -> None:
    """Move a trial to the trained ticket of `cfg`'s level (from training or the cache)."""
    trial.trained = blob["final"]
    if options(cfg)["level"] == 0:
        trial.dense, trial.rewind = blob["final"], blob["rewind"]


def _train_members(members: list[tuple[RunConfig, nn.Module, Mask, Trial]], data: Any, opts: dict[str, Any],
                   progress: bool) -> Iterator[tuple[RunConfig, dict[str, Any]]]:
    """Train every member of one level (batched where that pays), cache tickets, and yield (config, record)."""
    from .batched import MAX_K, batches_well, train_many

    if not members:
        return
    k = int(opts["rewind_step"])
    rounds = members[0][0].train
    kw = {"eval_every": int(opts["eval_every"]), "progress": progress}
    batched = batches_well(members[0][1])
    step = MAX_K if batched else 1
    buckets: dict[TrainSpec, list[tuple[RunConfig, nn.Module, Mask, Trial]]] = {}
    for m in members:  # the finetune branch trains with its own schedule
        buckets.setdefault(_spec(m[0]), []).append(m)
    for spec, bucket in buckets.items():
        for i in range(0, len(bucket), step):
            group = bucket[i:i + step]
            t0 = time.perf_counter()  # each record's wall time: its group's training (shared by the group's members)
            level = options(group[0][0])["level"]
            # the finetune branch trains its full schedule from the rewind point (as long as any fine-tuning)
            start = None if level == 0 or options(group[0][0])["branch"] == "finetune" else k
            checkpoints = (k,) if level == 0 else ()
            pre = {c: calibrated_accuracy(m, mk, data, c.seed) for c, m, mk, _ in group
                   if options(c)["branch"] == "finetune"}
            if batched:
                results = train_many([m for _, m, _, _ in group], data, spec, masks=[mk for _, _, mk, _ in group],
                                     data_seeds=[c.effective_data_seed for c, _, _, _ in group], start_step=start,
                                     checkpoint_steps=checkpoints, desc=f"IMP level {level}", **kw)
            else:
                results = [train(m, data, spec, mask=mk, data_seed=c.effective_data_seed, start_step=start,
                                 checkpoint_steps=checkpoints, desc=f"IMP level {level}", **kw)
                           for c, m, mk, _ in group]
            for (cfg, model, mask, trial), res in zip(group, results):
                yield cfg, _level_record(cfg, model, mask, trial, res, data, t0, len(group), rounds, k, pre.get(cfg))


def _spec(cfg: RunConfig) -> TrainSpec:
    """The schedule a run trains with: the trajectory's rounds, or the finetune branch's longer one."""
    o = options(cfg)
    if o["branch"] != "finetune":
        return cfg.train
    return dataclasses.replace(cfg.train, epochs=int(o["finetune_epochs"]), lr=float(o["finetune_lr"]))


def _level_record(cfg: RunConfig, model: nn.Module, mask: Mask, trial: Trial, res: Any, data: Any, t0: float,
                  batch: int, rounds: TrainSpec, k: int, pre: tuple[float, float] | None) -> dict[str, Any]:
    """A trained member's record (its search cost: the rounds of training behind its mask); a ticket is cached
    and moves its trial on; a fine-tuned ticket also records its accuracy before the fine-tuning."""
    level = options(cfg)["level"]
    ticket = Ticket(mask, start_epoch=0, train_epochs=float(level * rounds.epochs), iterations=level)
    rec = record(Prepared(cfg, data, model, mask, ticket, mask.path_report(model), t0), res, batch)
    rec["curve"] = thin(res.curve)
    if pre is not None:
        rec.update(pre_finetune_acc=pre[0], pre_finetune_loss=pre[1], search_epochs=level * rounds.epochs,
                   finetune_epochs=_spec(cfg).epochs)
    if options(cfg)["branch"] == "ticket":
        final = {n: v.detach().cpu().clone() for n, v in model.state_dict().items()}
        rewind = {"rewind": res.checkpoints[k]} if level == 0 else {}
        trained.save(cfg, final, rec, mask={n: v.cpu() for n, v in trial.mask.tensors.items()}, **rewind)
        _advance(trial, cfg, {"final": final, **rewind})
    return rec


def thin(curve: list[dict[str, float]], most: int = 300) -> list[dict[str, float]]:
    """At most about `most` curve points (every n-th, always the last), values rounded to 5 significant digits."""
    every = max(1, -(-len(curve) // most))
    kept = curve[::every] + ([curve[-1]] if curve and (len(curve) - 1) % every else [])
    return [{k: (float(f"{v:.5g}") if isinstance(v, float) else v) for k, v in c.items()} for c in kept]
