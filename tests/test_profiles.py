"""Profiles resolve to the settings they promise."""
import pytest

from ticketkit.profiles import get_profile


def test_paper_profile_is_the_seeds_settings():
    p = get_profile("paper")
    assert p.datasets == ("cifar10", "cifar100")
    assert p.width("vgg19") == 1.0 and p.width("resnet32_2x") == 1.0
    assert p.sparsities == (0.9, 0.95, 0.98) and p.rewind_epoch == 40
    assert p.train_subset is None and p.test_subset is None
    for method, batch in [("snip", 64), ("lottery", 64), ("lr_rewinding", 64), ("hybrid", 64), ("grasp", 128),
                          ("random_tickets", 128)]:
        s = p.spec(method)
        assert (s.epochs, s.lr, s.momentum, s.weight_decay, s.milestones, s.batch_size, s.augment) == \
            (160, 0.1, 0.9, 1e-4, (0.5, 0.75), batch, True)
    cfg = p.run("cifar10", "resnet32_2x", "lr_rewinding", sparsity=0.98)
    assert cfg.density == pytest.approx(0.02) and dict(cfg.options)["rewind_epoch"] == 40


def test_overrides_and_bad_names():
    assert get_profile("cpu", epochs=3, seeds=[5, 6, 7]).seeds == (5, 6, 7)
    with pytest.raises(KeyError, match="unknown profile 'gpu'.*smoke"):
        get_profile("gpu")
    with pytest.raises(KeyError, match="unknown profile field.*epoch"):
        get_profile("cpu", epoch=3)


@pytest.mark.parametrize("density", [0.0, -0.1, 1.5])
def test_density_out_of_range_is_refused(density):
    with pytest.raises(ValueError, match=r"sparsity .* is out of range for method 'snip': give a sparsity in \[0, 1\)"):
        get_profile("smoke").run("synthetic", "vgg19", "snip", sparsity=1 - density)
