"""Gem runs: bad options fail before training; sanity checks reuse the gem's cached search (one search for the
gem and its checks); the shuffled gem keeps each layer's count; smart-ratio runs place exactly the variant's
counts; BatchNorm calibration before pre-finetune accuracy is a plain average over the calibration images."""
import dataclasses
import shutil

import pytest
import torch
from torch import nn

from ticketkit import gem_runs, imp, scoremask, supermask, trained
from ticketkit.data import load_data
from ticketkit.grid import grid
from ticketkit.masks import Mask
from ticketkit.pruning.sr_variants import SR_VARIANTS, SRContext, exact_counts, layer_sizes
from ticketkit.resume import resume_files
from ticketkit.runs import RunConfig
from ticketkit.store import Store
from ticketkit.train import TrainSpec

pytestmark = pytest.mark.usefixtures("one_thread")
FT = TrainSpec(epochs=1, batch_size=128, optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=1e-4,
               schedule="constant", augment=False)
BASE = RunConfig(dataset="digits", model="resnet20_gem", method="dense", seed=0, width=0.25, image_size=8, train=FT)


def test_bad_gem_options_fail_before_training():
    with pytest.raises(ValueError, match="unknown gem search"):
        gem_runs.config(BASE, search="gem_minor", density=0.1)
    with pytest.raises(ValueError, match="sanity check"):
        gem_runs.config(BASE, search="gem_miner", density=0.1, check="invert")
    with pytest.raises(ValueError, match="unknown gem option"):
        gem_runs.config(BASE, search="gem_miner", density=0.1, lamda=1e-4)
    with pytest.raises(ValueError, match="no sanity checks"):
        gem_runs.config(BASE, search="sr_v1", density=0.1, lam=1e-4)
    with pytest.raises(ValueError, match="kept fraction"):
        gem_runs.config(BASE, search="gem_miner", density=1.5, search_epochs=2, period=1)
    with pytest.raises(ValueError, match="period"):
        gem_runs.config(BASE, search="gem_miner", density=0.1, search_epochs=2, period=5)


def test_resume_files_carry_a_stored_gems_search_so_its_checks_elsewhere_reuse_it(monkeypatch, tmp_path):
    opts = dict(search="gem_miner", density=0.1, lam=1e-4, period=1, search_epochs=2)
    gem, shuffled = (gem_runs.config(BASE, **opts, check=c) for c in ("none", "shuffle"))
    here = Store()
    grid([gem], here, progress=False)
    borrower = gem_runs.config(dataclasses.replace(BASE, train=dataclasses.replace(FT, lr=0.1)),
                               **{**opts, "search": "sr_v2"})  # fine-tunes at another lr, as smart ratio does
    assert len(resume_files(here)) == 1
    assert resume_files(here, [shuffled]) == resume_files(here, [borrower]) == resume_files(here)
    assert resume_files(here, []) == resume_files(here, [gem_runs.config(BASE, search="sr_v1", density=0.1)]) == []
    elsewhere = tmp_path / "elsewhere"  # another machine: the records and the listed files only
    for f in [here.path(gem), *resume_files(here)]:
        (elsewhere / f.relative_to(here.root)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, elsewhere / f.relative_to(here.root))
    monkeypatch.setenv("TICKETKIT_RESULTS", str(elsewhere))
    monkeypatch.setattr(gem_runs, "search", lambda *a, **k: pytest.fail("searched again"))
    dens = grid([gem, shuffled, borrower], Store(), progress=False).set_index("key")["layer_densities"]
    assert dens[gem.key()] == dens[shuffled.key()]  # the same gem, shuffled
    for name in ("conv1.weight", "head.fc.weight"):  # the borrower took the reported gem's end-layer densities
        assert dens[borrower.key()][name] == pytest.approx(dens[gem.key()][name], abs=1e-3)


def test_sanity_checks_reuse_the_gems_search(monkeypatch):
    calls = []
    real = scoremask.search
    monkeypatch.setattr(gem_runs, "search", lambda *a, **k: calls.append(1) or real(*a, **k))
    opts = dict(search="gem_miner", density=0.1, lam=1e-4, period=1, search_epochs=2)
    cfgs = [gem_runs.config(BASE, **opts, check=c) for c in ("none", "shuffle", "reinit")]
    recs = list(gem_runs.compute(cfgs))
    assert len(calls) == 1
    gem, shuffled, reinit = recs
    assert gem["layer_densities"] == shuffled["layer_densities"] == reinit["layer_densities"]
    assert gem["search_history"][-1]["bound"] == pytest.approx(0.1, abs=1e-4)
    assert all(r["search_epochs"] == 2 and r["finetune_epochs"] == 1 for r in recs)
    assert {r["prune"]["train_epochs"] for r in recs} == {2.0}


