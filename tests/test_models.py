"""Parameter counts against the published sizes, computed by formula here."""
import pytest
import torch

from ticketkit.models import MODELS, VGG_CFGS, build_model, prunable_parameters


def n_weights(model):
    return sum(p.numel() for p in prunable_parameters(model).values())


def test_lenet_300_100_has_266610_parameters_with_biases():
    m = build_model("lenet300_100", in_channels=1, num_classes=10, image_size=28)
    expected = (784 * 300 + 300) + (300 * 100 + 100) + (100 * 10 + 10)
    assert expected == 266_610
    assert sum(p.numel() for p in m.parameters()) == expected


@pytest.mark.parametrize("depth,approx", [(20, 0.27e6), (32, 0.46e6)])
def test_cifar_resnet_weight_counts(depth, approx):
    n = (depth - 2) // 6
    # conv1, then per stage: 2n 3x3 convs, the first of stages 2 and 3 widening; then the 64 -> 10 linear head
    convs = 3 * 16 + 2 * n * 16 * 16 + 16 * 32 + (2 * n - 1) * 32 * 32 + 32 * 64 + (2 * n - 1) * 64 * 64
    expected = 9 * convs + 64 * 10
    got = n_weights(build_model(f"resnet{depth}"))
    assert got == expected
    assert abs(got - approx) / approx < 0.02


def test_vgg19_has_about_20m_weights():
    chans = [c for c in VGG_CFGS[19] if c != "M"]
    expected = 9 * sum(a * b for a, b in zip([3] + chans[:-1], chans)) + 512 * 10
    got = n_weights(build_model("vgg19"))
    assert got == expected
    assert 19.9e6 < got < 20.1e6


def test_su_resnet32_is_twice_as_wide_with_projection_shortcuts():
    m = build_model("resnet32_2x")
    convs = [p for p in prunable_parameters(m).values() if p.dim() == 4]
    assert convs[0].shape[0] == 32 and convs[-1].shape[0] == 128
    assert sum(1 for p in convs if p.shape[-1] == 1) == 2  # the two 1x1 projection shortcuts


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_takes_channels_classes_and_size(name):
    torch.manual_seed(0)
    m = build_model(name, in_channels=1, num_classes=7, image_size=32, width=0.25).eval()
    assert m(torch.zeros(2, 1, 32, 32)).shape == (2, 7)


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(KeyError, match="unknown model 'vgg20'.*vgg19"):
        build_model("vgg20")
