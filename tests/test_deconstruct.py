"""The deconstruction chapter's rules on made runs, and its scales."""
import numpy as np
import pandas as pd
import pytest

from ticketkit.experiments import deconstruct
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


def test_dl1_wants_each_pair_split_around_random():
    runs = made({"random": {3: 90.0}, "large_final": {3: 95.0}, "small_final": {3: 80.0}, "large_init": {3: 92.0},
                 "small_init": {3: 91.0}})
    ev = evaluate("DL-1", runs, "made").evidence.set_index("criterion")["outcome"]
    assert ev.to_dict() == {"large_final": HELD, "small_final": HELD, "large_init": HELD, "small_init": FAILED}


def test_dl2_ranks_by_area_under_the_curve_against_the_best_of_the_rest():
    runs = made({"magnitude_increase": {1: 96.0, 2: 95.0}, "movement": {1: 96.0, 2: 94.0},
                 "large_final": {1: 95.5, 2: 93.0}, "large_init": {1: 95.0, 2: 93.4}, "random": {1: 90, 2: 85}})
    ev = evaluate("DL-2", runs, "made").evidence.set_index("criterion")["outcome"]
    assert ev.to_dict() == {"magnitude_increase": HELD, "movement": HELD, "large_final": OPEN}


def test_dl3_asks_same_sign_to_keep_up_and_diff_sign_to_fall_beyond_the_margin():
    runs = made({"large_final": {1: 96.0, 5: 94.0}, "large_final_same_sign": {1: 96.1, 5: 93.0},
                 "large_final_diff_sign": {1: 96.2, 5: 60.0}})
    ev = evaluate("DL-3", runs, "made").evidence
    got = {(r["criterion"], r["level"]): r["outcome"] for _, r in ev.iterrows()}
    assert got == {("large_final_same_sign", 1): HELD, ("large_final_same_sign", 5): FAILED,
                   ("large_final_diff_sign", 1): FAILED, ("large_final_diff_sign", 5): HELD}
    assert np.isclose(ev["margin"].iloc[0], 0.2)  # twice the dense sd (0.079), rounded up


def test_the_scale_checks_its_criteria_and_the_grids_share_level_zero():
    with pytest.raises(KeyError, match="unknown mask criterion"):
        deconstruct.get_scale("smoke", criteria=["large_finale"])
    S = deconstruct.get_scale("smoke")
    cfgs = deconstruct.criteria_grid(S)
    assert len(cfgs) == len(S.trials) * (1 + len(S.criteria) * S.levels)  # one dense level 0 per trial
    assert deconstruct.get_scale("paper").dataset == "mnist" and deconstruct.get_scale("paper").epochs == 55


def test_dl7_judges_each_action_of_the_large_final_ticket_against_rewinding():
    runs = made({"large_final": {4: 95.0}})  # the plain ticket: rewound, pruned weights zero
    acts = made({"large_final": {4: 95.05}}).assign(**{"opt.mask1": "signed_constant"})
    worse = made({"large_final": {4: 90.0}}).assign(**{"opt.mask1": "reinit"})
    frozen = made({"large_final": {4: 95.02}}).assign(**{"opt.mask0": "frozen"})
    pruned = lambda f: f[f["opt.level"] > 0]  # noqa: E731 (each made frame repeats the dense level 0)
    ev = evaluate("DL-7", pd.concat([runs, pruned(acts), pruned(worse), pruned(frozen)]), "made").evidence
    got = ev.set_index("action")["outcome"].to_dict()
    assert got == {"signed_constant": HELD, "reinit": HELD, "frozen": FAILED}  # frozen: inside ±m, no difference
    assert deconstruct.ACTIONS.keys() == {"rewind", "reinit", "reshuffle", "signed_constant", "frozen",
                                          "frozen_unless_decreased"}
