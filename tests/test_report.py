"""Report helpers: the paper-shaped layout, published effects and numbers, the CSV link and the findings box,
checked on hand-made runs frames."""
import base64
import dataclasses
import io
import math
import re

import pandas as pd
import pytest

from ticketkit import reference, report
from ticketkit.experiments import dense, su
from ticketkit.profiles import get_profile
from ticketkit.verdicts import evaluate


def rt_runs(models=("vgg19", "resnet32_2x")):
    """Three seeds of every ticket of the random-tickets table on Fashion-MNIST; accuracies chosen by hand."""
    rows = []
    for m in models:
        for seed in range(3):
            rows.append({"dataset": "fashion_mnist", "model": m, "method": "dense", "sanity": "none",
                         "density": 1.0, "final_test_acc": 90.0 + seed, "best_test_acc": 91.0,
                         "collapsed_layers": 0, "connected": True, "train.epochs": 4,
                         "train.milestones": [0.5, 0.75]})
            for dens in (0.1, 0.05, 0.02):
                for meth, base in (("lottery", 88), ("snip", 87), ("grasp", 86), ("random_tickets", 89)):
                    rows.append({"dataset": "fashion_mnist", "model": m, "method": meth, "sanity": "none",
                                 "density": dens, "final_test_acc": base + seed, "best_test_acc": base + seed,
                                 "collapsed_layers": 0, "connected": True, "train.epochs": 4,
                                 "train.milestones": [0.5, 0.75]})
    return pd.DataFrame(rows)


def test_paper_table_has_the_seed_layout_with_the_published_number_in_the_cell():
    P = get_profile("cpu")
    runs = rt_runs()
    vs = [evaluate("SU-3", runs, P.scale())]
    cells = su.paper_cells(runs, P, "random tickets", vs)
    # rows: per model the full network then LT, SNIP, GraSP, RT (001's order); columns: dataset x 90/95/98%
    assert list(dict.fromkeys(cells["row"])) == ["full network", "lottery tickets", "SNIP", "GraSP", "random tickets"]
    assert list(dict.fromkeys(cells["row_group"])) == ["VGG19", "ResNet32 (2x wide)"]
    assert list(dict.fromkeys(cells["col"])) == ["90%", "95%", "98%"]
    assert set(cells["col_group"]) == {"Fashion-MNIST (published: CIFAR-10)"}
    rt = cells[(cells["row"] == "random tickets") & (cells["row_group"] == "VGG19") & (cells["col"] == "90%")].iloc[0]
    assert rt["mean"] == 90.0 and rt["sd"] == 1.0  # 89, 90, 91
    assert rt["published"] == "93.77 ± 0.10 · [Re] 93.65"  # 001 random-tickets table, then 000 Table 1
    # RT 90 vs the better rival SNIP 88: +2 with 95% interval [-0.27, +4.27], above -m = -2 (2 x dense sd 1.0)
    assert rt["outcome"] == "held"
    full = cells[cells["row"] == "full network"]
    assert list(full["col"]) == ["90%", "90%"] and full.iloc[0]["published"] == "93.70"  # printed once, like 001
    html = report.paper_table(cells, "caption").data
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert {"90%", "95%", "98%", "VGG19", "random tickets"} <= set(headers)
    assert not {"0", "1", "23"} & set(headers)  # no row-index column
    assert "<span class='tk-pub'>93.77 ± 0.10 · [Re] 93.65</span>" in html
    assert "background-color: #d5ecd5" in html and "overflow-x:auto" in html
    assert "Fashion-MNIST (published: CIFAR-10)" in html


def test_initial_sanity_table_has_no_published_line_and_labels_method_and_check():
    P = get_profile("cpu")
    runs = pd.DataFrame([{"dataset": "fashion_mnist", "model": "vgg19", "method": m, "sanity": c, "density": 0.1,
                          "final_test_acc": 80.0 + s} for m in ("snip", "grasp") for c in su.INITIAL_CHECKS
                         for s in range(2)])
    cells = su.paper_cells(runs, P, "initial sanity")
    assert list(dict.fromkeys(cells["row"]))[:3] == ["SNIP: original", "SNIP: corrupted data",
                                                     "SNIP: layerwise rearrange"]
    assert list(dict.fromkeys(cells["col_group"])) == ["VGG19"]
    assert "class='tk-pub'" not in report.paper_table(cells).data


