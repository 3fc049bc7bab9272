"""Published numbers: complete tables, and the poster's repeated rows agree across its tables."""
from ticketkit import reference as R


def test_each_table_has_three_sparsities_per_row():
    pub = R.published()
    counts = pub.groupby(["source", "table", "dataset", "model", "method"]).size()
    assert set(counts) == {3}
    assert set(pub["sparsity"]) == {0.9, 0.95, 0.98}


def test_poster_rows_repeated_across_tables_agree():
    pub = R.published()
    poster = pub[pub["source"] == R.SU_POSTER].set_index(["dataset", "model", "method", "sparsity", "table"])
    acc = poster["accuracy"]
    for model in ("vgg19", "resnet32"):
        for s in (0.9, 0.95, 0.98):
            lt = ("cifar10", model, "lottery", s)
            assert acc[lt + ("random tickets table",)] == acc[lt + ("sanity checks on partially-trained tickets",)]
            lrr = ("cifar10", model, "lr_rewinding", s)
            assert acc[lrr + ("hybrid tickets table",)] == acc[lrr + ("sanity checks on partially-trained tickets",)]


def test_collapsed_cells_are_chance_level():
    pub = R.published()
    c10 = pub[(pub["dataset"] == "cifar10") & (pub["model"] == "vgg19") & (pub["sparsity"] == 0.98)]
    assert c10.set_index(["table", "method"]).loc[("random tickets table", "lottery"), "accuracy"] == 10.0
    full = R.full_networks().set_index(["dataset", "model"])["accuracy"]
    assert full[("cifar10", "resnet32")] == 94.62 and full[("cifar100", "vgg19")] == 72.60


def test_seed_002_tables_are_held_whole():
    from ticketkit.reference import li_structured, liu_lottery

    liu = liu_lottery()
    assert len(liu) == 2 * 2 * (1 + 5 * 2)  # lr x model x (unpruned + 5 ratios x 2 arms)
    cell = liu[(liu["lr"] == 0.01) & (liu["model"] == "vgg16") & (liu["ratio"] == 0.95)].set_index("arm")
    assert (cell.loc["ticket", "accuracy"], cell.loc["random_init", "std"]) == (92.58, 0.11)
    li = li_structured().set_index(["plan", "arm"])["error"]
    assert (li["resnet56_b", "scratch"], li["vgg16_a", "finetuned"], len(li)) == (8.69, 6.60, 13)
