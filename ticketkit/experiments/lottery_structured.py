"""Structured pruning (002 Table 1, Li et al.'s Table 1, with Liu et al.'s Scratch-E / Scratch-B): the unpruned
network, its L1-norm filter-pruned version fine-tuned, and the small architecture trained from scratch for the
same epochs or the same computation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import reference
from ..params import chapter_scale
from ..plots import effects_figure
from ..report import paper_table, plural
from ..runs import RunConfig
from ..structured import PLANS
from ..structured_runs import arm_config, spec_for
from ..verdicts import Verdict, evaluate

ARM_LABELS = {"unpruned": "unpruned", "finetuned": "pruned + fine-tuned", "scratch_e": "Scratch-E",
              "scratch_b": "Scratch-B"}
MODEL_LABELS = {"vgg16": "VGG-16", "resnet56": "ResNet-56", "resnet110": "ResNet-110"}


def model_of(plan: str) -> str:
    return plan.split("_")[0]


@dataclass(frozen=True)
class StructuredScale:
    """Plans (each names its network), widths and learning rates per network, Li et al.'s schedule scaled."""

    name: str
    dataset: str
    plans: tuple[str, ...] = PLANS
    widths: tuple[tuple[str, float], ...] = ()
    lrs: tuple[tuple[str, float], ...] = ()
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 160
    finetune_epochs: int = 40
    finetune_lr: float = 1e-3
    batch_size: int = 64
    augment: bool = True
    train_subset: int | None = None
    test_subset: int | None = None
    note: str = ""

    @property
    def datasets(self) -> tuple[str, ...]:
        return (self.dataset,)

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(model_of(p) for p in self.plans))

    def run(self, plan: str, arm: str, seed: int) -> RunConfig:
        model = model_of(plan)
        base = RunConfig(dataset=self.dataset, model=model, method="structured", seed=seed,
                         width=dict(self.widths).get(model, 1.0), train_subset=self.train_subset,
                         test_subset=self.test_subset,
                         train=spec_for(self.epochs, dict(self.lrs).get(model, 0.1), self.batch_size, self.augment),
                         options=(("finetune_epochs", self.finetune_epochs), ("finetune_lr", self.finetune_lr)))
        return arm_config(base, plan, arm)

    def scale(self) -> str:
        nets = ", ".join(f"{m} x{dict(self.widths).get(m, 1.0):g} (lr {dict(self.lrs).get(m, 0.1):g})"
                         for m in self.models)
        data = f"{self.train_subset} training images" if self.train_subset else "the full training set"
        return (f"profile `{self.name}`: {self.dataset}, {nets}; {data}; SGD momentum 0.9, wd 1e-4, batch "
                f"{self.batch_size}, {self.epochs} epochs (lr /10 at 1/2 and 3/4); plans {', '.join(self.plans)}; "
                f"fine-tuning {plural(self.finetune_epochs, 'epoch')} at lr {self.finetune_lr:g}; Scratch-B epochs x FLOPs "
                f"full / FLOPs pruned; last-epoch test error; seeds {list(self.seeds)}")


SCALES = {
    "smoke": StructuredScale("smoke", "synthetic", plans=("vgg16_a", "resnet56_b"),
                             widths=(("vgg16", 0.125), ("resnet56", 0.25)), seeds=(0, 1), epochs=2,
                             finetune_epochs=1, train_subset=256, test_subset=200,
                             note="made data and tiny networks: proves the pipeline runs; its numbers mean nothing"),
    "cpu": StructuredScale("cpu", "fashion_mnist", plans=("vgg16_a", "resnet56_a", "resnet56_b"),
                           widths=(("vgg16", 0.25), ("resnet56", 0.5)), lrs=(("vgg16", 0.02),), epochs=4,
                           finetune_epochs=1, augment=False, train_subset=10000, test_subset=5000,
                           note="Fashion-MNIST (zero-padded to 32x32) stands in for CIFAR-10; VGG-16 at a quarter "
                                "width (lr 0.02, as the Su et al. chapter's VGG-19) and ResNet-56 at half width, 10,000 training and "
                                "5,000 test images, 4 epochs and 1 of fine-tuning (Li et al.: 160 and 40)"),
    "paper": StructuredScale("paper", "cifar10", note="Li et al.'s CIFAR-10 setting (needs a GPU and CIFAR-10)"),
}


