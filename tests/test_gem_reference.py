"""Seed 004's published numbers: every table whole, with its source, and spot values re-read from the paper."""
import math

import pytest

from ticketkit import reference_gems as G


def test_every_table_has_its_source_caption_and_expected_size():
    sizes = {"Table 1": 8, "Table 2": 6, "Table 3": 10, "Table 4": 4, "Table 8": 5, "Table 15": 2, "Table 16": 7}
    tables = G.tables()
    assert {k: len(v) for k, v in tables.items()} == sizes
    for name, df in tables.items():
        assert set(df["source"]) == {G.GEMS} and set(df["table"]) == {name}
        assert set(df["caption"]) == {G.CAPTIONS[name]}
        assert set(df["model"]) == {"resnet20"} and set(df["dataset"]) == {"cifar10"}
    assert G.CAPTIONS["Table 16"].endswith("for target sparsity 1.44%.")


def test_density_is_the_printed_percentage_over_100():
    sr = G.sr_variants().set_index("method")
    assert sr.loc["sr_v3", "density_pct"] == 1.75 and sr.loc["sr_v3", "density"] == pytest.approx(0.0175)
    hp = G.finetune_hparams().set_index("sparsity")
    assert hp.loc["50%", "density"] == 0.5 and math.isnan(hp.loc["others", "density_pct"])


def test_spot_values_reread_from_the_paper():
    ep = G.ep_variants().set_index(["method", "stage"])["accuracy"]
    assert ep["gem_miner", "pre_finetune"] == 45.30 and ep["global_ep_gradual_reg", "post_finetune"] == 63.72
    t2 = G.prospr_sanity().set_index(["method", "check"])
    assert t2.loc[("prospr", "random_shuffling"), "accuracy"] == 82.15
    assert t2.loc[("gem_miner", "weight_reinit"), ["density_pct", "accuracy"]].tolist() == [3.72, 78.6]
    sr = G.sr_variants().set_index("method")["accuracy"]
    assert (sr["sr_v1"], sr["sr_v4"]) == (65.61, 69.92)
    hp = G.gem_miner_hparams().set_index("density_pct")
    assert hp.loc[1.44, "lam"] == 1e-4 and hp.loc[3.73, "lam"] == 3e-5 and hp.loc[50.0, "pruning_period"] == 8
    assert G.finetune_hparams().set_index("sparsity").loc["others", "lr"] == 0.01


def test_tables_agree_with_each_other_and_the_text():
    # Gem-Miner at 1.44%/1.4% appears in Table 4 and Table 16 with the same accuracy
    assert G.long_gem_miner().set_index("method").loc["gem_miner", "accuracy"] == 77.89
    assert G.sr_variants().set_index("method").loc["gem_miner", "accuracy"] == 77.89
    # Table 1's epochs give the "19x fewer epochs than IMP" of the abstract
    epochs = G.computation().set_index("method")["epochs"]
    assert epochs["imp"] / epochs["gem_miner"] == 19 and math.isnan(epochs["smart_ratio"])
    text = G.text_values().set_index("quantity")
    gap = text.loc["long_gem_miner_gain_pct_points", "value"]
    t4 = G.long_gem_miner().set_index("method")["accuracy"]
    assert t4["long_gem_miner"] - t4["gem_miner"] == pytest.approx(gap, abs=0.15)
    assert set(text["relation"]) <= {"=", "~", ">", "range"} and text["quote"].str.len().min() > 20
