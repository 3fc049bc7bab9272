"""Statistics against scipy and hand-worked numbers; the Su rules on small runs tables worked out by hand."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ticketkit import verdicts as V
from ticketkit.claims import CLAIMS, claim


def runs(rows, epochs=4):
    base = {"dataset": "synthetic", "model": "vgg19", "density": 0.1, "sanity": "none", "collapsed_layers": 0,
            "connected": True, "train.epochs": epochs, "train.milestones": [0.5, 0.75]}
    return pd.DataFrame([{**base, **r} for r in rows])


def accs(method, values, **kw):
    return [{"method": method, "final_test_acc": v, "best_test_acc": v, **kw} for v in values]


DENSE = accs("dense", [90.0, 91.0, 92.0])  # sd 1.0: margin 2 x 1.0 = 2.0


def test_welch_interval_and_degrees_of_freedom_match_scipy():
    a, b = [1.0, 2.0, 3.0, 4.0], [2.0, 2.5, 7.0]
    e = V.welch(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert e.diff == pytest.approx(np.mean(a) - np.mean(b))
    assert e.df == pytest.approx(ref.df) and (e.lo, e.hi) == pytest.approx((ci.low, ci.high))
    # by hand: va = 1.6667/4, vb = 7.75/3; df = (va+vb)^2 / (va^2/3 + vb^2/2)
    va, vb = np.var(a, ddof=1) / 4, np.var(b, ddof=1) / 3
    assert e.df == pytest.approx((va + vb) ** 2 / (va**2 / 3 + vb**2 / 2))
    assert e.hi - e.diff == pytest.approx(stats.t.ppf(0.975, e.df) * math.sqrt(va + vb))


def test_welch_with_one_run_has_no_interval_and_decides_nothing():
    e = V.welch([80.0], [81.0, 82.0])
    assert e.diff == pytest.approx(-1.5) and math.isnan(e.lo) and math.isnan(e.df)
    assert V.above(e) == V.below(e) == V.matches(e, 1.0) == V.OPEN


def eff(lo, hi):
    return V.Effect((lo + hi) / 2, lo, hi, 4.0, 3, 3)


@pytest.mark.parametrize("lo,hi,expected", [(-0.5, 0.8, "held"),  # inside [-1, 1]
                                            (1.2, 3.0, "failed"), (-4.0, -1.5, "failed"),  # wholly outside
                                            (-1.5, 0.5, "inconclusive"), (0.5, 1.5, "inconclusive"),  # straddling
                                            (-2.0, 2.0, "inconclusive")])  # wider than the margin
def test_equivalence_against_a_margin_of_one(lo, hi, expected):
    assert V.matches(eff(lo, hi), 1.0) == expected


@pytest.mark.parametrize("lo,hi,expected", [(-0.9, 5.0, "held"), (-3.0, -1.2, "failed"), (-1.5, 0.5, "inconclusive")])
def test_as_good_as_only_bounds_the_lower_side(lo, hi, expected):
    assert V.as_good_as(eff(lo, hi), 1.0) == expected


def test_above_and_below_need_the_interval_to_clear_zero():
    assert V.above(eff(0.1, 2)) == "held" and V.above(eff(-2, -0.1)) == "failed" and V.above(eff(-1, 1)) == "inconclusive"
    assert V.below(eff(-2, -0.1)) == "held" and V.below(eff(0.1, 2)) == "failed" and V.below(eff(-1, 1)) == "inconclusive"


def test_combine_every_verdict_word():
    assert V.combine(["held", "held"]) == "holds"
    assert V.combine(["failed"]) == "does not hold"
    assert V.combine(["held", "failed", "inconclusive"]) == "mixed"
    assert V.combine(["held", "inconclusive"]) == V.combine(["failed", "inconclusive"]) == "inconclusive"
    assert V.combine([]) == "not run"


def test_dense_margin_pools_the_seed_spread_of_each_dense_network():
    r = runs(accs("dense", [1.0, 2.0, 3.0]) + accs("dense", [2.0, 4.0], model="resnet32_2x"))
    m, why = V.dense_margin(r)
    # pooled variance ((1 + 0 + 1) + (1 + 1)) / (2 + 1) = 4/3; 2 sd = 2.309 -> rounded up to 2.4
    assert m == pytest.approx(2.4) and "3 degrees of freedom" in why
    assert math.isnan(V.dense_margin(runs(accs("snip", [1.0, 2.0])))[0])


def test_su1_as_good_as_with_the_dense_margin():
    r = runs(DENSE + accs("snip", [90, 91, 92]) + accs("snip", [90.5, 91.5, 90], sanity="corrupted_data")
             + accs("grasp", [90, 90.2, 89.8]) + accs("grasp", [80, 81, 79], sanity="corrupted_data"))
    v = V.evaluate("SU-1", r, "test")
    ev = v.evidence.set_index("method")
    # snip: -0.33, interval [-2.3, 1.6] crosses -2: inconclusive; grasp: -10 wholly below -2: failed
    assert ev.loc["snip", "outcome"] == "inconclusive" and ev.loc["grasp", "outcome"] == "failed"
    assert v.verdict == "inconclusive" and v.counts() == "held 0, failed 1, inconclusive 1 of 2"
    assert "margin m = 2.0 points" in v.note


def test_su1_su2_skip_cells_whose_original_collapsed():
    dead = dict(collapsed_layers=0, connected=False)  # no input-output path, at chance: a collapsed ticket
    r = runs(DENSE + accs("snip", [10, 10, 10], density=0.02, **dead)
             + accs("snip", [10, 10, 10], density=0.02, sanity="layerwise_rearrange", **dead)
             + accs("snip", [90, 91, 92]) + accs("snip", [80, 81, 82], sanity="layerwise_rearrange"))
    v = V.evaluate("SU-2", r, "test")
    ev = v.evidence.set_index("density")
    assert ev.loc[0.02, "outcome"] == "" and "collapsed" in ev.loc[0.02, "note"]
    assert ev.loc[0.1, "outcome"] == "failed"  # 10 points below, far beyond the margin
    assert v.verdict == "does not hold"


def test_su3_compares_random_tickets_with_the_better_rival():
    r = runs(DENSE + accs("snip", [80, 81, 82]) + accs("grasp", [90, 91, 92]) + accs("random_tickets", [85, 86, 87]))
    v = V.evaluate("SU-3", r, "test")
    assert "GraSP" in v.evidence.loc[0, "comparison"] and v.verdict == "does not hold"
    assert v.against() == "vgg19 random tickets − best of SNIP/GraSP (GraSP) 90%: -5.00 [-7.27, -2.73]"
    r2 = runs(DENSE + accs("snip", [80, 81, 82]) + accs("grasp", [90, 91, 92]) + accs("random_tickets", [91, 92, 93]))
    assert V.evaluate("SU-3", r2, "test").verdict == "holds"


def test_su3_carries_the_published_effect_of_the_stand_in_dataset_against_our_rival():
    r = runs(DENSE + accs("snip", [90, 91, 92]) + accs("grasp", [80, 81, 82]) + accs("random_tickets", [91, 92, 93]))
    row = V.evaluate("SU-3", r, "test").evidence.iloc[0]
    # poster, CIFAR-10 VGG19 at 90%: RT 93.77±0.10 minus SNIP 93.65±0.14 (our better rival, and the seeds')
    assert row["published"] == pytest.approx(0.12) and row["published sd"] == pytest.approx(math.hypot(0.10, 0.14), abs=0.01)
    assert row["published [Re]"] == pytest.approx(93.65 - 93.29)  # [Re] Table 1: RT minus SNIP
    r2 = runs(DENSE + accs("snip", [80, 81, 82]) + accs("grasp", [90, 91, 92]) + accs("random_tickets", [91, 92, 93]))
    row = V.evaluate("SU-3", r2, "test").evidence.iloc[0]  # GraSP is our better rival: the same comparison beside
    assert "GraSP" in row["comparison"] and row["published"] == pytest.approx(93.77 - 93.01)


def test_su4_needs_a_drop_whose_interval_lies_below_zero():
    r = runs(accs("lottery", [90, 90.5, 91]) + accs("lottery", [85, 85.5, 86], sanity="shuffle_weights")
             + accs("lottery", [90.2, 90.6, 90.9], sanity="half_dataset"))
    v = V.evaluate("SU-4", r, "test")
    assert v.evidence.set_index("sanity")["outcome"].to_dict() == {"shuffle_weights": "held",
                                                                    "half_dataset": "inconclusive"}
    assert v.verdict == "inconclusive"
    dead = {"collapsed_layers": 2, "connected": False}  # a lottery ticket at chance: no check can hurt it
    r = runs(accs("lottery", [10, 10, 10], **dead) + accs("lottery", [10, 10, 10], sanity="shuffle_weights", **dead))
    row = V.evaluate("SU-4", r, "test").evidence.iloc[0]
    assert row["outcome"] == "" and "collapsed" in row["note"]


def test_figures_never_pool_snips_and_grasps_checked_tickets():
    from ticketkit.experiments import su

    r = runs(accs("snip", [10], sanity="corrupted_data") + accs("grasp", [88], sanity="corrupted_data")
             + accs("snip", [80]))
    assert list(su.with_ticket(r)["ticket"]) == ["SNIP: corrupted data", "GraSP: corrupted data", "SNIP"]


def test_su5_is_decided_at_the_highest_sparsity():
    rows = []
    for dens, hyb in [(0.1, [88, 88.5, 89]), (0.02, [80, 80.5, 81])]:
        rows += [{**x, "density": dens} for x in accs("lr_rewinding", [89, 89.5, 90] if dens == 0.1 else [10, 11, 12])]
        rows += [{**x, "density": dens} for x in accs("hybrid", hyb)]
    v = V.evaluate("SU-5", runs(rows), "test")
    assert v.verdict == "holds" and v.counts() == "held 1, failed 0, inconclusive 0 of 1"
    assert v.evidence.set_index("density")["outcome"].to_dict() == {0.02: "held", 0.1: ""}


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


def test_su7_is_not_testable_on_a_short_schedule_and_decided_on_a_long_one():
    gaps = [{"method": "snip", "final_test_acc": a, "best_test_acc": b} for a, b in
            [(80, 81), (80, 80.8), (80, 81.2), (80, 81.1)]]
    short = V.evaluate("SU-7", runs(gaps, epochs=4), "test")
    assert short.verdict == "not testable at this scale" and "1 epoch after the last" in short.note
    assert short.counts() == "" and short.against() == ""
    assert V.evaluate("SU-7", runs(gaps, epochs=160), "test").verdict == "holds"
    flat = runs([{"method": "snip", "final_test_acc": 80, "best_test_acc": 80}] * 3, epochs=160)
    assert V.evaluate("SU-7", flat, "test").verdict == "inconclusive"  # a zero gap: the point interval [0, 0]


def test_empty_runs_are_not_run_and_every_rule_names_a_known_claim():
    assert V.evaluate("SU-1", pd.DataFrame(), "x").verdict == "not run"
    for cid in V.RULES:
        assert claim(cid).notebook
    assert len({c.id for c in CLAIMS}) == len(CLAIMS) == 31
    with pytest.raises(KeyError, match="unknown claim"):
        claim("XX-1")
    with pytest.raises(ValueError, match="two rules"):
        V.rule("SU-1")(lambda r, s: None)


def test_cells_shown_but_none_deciding_make_a_claim_not_testable_rather_than_not_run():
    from ticketkit.verdicts import NOT_RUN, NOT_TESTABLE, decide

    shown = pd.DataFrame([{"effect": 1.0, "outcome": ""}, {"effect": -2.0, "outcome": ""}])
    v = decide("LT-3", shown, "made")
    assert v.verdict == NOT_TESTABLE and "no cell" in v.note
    assert decide("LT-3", pd.DataFrame(), "made").verdict == NOT_RUN


def test_su6_counts_collapses_per_dataset_and_network():
    cut = {"final_test_acc": 10.0, "collapsed_layers": 2, "connected": False}
    ok = {"final_test_acc": 60.0, "collapsed_layers": 0, "connected": True}
    r = runs([{"method": "snip", "dataset": "cifar10", **cut}] * 3 + [{"method": "snip", "dataset": "cifar100", **ok}] * 3
             + [{"method": "random_tickets", "dataset": d, **ok} for d in ("cifar10", "cifar100")])
    ev = V.evaluate("SU-6", r, "made").evidence.set_index(["method", "dataset"])
    assert ev.loc[("snip", "cifar10"), "measured"] == "3/3" and ev.loc[("snip", "cifar10"), "outcome"] == V.HELD
    assert ev.loc[("snip", "cifar100"), "measured"] == "0/3" and ev.loc[("snip", "cifar100"), "outcome"] == V.FAILED
    assert len(ev) == 4
