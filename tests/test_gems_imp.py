"""The rare-gems chapter's second half: IMP variants resolve to the rounds, rewind points and levels they claim
(configs only, no training); the paper scale is appendix B's IMP; cost accounting equals a hand sum; RG-4, RG-6,
RG-7, RG-8 and RG-9 on made runs reach held / failed / inconclusive."""
import numpy as np
import pandas as pd
import pytest

from ticketkit import imp
from ticketkit.experiments import gems, gems_imp, gems_studies, gems_studies_rules
from ticketkit.grid import frame
from ticketkit.models import layer_names
from ticketkit.verdicts import FAILED, HELD, OPEN, evaluate

CPU = gems.get_scale("cpu")
MID = 0.0144
SPREAD = (-0.5, 0.0, 0.5, -0.25, 0.25)  # seeds 3 and 4: the further seeds of the matched variants


def made(cfgs, acc, **extra) -> pd.DataFrame:
    """Records of `cfgs`: (pre, post) accuracy from acc[variant] plus the seed's spread; extra[variant]: fields."""
    recs = []
    for c in cfgs:
        opts = dict(c.options)
        name = gems.variant(opts)
        name = "gem_miner_long" if opts.get("search_epochs", 0) > CPU.search_epochs else name
        pre, post = acc.get(name, (np.nan, np.nan))
        d = SPREAD[c.seed]
        recs.append({"config": c.to_dict(), "key": c.key(), "final_test_acc": post + d, "pre_finetune_acc": pre + d,
                     "density": c.density if c.method == "imp" else opts["density"], "collapsed_layers": [],
                     "layer_densities": {}, "connected": True, "prune": {"wall_s": 0.0}, "wall_s": 1.0,
                     "device": "cpu", **extra.get(name, {})})
    return frame(recs)


def outcomes(v) -> dict:
    return {(r.comparison, r.density): r.outcome for r in v.evidence.itertuples()}


@pytest.mark.parametrize("profile", ["smoke", "cpu", "paper"])
def test_imp_variants_have_the_rounds_rewind_points_and_levels_they_claim(profile):
    S = gems.get_scale(profile)
    cfgs = gems_imp.imp_variants(S)
    assert len(cfgs) == len(set(cfgs)) == 4 * len(S.seeds) * len(S.densities)
    for c in cfgs:
        o = imp.options(c)
        rounds, start = {v: k for k, v in gems_imp.IMP_NAMES.items()}[gems.variant(o)]
        assert c.train.epochs == (S.imp_short_epochs if rounds == "short" else S.imp_long_epochs)
        assert o["rewind_step"] == (S.imp_warm_step if start == "warm" else 0)
        assert (o["scope"], o["rate"], o["branch"], o.get("restart", "rewind")) == ("global", 0.2, "finetune", "rewind")
        assert (o["finetune_epochs"], o["finetune_lr"]) == (S.finetune_epochs, S.imp_lr)
        d = gems.nearest(S, c.density)  # the deepest level keeping at least d (within 5% on a log scale)
        near = max(j for j in range(1, 40) if 0.8 ** j >= d * np.exp(-0.05))
        assert o["level"] == near and c.model == "resnet20_gem"
    lrr = gems_imp.imp_run(S, 0, S.densities[0], gems_imp.LRR)
    assert imp.options(lrr)["restart"] == "trained" and imp.options(lrr)["branch"] == "ticket"
    assert lrr.train.epochs == S.imp_long_epochs and gems.variant(imp.options(lrr)) == "lr_rewinding"


def test_smoke_levels_are_few_and_the_paper_scale_is_appendix_b():
    assert [gems_imp.level(d) for d in gems.get_scale("smoke").densities] == [2, 4]
    P = gems.get_scale("paper")
    assert (P.imp_short_epochs, P.imp_long_epochs, P.imp_warm_step, P.finetune_epochs) == (8, 160, 1000, 150)
    assert [gems_imp.level(d) for d in P.densities] == [3, 9, 14, 19, 23]
    c = gems_imp.imp_run(P, 0, MID)
    assert (c.train.lr, c.train.batch_size, c.train.momentum, c.train.weight_decay) == (0.1, 128, 0.9, 1e-4)
    assert imp.options(c)["finetune_lr"] == 0.1  # IMP retrains at its own lr, not Table 15's


