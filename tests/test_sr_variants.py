"""Smart-ratio variants v1-v6 (seed 004, appendix B): definitions by hand, exact totals, and eq. 1 tuning."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ticketkit.models import build_model
from ticketkit.pruning import allocators as A
from ticketkit.pruning import sr_variants as V


def small_net(seed=0):
    """Convs of 18, 72, 144 weights and a Linear of 20: 254 prunable weights, L = 4."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.ReLU(), nn.Conv2d(2, 4, 3, bias=False), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, bias=False), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 5, bias=False))


def small_batches(n=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(16, 1, 8, 8, generator=g), torch.randint(0, 5, (16,), generator=g)) for _ in range(n)]


def kept(sizes, dens):
    return sum(dens[k] * n for k, n in sizes.items())


SMALL = {"0.weight": 18, "2.weight": 72, "4.weight": 144, "8.weight": 20}


pytestmark = pytest.mark.usefixtures("one_thread")


def test_v1_is_su_counts_with_the_floored_remainder_handed_back():
    # Su (resnet form): shares 20, 12, 6 for the convs, Linear int(0.3*20)=6; conv budget int(0.4*254)-6=95
    # = c*(20*18+12*72+6*144) = 2088c -> 16.38, 39.30, 39.30 -> floors 16, 39, 39: 100 kept, target round(101.6)=102.
    # Scaling by 102/100: 16.32, 39.78, 39.78, 6.12 -> the two largest remainders get one more: 16, 40, 40, 6.
    model = small_net()
    assert A.smart_ratio(SMALL, {"8.weight"}, 0.4) == {"0.weight": 16, "2.weight": 39, "4.weight": 39, "8.weight": 6}
    d = V.sr_v1(V.SRContext(model, 0.4))
    assert {k: round(d[k] * n) for k, n in SMALL.items()} == {"0.weight": 16, "2.weight": 40, "4.weight": 40,
                                                              "8.weight": 6}


def test_v1_keeps_a_1x1_conv_classifier_at_smart_ratios_linear_density():
    # Rare Gems' networks end in a 1x1 conv; SR still gives the last layer 30% (004, Figure 7 text)
    torch.manual_seed(0)
    conv_head = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.ReLU(), nn.Conv2d(2, 4, 3, bias=False), nn.ReLU(),
                              nn.Conv2d(4, 4, 3, bias=False), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                              nn.Conv2d(4, 5, 1, bias=False), nn.Flatten())
    d = V.sr_v1(V.SRContext(conv_head, 0.4))
    assert list(d.values()) == list(V.sr_v1(V.SRContext(small_net(), 0.4)).values())
    assert d["7.weight"] == 0.3


def test_v3_first_and_last_dense_middle_keeps_smart_ratio_shape():
    # first and last dense: 18 + 20 = 38; middle budget 101.6 - 38 = 63.6 on v1's 40/72 and 40/144 (ratio 2:1)
    # -> 31.8 and 31.8 weights -> floors 31, 31 (100 in all), both remainders .8 get one more: 32, 32 (102)
    d = V.sr_v3(V.SRContext(small_net(), 0.4))
    assert d == {"0.weight": 1.0, "2.weight": 32 / 72, "4.weight": 32 / 144, "8.weight": 1.0}
    assert kept(SMALL, d) == pytest.approx(102)


def test_v2_takes_gem_miners_first_and_last_densities_and_rebalances_the_middle():
    # GM's ends 0.5 (9 weights) and 0.75 (15): middle budget 101.6 - 24 = 77.6 = 0.97 * (40 + 40) -> 38.8, 38.8
    # -> 39, 39; GM's middle densities are ignored
    gm = [0.5, 0.9, 0.01, 0.75]
    d = V.sr_v2(V.SRContext(small_net(), 0.4, gm_densities=gm))
    assert d == {"0.weight": 0.5, "2.weight": 39 / 72, "4.weight": 39 / 144, "8.weight": 0.75}


@pytest.mark.parametrize("density", [0.0144, 0.0372, 0.2])
def test_v1_v2_v3_meet_the_target_on_resnet20(density):
    model = build_model("resnet20")
    sizes = V.layer_sizes(model)
    gm = {k: 0.02 for k in sizes} | {"conv1.weight": 0.6, "fc.weight": 0.5}
    ctx = V.SRContext(model, density, gm_densities=gm)
    target = round(density * sum(sizes.values()))
    for name in ("sr_v1", "sr_v2", "sr_v3"):
        d = V.SR_VARIANTS.get(name)(ctx)
        assert list(d) == list(sizes) and all(0.0 <= v <= 1.0 for v in d.values())
        assert kept(sizes, d) == pytest.approx(target, abs=1e-6), name
        assert V.exact_counts(sizes, d, density) == {k: round(d[k] * n) for k, n in sizes.items()}