def test_published_effect_is_the_difference_of_the_published_cells():
    pub = reference.published()
    poster = pub[pub["table"] == "random tickets table"]
    eff, sd = reference.published_effect(poster, "cifar10", "vgg19", 0.98, "random_tickets", ("snip", "grasp"))
    assert eff == pytest.approx(92.45 - 91.90) and sd == pytest.approx(math.hypot(0.22, 0.23))  # GraSP is better
    repro = pub[pub["table"] == "Table 1"]
    eff, sd = reference.published_effect(repro, "cifar10", "resnet32_2x", 0.9, "random_tickets", ("snip", "grasp"))
    assert eff == pytest.approx(92.84 - 92.55) and math.isnan(sd)  # single numbers: no spread
    assert all(map(math.isnan, reference.published_effect(poster, "cifar10", "vgg19", 0.9, "obd", "snip")))


def test_dense_cells_show_the_stand_in_published_number_and_no_difference():
    runs = pd.DataFrame({"dataset": ["fashion_mnist"] * 3, "model": ["resnet32_2x"] * 3,
                         "final_test_acc": [90.0, 91.0, 92.0], "best_test_acc": [91.0, 91.5, 92.0]})
    cells = dense.cells(runs).set_index("col")
    assert cells.loc["last epoch", "published"] == "94.62 on cifar10"  # Su et al.'s full ResNet32 on CIFAR-10
    assert cells.loc["last epoch", "mean"] == 91.0 and cells.loc["best epoch", "mean"] == 91.5
    assert "difference" not in report.paper_table(dense.cells(runs)).data


def test_lenet_falls_back_to_the_mnist_row():
    runs = pd.DataFrame({"dataset": ["fashion_mnist"], "model": ["lenet300_100"], "final_test_acc": [85.0],
                         "best_test_acc": [85.0]})
    assert dense.cells(runs).iloc[0]["published"] == "98.00 on mnist"


def test_csv_link_carries_the_long_form_frame():
    frame = pd.DataFrame({"model": ["vgg19", "resnet32_2x"], "final_test_acc": [1.5, 2.5]})
    html = report.csv_link(frame, "runs.csv").data
    data = re.search(r"base64,([^']+)'", html).group(1)
    assert pd.read_csv(io.BytesIO(base64.b64decode(data))).equals(frame) and "download='runs.csv'" in html


def test_findings_box_opens_with_verdicts_counts_and_key_effects():
    P = get_profile("cpu")
    runs = rt_runs(("vgg19",))
    html = report.findings(su.verdicts(runs, P, ("SU-3", "SU-7"))).data
    assert "What we found" in html and "SU-3: holds" in html
    assert "held 3, failed 0, inconclusive 0 of 3" in html
    # our rival is SNIP (87 vs GraSP's 86), so beside it RT 92.45 - SNIP 81.37 at 98%, not the seeds' better GraSP
    assert "98%: <b>+2.00 [-0.27, +4.27]</b>" in html and "vs published +11.08 ± 18.17" in html
    assert "SU-7: not testable at this scale" in html and "claims_dashboard.html" in html


def test_effects_figure_labels_both_axes_and_draws_the_identity():
    import matplotlib.pyplot as plt

    P = get_profile("cpu")
    fig = su.effects(su.verdicts(rt_runs(), P, ("SU-3",)), P, "t")
    ax = fig.axes[0]
    assert "published effect" in ax.get_xlabel() and "our effect" in ax.get_ylabel()
    assert any(list(l.get_xdata()) == list(l.get_ydata()) and len(l.get_xdata()) == 2 for l in ax.get_lines())
    plt.close(fig)


def test_budget_note_names_the_models_below_the_aim():
    runs = pd.DataFrame({"dataset": ["f"] * 4, "model": ["a", "a", "b", "b"], "final_test_acc": [89, 90, 86, 87]})
    note = dense.budget_note(runs, aim=88.0)
    assert "a on f: 89.50%" in note and "b on f: 86.50%" in note and "Below the 88% aim: b;" in note


