"""Verdict rules on small runs tables worked out by hand."""
import math

import pandas as pd
import pytest

from ticketkit import verdicts as V
from ticketkit.claims import CLAIMS, claim


def runs(rows):
    base = {"dataset": "synthetic", "model": "vgg19", "density": 0.1, "sanity": "none", "collapsed_layers": 0,
            "connected": True}
    return pd.DataFrame([{**base, **r} for r in rows])


def accs(method, values, **kw):
    return [{"method": method, "final_test_acc": v, "best_test_acc": v, **kw} for v in values]


def test_combine():
    assert V.combine([True, True]) == "holds"
    assert V.combine([False]) == "does not hold"
    assert V.combine([True, False]) == "mixed"
    assert V.combine([]) == "not run"


def test_difference_and_standard_error_by_hand():
    diff, se = V.difference(pd.Series([1.0, 2.0, 3.0]), pd.Series([0.0, 0.0, 0.0]))
    assert diff == 2.0 and se == pytest.approx(math.sqrt(1.0 / 3))  # var([1,2,3]) = 1, n = 3


def test_su1_within_noise_passes_and_a_clear_drop_fails():
    r = runs(accs("snip", [90, 91, 92]) + accs("snip", [90.5, 91.5, 90], sanity="corrupted_data")
             + accs("grasp", [90, 90.2, 89.8]) + accs("grasp", [80, 81, 79], sanity="corrupted_data"))
    v = V.evaluate("SU-1", r, "test")
    ev = v.evidence.set_index("method")
    assert bool(ev.loc["snip", "pass"]) and not bool(ev.loc["grasp", "pass"])
    assert v.verdict == "mixed"


def test_su1_su2_skip_cells_whose_original_collapsed():
    dead = dict(collapsed_layers=0, connected=False)  # no input-output path, at chance: a collapsed ticket
    r = runs(accs("snip", [10, 10, 10], density=0.02, **dead)
             + accs("snip", [10, 10, 10], density=0.02, sanity="layerwise_rearrange", **dead)
             + accs("snip", [90, 91, 92]) + accs("snip", [80, 81, 82], sanity="layerwise_rearrange"))
    v = V.evaluate("SU-2", r, "test")
    ev = v.evidence.set_index("density")
    assert bool(ev.loc[0.02, "original collapsed"]) and pd.isna(ev.loc[0.02, "pass"])
    assert not ev.loc[0.1, "pass"]  # 10 points below, far beyond noise
    assert v.verdict == "does not hold"  # decided by the 0.1 cell alone; the equal 0.02 cell would have passed


def test_su3_compares_random_tickets_with_the_better_rival():
    r = runs(accs("snip", [80, 81, 82]) + accs("grasp", [90, 91, 92]) + accs("random_tickets", [85, 86, 87]))
    v = V.evaluate("SU-3", r, "test")
    assert v.evidence.loc[0, "best rival"] == "grasp"
    assert v.verdict == "does not hold"
    r2 = runs(accs("snip", [80, 81, 82]) + accs("grasp", [90, 91, 92]) + accs("random_tickets", [91, 92, 93]))
    assert V.evaluate("SU-3", r2, "test").verdict == "holds"


def test_su4_needs_a_drop_beyond_noise():
    r = runs(accs("lottery", [90, 90.5, 91]) + accs("lottery", [85, 85.5, 86], sanity="shuffle_weights")
             + accs("lottery", [90.2, 90.6, 90.9], sanity="half_dataset"))
    v = V.evaluate("SU-4", r, "test")
    assert v.evidence.set_index("check")["pass"].to_dict() == {"shuffle_weights": True, "half_dataset": False}


def test_su5_is_decided_at_the_highest_sparsity():
    rows = []
    for dens, hyb in [(0.1, [88, 88.5, 89]), (0.02, [80, 80.5, 81])]:
        rows += [{**x, "density": dens} for x in accs("lr_rewinding", [89, 89.5, 90] if dens == 0.1 else [10, 10, 10])]
        rows += [{**x, "density": dens} for x in accs("hybrid", hyb)]
    v = V.evaluate("SU-5", runs(rows), "test")
    assert v.verdict == "holds"
    assert v.evidence.set_index("density")["decides"].to_dict() == {0.02: True, 0.1: False}


def test_collapse_needs_a_structural_cut_and_chance_accuracy():
    r = runs([{"method": "snip", "final_test_acc": 10.0, "collapsed_layers": 2, "connected": False},
              {"method": "snip", "final_test_acc": 10.0, "collapsed_layers": 0, "connected": True},
              {"method": "snip", "final_test_acc": 60.0, "collapsed_layers": 1, "connected": True}])
    assert V.collapsed(r).tolist() == [True, False, False]
    # chance is 100 / classes: 8% is within 5 points of 10-class chance, not of CIFAR-100's 1%
    cut = {"method": "snip", "final_test_acc": 8.0, "collapsed_layers": 1, "connected": False}
    two = runs([{**cut, "dataset": "cifar10"}, {**cut, "dataset": "cifar100"}, {**cut, "final_test_acc": 5.0,
                                                                                "dataset": "cifar100"}])
    assert V.collapsed(two).tolist() == [True, False, True]


def test_su7_gap_must_be_positive_beyond_noise():
    r = runs([{"method": "snip", "final_test_acc": a, "best_test_acc": b} for a, b in
              [(80, 81), (80, 80.8), (80, 81.2), (80, 81.1)]])
    assert V.evaluate("SU-7", r, "test").verdict == "holds"
    flat = runs([{"method": "snip", "final_test_acc": 80, "best_test_acc": 80}] * 3)
    assert V.evaluate("SU-7", flat, "test").verdict == "does not hold"


def test_empty_runs_are_not_run_and_every_rule_names_a_known_claim():
    assert V.evaluate("SU-1", pd.DataFrame(), "x").verdict == "not run"
    for cid in V.RULES:
        assert claim(cid).notebook
    assert len({c.id for c in CLAIMS}) == len(CLAIMS) == 29
    with pytest.raises(KeyError, match="unknown claim"):
        claim("XX-1")


def test_failing_names_each_cell_that_decided_against_the_claim():
    r = runs(accs("snip", [90, 91, 92]) + accs("snip", [90.5, 91.5, 90], sanity="corrupted_data")
             + accs("grasp", [90, 90.2, 89.8]) + accs("grasp", [80, 81, 79], sanity="corrupted_data"))
    # grasp corrupted 80 vs 90: -10.00; se = sqrt(var(80,81,79)/3 + var(90,90.2,89.8)/3) = 0.5888, 2 se = 1.18
    assert V.evaluate("SU-1", r, "test").failing() == "vgg19 grasp 90%: -10.00 ± 1.18"
    r3 = runs(accs("snip", [80, 81, 82]) + accs("grasp", [90, 91, 92]) + accs("random_tickets", [85, 86, 87]))
    assert V.evaluate("SU-3", r3, "test").failing() == "vgg19 vs grasp 90%: -5.00 ± 1.63"  # 2 * sqrt(2/3)
    holds = runs(accs("snip", [80, 81, 82]) + accs("grasp", [90, 91, 92]) + accs("random_tickets", [91, 92, 93]))
    assert V.evaluate("SU-3", holds, "test").failing() == ""
