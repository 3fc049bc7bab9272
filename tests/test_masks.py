"""Masks keep pruned weights exactly zero through SGD with momentum and weight decay."""
import pytest
import torch
import torch.nn.functional as F

from ticketkit.masks import Mask, MaskError, MaskedParams
from ticketkit.models import build_model, prunable_parameters


def random_mask(model, density, seed=0):
    g = torch.Generator().manual_seed(seed)
    return Mask({k: torch.rand(p.shape, generator=g) < density for k, p in prunable_parameters(model).items()})


def test_pruned_weights_stay_exactly_zero_through_50_sgd_steps():
    torch.manual_seed(0)
    model = build_model("resnet20", width=0.5)
    mask = random_mask(model, 0.3)
    before = mask.densities()
    masked = MaskedParams(model, mask)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    for step in range(50):
        x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        masked.apply_to_weights()
    now = Mask({k: p != 0 for k, p in prunable_parameters(model).items()})
    for k, p in prunable_parameters(model).items():
        assert torch.all(p[~mask.tensors[k]] == 0), k
    assert now.densities() == pytest.approx(before)
    # eq. (1) of the [Re] paper, by hand: p = 1 - sum ||c_l||_0 / sum m_l
    kept = sum(int(m.sum()) for m in mask.tensors.values())
    total = sum(m.numel() for m in mask.tensors.values())
    assert mask.sparsity() == pytest.approx(1 - kept / total)
    assert now.sparsity() == pytest.approx(1 - kept / total)


def test_mask_shape_and_name_checks(tmp_path):
    model = build_model("lenet300_100", in_channels=1, image_size=28)
    mask = Mask.ones_like(model)
    mask.save(tmp_path / "m.pt")
    assert Mask.load(tmp_path / "m.pt").counts() == mask.counts()
    bad = Mask({**mask.tensors, "out.weight": torch.ones(3, 3, dtype=torch.bool)})
    with pytest.raises(MaskError, match="shape"):
        bad.check(model)
    with pytest.raises(MaskError, match="missing"):
        Mask({"out.weight": mask.tensors["out.weight"]}).check(model)


def test_layer_collapse_is_reported_and_healthy_mask_is_not():
    model = build_model("vgg11", width=0.25)
    healthy = random_mask(model, 0.5)
    assert not healthy.path_report(model).collapsed
    names = healthy.names()
    cut = Mask({k: (torch.zeros_like(v) if k == names[3] else v) for k, v in healthy.tensors.items()})
    report = cut.path_report(model)
    assert report.collapsed_layers == (names[3],)
    assert not report.connected and report.collapsed


def test_residual_network_keeps_a_path_around_a_collapsed_block_conv():
    model = build_model("resnet20", width=0.5)
    mask = Mask.ones_like(model)
    name = "layers.1.conv1.weight"
    mask = Mask({k: (torch.zeros_like(v) if k == name else v) for k, v in mask.tensors.items()})
    report = mask.path_report(model)
    assert report.collapsed_layers == (name,) and report.connected
