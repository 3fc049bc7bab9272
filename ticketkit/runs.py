"""Run configs, their stable hashes (which name the records), and the execution of one run."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

import torch

from .data import DATASETS, DataBundle, load_data
from .masks import Mask, PathReport
from .models import MODELS, build_model
from .pruning.allocators import check_density
from .pruning.methods import METHODS, REVISIONS, PruneContext, Ticket, prune, spec_key
from .pruning.sanity import SANITY
from .store import REPO_ROOT
from .train import TrainResult, TrainSpec, default_device, evaluate, precision, train

TRAJECTORIES = {  # methods that are not pruners: runs computed by their own module
    "imp": "iterative magnitude pruning as a trajectory of levels with branches (ticketkit.imp); options level, "
           "branch, scope, rate, rewind_step, eval_every",
    "structured": "L1-norm filter pruning to a smaller network: unpruned, fine-tuned, Scratch-E, Scratch-B "
                  "(ticketkit.structured_runs); options plan, arm, finetune_epochs, finetune_lr",
    "supermask": "criterion masks on the untrained weights at every IMP level's counts, from a base run trained to "
                 "convergence or a validation accuracy, or a learned supermask (ticketkit.supermask_runs); options "
                 "base, criterion, signed_constant, levels",
    "gem": "a subnetwork at initialisation by a score search (Gem-Miner, Edge-Popup) or smart-ratio allocation, "
           "fine-tuned under its mask (ticketkit.gem_runs); options search, density, lam, period, search_epochs, "
           "search_lr, search_wd, inverted, check"}
SCHEMA = 1  # bump when a change in the code changes what a config means; old records are then recomputed


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run's numbers; its hash names the record."""

    dataset: str
    model: str
    method: str = "dense"
    density: float = 1.0
    sanity: str = "none"
    seed: int = 0
    data_seed: int | None = None  # order/augmentation seed; None = same integer as `seed` (separate generator)
    width: float = 1.0
    image_size: int = 32
    channels: int = 0  # 0 = the dataset's own
    train_subset: int | None = None
    test_subset: int | None = None
    val_size: int = 0
    train: TrainSpec = field(default_factory=TrainSpec)
    options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        MODELS.get(self.model)
        DATASETS.get(self.dataset)
        if self.method not in TRAJECTORIES:
            METHODS.get(self.method)
        SANITY.get(self.sanity)
        check_density(self.density)
        if isinstance(self.train, dict):
            object.__setattr__(self, "train", TrainSpec(**{k: tuple(v) if isinstance(v, list) else v
                                                           for k, v in self.train.items()}))
        object.__setattr__(self, "options", tuple(sorted((k, v) for k, v in dict(self.options).items())))

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        d = dict(d)
        d["options"] = tuple((k, v) for k, v in d.get("options", ()))
        return cls(**d)

    def key(self) -> str:
        revision = REVISIONS.get(self.method, 1)
        extra = {"revision": revision} if revision > 1 else {}
        blob = json.dumps({"schema": SCHEMA, **extra, **self.to_dict()}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def effective_data_seed(self) -> int:
        return self.seed if self.data_seed is None else self.data_seed


def _git_commit() -> str:
    """The commit of the code this process runs, '+dirty' when ticketkit/ differs from it ('unknown' outside git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "ticketkit"], cwd=REPO_ROOT,
                               capture_output=True, timeout=10).returncode == 1
        return head + ("+dirty" if dirty else "") if head else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


GIT_COMMIT = _git_commit()  # read once at import: commits made while a long grid runs are not its code


def _versions() -> dict[str, str]:
    import numpy
    import torchvision

    from . import __version__

    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
            "numpy": numpy.__version__, "ticketkit": __version__}


@dataclass
class Prepared:
    """A run up to training: its data, the pruned (and checked) model on the device, its mask and ticket."""

    cfg: RunConfig
    data: DataBundle
    model: torch.nn.Module
    mask: Mask
    ticket: Ticket
    path: PathReport
    t0: float


def load_run_data(cfg: RunConfig, data_root: str | None = None) -> DataBundle:
    """The run's data on the training device (download and checksum switches from the environment)."""
    return load_data(cfg.dataset, root=data_root, image_size=cfg.image_size, channels=cfg.channels or None,
                     val_size=cfg.val_size, train_subset=cfg.train_subset, test_subset=cfg.test_subset,
                     download=os.environ.get("TICKETKIT_DOWNLOAD", "1") != "0",
                     verify=os.environ.get("TICKETKIT_VERIFY", "1") != "0").to(default_device())


def prepare(cfg: RunConfig, progress: bool = False, data_root: str | None = None) -> Prepared:
    """Prune (on the sanity-checked data) and apply the mask/weight checks; training comes next."""
    t0 = time.perf_counter()
    device = default_device()
    data = load_run_data(cfg, data_root)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, data.in_channels, data.num_classes, data.image_size, cfg.width).to(device)
    check = SANITY.get(cfg.sanity)
    g = torch.Generator().manual_seed(10_000 + cfg.seed)
    prune_data = check.data(data, g) if check.data else data
    pre = {k: v for k, v in cfg.to_dict().items() if k not in ("method", "density", "sanity", "options")}
    ctx = PruneContext(model, prune_data, cfg.density, cfg.train, cfg.seed, cfg.effective_data_seed,
                       dict(cfg.options), check, progress,
                       cache_key=spec_key(SCHEMA, pre, cfg.sanity if check.data else "none"))
    ticket = prune(cfg.method, ctx)
    mask = check.mask(ticket.mask, g) if check.mask else ticket.mask
    path = mask.path_report(model) if check.mask else ticket.path  # prune() checked the untransformed mask
    assert path is not None
    if ticket.state is not None:
        model.load_state_dict(ticket.state)
    on_device = mask.to(device)
    if check.weights:
        check.weights(model, on_device, g)
    return Prepared(cfg, data, model, on_device, ticket, path, t0)


