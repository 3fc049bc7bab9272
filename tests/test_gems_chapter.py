"""The rare-gems chapter: RG-1, RG-2, RG-3 and RG-5 on made runs reach each outcome with the published effect
beside ours where seed 004 prints it; the paper scale is the paper's setting; the cpu scale refuses bad values;
every grid is valid, de-duplicated and names the variants its page shows; tables and figures draw from no runs."""
import dataclasses
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from ticketkit import gem_runs
from ticketkit.experiments import GRIDS, gems, gems_figures, gems_imp, gems_studies, notebook_grids
from ticketkit.grid import frame
from ticketkit.profiles import get_profile
from ticketkit.runs import RunConfig
from ticketkit.verdicts import FAILED, HELD, HOLDS, MIXED, OPEN, evaluate

SPREAD = (-0.5, 0.0, 0.5)  # three seeds, sd 0.5
CPU = gems.get_scale("cpu")
BIG, MID, SMALL = CPU.densities  # 3.72%, 1.44%, 0.59% kept: the paper's densities


def made(cfgs: list[RunConfig], acc: dict) -> pd.DataFrame:
    """Records of `cfgs` as a runs table: (pre, post) accuracy from acc[(variant, density)] (or acc[variant]),
    plus the seed's spread."""
    recs = []
    for c in cfgs:
        opts = dict(c.options)
        name = gems.variant(opts)
        kept = opts.get("density", c.density)
        pre, post = acc.get((name, kept), acc.get(name, (np.nan, np.nan)))
        d = SPREAD[c.seed % len(SPREAD)]
        recs.append({"config": c.to_dict(), "key": c.key(), "final_test_acc": post + d, "pre_finetune_acc": pre + d,
                     "density": kept, "layer_densities": {}, "collapsed_layers": [], "connected": True,
                     "prune": {"wall_s": 0.0}, "wall_s": 1.0, "device": "cpu"})
    return frame(recs)


def outcomes(v) -> dict:
    return {(r.comparison, r.density): r.outcome for r in v.evidence.itertuples()}


def published(v) -> dict:
    return {(r.comparison, r.density): r.published for r in v.evidence.itertuples() if not np.isnan(r.published)}


def test_rg1_gem_above_smart_ratio_and_smart_ratio_near_chance_before_finetuning():
    acc = {("gem_miner", BIG): (60, 0), ("gem_miner", MID): (60, 0), ("gem_miner", SMALL): (12, 0),
           ("sr_v1", BIG): (11, 0), ("sr_v1", MID): (30, 0), ("sr_v1", SMALL): (12, 0), "ep": (20, 0),
           "imp": (10, 0)}
    v = evaluate("RG-1", made(gems.pre_finetune(CPU), acc), CPU.scale())
    gem, chance, imp = "Gem-Miner − Smart ratio", "Smart ratio − chance (10%)", "IMP (short, cold) − chance (10%)"
    assert outcomes(v) == {(imp, BIG): HELD, (imp, MID): HELD, (imp, SMALL): HELD,
                           (gem, BIG): HELD, (gem, MID): HELD, (gem, SMALL): OPEN,
                           (chance, BIG): HELD, (chance, MID): FAILED, (chance, SMALL): HELD}  # 2 ± 1.24 < +5
    assert v.verdict == MIXED and not published(v)  # Figure 6 prints no numbers
    assert set(v.evidence[v.evidence["comparison"] == chance]["n"]) == {"3 vs chance"}


def test_rg2_gem_above_edge_popup_and_smart_ratio_after_finetuning_with_tables_3_and_16():
    acc = {"gem_miner": (0, 80), ("ep", BIG): (0, 30), ("ep", MID): (0, 30), ("ep", SMALL): (0, 80),
           ("sr_v1", BIG): (0, 60), ("sr_v1", MID): (0, 85), ("sr_v1", SMALL): (0, 60), "imp": (0, 80)}
    v = evaluate("RG-2", made(gems.post_finetune(CPU), acc), CPU.scale())
    ep, sr, imp = "Gem-Miner − Edge-Popup", "Gem-Miner − Smart ratio", "Gem-Miner − IMP (short, cold)"
    assert outcomes(v) == {(imp, BIG): OPEN, (imp, MID): OPEN, (imp, SMALL): OPEN,
                           (ep, BIG): HELD, (ep, MID): HELD, (ep, SMALL): OPEN,
                           (sr, BIG): HELD, (sr, MID): FAILED, (sr, SMALL): HELD}
    assert published(v) == {(ep, SMALL): pytest.approx(66.15 - 24.47), (sr, MID): pytest.approx(77.89 - 65.61)}
    assert v.verdict == MIXED and "IMP" in v.note


