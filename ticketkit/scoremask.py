"""Score-based subnetwork search on frozen weights (Rare Gems, Sreenivasan et al. 2022): Gem-Miner (Algorithm 1)
and the Edge-Popup variants it is compared with, then fine-tuning of the found gem and its sanity checks.

The weights never train during a search: every prunable weight gets one real score, the forward pass multiplies
the weights by a binary mask computed from the scores, and the gradient passes straight through the mask to the
scores (as if the rounding were the identity).
- Gem-Miner: scores ~ U[0, 1], projected back onto [0, 1] after every step; mask = 1[score > 0.5] x flag; loss =
  cross-entropy + lambda * sum(score^2). After every `period` epochs (not after the last one) the active weights
  with the lowest scores are flagged off for good, so the flag density follows density^(j / events) and ends
  exactly at the target. Score inversion flags off the highest scores instead. Before fine-tuning all scores are
  set to 1, so the fine-tuned mask is the flags.
- Edge-Popup: scores Kaiming-uniform; mask = the top-k |score| per layer ("ep") or over the whole network
  ("global_ep"); "global_ep_gradual" lowers the global budget on Gem-Miner's schedule; lambda adds the same L2.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from .data import DataBundle, augment, batches
from .masks import Mask
from .models import prunable_parameters
from .pruning.sanity import layerwise_rearrange, weight_reinit
from .supermask import accuracy_at_init
from .train import (TrainResult, TrainSpec, autocast_enabled, cuda_graphs, lr_at, make_optimizer, mixed_precision,
                    train, training_images)

GEM_MINER = "gem_miner"
SEARCH_METHODS = {
    GEM_MINER: "Gem-Miner: scores in [0, 1] rounded at 0.5, iterative freezing to the target density",
    "ep": "Edge-Popup: top-k |score| in every layer",
    "global_ep": "global Edge-Popup: top-k |score| over the whole network",
    "global_ep_gradual": "global Edge-Popup whose budget shrinks on Gem-Miner's freezing schedule",
}
GRADUAL = (GEM_MINER, "global_ep_gradual")
SANITY_CHECKS = ("shuffle", "reinit")


@dataclass(frozen=True)
class SearchConfig:
    """One score search: method, target density (kept fraction), L2 weight `lam` on the scores, freezing period in
    epochs, and SGD (cosine by default) over the scores. `inverted` is Gem-Miner's score-inversion check; `track`
    records the test accuracy of the mask found so far after every epoch (004 Figure 5). The
    period need not divide the epochs (Table 8's ResNet-20 run at 50% density freezes every 8 of 150 epochs)."""

    method: str = GEM_MINER
    density: float = 0.0144
    lam: float = 0.0
    period: int = 5
    epochs: int = 150
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    batch_size: int = 128
    augment: bool = True
    inverted: bool = False
    track: bool = False

    def __post_init__(self) -> None:
        if self.method not in SEARCH_METHODS:
            raise ValueError(f"unknown search method {self.method!r}; choose one of: {', '.join(SEARCH_METHODS)}")
        if not 0.0 < self.density <= 1.0:
            raise ValueError(f"density {self.density!r} is not a kept fraction in (0, 1]: write 1.44% density as "
                             "0.0144")
        if self.epochs < 1 or self.batch_size < 1 or self.period < 1:
            raise ValueError(f"epochs ({self.epochs}), batch_size ({self.batch_size}) and period ({self.period}) "
                             "must all be at least 1")
        if self.method in GRADUAL and self.period >= self.epochs:
            raise ValueError(f"period {self.period} does not fit in {self.epochs} epochs: {self.method} freezes "
                             "after every `period` epochs except the last, so use a period below the epochs "
                             "(the paper: 5 of 150, 29 freezing events)")
        if self.inverted and self.method != GEM_MINER:
            raise ValueError(f"score inversion acts on Gem-Miner's freezing events; method {self.method!r} has none "
                             f"(use method={GEM_MINER!r})")
        if self.lam < 0 or self.weight_decay < 0 or self.lr <= 0 or not 0 <= self.momentum < 1:
            raise ValueError(f"need lam >= 0 ({self.lam}), weight_decay >= 0 ({self.weight_decay}), lr > 0 "
                             f"({self.lr}) and momentum in [0, 1) ({self.momentum})")
        if self.schedule not in ("cosine", "constant", "multistep"):
            raise ValueError(f"unknown schedule {self.schedule!r}; choose 'cosine', 'constant' or 'multistep'")

    @property
    def events(self) -> int:
        """Freezing events: after epochs T, 2T, ... but not after the last epoch (29 for 150 epochs, T = 5)."""
        return (self.epochs - 1) // self.period if self.method in GRADUAL else 0

    def schedule_at(self, epochs_done: int) -> float:
        """The continuous density bound exp(-c t) after `epochs_done` epochs, reaching the target at the last
        freezing event (the target throughout for the one-shot Edge-Popup methods)."""
        if not self.events:
            return self.density
        span = self.events * self.period
        return self.density ** (min(epochs_done, span) / span)

    def train_spec(self) -> TrainSpec:
        """The optimiser and learning-rate schedule over the scores."""
        return TrainSpec(epochs=self.epochs, batch_size=self.batch_size, optimizer="sgd", lr=self.lr,
                         momentum=self.momentum, weight_decay=self.weight_decay, schedule=self.schedule,
                         augment=self.augment)


def freeze_counts(total: int, density: float, events: int) -> list[int]:
    """Weights left active after each freezing event j = 1..events: round(total x density^(j / events)), i.e. a
    per-event keep ratio density^(1/events) (prune rate 1 - density^(1/events)) without compounding rounding."""
    return [round(total * density ** (j / events)) for j in range(1, events + 1)]


def top_k(values: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of exactly the k largest entries (ties broken arbitrarily)."""
    flat = torch.zeros(values.numel(), dtype=torch.bool, device=values.device)
    flat[torch.topk(values.flatten(), k, sorted=False).indices] = True
    return flat.view(values.shape)


def ep_keep(n: int, density: float) -> int:
    """Edge-Popup's per-layer count as Ramanujan et al.'s GetSubnet takes it: n minus int((1 - k) n) pruned, so
    every layer keeps at least one weight (rounding would empty a 72-weight input layer at 0.59%)."""
    return n - int((1.0 - density) * n)


def _split(flat: torch.Tensor, like: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A flat tensor cut back into the shapes of `like`, in its order."""
    parts = torch.split(flat, [t.numel() for t in like.values()])
    return {n: part.view(t.shape) for (n, t), part in zip(like.items(), parts)}


def _initial_scores(weight: torch.Tensor, method: str, g: torch.Generator) -> torch.Tensor:
    """Gem-Miner: U[0, 1]; Edge-Popup: Kaiming-uniform (PyTorch's default conv init), drawn on the CPU."""
    s = torch.empty(weight.shape)
    if method == GEM_MINER:
        s.uniform_(0.0, 1.0, generator=g)
    else:
        nn.init.kaiming_uniform_(s, a=math.sqrt(5), generator=g)
    return s.to(weight.device).requires_grad_(True)


class ScoredNet:
    """A model with frozen weights and one trainable score per prunable weight; `density` is Edge-Popup's kept
    fraction (per layer for "ep", global otherwise), `flags` Gem-Miner's freezing flags."""

    def __init__(self, model: nn.Module, method: str, generator: torch.Generator) -> None:
        self.model = model.requires_grad_(False)
        self.method = method
        self.weights = prunable_parameters(model)
        self.scores = {n: _initial_scores(p, method, generator) for n, p in self.weights.items()}
        self.tie_seed = int(torch.randint(2**31, (1,), generator=generator))  # the freezing events' tie order
        self.flags = {n: torch.ones_like(p, dtype=torch.bool) for n, p in self.weights.items()}
        self.total = sum(p.numel() for p in self.weights.values())
        self.density = 1.0

    @torch.no_grad()
    def hard_masks(self) -> dict[str, torch.Tensor]:
        """The binary masks the forward pass applies."""
        if self.method == GEM_MINER:
            return {n: (s > 0.5) & self.flags[n] for n, s in self.scores.items()}
        if self.method == "ep":
            return {n: top_k(s.abs(), ep_keep(s.numel(), self.density)) for n, s in self.scores.items()}
        flat = torch.cat([s.abs().flatten() for s in self.scores.values()])
        return _split(top_k(flat, round(self.density * self.total)), self.scores)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the masked network; d loss / d score = d loss / d mask (x sign(score) for Edge-Popup, x flag
        for Gem-Miner). `soft - soft.detach()` is exactly 0, so the forward pass sees the binary mask bit for bit."""
        params = {}
        for n, m in self.hard_masks().items():
            s = self.scores[n]
            soft = s if self.method == GEM_MINER else s.abs()
            bits = m.to(s.dtype) + (soft - soft.detach())
            params[n] = self.weights[n] * (bits * self.flags[n] if self.method == GEM_MINER else bits)
        return functional_call(self.model, params, (x,))

    @torch.no_grad()
    def clamp_scores(self) -> None:
        """Project the scores back onto [0, 1] (Gem-Miner, after every optimiser step)."""
        for s in self.scores.values():
            s.clamp_(0.0, 1.0)

    @torch.no_grad()
    def freeze(self, active: int, highest: bool = False) -> None:
        """Flag off the active weights with the lowest scores (the highest under score inversion) until `active`
        flags remain on."""
        flags = torch.cat([f.flatten() for f in self.flags.values()])
        key = torch.cat([s.detach().flatten() for s in self.scores.values()])
        key = key.masked_fill(~flags, -math.inf if highest else math.inf)
        drop = int(flags.sum()) - active
        # ties (many scores sit at the clamp's 0) fall in a random order, not by layer position: a seeded
        # permutation, then a stable sort of the permuted keys
        perm = torch.randperm(key.numel(), generator=torch.Generator().manual_seed(self.tie_seed + active))
        perm = perm.to(key.device)
        order = perm[torch.sort(key[perm], descending=highest, stable=True).indices]
        flags[order[:drop]] = False
        self.flags = _split(flags, self.flags)

    def mask(self) -> Mask:
        """The subnetwork the scores select now (Algorithm 1's output r(p) x q for Gem-Miner), on the CPU."""
        return Mask({n: m.cpu() for n, m in self.hard_masks().items()})

    def flag_mask(self) -> Mask:
        """Gem-Miner's flags as a mask: the network with every score set to 1."""
        return Mask({n: f.cpu() for n, f in self.flags.items()})

    def densities(self) -> tuple[float, float]:
        """(kept fraction of the mask now, of its bound: Gem-Miner's flags or Edge-Popup's budget)."""
        kept = sum(int(m.sum()) for m in self.hard_masks().values())
        bound = sum(int(f.sum()) for f in self.flags.values()) if self.method == GEM_MINER else kept
        return kept / self.total, bound / self.total


@dataclass
class SearchResult:
    """A finished search: the subnetwork found (`mask`), what fine-tuning trains (`finetune_mask`: Gem-Miner's
    flags, Edge-Popup's mask), the final scores (CPU), per epoch the cross-entropy and densities (the mask's,
    its bound's, the continuous schedule's), the masked signed-constant network's
    test accuracy before any weight training, and the cost (search epochs, wall seconds)."""

    config: SearchConfig
    mask: Mask
    finetune_mask: Mask
    scores: dict[str, torch.Tensor]
    history: list[dict[str, float]]
    pre_finetune_acc: float
    pre_finetune_loss: float
    epochs: int
    seconds: float


def search(model: nn.Module, data: DataBundle, cfg: SearchConfig, *, seed: int = 0, data_seed: int = 0,
           progress: bool = False) -> SearchResult:
    """Search a subnetwork of `model`'s frozen weights (give it signed constants for the paper's setting) on the
    model's device (data already there, as for train()); the model's BatchNorm statistics follow the search."""
    t0 = time.perf_counter()
    device = next(model.parameters()).device
    spec = cfg.train_spec()
    net = ScoredNet(model, cfg.method, torch.Generator().manual_seed(seed))
    net.density = 1.0 if cfg.method == "global_ep_gradual" else cfg.density
    counts = freeze_counts(net.total, cfg.density, cfg.events)
    opt = make_optimizer(net.scores.values(), spec)
    source, feed = training_images(data, spec, device)
    gen = torch.Generator().manual_seed(data_seed)
    amp = autocast_enabled(device)
    forward = torch.compile(net.forward, mode="reduce-overhead") if cuda_graphs(device) else net.forward
    bs = min(cfg.batch_size, len(data.train_y))
    steps = len(data.train_y) // bs
    history: list[dict[str, float]] = []
    eval_s = 0.0  # seconds spent on `track`'s evaluations, left out of the search's cost
    epochs = range(cfg.epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc=cfg.method, leave=False)
    model.train()
    for epoch in epochs:
        loss_sum = torch.zeros((), device=device)
        for i, (xb, yb) in enumerate(batches(source, data.train_y, bs, gen, shuffle=True, drop_last=True)):
            for group in opt.param_groups:
                group["lr"] = lr_at(spec, epoch + i / steps)
            if spec.augment:
                xb = augment(xb, gen)
            with mixed_precision(device, amp):
                out = forward(feed(xb))
            ce = F.cross_entropy(out.float(), yb)
            loss = ce + cfg.lam * sum(s.square().sum() for s in net.scores.values()) if cfg.lam else ce
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if cfg.method == GEM_MINER:
                net.clamp_scores()
            loss_sum += ce.detach()
        done, event = epoch + 1, (epoch + 1) // cfg.period
        if cfg.events and done % cfg.period == 0 and event <= cfg.events:
            if cfg.method == GEM_MINER:
                net.freeze(counts[event - 1], highest=cfg.inverted)
            else:
                net.density = counts[event - 1] / net.total
        density, bound = net.densities()
        history.append({"epoch": done, "lr": lr_at(spec, epoch), "train_loss": float(loss_sum) / max(steps, 1),
                        "density": density, "bound": bound, "schedule": cfg.schedule_at(done)})
        if cfg.track:
            t_eval = time.perf_counter()
            history[-1]["test_acc"] = accuracy_at_init(model, net.mask(), data)[0]
            eval_s += time.perf_counter() - t_eval
    found = net.mask()
    seconds = time.perf_counter() - t0 - eval_s  # the search alone, not its evaluations
    acc, loss = accuracy_at_init(model, found, data)
    return SearchResult(cfg, found, net.flag_mask() if cfg.method == GEM_MINER else found,
                        {n: s.detach().cpu() for n, s in net.scores.items()}, history, acc, loss, cfg.epochs, seconds)


def finetune_spec(epochs: int = 150, lr: float = 0.01, batch_size: int = 128, augment: bool = True) -> TrainSpec:
    """The paper's fine-tuning (Table 15, ResNet-20): SGD momentum 0.9, weight decay 1e-4, lr / 10 at epochs 80
    and 120 of 150 (the same fractions of other lengths); lr 0.1 at 50% density."""
    return TrainSpec(epochs=epochs, batch_size=batch_size, optimizer="sgd", lr=lr, momentum=0.9, weight_decay=1e-4,
                     schedule="multistep", milestones=(80 / 150, 120 / 150), augment=augment)


def finetune(model: nn.Module, mask: Mask, data: DataBundle, spec: TrainSpec, *, data_seed: int = 0,
             progress: bool = False) -> tuple[nn.Module, TrainResult]:
    """Train the weights of a copy of `model` under `mask` (the gem); `model` itself is left as it is."""
    net = copy.deepcopy(model).requires_grad_(True)
    return net, train(net, data, spec, mask=mask, data_seed=data_seed, progress=progress, desc="finetune")


def sanity_variant(model: nn.Module, mask: Mask, check: str, seed: int) -> tuple[nn.Module, Mask]:
    """(weights, mask) to fine-tune for a sanity check on a gem: "shuffle" permutes each layer's mask at random
    (same counts); "reinit" draws fresh Kaiming-normal weights under the same mask. Score inversion is a search
    option (SearchConfig.inverted)."""
    if check not in SANITY_CHECKS:
        raise ValueError(f"unknown sanity check {check!r}; choose one of: {', '.join(SANITY_CHECKS)} "
                         "(score inversion: SearchConfig(inverted=True))")
    g = torch.Generator().manual_seed(seed)
    net = copy.deepcopy(model)
    if check == "shuffle":
        return net, layerwise_rearrange(mask, g)
    weight_reinit(net, mask, g)
    return net, mask