def test_cost_accounting_equals_a_hand_sum():
    S = gems.get_scale("smoke")
    cfgs = gems_studies.cost_grid(S)
    runs = made(cfgs, {}, gem_miner={"search_epochs": 3, "search_s": 2.0}, ep={"search_epochs": 3, "search_s": 4.0},
                sr_v1={"search_epochs": 0, "search_s": 0.0},
                imp_long_cold_ticket={"wall_s": 0.5, "eval_s": 0.1, "batch": 2})
    c = gems_studies_rules.cost(gems.with_variant(runs), 0.41).set_index(["variant", "seed"])
    # levels 0..3 behind level 4's mask, each trained beside one other run, its evaluations left out
    assert c.loc[("imp_long_cold", 0)].tolist() == [4 * S.imp_long_epochs, pytest.approx(4 * (0.5 - 0.1) / 2)]
    assert c.loc[("gem_miner", 1)].tolist() == [3, 2.0] and c.loc[("sr_v1", 0)].tolist() == [0, 0]
    no_search = made([x for x in cfgs if x.method == "imp" or dict(x.options)["search"] == "sr_v1"], {},
                     imp_long_cold_ticket={"wall_s": 0.5, "eval_s": 0.1, "batch": 2})  # no search stored yet
    part = gems_studies_rules.cost(gems.with_variant(no_search), 0.41).set_index(["variant", "seed"])
    assert part.loc[["imp_long_cold"]].equals(c.loc[["imp_long_cold"]]) and part.loc["sr_v1"].isna().all().all()


def test_rg4_wall_time_decides_and_the_epoch_ratio_is_shown():
    cfgs = gems_studies.cost_grid(CPU)
    extra = {"gem_miner": {"search_epochs": 30, "search_s": 10.0}, "ep": {"search_epochs": 30, "search_s": 10.0},
             "sr_v1": {"search_epochs": 0, "search_s": 0.0}}
    fast = made(cfgs, {}, imp_long_cold_ticket={"wall_s": 6.0, "eval_s": 1.0, "batch": 1}, **extra)
    runs = fast.assign(wall_s=np.where(fast["opt.level"].notna(), fast["wall_s"] + fast["seed"], fast["wall_s"]))
    v = evaluate("RG-4", runs, CPU.scale())
    got = {r.comparison: (r.effect, r.outcome, r.published) for r in v.evidence.itertuples()}
    assert got["IMP epochs / Gem-Miner epochs (configured: shown, not judged)"] == (round(19 * 10 / 30, 2), "", 19.0)
    assert got["IMP − Gem-Miner, seconds to find the mask"][1] == HELD and v.verdict == "holds"
    # per seed s: 19 tickets of 10 epochs at 5 + s seconds each (wall less evaluation) against 30 epochs in 10 s
    per = v.evidence.set_index("comparison").loc["IMP training epoch / Gem-Miner search epoch, seconds (shown)"]
    assert (per["effect"], per["outcome"]) == (round(np.mean([(5 + s) / 10 * 3 for s in range(3)]), 2), "")
    assert "would be 34.2x" in per["note"]  # 1.8 x 2850 / 150
    unknown = evaluate("RG-4", runs.drop(columns="eval_s"), CPU.scale())  # evaluation time not recorded
    assert unknown.evidence.set_index("comparison").loc["IMP − Gem-Miner, seconds to find the mask", "outcome"] == OPEN


def test_rg6_variants_above_v1_and_gem_above_the_best():
    cfgs = gems_studies.sr_variants(CPU)
    v = evaluate("RG-6", made(cfgs, {"sr_v1": (0, 60), "sr_v2": (0, 70), "sr_v3": (0, 50), "sr_v4": (0, 75),
                                     "sr_v5": (0, 60), "sr_v6": (0, 61), "gem_miner": (0, 80)}), CPU.scale())
    assert outcomes(v) == {("SR-v2 − Smart ratio", MID): HELD, ("SR-v3 − Smart ratio", MID): FAILED,
                           ("SR-v4 − Smart ratio", MID): HELD, ("SR-v5 − Smart ratio", MID): OPEN,
                           ("SR-v6 − Smart ratio", MID): OPEN, ("Gem-Miner − SR-v4", MID): HELD}
    assert v.evidence.set_index("comparison").loc["Gem-Miner − SR-v4", "published"] == pytest.approx(77.89 - 69.92)
    assert v.evidence.set_index("comparison").loc["SR-v2 − Smart ratio", "published"] == pytest.approx(68.59 - 65.61)


def test_rg7_first_and_last_layers_against_smart_ratio():
    cfgs = [c for c in gems_studies.layerwise(CPU) if gems.variant(dict(c.options)) in ("gem_miner", "imp", "sr_v1")]
    runs = made(cfgs, {})
    names = layer_names(CPU.model, CPU.width)  # the input conv first, the 1x1-conv classifier last
    assert names[0] == "conv1.weight" and names[-1] == "head.fc.weight" and len(names) == 20
    dens = {"gem_miner": (0.5, 0.1, 0.6), "imp": (0.05, 0.1, 0.2), "sr_v1": (0.1, 0.05, 0.3)}

    def stored(first: float, middle: float, last: float, seed: int) -> dict:
        """A record's layer densities as the store returns them: sorted by name, the classifier second."""
        d = {n: middle for n in names} | {names[0]: first, names[-1]: last}
        return {n: d[n] + 0.01 * seed for n in sorted(d)}

    runs["layer_densities"] = [stored(*dens[gems.variant(dict(c.options))], c.seed) for c in cfgs]
    v = evaluate("RG-7", runs, CPU.scale())
    got = {(r.comparison, r.outcome) for r in v.evidence.itertuples()}
    assert got == {("Gem-Miner − Smart ratio, first layer density (%)", HELD),
                   ("Gem-Miner − Smart ratio, last layer density (%)", HELD),
                   ("IMP (short, cold) − Smart ratio, first layer density (%)", FAILED),
                   ("IMP (short, cold) − Smart ratio, last layer density (%)", FAILED)}