def test_rg3_each_sanity_check_below_the_gem_with_table_2():
    acc = {"gem_miner": (0, 80), "gem_miner_shuffle": (0, 70), "gem_miner_reinit": (0, 80),
           "gem_miner_inverted": (0, 90), "ep": (0, 0), "sr_v1": (0, 0)}
    v = evaluate("RG-3", made(gems.post_finetune(CPU), acc), CPU.scale())
    got = Counter((r.comparison, r.outcome) for r in v.evidence.itertuples())
    assert got == {("GM, random shuffling − Gem-Miner", HELD): 3, ("GM, score inversion − Gem-Miner", FAILED): 3,
                   ("GM, weight reinitialisation − Gem-Miner", OPEN): 3}
    assert published(v) == {("GM, random shuffling − Gem-Miner", BIG): pytest.approx(78.73 - 83.4),
                            ("GM, weight reinitialisation − Gem-Miner", BIG): pytest.approx(78.6 - 83.4)}


def test_rg5_edge_popup_gains_least_from_finetuning_and_gradual_global_ep_closes_most_of_the_gap():
    acc = {"ep": (20, 30), "gem_miner": (30, 60), "global_ep": (25, 40), "global_ep_gradual": (20, 50),
           "global_ep_gradual_reg": (20, 40)}  # midpoint of EP and GM after fine-tuning: 45
    runs = made(gems.ep_variants(CPU), acc)
    runs["pre_finetune_acc"] += runs["seed"].map({0: 0.3, 1: -0.2, 2: 0.1})  # gains vary from seed to seed
    v = evaluate("RG-5", runs, CPU.scale())
    gain, mid = "fine-tuning gain: Edge-Popup − Gem-Miner", "midpoint of Edge-Popup and Gem-Miner"
    assert outcomes(v) == {("Edge-Popup − Gem-Miner", SMALL): HELD, (gain, SMALL): HELD,  # 10 vs 30 points
                           (f"Global EP, gradual pruning − {mid}", SMALL): HELD,  # 50 > 45
                           (f"Global EP, gradual pruning, L2 regulariser − {mid}", SMALL): FAILED,  # 40 < 45
                           ("Global EP − Edge-Popup", SMALL): ""}  # shown, not judged
    assert published(v) == {("Edge-Popup − Gem-Miner", SMALL): pytest.approx(24.47 - 66.15),
                            (gain, SMALL): pytest.approx((24.47 - 19.57) - (66.15 - 45.30)),
                            (f"Global EP, gradual pruning − {mid}", SMALL): pytest.approx(63.54 - 45.31),
                            (f"Global EP, gradual pruning, L2 regulariser − {mid}", SMALL): pytest.approx(63.72 - 45.31),
                            ("Global EP − Edge-Popup", SMALL): pytest.approx(34.42 - 24.47)}
    assert v.verdict == MIXED and "midpoint" in v.note


def test_a_claim_holds_when_every_cell_holds_and_smoke_densities_have_no_published_effect():
    S = gems.get_scale("smoke")
    v = evaluate("RG-3", made(gems.post_finetune(S), {"gem_miner": (0, 80), "gem_miner_shuffle": (0, 70),
                                                      "gem_miner_reinit": (0, 70), "gem_miner_inverted": (0, 70),
                                                      "ep": (0, 0), "sr_v1": (0, 0)}), S.scale())
    assert v.verdict == HOLDS and len(v.evidence) == 6 and not published(v)


