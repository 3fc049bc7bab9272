"""Runs of the rare-gems chapter (method "gem"): a subnetwork found at initialisation, by a score search on frozen
signed-constant weights (Gem-Miner, Edge-Popup and its variants) or by a smart-ratio allocation of random
positions on Kaiming-normal weights, then fine-tuned under its mask with the run's TrainSpec. Options: search,
density, and for score searches lam, period, search_epochs, search_lr, search_wd, inverted, track; check ("none",
"shuffle", "reinit": Rare Gems' sanity checks on the found gem, which reuse its cached search); imp_run for the
smart-ratio variants that start from IMP's layer densities (sr_v4, sr_v6). Records carry the
pre-finetune accuracy, the density trajectory of the search and its cost (epochs, seconds)."""
from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, Iterator

import torch
from torch import nn

from . import trained
from .data import DataBundle, batches
from .gem_models import signed_constant_init
from .masks import Mask
from .models import build_model, prunable_parameters
from .pruning.methods import Ticket
from .pruning.sr_variants import SR_VARIANTS, SRContext, exact_counts, layer_sizes
from .runs import Prepared, RunConfig, load_run_data, record
from .scoremask import SEARCH_METHODS, SearchConfig, sanity_variant, search
from .store import Store
from .supermask import calibrated_accuracy
from .train import TrainSpec, default_device, train

SCORE_SEARCHES = tuple(SEARCH_METHODS)
ALLOCATIONS = ("sr_v1", "sr_v3", "sr_v2", "sr_v5", "sr_v4", "sr_v6")  # smart-ratio variants
FROM_GEM = ("sr_v2", "sr_v5")  # take the first/last layer densities of the Gem-Miner run their search options name
FROM_IMP = ("sr_v4", "sr_v6")  # start from the layer densities of the stored IMP run that option imp_run names
TUNED = ("sr_v4", "sr_v5", "sr_v6")  # score or tune densities on training batches
TUNE_BATCHES = 8  # distinct training batches (of the run's batch size) the sr_v5 tuning cycles through
CHECKS = ("none", "shuffle", "reinit")
SEARCH_OPTIONS = ("lam", "period", "search_epochs", "search_lr", "search_wd", "inverted", "track")


def config(base: RunConfig, *, search: str, density: float, check: str = "none", imp_run: RunConfig | None = None,
           **search_opts: Any) -> RunConfig:
    """A gem run like `base` (dataset, model, fine-tuning TrainSpec); every option checked before any training."""
    if search not in SCORE_SEARCHES + ALLOCATIONS:
        raise ValueError(f"unknown gem search {search!r}; choose one of {', '.join(SCORE_SEARCHES + ALLOCATIONS)}")
    if check not in CHECKS:
        raise ValueError(f"unknown sanity check {check!r}; choose one of {', '.join(CHECKS)}")
    unknown = set(search_opts) - set(SEARCH_OPTIONS)
    if unknown:
        raise ValueError(f"unknown gem option(s) {', '.join(sorted(unknown))}; known: {', '.join(SEARCH_OPTIONS)}")
    if search in ALLOCATIONS and (check != "none" or (search_opts and search not in FROM_GEM)):
        raise ValueError(f"{search} allocates random positions: it takes no sanity checks, and search options only "
                         f"to name the Gem-Miner run whose densities it borrows ({', '.join(FROM_GEM)})")
    if (search in FROM_IMP) != (imp_run is not None):
        raise ValueError(f"imp_run (the IMP run whose layer densities it starts from) is given to, and needed by, "
                         f"{' and '.join(FROM_IMP)} only; {search} got {'one' if imp_run else 'none'}")
    opts: dict[str, Any] = {"search": search, "density": density, "check": check, **search_opts}
    if imp_run is not None:
        opts["imp_run"] = json.dumps(imp_run.to_dict(), sort_keys=True)
    cfg = dataclasses.replace(base, method="gem", options=tuple(opts.items()))
    if search in SCORE_SEARCHES:
        search_config(cfg)  # raises on a bad search setting
    elif search in FROM_GEM:
        search_config(gem_config(cfg))
    elif not 0 < density <= 1:
        raise ValueError(f"density {density!r} is not a kept fraction in (0, 1]")
    return cfg


