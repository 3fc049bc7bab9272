"""The deconstruction chapter's rules on made runs, and its scales."""
import numpy as np
import pandas as pd
import pytest

from ticketkit.experiments import deconstruct, deconstruct_supermask
from ticketkit.experiments.lottery import imp_density
from ticketkit.verdicts import FAILED, HELD, OPEN, evaluate


SPREAD = (-0.1, -0.05, 0.0, 0.05, 0.1)


def made(values: dict) -> pd.DataFrame:
    """{criterion: {level: mean accuracy}} -> runs over five trials (spread ±0.1), level 0 a shared dense net."""
    rows = [{"method": "imp", "model": "lenet300_100", "dataset": "made", "opt.level": 0, "opt.criterion": None,
             "density": 1.0, "seed": s, "early_stop_test_acc": 97.0 + d} for s, d in enumerate(SPREAD)]
    for crit, by_level in values.items():
        for level, acc in by_level.items():
            rows += [{"method": "imp", "model": "lenet300_100", "dataset": "made", "opt.level": level,
                      "opt.criterion": crit, "density": 0.8 ** level, "seed": s, "early_stop_test_acc": acc + d}
                     for s, d in enumerate(SPREAD)]
    return pd.DataFrame(rows)


def deciding(v) -> dict:
    """criterion (or action) -> outcome of the cells that decide."""
    ev = v.evidence[v.evidence["outcome"] != ""]
    return ev.set_index("action" if "action" in ev else "criterion")["outcome"].to_dict()


def test_dl1_judges_each_curve_against_random_by_its_mean_over_the_pruned_levels():
    runs = made({"random": {1: 96.0, 5: 90.0}, "large_final": {1: 96.0, 5: 95.0}, "small_final": {1: 96.0, 5: 80.0},
                 "large_init": {1: 96.0, 5: 92.0}, "small_init": {1: 96.0, 5: 91.0}})
    reinit = made({"large_final": {1: 50.0, 5: 50.0}}).assign(**{"opt.mask1": "reinit"})  # another chapter's runs
    v = evaluate("DL-1", pd.concat([runs, reinit[reinit["opt.level"] > 0]]), "made")
    # means over levels 1 and 5: random 93; large_final 95.5, small_final 88, large_init 94, small_init 93.5
    assert deciding(v) == {"large_final": HELD, "small_final": HELD, "large_init": HELD, "small_init": FAILED}
    shallow = v.evidence[v.evidence["level"] == 1]  # every curve equals random there: shown, deciding nothing
    assert len(shallow) == 4 and set(shallow["outcome"]) == {""} and np.allclose(shallow["effect"], 0)


def test_dl2_ranks_by_area_under_the_curve_against_the_best_of_the_rest():
    runs = made({"magnitude_increase": {1: 96.0, 15: 95.0}, "movement": {1: 96.0, 15: 94.0},
                 "large_final": {1: 95.5, 15: 93.0}, "large_init": {1: 95.0, 15: 93.4}, "random": {1: 90, 15: 85}})
    ev = evaluate("DL-2", runs, "made").evidence
    ranked = ev[ev["comparison"].str.contains("best of the rest")].set_index("criterion")["outcome"]
    assert ranked.to_dict() == {"magnitude_increase": HELD, "movement": HELD, "large_final": OPEN}
    # under strong pruning (level 15, 3.5%) against the dense 97.0 with margin 0.2: 95, 94, 93 fall short
    kept = ev[ev["comparison"].str.contains("dense")]
    assert list(kept["level"]) == [15, 15, 15] and set(kept["outcome"]) == {FAILED}
    shallow = evaluate("DL-2", runs[runs["opt.level"] < 15], "made").evidence  # 80% remaining is not strong pruning
    assert set(shallow[shallow["comparison"].str.contains("dense")]["outcome"]) == {""}
    unequal = made({"magnitude_increase": {1: 96.0, 2: 95.0}, "movement": {1: 96.0, 2: 94.0},
                    "large_final": {1: 95.5, 2: 93.0}, "large_init": {1: 95.0}, "random": {1: 90, 2: 85}})
    ev = evaluate("DL-2", unequal, "made").evidence  # large_init stopped at level 1: all compared over level 1
    ranked = ev[ev["comparison"].str.contains("best of the rest")].set_index("criterion")["outcome"]
    assert ranked.to_dict() == {"magnitude_increase": HELD, "movement": HELD, "large_final": HELD}
    deep = made({c: {1: 96.0, 15: 95.0, 16: 94.0} for c in ("magnitude_increase", "movement", "large_final")}
                | {"random": {1: 90, 15: 80, 16: 75}})
    ev = evaluate("DL-2", deep, "made").evidence  # 0.8^15 = 3.5% remaining is nearest 3.6%, not 0.8^16 = 2.8%
    assert list(ev[ev["comparison"].str.contains("dense")]["level"]) == [15, 15, 15]
    close = made({c: {1: 97.0, 15: 96.95} for c in ("magnitude_increase", "movement", "large_final")}
                 | {"random": {1: 90, 15: 85}})
    ev = evaluate("DL-2", close, "made").evidence
    assert set(ev[ev["comparison"].str.contains("dense")]["outcome"]) == {HELD}


