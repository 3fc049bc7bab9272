"""Does a Gem-Miner search at the cpu scale move its scores? One search at the density nearest 1.44% with Table 8's
learning rate and one with the step-matched rate the cpu profile uses (match_search_steps), compared by the last
epoch's training loss, the accuracy before fine-tuning, and how much of the found mask is the top of the random
initial scores (the density itself if the scores were trained, 1 if they never moved).

    .venv/bin/python bench/search_steps.py      # about 2 minutes on 2 cores
"""
from __future__ import annotations

import dataclasses

import torch

from ticketkit import gem_runs
from ticketkit.experiments import gems
from ticketkit.gem_models import signed_constant_init
from ticketkit.models import build_model
from ticketkit.runs import load_run_data
from ticketkit.scoremask import ScoredNet, search, top_k
from ticketkit.train import default_device


def signed_net(cfg, data):  # type: ignore[no-untyped-def]
    """The run's signed-constant ResNet-20, as a gem run builds it."""
    torch.manual_seed(cfg.seed)
    net = build_model(cfg.model, data.in_channels, data.num_classes, data.image_size, cfg.width)
    return signed_constant_init(net).to(default_device())


def main() -> None:
    S = gems.get_scale("cpu")
    density = gems.nearest(S, gems.FIG2_DENSITY)
    cfg = gems.run(S, 0, density, gems.GEM_MINER)
    data = load_run_data(cfg)
    matched = gem_runs.search_config(cfg)
    table8 = gems.get_scale("cpu", {"match_search_steps": False}).setting(density).search_lr
    print(f"{S.name} profile, {100 * density:.3g}% kept, {matched.epochs} search epochs")
    for lr in (table8, matched.lr):
        sc = dataclasses.replace(matched, lr=lr)
        init = ScoredNet(signed_net(cfg, data), sc.method, torch.Generator().manual_seed(cfg.seed)).scores  # the search's draw
        res = search(signed_net(cfg, data), data, sc, seed=cfg.seed, data_seed=cfg.effective_data_seed)
        found = torch.cat([m.flatten() for m in res.mask.tensors.values()]).cpu()
        start = top_k(torch.cat([s.detach().flatten() for s in init.values()]).cpu(), int(found.sum()))
        print(f"search lr {lr:g}: last-epoch training loss {res.history[-1]['train_loss']:.2f}, accuracy before "
              f"fine-tuning {res.pre_finetune_acc:.1f}%, found mask in the initial top-k "
              f"{float((found & start).sum() / found.sum()):.3f}")


if __name__ == "__main__":
    main()