def search_config(cfg: RunConfig) -> SearchConfig:
    """The score search of a gem run (the paper's ResNet-20 settings unless the options say otherwise)."""
    o = dict(cfg.options)
    return SearchConfig(method=o["search"], density=float(o["density"]), lam=float(o.get("lam", 0.0)),
                        period=int(o.get("period", 5)), epochs=int(o.get("search_epochs", 150)),
                        lr=float(o.get("search_lr", 0.1)), weight_decay=float(o.get("search_wd", 0.0)),
                        batch_size=cfg.train.batch_size, augment=cfg.train.augment,
                        inverted=bool(o.get("inverted", False)), track=bool(o.get("track", False)))


def gem_config(cfg: RunConfig) -> RunConfig:
    """The Gem-Miner run (same seed, density and search options) whose layer densities sr_v2 / sr_v5 borrow."""
    return dataclasses.replace(cfg, options=tuple({**dict(cfg.options), "search": "gem_miner"}.items()))


def imp_densities(cfg: RunConfig) -> dict[str, float]:
    """The layer densities of the IMP run that an sr_v4 / sr_v6 run's option imp_run names, from its stored record
    (a RuntimeError naming the run when it is not stored yet)."""
    imp = RunConfig.from_dict(json.loads(dict(cfg.options)["imp_run"]))
    rec = Store().get(imp)
    if rec is None:
        raise RuntimeError(f"{dict(cfg.options)['search']} starts from the layer densities of IMP run {imp.key()}, "
                           "which is not stored: compute the IMP runs of the grid first (the chapter's grids list "
                           "them before the smart-ratio variants)")
    return {k: float(v) for k, v in rec["layer_densities"].items()}


def searched_config(cfg: RunConfig) -> RunConfig:
    """The run whose search a sanity check reuses: the same run without the check."""
    return dataclasses.replace(cfg, options=tuple({**dict(cfg.options), "check": "none"}.items()))


def search_key(cfg: RunConfig) -> RunConfig:
    """What a cached search is stored under: the run without its check and with only the training fields the
    search reads (batch, augmentation), so sanity checks and the smart-ratio runs borrowing its densities find the
    gem's own search whatever they fine-tune with."""
    train = TrainSpec(batch_size=cfg.train.batch_size, augment=cfg.train.augment)
    return dataclasses.replace(searched_config(cfg), train=train)


def compute(cfgs: list[RunConfig], progress: bool = False) -> Iterator[dict[str, Any]]:
    """Each gem run's record, in order."""
    for cfg in cfgs:
        yield _one(cfg, progress)


def _model(cfg: RunConfig, data: DataBundle, signed: bool) -> nn.Module:
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, data.in_channels, data.num_classes, data.image_size, cfg.width)
    return (signed_constant_init(model) if signed else model).to(default_device())


def _searched(cfg: RunConfig, data: DataBundle, progress: bool) -> dict[str, Any]:
    """The search of `cfg` (its check ignored): from the cache, else run now and cached."""
    base = search_key(cfg)
    cached = trained.load(base, needs=("mask",))
    if cached is not None:
        return cached
    t0 = time.perf_counter()
    model = _model(cfg, data, signed=True)
    result = search(model, data, search_config(cfg), seed=cfg.seed, data_seed=cfg.effective_data_seed,
                    progress=progress)
    info = {"config": base.to_dict(), "search_history": result.history, "search_epochs": result.epochs,
            "search_s": result.seconds,
            "found_density": result.mask.density(), "layer_densities_found": result.mask.densities(),
            "layer_densities_finetune": result.finetune_mask.densities(),
            "searched_with": str(next(model.parameters()).device), "t": time.perf_counter() - t0}
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    masks = {"found": result.mask, "finetune": result.finetune_mask}
    flat = {f"{k}/{n}": t.cpu() for k, m in masks.items() for n, t in m.tensors.items()}
    trained.save(base, state, info, mask=flat)
    return {"final": state, "record": info, "mask": flat}


