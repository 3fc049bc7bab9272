"""The lottery chapter: its scales resolve to the papers' settings, bad parameters stop early, rules decide."""
import numpy as np
import pandas as pd
import pytest

from ticketkit import imp
from ticketkit.experiments import lottery
from ticketkit.verdicts import FAILED, HELD, OPEN, evaluate


def test_the_paper_profile_is_frankle_and_carbins_lenet_setting():
    S = lottery.get_scale("paper")
    base = S.base()
    assert (base.dataset, base.model, base.val_size, base.image_size) == ("mnist", "lenet300_100", 5000, 28)
    t = base.train
    assert (t.optimizer, t.lr, t.batch_size, t.weight_decay, t.schedule, t.augment) == \
        ("adam", 1.2e-3, 60, 0.0, "constant", False)
    assert t.epochs * ((60_000 - 5_000) // 60) == 50_380  # about 50K iterations
    assert len(S.trials) == 5 and imp.options(base)["eval_every"] == 100
    assert [round(100 * d, 1) for d in lottery.level_densities(S, S.curve_levels)] == [100.0, 51.3, 21.1, 7.0, 3.6]
    cpu = lottery.get_scale("cpu")
    assert (cpu.dataset, cpu.spec(), cpu.trials) == ("fashion_mnist", S.spec(), S.trials)  # only the data differ


@pytest.mark.parametrize("overrides, named, error, message", [
    ({}, {"trials": "abc"}, TypeError, r"trials = .* is not valid: expected a non-empty list of int"),
    ({"level": 3}, {}, KeyError, r"unknown parameter\(s\) \['level'\]"),
    ({}, {"levels": 2}, ValueError, r"level 15 is asked for but levels = 2"),
    ({"levels": 3}, {"levels": 4}, ValueError, r"levels given both"),
    ({}, {"compute": "yes"}, TypeError, r"compute = 'yes' is not valid"),
])
def test_bad_chapter_parameters_get_one_message(overrides, named, error, message):
    with pytest.raises(error, match=message):
        lottery.get_scale("cpu", overrides, **named)


def frame(acc, iters=None, branch="ticket"):
    """A made runs table: {level: accuracies over trials}."""
    rows = []
    for level, values in acc.items():
        for seed, v in enumerate(values):
            it = (iters or {}).get(level, [5000] * len(values))[seed]
            rows.append({"method": "imp", "model": "lenet300_100", "dataset": "made", "opt.level": level,
                         "opt.branch": "ticket" if level == 0 else branch,
                         "density": 0.8 ** level, "seed": seed, "early_stop_test_acc": v,
                         "early_stop_iteration": it})
    return pd.DataFrame(rows)


def test_lt1_uses_above_near_51_percent_and_the_dense_margin_elsewhere():
    dense = [97.0, 97.2, 96.8, 97.1, 96.9]  # sd 0.158 -> margin 0.4
    runs = frame({0: dense, 3: [97.8, 98.0, 97.9, 98.1, 97.7], 1: [96.9, 97.1, 97.0, 96.8, 97.2],
                  14: [93.0, 93.2, 92.8, 93.1, 92.9], 20: [80.0, 81.0, 79.0, 80.5, 79.5]})
    v = evaluate("LT-1", runs, "made")
    ev = v.evidence.set_index(v.evidence["density"].round(4))
    assert ev.loc[round(0.8 ** 3, 4), "outcome"] == HELD  # 51.2% remaining: clearly above dense
    assert ev.loc[round(0.8 ** 1, 4), "outcome"] == HELD  # within the 0.4 margin
    assert ev.loc[round(0.8 ** 14, 4), "outcome"] == FAILED  # 4.4% remaining, 4 points below
    assert ev.loc[round(0.8 ** 20, 4), "outcome"] == ""  # below 3.6%: not judged
    assert v.verdict == "mixed" and "0.4" in v.note


def test_lt2_lt3_and_lt4_decide_on_their_own_cells():
    runs = frame({0: [90.0, 90.2, 89.8], 3: [91.0, 91.2, 90.8], 7: [90.0, 90.1, 89.9]},
                 iters={0: [9000, 9500, 9200], 3: [6000, 6300, 6100], 7: [9400, 9000, 9300]})
    lt2 = evaluate("LT-2", runs, "made").evidence
    assert list(lt2["outcome"]) == [HELD, OPEN]  # 51%: earlier than dense; 21%: no clear difference
    reinit = frame({3: [88.0, 88.3, 88.1], 7: [90.5, 90.4, 90.6]}, branch="reinit",
                   iters={3: [8000, 8200, 8100], 7: [9000, 9500, 9200]})  # 51%: later than the ticket; 21%: alike
    lt3 = evaluate("LT-3", pd.concat([runs, reinit[reinit["opt.level"] > 0]]), "made")
    assert list(lt3.evidence["outcome"]) == [HELD, FAILED, HELD, OPEN]  # accuracy, then early-stop iteration
    assert np.isclose(lt3.evidence["effect"].iloc[2], 8.1 - 6.1333, atol=0.01)  # thousands of iterations
    oneshot = frame({3: [91.0, 91.1, 90.9], 12: [80.0, 80.2, 79.9]}, branch="oneshot")
    deep = frame({12: [85.0, 85.2, 84.9]})
    lt4 = evaluate("LT-4", pd.concat([runs, deep, oneshot[oneshot["opt.level"] > 0]]), "made").evidence
    assert list(lt4["outcome"]) == ["", HELD] and np.isclose(lt4["effect"].iloc[1], 5.0, atol=0.01)


def test_lt5_asks_no_gain_at_lr_0_1_and_a_gain_at_lr_0_01_with_the_published_effect_beside():
    rows = []
    for lr, ticket, rand in ((0.1, [91.0, 91.1, 90.9], [91.0, 90.9, 91.1]), (0.01, [90.0, 90.1, 89.9],
                                                                             [88.0, 88.1, 87.9])):
        for seed in range(3):
            rows += [{"method": "imp", "model": "vgg16", "train.lr": lr, "opt.level": 0, "opt.rate": None,
                      "opt.branch": "ticket", "density": 1.0, "best_test_acc": 92.0 + 0.1 * seed},
                     {"method": "imp", "model": "vgg16", "train.lr": lr, "opt.level": 1, "opt.rate": 0.95,
                      "opt.branch": "ticket", "density": 0.06, "best_test_acc": ticket[seed]},
                     {"method": "imp", "model": "vgg16", "train.lr": lr, "opt.level": 1, "opt.rate": 0.95,
                      "opt.branch": "reinit", "density": 0.06, "best_test_acc": rand[seed]}]
    v = evaluate("LT-5", pd.DataFrame(rows), "made")
    ev = v.evidence.set_index("lr")
    assert ev.loc[0.1, "outcome"] == HELD and ev.loc[0.01, "outcome"] == HELD and v.verdict == "holds"
    assert ev.loc[0.01, "published"] == pytest.approx(92.58 - 91.83)  # 002 Table 2(b), VGG-16 at 95%
    assert ev.loc[0.01, "published sd"] == pytest.approx(np.hypot(0.25, 0.11), abs=0.01)


def test_lt8_judges_steps_from_the_first_size_that_fits_its_training_set():
    rows = []
    for h, train_err, test_err in ((4, 30.0, 32.0), (16, 5.0, 12.0), (64, 0.5, 9.0), (256, 0.2, 8.9),
                                   (1024, 0.1, 11.0)):
        rows += [{"model": "fc2", "width": h / 1024, "final_train_acc": 100 - train_err + d,
                  "final_test_acc": 100 - test_err + d} for d in (-0.1, 0.0, 0.1)]
    ev = evaluate("LT-8", pd.DataFrame(rows), "made").evidence.set_index("hidden")
    assert ev.loc[16, "outcome"] == "" and ev.loc[64, "outcome"] == ""  # steps before H = 64 fits
    assert ev.loc[256, "outcome"] == HELD and ev.loc[1024, "outcome"] == FAILED  # -0.1: no upturn; +2.1: an upturn beyond m


def test_train_eval_records_the_accuracy_on_the_training_set(tmp_path):
    from ticketkit.experiments import lottery_size
    from ticketkit.runs import execute

    S = lottery_size.get_scale("smoke", epochs=1, hidden=[8])
    rec = execute(S.run(8, 0))
    assert 0 <= rec["final_train_acc"] <= 100 and rec["config"]["model"] == "fc2"
    assert rec["config"]["width"] * lottery_size.UNITS_PER_WIDTH == 8


def test_lt6_compares_rewinding_and_warm_up_with_rewinding_to_init_where_the_network_is_sparse():
    rows = []
    for variant, step, warm, accs in (("rewind_0", 0, 0.0, {1: 90.0, 3: 80.0}), ("rewind_k", 20, 0.0, {1: 90.1, 3: 85.0}),
                                      ("warmup", 0, 0.5, {1: 89.9, 3: 79.9})):
        for level, acc in accs.items():
            rows += [{"method": "imp", "model": "vgg19", "train.epochs": 2, "train.warmup_epochs": warm,
                      "opt.rewind_step": step, "opt.level": level, "density": 0.4 ** level,
                      "final_test_acc": acc + d} for d in (-0.2, 0.0, 0.2)]
    ev = evaluate("LT-6", pd.DataFrame(rows), "made").evidence
    judged = ev[ev["outcome"] != ""].set_index("variant")["outcome"]
    assert set(ev[ev["density"] > 0.2]["outcome"]) == {""}  # 40% remaining: shown, not judged
    assert judged["rewind_k"] == HELD and judged["warmup"] == OPEN


def test_the_dense_premise_line_averages_level_0_without_and_with_warm_up_per_length():
    from ticketkit.experiments import lottery_rewind as rewind

    S = rewind.get_scale("smoke")  # lengths 1 and 2
    rows = [{"train.epochs": 1, "train.warmup_epochs": warm, "opt.rewind_step": 0, "opt.level": level,
             "density": 0.1 ** level, "final_test_acc": acc}
            for warm, accs in ((0.0, (10.0, 20.0)), (0.5, (70.0, 80.0))) for acc in accs for level in (0, 1)]
    line = rewind.premise(pd.DataFrame(rows), S)
    assert "1 epoch: 15.0% without warm-up, 75.0% with it." in line and "2 epochs" not in line
    assert "No level-0 runs" in rewind.premise(pd.DataFrame(rows).iloc[:0], S)


def test_lt7_asks_fine_tuned_to_match_scratch_e_to_lag_and_scratch_b_to_match():
    rows = []
    for arm, plan, acc, sd in (("unpruned", None, 93.0, 0.3), ("finetuned", "vgg16_a", 93.3, 0.1),
                               ("scratch_e", "vgg16_a", 91.0, 0.1), ("scratch_b", "vgg16_a", 93.2, 0.1)):
        rows += [{"method": "structured", "model": "vgg16", "dataset": "made", "opt.arm": arm, "opt.plan": plan,
                  "final_test_acc": acc + d} for d in (-sd, 0.0, sd)]  # margin: 2 x 0.3 from the unpruned
    v = evaluate("LT-7", pd.DataFrame(rows), "made")
    ev = v.evidence.set_index("arm")
    assert list(ev["outcome"]) == [HELD, HELD, HELD] and v.verdict == "holds"
    assert ev.loc["scratch_e", "published"] == pytest.approx(6.60 - 6.88)  # 002 Table 1, as accuracy
    assert np.isnan(ev.loc["scratch_b", "published"])  # Scratch-B is not in the seed
    budgets = {"unpruned": 4, "finetuned": 1, "scratch_e": 4, "scratch_b": 4}  # 4 x 1.1 FLOPs rounds to 4 epochs
    same = evaluate("LT-7", pd.DataFrame(rows).assign(epochs_trained=lambda d: d["opt.arm"].map(budgets)), "made")
    ev = same.evidence.set_index("arm")
    assert ev.loc["scratch_b", "outcome"] == "" and "same training" in ev.loc["scratch_b", "note"]
    assert ev.loc["scratch_e", "outcome"] == HELD  # the other arms are judged as before


def test_the_paper_profiles_of_the_conv_pages_are_the_papers_recipes():
    from ticketkit.experiments import lottery_conv, lottery_liu, lottery_rewind, lottery_structured

    conv = lottery_conv.get_scales("paper")
    steps = (50_000 - 5_000) // 60  # 45K training images of CIFAR-10 at batch 60
    assert {m: (s.lr, s.epochs * steps >= it > (s.epochs - 1) * steps) for m, s, it in
            zip(conv, conv.values(), (20_000, 25_000, 30_000))} == {"conv2": (2e-4, True), "conv4": (3e-4, True),
                                                                    "conv6": (3e-4, True)}
    assert all(s.base().train.optimizer == "adam" and s.dataset == "cifar10" for s in conv.values())
    liu = lottery_liu.get_scale("paper")
    t = liu.run("vgg16", 0.1, 0).train
    assert (t.epochs, t.batch_size, t.momentum, t.weight_decay, t.milestones, liu.lrs, liu.ratios) == \
        (160, 64, 0.9, 1e-4, (0.5, 0.75), (0.1, 0.01), (0.2, 0.4, 0.6, 0.8, 0.95))
    pruned = liu.run("resnet50", 0.01, 0, 0.6, "reinit")
    assert dict(pruned.options)["scope"] == "global_conv" and pruned.train.lr == 0.01
    li = lottery_structured.get_scale("paper")
    assert (li.epochs, li.finetune_epochs, li.finetune_lr, set(li.plans)) == \
        (160, 40, 1e-3, {"vgg16_a", "resnet56_a", "resnet56_b", "resnet110_a", "resnet110_b"})
    vgg = lottery_rewind.get_scale("paper")
    assert [round(e * 782, -3) for e in vgg.lengths] == [30_000, 60_000, 112_000] and vgg.lr == 0.1


def test_the_table_colours_lt2s_early_stop_iteration_cells_and_lt1s_accuracy_cells_apart(monkeypatch):
    S = lottery.get_scale("cpu")
    runs = frame({0: [90.0, 90.2, 89.8], 3: [91.0, 91.2, 90.8], 7: [80.0, 80.1, 79.9]},
                 iters={0: [9000, 9500, 9200], 3: [6000, 6300, 6100], 7: [9400, 9000, 9300]})
    runs["density"] = [lottery.imp_density(S, lv) for lv in runs["opt.level"]]  # the real per-layer densities
    monkeypatch.setattr(lottery, "paper_table", lambda cells, caption: cells)  # the cells, before styling
    cells = lottery.table(runs, S, ("ticket",), lottery.verdicts(runs, S, ("LT-1", "LT-2")))
    ticket = cells[cells["row"] == "winning ticket (iterative)"].set_index(["row_group", "col"])["outcome"]
    at = lambda lv: f"{100 * lottery.imp_density(S, lv):.3g}%"  # noqa: E731
    iters, acc = "early-stop iteration (thousands)", "test accuracy at early stop (%)"
    assert ticket[(iters, at(3))] == HELD and ticket[(iters, at(7))] == OPEN  # LT-2: 6.1K vs 9.2K; 9.2K vs 9.2K
    assert ticket[(acc, at(3))] == HELD and ticket[(acc, at(7))] == FAILED  # LT-1: 91 vs 90; 80 vs 90