def record(p: Prepared, result: TrainResult, batch: int = 1) -> dict[str, Any]:
    """The stored record of a trained run; `batch` says how many runs trained together with it. With the option
    train_eval the trained network's accuracy on its whole training set is recorded too (final_train_acc)."""
    cfg, device = p.cfg, p.data.train_x.device
    extra = {}
    if dict(cfg.options).get("train_eval"):
        extra["final_train_acc"] = evaluate(p.model, p.data, p.data.train_x, p.data.train_y)[0]
    return {**extra,
        "config": cfg.to_dict(), "key": cfg.key(), "schema": SCHEMA, "revision": REVISIONS.get(cfg.method, 1),
        "history": result.history, **result.summary(),
        "density": p.mask.density(), "layer_densities": p.mask.densities(),
        "collapsed_layers": list(p.path.collapsed_layers), "connected": p.path.connected,
        "prune": {"wall_s": p.ticket.wall_s, "train_epochs": p.ticket.train_epochs,
                  "iterations": p.ticket.iterations, "start_epoch": p.ticket.start_epoch},
        "batch": batch, "wall_s": time.perf_counter() - p.t0, "eval_s": result.eval_s,
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "threads": torch.get_num_threads(), "precision": precision(device),
        "data_source": p.data.source, "versions": _versions(), "git_commit": GIT_COMMIT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def execute(cfg: RunConfig, progress: bool = False, data_root: str | None = None) -> dict[str, Any]:
    """Prune, check, train on the real data and evaluate one run (an IMP level: with its trajectory)."""
    if cfg.method in TRAJECTORIES:
        return next(iter(computer(cfg.method)([cfg], progress)))
    p = prepare(cfg, progress, data_root)
    result = train(p.model, p.data, cfg.train, mask=p.mask, data_seed=cfg.effective_data_seed,
                   start_epoch=p.ticket.start_epoch, progress=progress, desc=f"{cfg.method} {cfg.model}")
    return record(p, result)


def computer(method: str) -> Callable[[list[RunConfig], bool], Iterator[dict[str, Any]]]:
    """The function that computes runs of a method in TRAJECTORIES (records yielded in order)."""
    if method == "imp":
        from .imp import compute
    elif method == "structured":
        from .structured_runs import compute
    elif method == "gem":
        from .gem_runs import compute
    else:
        from .supermask_runs import compute
    return compute


def batch_key(cfg: RunConfig) -> tuple[Any, ...]:
    """Runs with equal keys can train as one batch: same network, data and training spec."""
    return (cfg.dataset, cfg.model, cfg.width, cfg.image_size, cfg.channels, cfg.train_subset, cfg.test_subset,
            cfg.val_size, cfg.train)


def execute_batch(cfgs: list[RunConfig], progress: bool = False) -> list[dict[str, Any]]:
    """Prune each run, then train those that start at the same epoch as one batch (see ticketkit.batched)."""
    from .batched import train_many

    if len({batch_key(c) for c in cfgs}) != 1:
        raise ValueError("execute_batch needs runs of one network, data and training spec (see runs.batch_key)")
    prepared = [prepare(c, progress) for c in cfgs]
    out: dict[int, dict[str, Any]] = {}
    for start in sorted({p.ticket.start_epoch for p in prepared}):
        group = [i for i, p in enumerate(prepared) if p.ticket.start_epoch == start]
        ps = [prepared[i] for i in group]
        results = train_many([p.model for p in ps], ps[0].data, cfgs[0].train, masks=[p.mask for p in ps],
                             data_seeds=[p.cfg.effective_data_seed for p in ps], start_epoch=start,
                             progress=progress, desc=f"{cfgs[0].model} batch")
        out.update({i: record(p, r, len(ps)) for i, p, r in zip(group, ps, results)})
    return [out[i] for i in range(len(cfgs))]
