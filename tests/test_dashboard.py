"""The dashboard reads the store only: counts, partial scale, verdicts and not-run claims."""
from ticketkit import dashboard
from ticketkit.experiments import su
from ticketkit.profiles import get_profile
from ticketkit.store import Store


def fake_record(cfg, acc):
    return {"config": cfg.to_dict(), "key": cfg.key(), "history": [{"epoch": 1, "test_acc": acc}],
            "final_test_acc": acc, "best_test_acc": acc + 1, "density": cfg.density, "layer_densities": {},
            "collapsed_layers": [], "connected": True, "prune": {"wall_s": 1.0}, "wall_s": 3600.0, "device": "cpu"}


def test_dashboard_counts_partial_grids_and_marks_untested_claims():
    P = get_profile("smoke")
    store = Store()
    cfgs = su.random_tickets(P)
    for c in cfgs[:10]:
        store.put(c, fake_record(c, 50.0 + c.seed))
    board = dashboard.table(P).set_index("claim")
    assert board.loc["SU-3", "runs stored"] == f"10/{len(cfgs)}"
    assert "partial: 10 of" in board.loc["SU-3", "scale"]
    # smoke trains 2 epochs: no final learning-rate phase to compare best and last epoch in
    assert board.loc["SU-7", "verdict"] == "not testable at this scale"
    assert "epoch(s) after the last learning-rate decay" in board.loc["SU-7", "cells"]
    assert board.loc["SU-3", "verdict"] == "inconclusive"  # one seed per cell so far: no interval to decide on
    assert board.loc["SU-4", "verdict"] == "not run" and board.loc["LT-1", "verdict"] == "not run"
    assert list(dashboard.findings(P, "SU-")["claim"]) == [f"SU-{i}" for i in range(1, 8)]
    assert board.loc["LT-8", "verdict"] == "not run" and len(board) == 31
    note = dashboard.cost_note(P)
    assert "10 are stored" in note and "sum to 10.0 hours" in note
    first_model = cfgs[0].model  # the ten stored runs are all of the first model, one hour each
    n_first = sum(c.model == first_model for c in dict.fromkeys(c for g in su.NOTEBOOK_GRIDS.values() for c in g(P)))
    assert f"3600 s for {first_model} (10 of {n_first} stored)" in note
    assert f"about {n_first:.1f} hours" in note and "(resnet32_2x not timed yet)" in note