def get_scale(profile: str, overrides: dict[str, Any] | None = None, **named: Any) -> StructuredScale:
    s = chapter_scale(SCALES, profile, overrides, named)
    bad = [p for p in s.plans if p not in PLANS]
    if bad:
        raise ValueError(f"unknown filter-pruning plan {bad[0]!r}; choose from {', '.join(PLANS)}")
    return s


def structured(S: StructuredScale) -> list[RunConfig]:
    """Per seed: each network unpruned, then per plan the fine-tuned, Scratch-E and Scratch-B runs."""
    out = []
    for seed in S.seeds:
        for plan in S.plans:
            out += [S.run(plan, arm, seed) for arm in ARM_LABELS]
    return list(dict.fromkeys(out))


def with_arm(runs: pd.DataFrame) -> pd.DataFrame:
    r = runs.copy()
    r["arm"] = r["opt.arm"]
    r["plan"] = r["opt.plan"] if "opt.plan" in r else None
    r["test_err"] = 100 - r["final_test_acc"]
    return r


def published_effect(plan: str, test: str, base: str) -> float:
    """Accuracy of `test` minus `base` in 002 Table 1 (from its errors; Li et al.'s scratch-train is Scratch-E)."""
    li = reference.li_structured().set_index(["plan", "arm"])["error"]
    arm = {"scratch_e": "scratch"}.get
    a, b = (plan, arm(test, test)), (plan, arm(base, base))
    return float(li[b] - li[a]) if a in li.index and b in li.index else np.nan


def table(runs: pd.DataFrame, S: StructuredScale, vs: Sequence[Verdict] = ()) -> Any:
    """002 Table 1's layout: test error (%) of each network and arm, the published error beneath."""
    r = with_arm(runs) if len(runs) else runs
    li = reference.li_structured().set_index(["plan", "arm"])["error"]
    outcome = {(e["plan"], e["arm"]): e["outcome"] for v in vs for _, e in v.evidence.iterrows()}
    cells = []
    for plan in S.plans:
        model = model_of(plan)
        for arm in ARM_LABELS:
            sel = r[(r["model"] == model) & (r["arm"] == arm) & ((r["plan"] == plan) | (arm == "unpruned"))] \
                if len(r) else r
            err = sel["test_err"] if len(sel) else pd.Series(dtype=float)
            pub = li.get((plan, {"scratch_e": "scratch"}.get(arm, arm)))
            row = MODEL_LABELS[model] + (" unpruned" if arm == "unpruned" else
                                         f"-pruned-{plan[-1].upper()} {ARM_LABELS[arm]}")
            cells.append({"row_group": MODEL_LABELS[model], "row": row, "col_group": "test error (%)", "col": S.dataset,
                "mean": err.mean() if len(err) else np.nan, "sd": err.std(ddof=1) if len(err) > 1 else np.nan,
                "published": "" if pub is None else f"{pub:.2f}", "outcome": outcome.get((plan, arm), "")})
    cells = pd.DataFrame(cells).drop_duplicates(["row_group", "row"])
    return paper_table(cells, f"Ours: last-epoch test error (%), mean ± sd over {len(S.seeds)} seeds at the "
                              f"{S.name} profile. Beneath, muted: published on CIFAR-10 (002 Table 1 = Li et al.'s "
                              "Table 1; its scratch-train rows are Scratch-E; Scratch-B is Liu et al.'s, not in the "
                              "seed). Compare effects, not our errors with theirs.")


def verdicts(runs: pd.DataFrame, S: StructuredScale) -> list[Verdict]:
    return [evaluate("LT-7", runs, S.scale())]


def effects(vs: Sequence[Verdict], S: StructuredScale) -> Any:
    return effects_figure(vs, "LT-7: fine-tuned vs unpruned, scratch vs fine-tuned", S.scale(),
                          f"{S.dataset}, {S.name} profile", "CIFAR-10, full scale")