def test_long_gem_miner_searches_as_long_as_table_4_says():
    P = gems.get_scale("paper")  # 004 section on Table 4: "prunes every 150 epochs ... the target in 3000 epochs"
    sc = gem_runs.search_config(gems.run(P, 0, 0.0144, "gem_miner", long=True))
    assert (sc.epochs, sc.period) == (3000, 150)
    long_imp = (gems_imp.level(0.0144) + 1) * CPU.imp_long_epochs  # dense + 19 long rounds: IMP's epochs at 1.44%
    sc = gem_runs.search_config(gems.run(CPU, 0, 0.0144, "gem_miner", long=True))
    assert abs(sc.epochs - long_imp) <= CPU.search_epochs  # "given the same number of epochs"
    with pytest.raises(ValueError, match="score searches only"):
        gems.run(CPU, 0, 0.0144, "sr_v4", long=True)
    with pytest.raises(ValueError, match="long_period"):
        gems.get_scale("cpu", {"long_period": CPU.search_epochs * CPU.long_factor})


def test_paper_scale_is_the_papers_setting():
    S = gems.get_scale("paper")
    assert (S.dataset, S.model, S.width, S.image_size, S.augment, S.train_subset) == \
        ("cifar10", "resnet20_gem", 1.0, 32, True, None)
    assert S.densities == (0.5, 0.1374, 0.0372, 0.0144, 0.0059)
    assert (S.search_epochs, S.finetune_epochs, S.batch_size) == (150, 150, 128)
    table8 = {0.5: (8, 0.05, 1e-8), 0.1374: (5, 0.1, 1e-5), 0.0372: (5, 0.1, 3e-5), 0.0144: (5, 0.1, 1e-4),
              0.0059: (5, 0.1, 1e-4)}  # period, lr, lambda as printed in Table 8
    for d, (period, lr, lam) in table8.items():
        cfg = gems.run(S, 0, d, "gem_miner")
        sc = gem_runs.search_config(cfg)
        assert (sc.density, sc.period, sc.epochs, sc.lr, sc.lam, sc.momentum, sc.weight_decay, sc.schedule,
                sc.batch_size, sc.augment) == (d, period, 150, lr, lam, 0.9, 0.0, "cosine", 128, True)
        ft = cfg.train  # Table 15: lr 0.1 at 50%, else 0.01; lr / 10 at epochs 80 and 120
        assert (ft.epochs, ft.batch_size, ft.optimizer, ft.lr, ft.momentum, ft.weight_decay, ft.schedule,
                ft.augment) == (150, 128, "sgd", 0.1 if d == 0.5 else 0.01, 0.9, 1e-4, "multistep", True)
        assert [m * 150 for m in ft.milestones] == pytest.approx([80, 120])
    assert gem_runs.search_config(gems.run(S, 0, 0.0144, "gem_miner")).events == 29