def test_v4_picks_the_best_point_of_the_ball_around_imp():
    imp = {"0.weight": 0.5, "2.weight": 0.5, "4.weight": 0.3, "8.weight": 0.6}  # 9 + 36 + 43.2 + 12 = 100.2
    best = V.search_densities(SMALL, imp, 0.4, score=lambda d: d["4.weight"], radius=0.25)
    # the candidate raising layer 4 by 25% (0.375 -> 54 weights), the other layers scaled down to fit 102 in all
    assert round(best["4.weight"] * 144) == 54 and kept(SMALL, best) == pytest.approx(102)
    assert best == V.fill(SMALL, imp, 0.4, fixed={"4.weight": 0.375})


def two_paths(seed=0):
    """Logits = signal(x) + noise(z): labels come from the signal path alone, so keeping more of the noise path and
    less of the signal path can only hurt."""
    torch.manual_seed(seed)

    class TwoPaths(nn.Module):
        def __init__(self):
            super().__init__()
            self.signal, self.noise = nn.Linear(6, 3, bias=False), nn.Linear(6, 3, bias=False)

        def forward(self, x):
            return self.signal(x[:, :6]) + self.noise(x[:, 6:])

    net = TwoPaths()
    with torch.no_grad():
        net.signal.weight.normal_(0, 2.0)
        net.noise.weight.normal_(0, 2.0)
    x = torch.randn(256, 12)
    with torch.no_grad():
        y = net.signal(x[:, :6]).argmax(1)
    return net, [(x[i:i + 64], y[i:i + 64]) for i in range(0, 256, 64)]


def mc_loss(net, batches, dens, samples=400, seed=99):
    """Eq. 1 estimated independently: mean cross-entropy over many Bernoulli masks on all the data."""
    g = torch.Generator().manual_seed(seed)
    x, y = torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])
    total = 0.0
    with torch.no_grad():
        for _ in range(samples):
            params = {k: p * torch.bernoulli(torch.full_like(p, dens[k]), generator=g)
                      for k, p in net.named_parameters()}
            total += float(F.cross_entropy(torch.func.functional_call(net, params, (x,)), y))
    return total / samples


@pytest.mark.parametrize("seed", [0, 1])
def test_tuning_lowers_the_sampled_loss_and_keeps_the_budget(seed):
    net, batches = two_paths(seed)
    sizes = V.layer_sizes(net)
    start = {"signal.weight": 0.2, "noise.weight": 0.8}
    before = {k: p.clone() for k, p in net.state_dict().items()}
    tuned = V.tune_densities(net, batches, start, 0.5, steps=60, lr=0.5, seed=seed)
    assert all(0.0 <= v <= 1.0 for v in tuned.values()) and kept(sizes, tuned) == pytest.approx(18)
    assert tuned["signal.weight"] > start["signal.weight"]
    assert mc_loss(net, batches, tuned) < mc_loss(net, batches, start) - 0.1
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())  # the caller's model is untouched


def test_v4_v5_v6_from_the_registry_meet_the_target():
    model, data = small_net(), small_batches()
    imp = [0.9, 0.5, 0.3, 0.8]
    ctx = V.SRContext(model, 0.3, gm_densities=[0.7, 0.3, 0.3, 0.9], imp_densities=imp, batches=data, steps=5)
    for name in ("sr_v4", "sr_v5", "sr_v6"):
        d = V.SR_VARIANTS.get(name)(ctx)
        assert all(0.0 <= v <= 1.0 for v in d.values()) and kept(SMALL, d) == pytest.approx(round(0.3 * 254))
    assert V.SR_VARIANTS.names() == [f"sr_v{i}" for i in range(1, 7)]


def test_bad_input_raises_one_clear_error():
    model = small_net()
    for density in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"density must be in \(0, 1\]"):
            V.sr_v1(V.SRContext(model, density))
        with pytest.raises(ValueError, match=r"density must be in \(0, 1\]"):
            V.tune_densities(model, small_batches(), [0.5] * 4, density, steps=1, lr=0.1)
    with pytest.raises(ValueError, match="expected one density per prunable layer .4.*got 3"):
        V.sr_v2(V.SRContext(model, 0.3, gm_densities=[0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match="expected one density per prunable layer"):
        V.tune_densities(model, small_batches(), [0.3] * 5, 0.3, steps=1, lr=0.1)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        V.search_densities(SMALL, [0.5, 1.2, 0.3, 0.3], 0.3, score=lambda d: 0.0)
    with pytest.raises(ValueError, match="needs SRContext.imp_densities"):
        V.sr_v4(V.SRContext(model, 0.3, batches=small_batches()))
    with pytest.raises(ValueError, match="re-iterable"):
        V.tune_densities(model, iter([]), [0.3] * 4, 0.3, steps=1, lr=0.1)
