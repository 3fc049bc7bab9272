"""Report helpers: published rows found through stand-in datasets, differences and notes computed by hand."""
import pandas as pd

from ticketkit import reference
from ticketkit.experiments import dense
from ticketkit.profiles import get_profile
from ticketkit.report import comparison, seed_stats


def test_stand_in_comparison_uses_the_published_cifar10_row_and_says_so():
    runs = pd.DataFrame({"dataset": ["fashion_mnist"] * 3, "model": ["resnet32_2x"] * 3,
                         "final_test_acc": [90.0, 91.0, 92.0]})
    stats = seed_stats(runs, ["dataset", "model"])
    out = comparison(stats, reference.full_networks(), ["dataset", "model"], get_profile("cpu"), dense.STAND_IN)
    row = out.iloc[0]
    assert row["published"] == "94.62"  # Su et al.'s full ResNet32 on CIFAR-10
    assert row["difference"] == round(91.0 - 94.62, 2)
    assert row["ours (last epoch)"] == "91.00 ± 1.00"
    assert "cifar10" in row["scale"] and "fashion_mnist" in row["scale"] and "cpu profile" in row["scale"]


def test_lenet_falls_back_to_the_mnist_row():
    runs = pd.DataFrame({"dataset": ["fashion_mnist"], "model": ["lenet300_100"], "final_test_acc": [85.0]})
    out = comparison(seed_stats(runs, ["dataset", "model"]), reference.full_networks(), ["dataset", "model"],
                     get_profile("cpu"), dense.STAND_IN)
    assert out.iloc[0]["published"] == "98.00" and "mnist" in out.iloc[0]["scale"]


def test_budget_note_names_the_models_below_the_aim():
    runs = pd.DataFrame({"dataset": ["f"] * 4, "model": ["a", "a", "b", "b"], "final_test_acc": [89, 90, 86, 87]})
    note = dense.budget_note(runs, aim=88.0)
    assert "a on f: 89.50%" in note and "b on f: 86.50%" in note and "Below the 88% aim: b;" in note


def test_chapter_helpers_handle_grids_with_nothing_or_one_ticket_stored():
    import matplotlib.pyplot as plt

    from ticketkit.experiments import su
    from ticketkit.runs import frame

    P = get_profile("cpu")
    empty = frame([])
    assert "final_test_acc" in empty.columns and len(empty) == 0
    assert "note" in su.table(empty, P, "random tickets table")
    assert "note" in su.collapse_table(empty)
    plt.close(su.figure(empty, P, "t"))
    one = pd.DataFrame({"dataset": ["f"] * 2, "model": ["vgg19"] * 2, "method": ["lottery"] * 2,
                        "sanity": ["none"] * 2, "density": [0.1] * 2, "final_test_acc": [80.0, 81.0],
                        "best_test_acc": [81.0, 81.0], "collapsed_layers": [0, 0], "connected": [True, True]})
    plt.close(su.figure(one, P, "one ticket"))
    assert su.summary(one).loc[0, "mean"] == 80.5


def test_layer_densities_come_back_in_module_order_from_a_sorted_record():
    from ticketkit.experiments import su
    from ticketkit.runs import Store

    P = get_profile("smoke")
    cfg = P.run("synthetic", "vgg19", "random_tickets", 0.9, seed=0)
    order = su.layer_order("vgg19", cfg.width)
    assert order[0] == "features.0.weight" and order[-1] == "classifier.weight"
    dens = {name: i / 100 for i, name in enumerate(order)}
    rec = {"config": cfg.to_dict(), "key": cfg.key(), "history": [{"epoch": 1, "test_acc": 1.0}],
           "layer_densities": dict(sorted(dens.items()))}  # what json.dumps(sort_keys=True) leaves
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