def _unpack(blob: dict[str, Any], which: str) -> Mask:
    """One of the cached masks ("found": the search's output; "finetune": what fine-tuning trains)."""
    return Mask({k.split("/", 1)[1]: t for k, t in blob["mask"].items() if k.startswith(which + "/")})


def _allocate(cfg: RunConfig, data: DataBundle, model: nn.Module) -> Mask:
    """Smart-ratio layer densities of the variant, random positions (drawn with the run's seed)."""
    o = dict(cfg.options)
    ctx = SRContext(model, float(o["density"]), seed=cfg.seed)
    if o["search"] in FROM_GEM:  # the gem as fine-tuned (its flags)
        ctx.gm_densities = _searched(gem_config(cfg), data, False)["record"]["layer_densities_finetune"]
    if o["search"] in FROM_IMP:
        ctx.imp_densities = imp_densities(cfg)
    if o["search"] in TUNED:  # training batches for the v4 score and the v5 / v6 tuning
        g = torch.Generator().manual_seed(30_000 + cfg.seed)
        norm = data.normalizer(data.train_x.device)
        ctx.batches = [(norm(x), y) for _, (x, y) in zip(range(TUNE_BATCHES), batches(
            data.train_x, data.train_y, cfg.train.batch_size, g, shuffle=True, drop_last=True))]
    dens = SR_VARIANTS.get(o["search"])(ctx)
    counts = exact_counts(layer_sizes(model), dens, float(o["density"]))
    g = torch.Generator().manual_seed(20_000 + cfg.seed)
    out = {}
    for n, p in prunable_parameters(model).items():
        flat = torch.zeros(p.numel(), dtype=torch.bool)
        flat[torch.randperm(p.numel(), generator=g)[:counts[n]]] = True
        out[n] = flat.view(p.shape)
    return Mask(out)


def _one(cfg: RunConfig, progress: bool) -> dict[str, Any]:
    t0, o = time.perf_counter(), dict(cfg.options)
    data = load_run_data(cfg)
    extra: dict[str, Any] = {"search_epochs": 0, "search_s": 0.0}
    if o["search"] in SCORE_SEARCHES:
        blob = _searched(cfg, data, progress)
        model = _model(cfg, data, signed=True)
        model.load_state_dict(blob["final"])  # signed constants, BatchNorm statistics of the search
        found, mask = _unpack(blob, "found"), _unpack(blob, "finetune")
        extra = {k: blob["record"][k] for k in ("search_history", "search_epochs", "search_s", "found_density")}
        if o["check"] != "none":
            model, mask = sanity_variant(model, mask, o["check"], cfg.seed)
            found = mask
    else:
        model = _model(cfg, data, signed=False)
        found = mask = _allocate(cfg, data, model)
        if o["search"] in FROM_IMP:  # what it started from, so a recomputed IMP run is told apart
            extra["imp_layer_densities"] = imp_densities(cfg)
    mask = mask.to(default_device())
    pre_acc, pre_loss = calibrated_accuracy(model, found, data, cfg.seed)
    t1 = time.perf_counter()
    model.requires_grad_(True)
    result = train(model, data, cfg.train, mask=mask, data_seed=cfg.effective_data_seed, progress=progress,
                   desc=f"finetune {o['search']}")
    ticket = Ticket(mask, train_epochs=float(extra["search_epochs"]), wall_s=float(extra["search_s"]))
    rec = record(Prepared(cfg, data, model, mask, ticket, mask.path_report(model), t0), result)
    return {**rec, **extra, "pre_finetune_acc": pre_acc, "pre_finetune_loss": pre_loss,
            "finetune_epochs": cfg.train.epochs, "finetune_s": time.perf_counter() - t1}