def test_chapter_helpers_handle_grids_with_nothing_or_one_ticket_stored():
    import matplotlib.pyplot as plt

    from ticketkit.experiments import su
    from ticketkit.grid import frame

    P = get_profile("cpu")
    empty = frame([])
    assert "final_test_acc" in empty.columns and len(empty) == 0
    assert "No runs of this table" in su.table(empty, P, "random tickets").data
    assert "note" in su.collapse_table(empty)
    plt.close(su.figure(empty, P, "t"))
    one = pd.DataFrame({"dataset": ["f"] * 2, "model": ["vgg19"] * 2, "method": ["lottery"] * 2,
                        "sanity": ["none"] * 2, "density": [0.1] * 2, "final_test_acc": [80.0, 81.0],
                        "best_test_acc": [81.0, 81.0], "collapsed_layers": [0, 0], "connected": [True, True]})
    plt.close(su.figure(one, P, "one ticket"))


def test_layer_densities_come_back_in_module_order_from_a_sorted_record():
    from ticketkit.experiments import su
    from ticketkit.store import Store

    P = get_profile("smoke")
    cfg = P.run("synthetic", "vgg19", "random_tickets", 0.9, seed=0)
    order = su.layer_order("vgg19", cfg.width)
    assert order[0] == "features.0.weight" and order[-1] == "classifier.weight"
    dens = {name: i / 100 for i, name in enumerate(order)}
    rec = {"config": cfg.to_dict(), "key": cfg.key(), "history": [{"epoch": 1, "test_acc": 1.0}],
           "final_test_acc": 1.0, "density": 0.1, "layer_densities": dict(sorted(dens.items()))}  # what json.dumps(sort_keys=True) leaves
    Store().put(cfg, rec)
    out = su.layer_densities(Store(), [cfg], 0.9, 0)
    assert list(out["name"]) == order and list(out["density"]) == [i / 100 for i in range(len(order))]
    assert list(out["layer"]) == list(range(1, len(order) + 1))


def test_collapse_table_counts_only_structural_loss_at_chance():
    from ticketkit.experiments import su

    dense = {name: 1.0 for name in su.layer_order("vgg19", 0.125)}
    runs = pd.DataFrame({"dataset": ["fashion_mnist"] * 4, "model": ["vgg19"] * 4,
                         "method": ["snip"] * 3 + ["random_tickets"],
                         "sanity": ["none"] * 4, "density": [0.02] * 4, "width": [0.125] * 4, "image_size": [32] * 4,
                         "final_test_acc": [10.0, 10.0, 85.0, 84.0],  # chance is 10% for ten classes
                         "collapsed_layers": [2, 0, 1, 0], "connected": [False, False, True, True],
                         "layer_densities": [dense] * 4})
    out = su.collapse_table(runs).set_index("ticket")
    # run 1: lost layers and paths at chance; run 2: lost every path at chance; run 3: lost a layer but learned
    assert out.loc["SNIP", "collapsed"] == 2 and out.loc["SNIP", "runs"] == 3
    assert out.loc["SNIP", "max_zero_layers"] == 2 and not out.loc["SNIP", "path_kept"]
    assert out.loc["random tickets", "collapsed"] == 0 and out.loc["random tickets", "path_kept"]
    # dense masks: the thinnest unit is the 64-input head (VGG19 x0.125 ends with 64 channels)
    assert out.loc["random tickets", "thinnest_layer_kept_per_unit"] == 64


def test_thinnest_layer_is_density_times_fan_in_after_the_first_layer():
    from ticketkit.experiments import su

    # VGG19 at x0.125: the last conv (features.49) maps 64 -> 64 channels with 3x3 kernels, fan-in 64 * 9 = 576;
    # the head's fan-in is 64; the first conv (3 -> 8) is left out whatever its density.
    dens = {name: 1.0 for name in su.layer_order("vgg19", 0.125)}
    dens.update({"features.49.weight": 0.01, "features.0.weight": 1e-4})
    assert su.thinnest_layer("vgg19", 0.125, 32, dens) == 0.01 * 576
    dens["classifier.weight"] = 0.05
    assert abs(su.thinnest_layer("vgg19", 0.125, 32, dens) - 0.05 * 64) < 1e-12


def test_effects_table_leaves_no_nan_where_a_claim_has_no_model_or_published_effect():
    P = get_profile("cpu")
    html = report.effects_table(su.verdicts(rt_runs(("vgg19",)), P, ("SU-3", "SU-7"))).data
    assert ">nan<" not in html and "best − last epoch" in html and "+11.08 ± 18.17" in html