def test_cpu_scale_settings():
    cfgs = {d: gem_runs.search_config(gems.run(CPU, 0, d, "gem_miner")) for d in CPU.densities}
    assert {d: c.lam for d, c in cfgs.items()} == {0.0372: 3e-5, 0.0144: 1e-4, 0.0059: 1e-4}
    assert {(c.epochs, c.period, c.events, c.batch_size, c.augment) for c in cfgs.values()} == \
        {(30, 1, 29, 128, False)}
    for d, c in cfgs.items():  # lr x optimiser steps as in the paper: Table 8's lr 0.1, 150 epochs of 50,000 // 128
        assert c.lr * (5000 // 128) * c.epochs == pytest.approx(0.1 * (50_000 // 128) * 150, rel=1e-9), d
    wide = gem_runs.search_config(gems.run(gems.get_scale("cpu", {"batch_size": 256}), 0, 0.0144, "gem_miner"))
    assert wide.lr * (5000 // 256) * wide.epochs == pytest.approx(0.1 * (50_000 // 128) * 150, rel=1e-9)
    assert gem_runs.search_config(gems.run(CPU, 0, 0.0144, "ep")).lr == cfgs[0.0144].lr  # Edge-Popup alike
    long = gem_runs.search_config(gems.run(CPU, 0, 0.0144, "gem_miner", long=True))
    assert (long.lr, long.epochs) == (cfgs[0.0144].lr, 7 * 30)  # the same step size, searching 7x longer
    ft = gems.run(CPU, 0, 0.0144, "sr_v1").train  # smart ratio at Su et al.'s lr, the gem at Table 15's
    assert (ft.epochs, ft.lr, ft.batch_size, ft.augment) == (30, 0.1, 128, False)
    assert gems.run(CPU, 0, 0.0144, "gem_miner").train.lr == 0.01
    assert gem_runs.search_config(gems.run(CPU, 0, 0.0144, "ep")).weight_decay == 5e-4


@pytest.mark.parametrize("overrides, error, match", [
    ({"densities": [0.0144, 0.0]}, ValueError, "kept fraction"),
    ({"densities": [1.5]}, ValueError, "kept fraction"),
    ({"densities": [0.0144, 0.0144]}, ValueError, "repeat"),
    ({"period": 30}, ValueError, "does not fit in search_epochs = 30"),
    ({"search_epochs": 1}, ValueError, "does not fit in search_epochs = 1"),
    ({"densities": [-0.1]}, TypeError, "densities"),
    ({"lam": 1e-4}, KeyError, "unknown parameter"),
    ({"train_subset": 0}, TypeError, "train_subset"),
    ({"augment": 1}, TypeError, "true or false"),
    ({"match_seeds": [2, 3]}, ValueError, "repeat seeds"),
])
def test_cpu_scale_refuses_bad_values(overrides, error, match):
    with pytest.raises(error, match=match):
        gems.get_scale("cpu", overrides)


def test_matching_the_papers_search_steps_needs_a_training_subset_to_count_them():
    with pytest.raises(ValueError, match="give train_subset"):
        gems.get_scale("smoke", {"match_search_steps": True})
    assert gems.get_scale("cpu", {"match_search_steps": False}).setting(0.0144).search_lr == 0.1  # Table 8's


def test_notebook_parameters_reach_the_scale():
    S = gems.get_scale("cpu", {"search_epochs": 10}, seeds=[0], densities=[0.02], compute=False)
    assert (S.seeds, S.densities, S.search_epochs, S.setting(0.02).period) == ((0,), (0.02,), 10, 1)


@pytest.mark.parametrize("profile", ["smoke", "cpu", "paper"])
def test_every_grid_is_valid_deduplicated_and_runs_the_variants_its_page_shows(profile):
    P, S = get_profile(profile), gems.get_scale(profile)
    for name, grid in notebook_grids("gems").items():
        cfgs, line = grid(P)
        assert len(cfgs) == len(set(cfgs)) and line == S.scale(), name
        assert all(c.method in ("gem", "imp") and RunConfig.from_dict(c.to_dict()) == c for c in cfgs), name
        for c in cfgs:
            if c.method == "imp":
                continue
            if dict(c.options)["search"] in gem_runs.SCORE_SEARCHES:
                gem_runs.search_config(c)
            if dict(c.options)["check"] != "none":  # a check reuses the search of a gem on the same page
                assert gem_runs.searched_config(c) in cfgs, name
    n = len(S.seeds)
    def count(grid) -> Counter:
        return Counter((gems.variant(dict(c.options)), dict(c.options).get("density", gems.nearest(S, c.density)))
                       for c in grid(S))
    post = {"gem_miner", "gem_miner_shuffle", "gem_miner_reinit", "gem_miner_inverted", "ep", "sr_v1", "imp",
            "lr_rewinding"}
    assert count(gems.post_finetune) == {(v, d): n for v in post for d in S.densities}
    assert count(gems.pre_finetune) == {(v, d): n for v in ("gem_miner", "imp", "ep", "sr_v1")
                                      for d in S.densities}
    near = gems.nearest(S, 0.0372)
    assert count(gems.prospr_sanity) == {(v, near): n for v in ("gem_miner", "gem_miner_shuffle", "gem_miner_reinit")}
    assert count(gems.ep_variants) == {(v, min(S.densities)): n for v in gems.TABLE3}
    mid = gems.nearest(S, 0.0144)
    lam = S.setting(mid).lam
    assert count(gems.sparsity_trajectory) == {(v, mid): n for v in ("gem_miner_lam0", "gem_miner",
                                                                     f"gem_miner_lam{10 * lam:g}", "ep")}
    chapter = GRIDS["gems"](P)
    assert len(chapter) == len(set(chapter)) == len({c for g in notebook_grids("gems").values() for c in g(P)[0]})


def test_tables_and_figures_draw_from_no_runs_and_mark_what_is_not_run_yet():
    empty = frame([])
    vs = gems.verdicts(empty, CPU, ("RG-1", "RG-2", "RG-3", "RG-5"))
    for table in (gems_figures.post_table, gems_figures.pre_table, gems_figures.prospr_table, gems_figures.ep_table):
        table(empty, CPU, vs)
    gems_figures.trajectory_table(empty, CPU)
    gems_figures.accuracy_figure(empty, CPU)
    gems_figures.accuracy_figure(empty, CPU, "pre_finetune_acc")
    gems_figures.trajectory_figure(empty, CPU)
    plt.close("all")
    runs = made(gems.post_finetune(CPU), {"gem_miner": (50, 80), "ep": (20, 30), "sr_v1": (10, 60),
                                          "gem_miner_shuffle": (0, 70), "gem_miner_reinit": (0, 70),
                                          "gem_miner_inverted": (0, 70)})
    html = gems_figures.post_table(runs, CPU, gems.verdicts(runs, CPU, ("RG-2", "RG-3"))).data
    assert "80.21 (Table 4)" in html and "83.40 (Table 2)" in html and "66.15 (Table 3)" in html
    gems_figures.density_page(runs, CPU)(MID)
    plt.close("all")


def test_a_table_cell_takes_the_colour_of_its_own_stage_and_the_worst_of_its_comparisons():
    """RG-8 judges long-warm IMP after fine-tuning (short-cold IMP must match it) and before (Gem-Miner above it):
    each stage's cell shows its own outcome, never the other's."""
    runs = made(gems_studies.imp_figure(CPU), {"imp": (10, 70), "imp_long_warm": (10, 80), "imp_short_warm": (10, 75),
                                               "imp_long_cold": (10, 75), "gem_miner": (50, 75)})
    colour = gems_figures._outcomes(gems.verdicts(runs, CPU, ("RG-8",)))
    for kept in (MID, SMALL):  # the sparse regime: 70 vs 80 after fine-tuning does not match; 50 vs 10 before
        assert colour[("imp_long_warm", kept, "post")] == FAILED
        assert colour[("imp_long_warm", kept, "pre")] == HELD
    assert ("imp_long_warm", BIG, "post") not in colour  # not judged above the sparse regime
    v = gems.verdicts(runs, CPU, ("RG-8",))[0]
    worse = v.evidence.assign(outcome=[OPEN] * len(v.evidence))  # a second comparison of the same cells
    both = gems_figures._outcomes([v, dataclasses.replace(v, evidence=worse)])
    assert both[("imp_long_warm", MID, "post")] == FAILED and both[("imp_long_warm", MID, "pre")] == OPEN


def test_imp_levels_stand_for_the_chapters_densities_with_no_gem_run_stored():
    r = gems.with_variant(made(gems_imp.imp_variants(CPU), {}))
    assert sorted(set(r["kept"])) == sorted(CPU.densities)  # levels 14, 19, 23 (0.8^j: 4.40, 1.44, 0.59%)
    assert set(r.loc[np.isclose(r["kept"], SMALL), "opt.level"].astype(int)) == {23}


def test_a_table_page_cites_its_own_table_where_it_prints_the_number():
    assert gems.published("gem_miner", MID, "post", "Table 4") == (77.89, "Table 4")
    assert gems.published("gem_miner", MID, "post")[1] == "Table 16"  # the first table that prints it
    assert gems.published("gem_miner", MID, "post", "Table 3") == gems.published("gem_miner", MID, "post")


def test_figure5_reads_its_tracked_searches_which_stay_out_of_every_other_cell(tmp_path):
    from ticketkit.experiments.gems_studies_rules import cost
    from ticketkit.store import Store
    grid = gems_studies.cost_grid(CPU)
    tracked = [c for c in grid if gems.variant(dict(c.options)) == "gem_miner_tracked"]
    assert [c.seed for c in tracked] == list(CPU.seeds)
    for c in tracked:  # the chapter's Gem-Miner search, only recording more
        plain = gems.run(CPU, c.seed, MID, "gem_miner")
        assert dataclasses.replace(gem_runs.search_config(c), track=False) == gem_runs.search_config(plain)
        assert gem_runs.search_config(c).track and c != plain
    store = Store(tmp_path)
    c = tracked[0]
    search = [{"epoch": e, "test_acc": 10.0 * e, "density": 0.5 ** e} for e in (1, 2)]
    store.put(c, {"config": c.to_dict(), "key": c.key(), "final_test_acc": 70.0, "density": 0.25,
                  "layer_densities": {}, "collapsed_layers": [], "connected": True, "prune": {"wall_s": 0.0},
                  "wall_s": 1.0, "device": "cpu", "search_history": search, "search_epochs": 2, "search_s": 5.0,
                  "history": [{"epoch": 1, "test_acc": 60.0}, {"epoch": 2, "test_acc": 70.0}]})
    curve = gems_studies.convergence(CPU, store)
    assert curve[["seed", "phase", "epoch", "test_acc", "density"]].values.tolist() == [
        [0, "search", 1, 10.0, 0.5], [0, "search", 2, 20.0, 0.25],
        [0, "fine-tuning", 3, 60.0, 0.25], [0, "fine-tuning", 4, 70.0, 0.25]]
    runs = made(grid, {"gem_miner": (50, 80)}).assign(search_epochs=30, search_s=60.0)
    assert (cost(gems.with_variant(runs), MID)["variant"] == "gem_miner").sum() == len(CPU.seeds)
    plt.close(gems_studies.search_figure(runs, CPU))


def test_figure9_sweeps_gem_miners_search_lr_down_three_decades_at_two_densities():
    lrs = {}
    for c in gems_studies.pre_vs_post(CPU):
        o = dict(c.options)
        if gems.variant(o) == "gem_miner":
            lrs.setdefault((c.seed, o["density"]), []).append(o["search_lr"])
    base = CPU.setting(MID).search_lr
    assert sorted(lrs[(0, MID)]) == pytest.approx([base / 1000, base / 100, base / 10, base])
    assert len(lrs[(0, SMALL)]) == 4 and lrs[(0, BIG)] == [CPU.setting(BIG).search_lr]
    assert all(len(v) == 1 for (seed, _), v in lrs.items() if seed != 0)
    runs = made(gems_studies.pre_vs_post(CPU), {"gem_miner": (50, 80), "ep": (40, 41), "sr_v1": (10, 60)})
    fig = gems_studies.scatter(runs, CPU, gems_studies.FIG9)
    panels = {ax.get_title(): ax.get_legend_handles_labels()[1] for ax in fig.axes}
    assert list(panels) == ["3.72% kept", "1.44% kept", "0.59% kept"]
    assert panels["3.72% kept"] == ["Gem-Miner", "Edge-Popup", "Smart ratio"]
    assert sum(lab.startswith("Gem-Miner, search lr") for lab in panels["0.59% kept"]) == 4
    plt.close(fig)


def test_figure7_table_gives_each_layers_size_and_the_mean_kept_percentage_per_method_and_density():
    import re
    from ticketkit.models import layer_names
    names = layer_names(CPU.model, CPU.width)
    cfgs = [gems.run(CPU, seed, MID, "gem_miner") for seed in (0, 1)]
    recs = made(cfgs, {"gem_miner": (50, 80)})
    recs["layer_densities"] = [{n: (0.5 if n == names[0] else 0.01) * (1 + seed) for n in names} for seed in (0, 1)]
    html = gems_studies.layer_pivot(recs, CPU).data
    row = re.findall(r"<td>(.*?)</td>", html[html.index("<td>conv1.weight"):].split("</tr>")[0])
    assert row == ["conv1.weight", "72", "75.00"]  # 8 filters x 1 channel x 3 x 3 at half width; mean of 50%, 100%
    last = re.findall(r"<td>(.*?)</td>", html[html.index(f"<td>{names[-1]}"):].split("</tr>")[0])
    assert last == [names[-1], "320", "1.50"]  # the 1x1 conv classifier: 10 classes x 32 channels
    assert "1.44% kept" in html and gems_studies.layer_pivot(frame([]), CPU).data.count("<td>") == 0
    plt.close(gems_studies.layer_figure(recs, CPU))


def test_table3_counts_the_layers_each_edge_popup_variant_prunes_whole():
    runs = made(gems.ep_variants(CPU), {"global_ep": (10, 10), "gem_miner": (30, 60)})
    g = gems.with_variant(runs)["variant"] == "global_ep"
    runs.loc[g.to_numpy(), "collapsed_layers"] = [17, 18, 19][: int(g.sum())]
    html = gems_figures.ep_table(runs, CPU, []).data
    row = html[html.index("layers pruned whole (of 20)"):].split("</tr>")[0]
    assert "18.00 ± 1.00" in row and row.count("0.00 ± 0.00") == 4  # ResNet-20 has 20 prunable layers


def test_figure9_sweep_table_and_findings_count_by_hand():
    from ticketkit.experiments import gems_lr
    from ticketkit.models import layer_names
    runs = made(gems_studies.pre_vs_post(CPU), {"gem_miner": (50, 80), "ep": (40, 41), "sr_v1": (10, 60)})
    base, head = CPU.setting(MID).search_lr, layer_names(CPU.model, CPU.width)[-1]
    hand = {(MID, 1): (68, 85), (MID, 0.1): (40, 90), (MID, 0.01): (45, 65), (MID, 0.001): (10, 10),
            (SMALL, 1): (30, 60), (SMALL, 0.1): (10, 10), (SMALL, 0.01): (25, 46), (SMALL, 0.001): (10, 10)}
    gm = (gems.with_variant(runs)["variant"] == "gem_miner").to_numpy()
    runs["layer_densities"] = [{head: 0.5} for _ in range(len(runs))]
    for (d, f), (pre, post) in hand.items():
        at = gm & (runs["seed"] == 0).to_numpy() & np.isclose(runs["opt.density"].astype(float), d) \
             & np.isclose(runs["opt.search_lr"].astype(float), base * f)
        assert at.sum() == 1
        runs.loc[at, ["pre_finetune_acc", "final_test_acc"]] = pre, post
        runs.loc[at, "layer_densities"] = [{head: 3 / 320}]
    text = gems_lr.findings(runs, CPU)
    # 1.44%: pairs (1, .1) and (.1, .01) order differently before and after: 4 of 6 alike; lr x1 best only before
    assert "**1.44% kept.** The chapter's search lr (5: Table 8's, scaled) is the best of the 4 lrs before " \
           "fine-tuning (68.0% before" in text
    assert "Of the 6 pairs of lrs whose accuracies differ both before and after, the one higher before is higher " \
           "after in 4." in text
    # 0.59%: (.1, .001) tie at 10/10 drops out; the other 5 pairs all alike
    assert "before and after fine-tuning (30.0% before, 60.0% after). Of the 5 pairs" in text and "in 5." in text
    assert text.index("1.44% kept") < text.index("0.59% kept")
    # gains: Edge-Popup 41 - 40; Gem-Miner's 15 runs: 7 at +30, then 17 + 50 + 20 + 0 and 30 + 0 + 21 + 0
    assert "Edge-Popup +1.0, Gem-Miner +23.2" in text
    html = gems_lr.table(runs, CPU).data
    assert html.count("<tr") == 1 + 8 and "classifier weights kept (of 320)" in html
    assert "<td>0.005</td>\n      <td>0.001</td>\n      <td>10.00</td>\n      <td>10.00</td>" in html
    assert "Nothing of this page's learning-rate sweep" in gems_lr.findings(frame([]), CPU)
    drop = gm & (runs["seed"] == 0).to_numpy() & np.isclose(runs["opt.density"].astype(float), MID) \
        & np.isclose(runs["opt.search_lr"].astype(float), base)
    text = gems_lr.findings(runs[~drop], CPU)  # 1.44% without the chapter's lr: 3 lrs, (.1, .01) differs
    assert "**1.44% kept.** The chapter's search lr is not stored here. Of the 3 pairs" in text and "in 2." in text
