"""Supermask runs: the base network stops exactly where its validation accuracy first reaches the target; each
level's accuracy at initialisation equals a hand-made top-k mask on the untrained network; bad options fail before
training; DL-5 and DL-6 on made runs."""
import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from ticketkit import supermask_runs, trained
from ticketkit.data import load_data
from ticketkit.experiments import deconstruct, deconstruct_supermask as sm
from ticketkit.models import build_model
from ticketkit.runs import load_run_data
from ticketkit.train import TrainSpec, train
from ticketkit.verdicts import FAILED, HELD, OPEN, evaluate

SPEC = TrainSpec(epochs=2, batch_size=60, optimizer="adam", lr=1.2e-3, weight_decay=0.0, schedule="constant",
                 augment=False)


def test_training_stops_at_the_first_evaluation_reaching_the_validation_target():
    data = load_data("digits", image_size=8, val_size=200)
    torch.manual_seed(0)
    full_net = build_model("lenet300_100", 1, 10, 8, 0.25)
    stopped_net = build_model("lenet300_100", 1, 10, 8, 0.25)
    stopped_net.load_state_dict(full_net.state_dict())
    full = train(full_net, data, SPEC, eval_every=1, checkpoint_steps=tuple(range(60)))
    first = next(p["iteration"] for p in full.curve if p["val_acc"] >= 50.0)  # read off the uninterrupted curve
    assert 0 < first < full.curve[-1]["iteration"]
    stopped = train(stopped_net, data, SPEC, eval_every=1, stop_at_val_acc=50.0)
    assert stopped.curve[-1]["iteration"] == first
    for k, v in stopped_net.state_dict().items():
        assert torch.equal(v, full.checkpoints[first][k])
    assert stopped.history[-1]["test_acc"] == stopped.curve[-1]["test_acc"]


def test_stopping_on_validation_accuracy_needs_a_validation_split():
    data = load_data("digits", image_size=8)
    with pytest.raises(ValueError, match="validation split"):
        train(build_model("lenet300_100", 1, 10, 8, 0.25), data, SPEC, eval_every=1, stop_at_val_acc=50.0)


def smoke_scale():
    return deconstruct.get_scale("smoke", {"levels": 2, "epochs": 1, "trials": (0,), "curve_levels": (0, 2)})


def test_each_level_is_a_hand_made_top_k_mask_on_the_untrained_network(monkeypatch):
    monkeypatch.setenv("TICKETKIT_PRECISION", "fp32")  # the hand forward pass below is fp32
    S = smoke_scale()
    cfg = sm.run(S, "converged", "large_final", 0)
    rec = next(supermask_runs.compute([cfg]))
    final = trained.load(supermask_runs.base_config(cfg))["final"]
    data = load_run_data(cfg)
    torch.manual_seed(0)
    init = build_model(cfg.model, data.in_channels, data.num_classes, data.image_size, cfg.width)
    x = data.test_x.float().flatten(1) / 255
    x = (x - data.mean[0]) / data.std[0]
    for level, acc in enumerate(rec["level_acc"], start=1):
        h = x
        for i, name in enumerate(("hidden.0", "hidden.1", "out")):
            w, b = init.get_parameter(f"{name}.weight"), init.get_parameter(f"{name}.bias")
            keep = w.numel()
            for _ in range(level):  # 20% of each hidden layer's remaining weights, 10% of the output layer's
                keep -= round((0.1 if name == "out" else 0.2) * keep)
            top = final[f"{name}.weight"].abs().flatten().topk(keep).indices
            m = torch.zeros(w.numel(), dtype=torch.bool)
            m[top] = True
            h = h @ (w * m.view_as(w)).T + b
            h = torch.relu(h) if i < 2 else h
        want = 100.0 * int((h.argmax(1) == data.test_y).sum()) / len(data.test_y)
        assert acc == pytest.approx(want, abs=1e-9)
    assert rec["base_test_acc"] > 30 and rec["base_iterations"] > 0


def test_bad_supermask_options_fail_before_training():
    base = smoke_scale().base(0)
    with pytest.raises(ValueError, match="validation accuracy in"):
        supermask_runs.config(base, criterion="large_final", base_acc="120")
    with pytest.raises(ValueError, match="'converged'"):
        supermask_runs.config(base, criterion="large_final", base_acc="half")
    with pytest.raises(KeyError):
        supermask_runs.config(base, criterion="largest_final")
    with pytest.raises(ValueError, match="val_size"):
        supermask_runs.config(dataclasses.replace(base, val_size=0), criterion="large_final")


SPREAD = (-0.5, -0.25, 0.0, 0.25, 0.5)


def made(acc: dict) -> pd.DataFrame:
    """{(base, criterion, signed_constant): best accuracy} -> supermask runs of five trials over two levels
    (the other level 5 points lower), plus learned supermasks at 60%."""
    rows = []
    for (base, crit, sc), a in acc.items():
        rows += [{"method": "supermask", "seed": s, "opt.base": base, "opt.criterion": crit, "opt.signed_constant": sc,
                  "level_acc": [a - 5 + d, a + d], "level_density": [0.8, 0.64], "base_test_acc": 80.0}
                 for s, d in enumerate(SPREAD)]
    rows += [{"method": "supermask", "seed": s, "opt.criterion": "learned", "opt.base": np.nan,
              "opt.signed_constant": np.nan, "level_acc": [60.0 + d], "level_density": [0.5], "base_test_acc": np.nan}
             for s, d in enumerate(SPREAD)]
    return pd.DataFrame(rows)


def test_dl5_wants_good_masks_more_than_ten_points_above_random_masks():
    acc = {("converged", "random", sc): 11.0 for sc in (False, True)}
    acc |= {("converged", "large_final_same_sign", sc): 40.0 for sc in (False, True)}
    acc |= {("converged", "magnitude_increase_same_sign", False): 20.0,
            ("converged", "magnitude_increase_same_sign", True): 21.5}
    ev = evaluate("DL-5", made(acc), "made").evidence
    got = {(r.criterion, r.signed_constant): r.outcome for r in ev.itertuples()}
    assert got == {("large_final_same_sign", False): HELD, ("large_final_same_sign", True): HELD,
                   ("magnitude_increase_same_sign", False): FAILED,  # 9 points up: not "far above"
                   ("magnitude_increase_same_sign", True): OPEN, ("learned", False): HELD}


def test_dl6_judges_the_least_trained_base_against_the_better_ones_and_the_75_percent_base_against_convergence():
    acc = {}
    for crit in sm.GOOD:
        for sc in (False, True):
            acc |= {("25", crit, sc): 20.0, ("50", crit, sc): 20.0, ("75", crit, sc): 40.0,
                    ("converged", crit, sc): 40.0 if crit == sm.GOOD[0] else 15.0}
    ev = evaluate("DL-6", made(acc), "made").evidence
    got = {(r.criterion, r.comparison.split(": ")[1]): r.outcome for r in ev.itertuples() if not r.signed_constant}
    a, b = sm.GOOD
    assert got == {(a, "base 75% − base 25%"): HELD, (a, "base converged − base 25%"): HELD,
                   (b, "base 75% − base 25%"): HELD, (b, "base converged − base 25%"): FAILED,
                   (a, "base converged − base 75%"): OPEN, (b, "base converged − base 75%"): FAILED,  # 0; -25
                   **{(c, p): "" for c in sm.GOOD for p in ("base 50% − base 25%", "base 75% − base 50%")}}