def test_smart_ratio_runs_place_exactly_the_variants_counts():
    cfg = gem_runs.config(BASE, search="sr_v1", density=0.1)
    data = load_data("digits", image_size=8)
    model = gem_runs._model(cfg, data, signed=False)
    want = exact_counts(layer_sizes(model), SR_VARIANTS.get("sr_v1")(SRContext(model, 0.1)), 0.1)
    mask = gem_runs._allocate(cfg, data, model)
    assert {n: int(m.sum()) for n, m in mask.tensors.items()} == want
    other = gem_runs._allocate(gem_runs.config(BASE.__class__(**{**BASE.__dict__, "seed": 1}), search="sr_v1",
                                               density=0.1), data, model)
    assert any(not torch.equal(a, b) for a, b in zip(mask.tensors.values(), other.tensors.values()))


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, bias=False)
        self.bn = nn.BatchNorm2d(3, affine=False)
        self.fc = nn.Linear(3, 10, bias=False)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean((2, 3)))


def test_calibration_averages_the_batchnorm_statistics_over_the_calibration_images(monkeypatch):
    data = load_data("digits", image_size=8)
    torch.manual_seed(0)
    model = Tiny()
    mask = Mask({n: torch.rand(p.shape) < 0.7 for n, p in model.named_parameters() if p.dim() > 1})
    seen = {}
    real = supermask.evaluate
    monkeypatch.setattr(supermask, "evaluate", lambda net, *a: seen.setdefault("bn", net.bn) and real(net, *a))
    monkeypatch.setattr(supermask, "CALIBRATION_IMAGES", 512)
    supermask.calibrated_accuracy(model, mask, data, seed=3)
    gen = torch.Generator().manual_seed(3)  # the same two batches of 256, by hand
    from ticketkit.data import batches
    norm = data.normalizer(data.train_x.device)
    xs = [norm(xb) for i, (xb, _) in zip(range(2), batches(data.train_x, data.train_y, 256, gen, shuffle=True))]
    with torch.no_grad():
        w = model.conv.weight * mask.tensors["conv.weight"]
        means = [nn.functional.conv2d(x, w).mean((0, 2, 3)) for x in xs]
    assert torch.allclose(seen["bn"].running_mean, sum(means) / 2, atol=1e-5)
    assert model.bn.running_mean.abs().max() == 0  # the model itself is left as it was


def test_sr_v2_borrows_the_first_and_last_layer_densities_of_its_gem():
    opts = dict(density=0.1, lam=1e-4, period=1, search_epochs=2)
    gem, v2 = gem_runs.config(BASE, search="gem_miner", **opts), gem_runs.config(BASE, search="sr_v2", **opts)
    assert gem_runs.gem_config(v2) == gem
    gem_rec, v2_rec = gem_runs.compute([gem, v2])
    first, last = list(gem_rec["layer_densities"])[0], list(gem_rec["layer_densities"])[-1]
    for name in (first, last):
        assert v2_rec["layer_densities"][name] == pytest.approx(gem_rec["layer_densities"][name], abs=1e-3)
    assert v2_rec["density"] == pytest.approx(0.1, abs=1e-4)
    with pytest.raises(ValueError, match="borrows"):
        gem_runs.config(BASE, search="sr_v1", **opts)


def test_sr_v4_starts_from_the_stored_imp_runs_layer_densities_and_needs_it_stored(monkeypatch):
    root = RunConfig(dataset="digits", model="resnet20_gem", method="imp", width=0.25, image_size=8, train=FT,
                     options=(("scope", "global"), ("rate", 0.2)))
    imp_cfg = imp.level_config(root, 2)
    v4 = gem_runs.config(BASE, search="sr_v4", density=0.1, imp_run=imp_cfg)
    for bad in (dict(search="sr_v4"), dict(search="sr_v1", imp_run=imp_cfg)):
        with pytest.raises(ValueError, match="imp_run"):
            gem_runs.config(BASE, density=0.1, **bad)
    with pytest.raises(RuntimeError, match=f"IMP run {imp_cfg.key()}, which is not stored"):
        list(gem_runs.compute([v4]))
    grid([imp_cfg], Store(), progress=False)
    seen = {}

    class Spy:  # the registry as gem_runs sees it, noting what sr_v4 is handed
        @staticmethod
        def get(name):
            def variant(ctx):
                seen[name] = ctx.imp_densities
                return SR_VARIANTS.get(name)(ctx)
            return variant

    monkeypatch.setattr(gem_runs, "SR_VARIANTS", Spy)
    rec, = gem_runs.compute([v4])
    assert seen["sr_v4"] == Store().get(imp_cfg)["layer_densities"]
    assert rec["density"] == pytest.approx(0.1, abs=1e-3)