def test_dl3_asks_same_sign_to_stay_within_noise_and_diff_sign_to_fall_ever_further_below():
    runs = made({"large_final": {1: 96.0, 5: 94.0}, "large_final_same_sign": {1: 96.1, 5: 93.95},
                 "large_final_diff_sign": {1: 96.2, 5: 60.0}})
    deep = (runs["opt.criterion"] == "large_final_diff_sign") & (runs["opt.level"] == 5)
    runs.loc[deep, "early_stop_test_acc"] += [0.4, -0.3, 0.0, 0.2, -0.3]  # the trials' gaps differ at depth
    ev = evaluate("DL-3", runs, "made").evidence
    assert np.isclose(ev["margin"].iloc[0], 0.2)  # twice the dense sd (0.079), rounded up
    same = ev[ev["criterion"] == "large_final_same_sign"]
    assert list(same["outcome"]) == ["", "", HELD]  # levels 1 and 5 shown; the mean 95.025 vs 95.0 decides
    assert np.isclose(same["effect"].iloc[-1], 0.025, atol=0.005)  # effects are printed to 2 decimals
    diff = ev[ev["criterion"] == "large_final_diff_sign"]
    assert list(diff["outcome"]) == ["", "", HELD, HELD]  # mean 78.1 vs 95.0; the gap from +0.2 to -34.0
    assert np.isclose(diff["effect"].iloc[2], 78.1 - 95.0) and np.isclose(diff["effect"].iloc[3], -34.0 - 0.2)
    apart = made({"large_final": {1: 96.0, 5: 94.0}, "large_final_same_sign": {1: 96.0, 5: 95.0},
                  "large_final_diff_sign": {1: 90.0, 5: 92.0}})  # same-sign 0.5 above; diff-sign's gap narrows
    ev = evaluate("DL-3", apart, "made").evidence
    assert list(ev[ev["outcome"] != ""]["outcome"]) == [FAILED, HELD, FAILED]  # outside ±m; -4 below; +4 narrows


def test_the_scale_checks_its_criteria_and_the_grids_share_level_zero():
    with pytest.raises(KeyError, match="unknown mask criterion"):
        deconstruct.get_scale("smoke", criteria=["large_finale"])
    S = deconstruct.get_scale("smoke")
    cfgs = deconstruct.criteria_grid(S)
    assert len(cfgs) == len(S.trials) * (1 + len(S.criteria) * S.levels)  # one dense level 0 per trial
    P = deconstruct.get_scale("paper")
    assert P.dataset == "mnist" and P.epochs == 55
    assert 0.009 < imp_density(P, P.levels) < 0.011  # "levels down to about 1% remaining"
    # the learned supermask as uber-research/deconstructing-lottery-tickets trains it (train_supermask.py, README)
    t = deconstruct_supermask.learned(P, 0).train
    assert (t.optimizer, t.lr, t.momentum, t.batch_size, t.weight_decay, t.schedule, t.epochs) == \
        ("sgd", 100.0, 0.9, 250, 0.0, "constant", 2000)


def test_dl7_judges_each_action_of_the_large_final_ticket_against_rewinding():
    runs = made({"large_final": {4: 95.0}})  # the plain ticket: rewound, pruned weights zero
    acts = made({"large_final": {4: 95.05}}).assign(**{"opt.mask1": "signed_constant"})
    worse = made({"large_final": {4: 90.0}}).assign(**{"opt.mask1": "reinit"})
    frozen = made({"large_final": {4: 95.02}}).assign(**{"opt.mask0": "frozen"})
    pruned = lambda f: f[f["opt.level"] > 0]  # noqa: E731 (each made frame repeats the dense level 0)
    v = evaluate("DL-7", pd.concat([runs, pruned(acts), pruned(worse), pruned(frozen)]), "made")
    assert deciding(v) == {"signed_constant": HELD, "reinit": HELD, "frozen": FAILED}  # frozen: inside ±m
    assert deconstruct.ACTIONS.keys() == {"rewind", "reinit", "reshuffle", "signed_constant", "frozen",
                                          "frozen_unless_decreased"}


def test_the_table_colours_only_the_cells_a_rule_judges_at_one_level_and_adds_dl2s_level(monkeypatch):
    S = deconstruct.get_scale("cpu")
    crits = ("magnitude_increase", "movement", "large_final", "large_final_same_sign", "large_final_diff_sign")
    runs = made({c: {3: 96.0, 12: 95.0, 15: 94.0, 16: 93.0} for c in crits} | {"random": {3: 90, 15: 80, 16: 75}})
    deep = runs["opt.criterion"] == "large_final_diff_sign"
    runs.loc[deep, "early_stop_test_acc"] -= runs.loc[deep, "opt.level"]  # the gap widens with depth
    runs["density"] = [imp_density(S, lv) for lv in runs["opt.level"]]
    vs = [evaluate(c, runs, "made") for c in ("DL-2", "DL-3")]
    monkeypatch.setattr(deconstruct, "paper_table", lambda cells, caption: cells)
    cells = deconstruct.table(runs, S, crits, vs).set_index(["row", "col"])["outcome"]
    at = lambda lv: f"{100 * imp_density(S, lv):.3g}%"  # noqa: E731
    assert 15 not in S.curve_levels and cells[("large_final", at(15))] == FAILED  # DL-2: 94 vs dense 97
    assert (vs[1].evidence["criterion"] == "large_final_diff_sign").sum() > 1  # DL-3 judges diff-sign...
    assert set(cells.xs("large_final_diff_sign", level="row")) == {""}  # ...as a mean and a trend: no one cell


def test_a_difference_inside_the_noise_margin_is_no_difference_even_when_it_excludes_zero():
    from ticketkit.experiments.deconstruct_rules import differs
    from ticketkit.verdicts import Effect

    e = lambda lo, hi: Effect((lo + hi) / 2, lo, hi, 4.0, 5, 5)  # noqa: E731
    assert differs(e(-0.3, -0.1), 0.5) == FAILED  # excludes zero, but within ±m
    assert differs(e(-0.65, -0.28), 0.4) == HELD  # excludes zero and reaches past -m
    assert differs(e(-0.6, 0.6), 0.4) == OPEN