def test_rg8_short_cold_matches_long_warm_when_sparse_and_only_the_gem_is_accurate_before_finetuning():
    acc = {"gem_miner": (60, 80), "imp": (10, 70), "imp_short_warm": (10, 70), "imp_long_cold": (10, 70),
           "imp_long_warm": (70, 70.2)}
    v = evaluate("RG-8", made(gems_studies.imp_figure(CPU), acc), CPU.scale())
    o = outcomes(v)
    short_long = "IMP (short, cold) − IMP (long, warm)"
    assert {k: x for k, x in o.items() if "long, warm" in k[0] and "Gem" not in k[0]} == \
        {(short_long, 0.0144): HELD, (short_long, 0.0059): HELD}
    assert o[("Gem-Miner − IMP (short, cold)", 0.0372)] == HELD
    assert o[("Gem-Miner − IMP (long, warm)", MID)] == FAILED
    assert "margin m = 1.0" in v.note  # 2 x Gem-Miner's sd 0.5: on 5 seeds [-0.78, 0.38] lies inside +-1.0
    e = v.evidence.set_index(["comparison", "density"]).loc[(short_long, MID)]
    assert (e["n"], e["lo"], e["hi"]) == ("5 vs 5", -0.78, 0.38)
    three = made([c for c in gems_studies.imp_figure(CPU) if c.seed < 3], acc)  # on 3 seeds: [-1.33, 0.93]
    assert outcomes(evaluate("RG-8", three, CPU.scale()))[(short_long, MID)] == OPEN
    assert "3.72" not in str(sorted(k[1] for k in o if "long, warm" in k[0] and "Gem" not in k[0]))


def test_only_the_variants_a_matches_cell_compares_get_the_further_seeds():
    for grid, matched in ((gems_studies.imp_figure, {"imp", "imp_long_warm"}),
                          (gems_studies.long_gm, {"gem_miner_long", "lr_rewinding"})):
        r = gems.with_variant(made(grid(CPU), {}))
        r = r[r["variant"].isin(["gem_miner", "gem_miner_long", "lr_rewinding", *gems_imp.IMP_LABELS])]
        got = r.groupby("variant")["seed"].agg(lambda x: tuple(sorted(set(x)))).to_dict()
        assert got == {v: (0, 1, 2, 3, 4) if v in matched else (0, 1, 2) for v in got} and matched <= set(got)
        alone = gems.get_scale("cpu", {"match_seeds": []})  # no further seeds: every variant on the scale's seeds
        assert {c.seed for c in grid(alone)} == {0, 1, 2}


def test_rg9_long_gem_miner_above_gem_miner_and_close_to_lr_rewinding():
    cfgs = gems_studies.long_gm(CPU)
    v = evaluate("RG-9", made(cfgs, {"gem_miner": (0, 70), "gem_miner_long": (0, 72), "lr_rewinding": (0, 75),
                                     "imp_long_warm": (0, 60)}), CPU.scale())
    assert outcomes(v) == {("Long Gem-Miner − Gem-Miner", MID): HELD,
                           ("LR rewinding, Renda et al. − Long Gem-Miner", MID): FAILED}
    pub = v.evidence.set_index("comparison")["published"]
    assert pub["Long Gem-Miner − Gem-Miner"] == pytest.approx(79.50 - 77.89)
    assert pub["LR rewinding, Renda et al. − Long Gem-Miner"] == pytest.approx(80.21 - 79.50)


def test_rg2_and_rg1_have_imp_cells():
    acc = {"gem_miner": (60, 80), "imp": (10, 79.5), "ep": (20, 30), "sr_v1": (10, 60), "lr_rewinding": (0, 80)}
    runs = made(gems.post_finetune(CPU), acc)
    o2 = outcomes(evaluate("RG-2", runs, CPU.scale()))
    assert o2[("Gem-Miner − IMP (short, cold)", 0.0372)] == HELD
    assert o2[("Gem-Miner − IMP (short, cold)", MID)] == OPEN
    o1 = outcomes(evaluate("RG-1", runs, CPU.scale()))
    assert o1[("IMP (short, cold) − chance (10%)", MID)] == HELD