def test_findings_warn_when_the_runs_mix_precisions():
    P = get_profile("cpu")
    runs = rt_runs(("vgg19",))
    vs = su.verdicts(runs, P, ("SU-3",))
    uniform = report.findings(vs, runs.assign(precision="fp32")).data
    assert "different precisions" not in uniform and "Every run on this page trained in fp32." in uniform
    mixed = runs.assign(precision=["fp32"] * 10 + ["bf16 autocast"] * (len(runs) - 10))
    assert "different precisions (bf16 autocast: 29, fp32: 10)" in report.findings(vs, mixed).data


def test_a_cell_two_comparisons_name_takes_the_worse_outcome_and_unjudged_rows_colour_nothing():
    from ticketkit.verdicts import FAILED, HELD, OPEN, Verdict

    ev = pd.DataFrame({"cell": ["a", "a", "b", "b", "c"], "outcome": [HELD, FAILED, OPEN, HELD, ""]})
    v = Verdict("X-1", "mixed", "", "", ev)
    colour = report.cell_outcomes([v], lambda v, e: e["cell"])
    assert colour == {"a": FAILED, "b": OPEN}  # order-free: held then failed is failed; "" colours nothing
    reverse = Verdict("X-1", "mixed", "", "", ev.iloc[::-1])
    assert report.cell_outcomes([reverse], lambda v, e: e["cell"]) == colour
    assert report.cell_outcomes([v], lambda v, e: None if e["cell"] == "a" else e["cell"]) == {"b": OPEN}


def test_effects_figure_draws_cells_without_a_published_effect_beside_the_others():
    import matplotlib.pyplot as plt

    P = get_profile("cpu")
    v = su.verdicts(rt_runs(), P, ("SU-3",))[0]
    ev = v.evidence.copy()
    ev.loc[ev.index[:2], "published"] = float("nan")  # two cells the paper prints no effect for
    fig = su.effects([dataclasses.replace(v, evidence=ev)], P, "t")
    scatter, side = fig.axes
    assert len(side.get_yticklabels()) == 2 and "no published effect" in side.get_title()
    assert sum(len(c.get_children()) > 0 for c in scatter.containers) >= 1
    plt.close(fig)


def test_margin_lines_sit_on_the_side_each_rule_holds_its_cells_against():
    from ticketkit.plots import _bounds

    df = pd.DataFrame({"margin": [0.4, 0.4, 0.3, float("nan")],
                       "margin_test": ["below +m", None, "matches", "below +m"]})
    assert [v for v, _ in _bounds(df)] == [-0.4, -0.3, 0.3, 0.4]  # as good as: -m; matches: ±m; below +m: +m
    assert dict(_bounds(df))[0.4].endswith("(below +m)") and dict(_bounds(df))[-0.4].endswith("(as good as)")
    assert _bounds(pd.DataFrame({"effect": [1.0]})) == []


def test_the_findings_box_quotes_each_models_sparsest_cells_failed_first():
    from ticketkit.verdicts import FAILED, HELD, Verdict

    ev = pd.DataFrame({"model": ["a", "a", "b", "b"], "density": [0.05, 0.2, 0.1, 0.3],
                       "effect": [5.0, 9.0, -1.0, 2.0], "outcome": [HELD, HELD, FAILED, HELD]})
    cells = report._key_cells(Verdict("X-1", "mixed", "", "", ev))
    assert list(zip(cells["model"], cells["density"])) == [("b", 0.1), ("a", 0.05)]  # b's failed cell first
    no_model = report._key_cells(Verdict("X-1", "mixed", "", "", ev.drop(columns="model")))
    assert list(no_model["density"]) == [0.05]  # one pool: the sparsest cell overall


@pytest.mark.parametrize("low, high, major, minor", [
    (1.44, 32, ["1", "10", "100"], ["2", "3", "4", "6", "20", "30", "40", "60"]),  # densities in % kept
    (0.5, 3, ["0.1", "1", "10"], ["0.2", "0.3", "0.4", "0.6", "2", "3", "4", "6"]),
    (0.1, 100, ["0.01", "0.1", "1", "10", "100", "1000"], [])])  # many decades: minor ticks unlabelled
def test_log_axes_read_in_plain_numbers(low, high, major, minor):
    import matplotlib.pyplot as plt
    from ticketkit.plots import log_y
    fig, ax = plt.subplots()
    ax.plot([0, 1], [low, high])
    log_y(ax)
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == major
    assert [t.get_text() for t in ax.get_yticklabels(minor=True) if t.get_text()] == minor
    plt.close(fig)
