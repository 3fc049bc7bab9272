"""The rare-gems chapter (seed 004, Sreenivasan et al. 2022): Gem-Miner on Rare Gems' ResNet-20 against Edge-Popup
and smart ratio, its sanity checks, the Edge-Popup variants of Table 3 and the density trajectories of Figure 2;
scales per profile with Table 8's search and Table 15's fine-tuning settings, the grids, the name of each run in
the tables ("variant") and the paper's published accuracies to set beside ours. Tables and figures are in
gems_figures, the verdict rules in gems_rules."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, NamedTuple

import numpy as np
import pandas as pd

from .. import gem_runs, reference_gems
from . import gems_imp
from ..params import chapter_scale
from ..runs import RunConfig
from ..scoremask import GEM_MINER, GRADUAL, finetune_spec
from ..verdicts import Verdict, evaluate

FIG3 = (GEM_MINER, "imp", "lr_rewinding", "ep", "sr_v1")  # 004 Figure 3 (top), ResNet-20 column
FIG6 = (GEM_MINER, "imp", "ep", "sr_v1")  # 004 Figure 6: before fine-tuning
CHECKED = (GEM_MINER, "gem_miner_shuffle", "gem_miner_reinit", "gem_miner_inverted")  # Figure 3 (bottom)
TABLE3 = ("ep", "global_ep", "global_ep_gradual", "global_ep_gradual_reg", GEM_MINER)
LABELS = {GEM_MINER: "Gem-Miner", "imp": "IMP", "lr_rewinding": "LR rewinding, Renda et al.",
          "ep": "Edge-Popup", "sr_v1": "Smart ratio", "global_ep": "Global EP",
          "global_ep_gradual": "Global EP, gradual pruning",
          "global_ep_gradual_reg": "Global EP, gradual pruning, L2 regulariser",
          "gem_miner_shuffle": "GM, random shuffling", "gem_miner_reinit": "GM, weight reinitialisation",
          "gem_miner_inverted": "GM, score inversion", "prospr": "ProsPr", "gem_miner_long": "Long Gem-Miner",
          "sr_v2": "SR-v2", "sr_v3": "SR-v3", "sr_v5": "SR-v5", "sr_v4": "SR-v4", "sr_v6": "SR-v6",
          **gems_imp.IMP_LABELS}
TABLE2_DENSITY = 0.0372  # Table 2's Gem-Miner density
FIG2_DENSITY = 0.0144  # Figure 2's target (1.4% on MobileNet-V2)
SAME_DENSITY = 0.05  # |log(ours / published)| below this: the same density (1.4% = 1.44%, 3.72% = 3.73%)


class Setting(NamedTuple):
    """A search and fine-tuning setting at one density: freezing period (epochs), search lr, λ, fine-tuning lr."""

    period: int
    search_lr: float
    lam: float
    finetune_lr: float


@lru_cache(maxsize=None)
def table_setting(density: float) -> Setting:
    """Table 8's Gem-Miner setting and Table 15's fine-tuning lr (ResNet-20, CIFAR-10) at the table density
    nearest `density` on a log scale."""
    t8 = reference_gems.gem_miner_hparams()
    row = t8.loc[(np.log(t8["density"]) - math.log(density)).abs().idxmin()]
    t15 = reference_gems.finetune_hparams().set_index("sparsity")
    ft = t15.loc["50%" if row["density_pct"] == 50.0 else "others"]
    return Setting(int(row["pruning_period"]), float(row["lr"]), float(row["lam"]), float(ft["lr"]))


PAPER_EPOCHS = int(reference_gems.finetune_hparams().set_index("sparsity").loc["others", "epochs"])  # 150 + 150
PAPER_IMAGES = 50_000  # CIFAR-10's training set, what the paper's searches take their steps over
PAPER_BATCH = int(reference_gems.finetune_hparams().set_index("sparsity").loc["others", "batch_size"])  # 128


@dataclass(frozen=True)
class GemScale:
    """Dataset, network, seeds and densities (kept fractions) of the chapter; each run searches `search_epochs`
    and fine-tunes `finetune_epochs` at `batch_size`. period / search_lr / finetune_lr 0: Table 8's and Table
    15's value at each density (the period scaled by search_epochs / 150; the search lr times the paper's
    optimiser steps over ours with match_search_steps); λ is always Table 8's."""

    name: str
    dataset: str
    model: str = "resnet20_gem"
    width: float = 1.0
    image_size: int = 32
    train_subset: int | None = None
    seeds: tuple[int, ...] = (0, 1, 2)
    match_seeds: tuple[int, ...] = (3, 4)  # more seeds for both sides of RG-8's and RG-9's "matches" cells
    densities: tuple[float, ...] = (0.5, 0.1374, 0.0372, 0.0144, 0.0059)
    search_epochs: int = 150
    period: int = 0
    search_lr: float = 0.0
    ep_weight_decay: float = 5e-4  # Ramanujan et al.'s Edge-Popup: weight decay on the scores
    finetune_epochs: int = 150
    finetune_lr: float = 0.0
    imp_short_epochs: int = 8  # appendix B: "short" IMP rounds
    imp_long_epochs: int = 160  # "long" IMP rounds
    imp_warm_step: int = 1000  # warm rewinding: the iteration rewound to
    imp_lr: float = 0.1  # IMP's rounds and the retraining of its tickets
    sr_lr: float = 0.1  # smart ratio's training (Su et al.: SGD 0.1), as appendix A trains competing methods
    long_factor: int = 20  # Table 4's long Gem-Miner: searches this many times longer (3000 of 150 epochs)
    long_period: int = 150  # and freezes every this many epochs (the paper: 150; 0 = long_factor x the period)
    match_search_steps: bool = False  # scale Table 8's search lr by the paper's search steps / ours (train_subset)
    batch_size: int = 128
    augment: bool = True
    note: str = ""

    @property
    def datasets(self) -> tuple[str, ...]:
        return (self.dataset,)

    @property
    def epochs(self) -> int:
        """Epochs per run: search plus fine-tuning (the paper: 150 + 150)."""
        return self.search_epochs + self.finetune_epochs

    def setting(self, density: float) -> Setting:
        """The setting of the runs at `density`: the scale's values, else the paper's tables'."""
        t = table_setting(density)
        period = self.period or max(1, round(t.period * self.search_epochs / PAPER_EPOCHS))
        return Setting(period, self.search_lr or t.search_lr * self.search_steps_ratio, t.lam,
                       self.finetune_lr or t.finetune_lr)

    @property
    def search_steps_ratio(self) -> float:
        """With match_search_steps: how many times more score updates the paper's search makes than ours (the same
        batch), by which Table 8's lr is scaled, so that lr x steps (how far a score can travel, and how hard λ
        and weight decay pull) stays the paper's; 1 otherwise."""
        if not self.match_search_steps:
            return 1.0
        ours = max(1, (self.train_subset or 0) // self.batch_size) * self.search_epochs  # drop_last batches
        return (PAPER_IMAGES // PAPER_BATCH) * PAPER_EPOCHS / ours

    def base(self, seed: int, density: float) -> RunConfig:
        """The fine-tuning of one seed's subnetwork at `density` (Table 15's schedule, lr / 10 at 80/150 and
        120/150 of the epochs); gem_runs.config makes it a gem run."""
        spec = finetune_spec(self.finetune_epochs, self.setting(density).finetune_lr, self.batch_size, self.augment)
        return RunConfig(dataset=self.dataset, model=self.model, seed=seed, width=self.width,
                         image_size=self.image_size, train_subset=self.train_subset, train=spec)

    def scale(self) -> str:
        at = [self.setting(d) for d in self.densities]
        each = lambda xs: "/".join(f"{x:g}" for x in (xs if len(set(xs)) > 1 else xs[:1]))  # noqa: E731
        data = f", {self.train_subset} training images" if self.train_subset else ""
        more = f" ({len(self.seeds) + len(self.match_seeds)} for the variants a 'matches' cell compares: RG-8's " \
               "IMP pair, RG-9's long Gem-Miner and LR rewinding)" if self.match_seeds else ""
        kept = "/".join(f"{100 * d:.4g}" for d in self.densities)
        return (f"profile `{self.name}`: {self.dataset}{data} at {self.image_size} px, {self.model} "
                f"x{self.width:g}, {len(self.seeds)} seeds{more}, densities {kept}% of weights kept (a value per density "
                f"below where they differ); score searches {self.search_epochs} epochs (SGD lr "
                f"{each([s.search_lr for s in at])}, momentum 0.9, cosine), Gem-Miner freezing every "
                f"{each([s.period for s in at])} {'epoch' if {s.period for s in at} == {1} else 'epochs'} with λ "
                f"{each([s.lam for s in at])} (Table 8), Edge-Popup "
                f"family weight decay {self.ep_weight_decay:g} on the scores; fine-tuning {self.finetune_epochs} "
                f"epochs (SGD lr {each([s.finetune_lr for s in at])}, momentum 0.9, wd 1e-4, lr / 10 at 80/150 and "
                f"120/150 of the epochs; smart ratio trains at lr {self.sr_lr:g}); batch {self.batch_size}, "
                f"{'with' if self.augment else 'no'} augmentation; "
                f"last-epoch test accuracy; long Gem-Miner searches {self.long_factor}x longer, freezing "
                f"{f'every {self.long_period} epochs' if self.long_period else f'{self.long_factor}x as rarely'}; "
                + gems_imp.describe(self))


SCALES = {
    "smoke": GemScale("smoke", "digits", width=0.25, image_size=8, seeds=(0, 1), match_seeds=(2,),
                      densities=(0.64, 0.41),
                      search_epochs=3, period=1, finetune_epochs=2, imp_short_epochs=1, imp_long_epochs=2,
                      imp_warm_step=5, long_factor=2, long_period=2, augment=False,
                      note="scikit-learn's 8x8 digits, a quarter-width ResNet-20, 3 search and 2 fine-tuning "
                           "epochs, IMP levels 2 and 4 (densities 64% and 41%) of 1- and 2-epoch rounds: proves the "
                           "pipeline runs; its numbers mean nothing"),
    "cpu": GemScale("cpu", "fashion_mnist", width=0.5, image_size=28, train_subset=5000,
                    densities=(0.0372, 0.0144, 0.0059), search_epochs=30, period=1, finetune_epochs=30,
                    imp_short_epochs=2, imp_long_epochs=10, imp_warm_step=25, long_factor=7, long_period=10,
                    augment=False, match_search_steps=True,
                    note="Fashion-MNIST (28 px, 5,000 training images) stands in for CIFAR-10 (32 px, 50,000); "
                         "ResNet-20 at half width (8/16/32 channels instead of 16/32/64); the three sparse "
                         "densities of Table 8 (3.72, 1.44, 0.59% kept) instead of five; 30 search epochs freezing "
                         "after every epoch (29 freezing events, as the paper's 150 epochs with period 5) and 30 "
                         "fine-tuning epochs instead of 150 + 150, the fine-tuning milestones at the same fractions; "
                         "Table 8's λ, and its search lr times the 50 times fewer optimiser steps a search makes "
                         "here, so lr x steps (how far a score can travel, how hard λ pulls) is the paper's: at "
                         "Table 8's lr a search ends far less trained in so few steps; "
                         "no augmentation (the paper: random crops and flips); Edge-Popup at batch 128 like "
                         "every run here (Ramanujan et al.: 256); IMP rounds of 2 (short) and 10 (long) epochs "
                         "instead of 8 and 160, 24 levels each; warm rewinding to iteration 25 of a short round's "
                         "78 (the paper's 1000 of 3128: the same third); long Gem-Miner searches 7x "
                         "longer (210 epochs, about the 200 of long IMP's 20 rounds at 1.44%, as the paper "
                         "gives it IMP's 3000) freezing every 10 epochs (20 freezing events; the paper: every "
                         "150, 19 events)"),
    "paper": GemScale("paper", "cifar10",
                      note="Rare Gems' ResNet-20 / CIFAR-10 setting (Tables 8 and 15; needs a GPU and CIFAR-10), "
                           "Edge-Popup at batch 128 like every run here (Ramanujan et al.: 256)"),
}


def get_scale(profile: str, overrides: dict[str, Any] | None = None, **named: Any) -> GemScale:
    """The chapter's scale at a profile with a notebook's overrides (params.chapter_scale), refusing densities
    outside (0, 1] or repeated and a freezing period that does not fit in the search."""
    s = chapter_scale(SCALES, profile, overrides, named)
    if set(s.match_seeds) & set(s.seeds):
        raise ValueError(f"match_seeds {s.match_seeds} repeat seeds {s.seeds}: give further seeds only")
    if s.match_search_steps and not s.train_subset:
        raise ValueError("match_search_steps scales the search lr by the paper's steps over ours, counted on "
                         "train_subset: give train_subset, or set match_search_steps=False")
    for d in s.densities:
        if not 0.0 < d <= 1.0:
            raise ValueError(f"density {d!r} is not a kept fraction in (0, 1]: write 1.44% of weights kept as 0.0144")
    if len(set(s.densities)) < len(s.densities):
        raise ValueError(f"densities {s.densities} repeat a value; give each density once")
    for d in s.densities:
        if s.setting(d).period >= s.search_epochs:
            raise ValueError(f"freezing period {s.setting(d).period} does not fit in search_epochs = "
                             f"{s.search_epochs}: Gem-Miner freezes after every period except the last, so the "
                             "period must be below the search epochs (the paper: 5 of 150)")
    if s.long_period >= s.search_epochs * s.long_factor:
        raise ValueError(f"long_period {s.long_period} does not fit in long Gem-Miner's {s.search_epochs} x "
                         f"{s.long_factor} search epochs; lower it (the paper: 150 of 3000)")
    return s


def run(S: GemScale, seed: int, density: float, search: str, *, check: str = "none", lam: float | None = None,
        inverted: bool = False, long: bool = False) -> RunConfig:
    """One gem run: a score search with the scale's setting at `density` (λ: Gem-Miner's Table 8 value unless
    given; Edge-Popup's none unless given; `long`: long_factor times the search epochs, freezing every long_period, Table 4) or a
    smart-ratio allocation (sr_v2 / sr_v5 borrowing from the chapter's Gem-Miner run, sr_v4 / sr_v6 from its short-cold
    IMP run), then fine-tuning."""
    base = S.base(seed, density)
    if search in gem_runs.ALLOCATIONS:  # random weights trained from scratch, at smart ratio's own lr
        if check != "none" or lam is not None or inverted or long:
            raise ValueError(f"{search} allocates random positions: check, lam, inverted and long apply to score "
                             "searches only; drop them")
        base = dataclasses.replace(base, train=finetune_spec(S.finetune_epochs, S.sr_lr, S.batch_size, S.augment))
    if search in gem_runs.FROM_IMP:  # IMP as Figure 7 shows it: short-cold, at its level for the density
        return gem_runs.config(base, search=search, density=density, imp_run=gems_imp.imp_run(S, seed, density))
    if search in gem_runs.ALLOCATIONS:
        gm = run(S, seed, density, GEM_MINER).options if search in gem_runs.FROM_GEM else ()
        borrow = {k: v for k, v in gm if k not in ("search", "density", "check")}
        return gem_runs.config(base, search=search, density=density, **borrow)
    st = S.setting(density)
    lam = (st.lam if search == GEM_MINER else 0.0) if lam is None else lam
    times = S.long_factor if long else 1
    opts: dict[str, Any] = {"search_epochs": S.search_epochs * times, "search_lr": st.search_lr}
    if search in GRADUAL:
        opts["period"] = (S.long_period or st.period * times) if long else st.period
    if lam:
        opts["lam"] = lam
    if search != GEM_MINER:
        opts["search_wd"] = S.ep_weight_decay
    if inverted:
        opts["inverted"] = True
    return gem_runs.config(base, search=search, density=density, check=check, **opts)


def method(S: GemScale, seed: int, density: float, name: str) -> RunConfig:
    """A method of Figures 3 and 6 by its variant name: a gem run, IMP or learning-rate rewinding."""
    if name in gems_imp.IMP_LABELS or name == gems_imp.LRR:
        return gems_imp.imp_run(S, seed, density, name)
    return run(S, seed, density, name)


def nearest(S: GemScale, density: float) -> float:
    """The scale's density nearest `density` on a log scale."""
    return min(S.densities, key=lambda d: abs(math.log(d / density)))


def pre_finetune(S: GemScale) -> list[RunConfig]:
    """004 Figure 6: per density and seed, Gem-Miner, short-cold IMP (fine-tuned), Edge-Popup and smart ratio."""
    return [method(S, seed, d, m) for d in S.densities for seed in S.seeds for m in FIG6]


def post_finetune(S: GemScale) -> list[RunConfig]:
    """004 Figure 3, ResNet-20 column: Figure 6's runs, learning-rate rewinding, and per density and seed
    Gem-Miner's random-shuffling and weight-reinitialisation checks (sharing its search) and its score inversion
    (a search of its own)."""
    checks = [run(S, seed, d, GEM_MINER, check=c) for d in S.densities for seed in S.seeds
              for c in ("shuffle", "reinit")]
    inverted = [run(S, seed, d, GEM_MINER, inverted=True) for d in S.densities for seed in S.seeds]
    lrr = [gems_imp.imp_run(S, seed, d, gems_imp.LRR) for d in S.densities for seed in S.seeds]
    return pre_finetune(S) + lrr + checks + inverted


def prospr_sanity(S: GemScale) -> list[RunConfig]:
    """004 Table 2: Gem-Miner and its shuffling and reinitialisation checks at the density nearest 3.72%."""
    d = nearest(S, TABLE2_DENSITY)
    return [run(S, seed, d, GEM_MINER, check=c) for seed in S.seeds for c in ("none", "shuffle", "reinit")]


def ep_variants(S: GemScale) -> list[RunConfig]:
    """004 Table 3 at the smallest density: Edge-Popup, global EP, global EP with gradual pruning, the same with
    Gem-Miner's L2 regulariser (Table 8's λ), and Gem-Miner."""
    d = min(S.densities)
    lam = S.setting(d).lam
    return [c for seed in S.seeds for c in (run(S, seed, d, "ep"), run(S, seed, d, "global_ep"),
                                            run(S, seed, d, "global_ep_gradual"),
                                            run(S, seed, d, "global_ep_gradual", lam=lam), run(S, seed, d, GEM_MINER))]


def trajectory_lams(S: GemScale) -> tuple[float, ...]:
    """Figure 2's λ sweep here: none, Table 8's at the trajectory density, and ten times that."""
    lam = S.setting(nearest(S, FIG2_DENSITY)).lam
    return (0.0, lam, 10 * lam)


def sparsity_trajectory(S: GemScale) -> list[RunConfig]:
    """004 Figure 2 on ResNet-20 (MobileNet-V2 there), at the density nearest 1.44%: Gem-Miner at each of
    trajectory_lams' λ, and Edge-Popup."""
    d = nearest(S, FIG2_DENSITY)
    return [c for seed in S.seeds for c in [run(S, seed, d, GEM_MINER, lam=lam) for lam in trajectory_lams(S)]
            + [run(S, seed, d, "ep")]]


def variant(opts: Mapping[str, Any]) -> str:
    """A gem run's name in the tables, from its options: the search ("gem_miner", "ep", "sr_v1", ...),
    "gem_miner_<check>" / "gem_miner_inverted" for the sanity checks, "gem_miner_tracked" for Figure 5's curve,
    "_reg" for an Edge-Popup search with λ, and "gem_miner_lam<λ>" for Gem-Miner at a λ other than Table 8's at its
    density; IMP runs: gems_imp.variant."""
    if "search" not in opts:
        return gems_imp.variant(opts)
    search, density = opts["search"], float(opts["density"])
    lam = float(opts.get("lam", 0.0))
    if search in gem_runs.ALLOCATIONS:
        return search
    if opts.get("check", "none") != "none":
        return f"{search}_{opts['check']}"
    if bool(opts.get("inverted", False)) or bool(opts.get("track", False)):
        return f"{search}_{'inverted' if opts.get('inverted') else 'tracked'}"
    if search == GEM_MINER:
        return GEM_MINER if math.isclose(lam, table_setting(density).lam) else f"{GEM_MINER}_lam{lam:g}"
    return f"{search}_reg" if lam else search


def label(name: str) -> str:
    """A variant's name as the page prints it."""
    if name.startswith(f"{GEM_MINER}_lam"):
        return f"Gem-Miner, λ = {name.removeprefix(f'{GEM_MINER}_lam')}"
    return LABELS.get(name, name)


def _named(r: pd.DataFrame) -> list[str]:
    opt = [c for c in r.columns if c.startswith("opt.")]
    return [variant({c[4:]: v for c, v in zip(opt, row) if not (np.isscalar(v) and pd.isna(v))})
            for row in r[opt].itertuples(index=False)]


def with_variant(runs: pd.DataFrame) -> pd.DataFrame:
    """The gem and IMP runs of a runs table with `variant` and `kept`: a gem run's target density; an IMP run's
    the chapter density its level stands for (gems_imp.level; among the gem runs' densities and the scales', so it
    does not depend on which gem runs are stored; its own level density, 0.8^j, stays in `density`); Gem-Miner
    searching longer than the table's shortest Gem-Miner search at its density is "gem_miner_long"."""
    r = runs[runs["method"].isin(("gem", "imp"))].copy() if "method" in runs else runs.iloc[:0]
    if not len(r):
        return runs.iloc[:0].assign(variant=pd.Series(dtype=str), kept=pd.Series(dtype=float))
    r["variant"] = _named(r)
    gem = r["method"] == "gem"
    r["kept"] = np.where(gem, r["opt.density"].astype(float) if "opt.density" in r else np.nan, r["density"])
    if "opt.level" in r:
        known = [d for scale in SCALES.values() for d in scale.densities] + sorted(set(r.loc[gem, "kept"]))
        target = {gems_imp.level(d): d for d in known}  # a gem run's own density wins
        r.loc[~gem, "kept"] = [target.get(int(j), k) for j, k in zip(r.loc[~gem, "opt.level"], r.loc[~gem, "kept"])]
    if gem.any() and "opt.search_epochs" in r:
        gm = gem & (r["variant"] == GEM_MINER)
        shortest = r[gm].groupby("kept")["opt.search_epochs"].transform("min")
        r.loc[shortest.index[r.loc[gm, "opt.search_epochs"] > shortest], "variant"] = "gem_miner_long"
    return r


@lru_cache(maxsize=None)
def published_accuracies() -> pd.DataFrame:
    """Every ResNet-20 / CIFAR-10 accuracy of seed 004's tables under this chapter's variant names: variant, kept,
    stage ("pre" / "post" fine-tuning), accuracy (%), table; Table 4's warm IMP is our long-warm IMP."""
    checks = {"none": "", "random_shuffling": "_shuffle", "weight_reinit": "_reinit"}
    rows = [(m + checks[c], d, "post", a, "Table 2") for m, d, c, a in
            reference_gems.prospr_sanity()[["method", "density", "check", "accuracy"]].itertuples(index=False)]
    rows += [(m, d, s.split("_")[0], a, "Table 3") for m, d, s, a in
             reference_gems.ep_variants()[["method", "density", "stage", "accuracy"]].itertuples(index=False)]
    rows += [(m, t / 100, "post", a, "Table 16") for m, t, a in  # each variant at the target it was run for
             reference_gems.sr_variants()[["method", "target_density_pct", "accuracy"]].itertuples(index=False)]
    table4 = {"imp_warm": "imp_long_warm", "long_gem_miner": "gem_miner_long"}
    rows += [(table4.get(m, m), d, "post", a, "Table 4") for m, d, a in
             reference_gems.long_gem_miner()[["method", "density", "accuracy"]].itertuples(index=False)]
    return pd.DataFrame(rows, columns=["variant", "kept", "stage", "accuracy", "table"])


def _published_at(kept: float, stage: str) -> pd.DataFrame:
    p = published_accuracies()
    return p[(p["stage"] == stage) & (np.log(p["kept"] / kept).abs() < SAME_DENSITY)]


def published(name: str, kept: float, stage: str = "post", table: str = "") -> tuple[float, str]:
    """(accuracy, table) the paper prints for a variant at this density, from `table` where that has it, else from
    its first table that has it; (nan, "") when none does."""
    hit = _published_at(kept, stage)
    hit = hit[hit["variant"] == name]
    hit = hit[hit["table"] == table] if (hit["table"] == table).any() else hit
    return (float(hit["accuracy"].iloc[0]), str(hit["table"].iloc[0])) if len(hit) else (np.nan, "")


def published_effect(test: str, base: str, kept: float, stage: str = "post") -> float:
    """test minus base as printed in the first of seed 004's tables that has both at this density; nan if none."""
    for _, g in _published_at(kept, stage).groupby("table", sort=False):
        acc = dict(zip(g["variant"], g["accuracy"]))
        if test in acc and base in acc:
            return round(acc[test] - acc[base], 2)
    return np.nan


def verdicts(runs: pd.DataFrame, S: GemScale, ids: tuple[str, ...]) -> list[Verdict]:
    return [evaluate(cid, runs, S.scale()) for cid in ids]
