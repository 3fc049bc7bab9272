"""Rare Gems: the networks against hand counts, Gem-Miner's freezing against the exponential schedule counted by
hand, Edge-Popup's masks against sorts done here, the straight-through gradient against autograd of the masked
network with respect to the mask, and the sanity checks' invariants."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from ticketkit.data import load_data
from ticketkit.gem_models import NonAffineBatchNorm2d, signed_constant_init
from ticketkit.masks import Mask
from ticketkit.models import build_model, prunable_parameters
from ticketkit.scoremask import (ScoredNet, SearchConfig, finetune, finetune_spec, freeze_counts, sanity_variant,
                                 search)
from ticketkit.train import TrainSpec, evaluate

TINY = 16_900  # weights of resnet20_gem at width 0.25 on 1 channel: 4/8/16 channels, counted in tiny_weights()


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(seed=0):
    torch.manual_seed(seed)
    return signed_constant_init(build_model("resnet20_gem", 1, 10, 8, 0.25))


def digits():
    return load_data("digits", image_size=8)


def quick(method, **kw):
    base = dict(method=method, density=0.2, period=1, epochs=3, batch_size=250, augment=False)
    return SearchConfig(**{**base, **kw})


def test_tiny_weights_hand_count():
    convs = 1 * 4 + 6 * 4 * 4 + 4 * 8 + 5 * 8 * 8 + 8 * 16 + 5 * 16 * 16  # 3x3 convs: c_in x c_out each
    assert 9 * convs + 16 * 10 == TINY == sum(p.numel() for p in prunable_parameters(tiny()).values())


def test_freeze_counts_follow_the_exponential_to_the_target():
    assert freeze_counts(1000, 0.125, 3) == [500, 250, 125]  # keep ratio 1/2 per event
    assert freeze_counts(TINY, 0.2, 2) == [7558, 3380]  # 16900 x sqrt(0.2) = 7557.9; 16900 x 0.2
    assert freeze_counts(268_336, 0.0144, 29)[-1] == 3864  # ResNet-20 at 1.44%: 3864.0384
    assert SearchConfig(epochs=150, period=5).events == 29  # the paper's 1 - target^(1/29)
    assert SearchConfig(epochs=150, period=8).events == 18
    assert SearchConfig(method="global_ep", epochs=150, period=5).events == 0


@pytest.mark.parametrize("method", ["gem_miner", "global_ep_gradual"])
def test_density_after_each_event_is_the_schedule_exactly_and_weights_stay_frozen(method):
    data, model = digits(), tiny()
    before = {n: p.detach().clone() for n, p in prunable_parameters(model).items()}
    cfg = quick(method, lr=2.0, lam=1e-2 if method == "gem_miner" else 0.0)  # a large step: the clamp must act
    res = search(model, data, cfg, seed=3)
    assert [round(h["bound"] * TINY) for h in res.history] == [7558, 3380, 3380]  # events after epochs 1 and 2
    assert [h["schedule"] for h in res.history] == pytest.approx([math.sqrt(0.2), 0.2, 0.2])
    assert sum(k for k, _ in res.finetune_mask.counts().values()) == 3380
    assert all(torch.equal(p, before[n]) for n, p in prunable_parameters(model).items())
    assert (res.epochs, res.history[-1]["epoch"]) == (3, 3) and res.seconds > 0
    if method == "gem_miner":
        scores = torch.cat([s.flatten() for s in res.scores.values()])
        assert scores.min() >= 0 and scores.max() <= 1 and ((scores == 0) | (scores == 1)).any()
        for n, m in res.mask.tensors.items():  # found mask = 1[score > 0.5] x flags, inside the flags
            assert torch.equal(m, (res.scores[n] > 0.5) & res.finetune_mask.tensors[n])
    else:
        assert res.mask is res.finetune_mask and res.history[-1]["density"] == 3380 / TINY
    net = copy.deepcopy(model)  # pre-finetune accuracy: the masked frozen network, evaluated here by hand
    with torch.no_grad():
        for n, p in prunable_parameters(net).items():
            p.mul_(res.mask.tensors[n])
    assert res.pre_finetune_acc == evaluate(net, data, data.test_x, data.test_y)[0]


@pytest.mark.parametrize("inverted", [False, True])
def test_freezing_flags_off_the_lowest_scores_and_inversion_the_highest(inverted):
    cfg = quick("gem_miner", epochs=2, lr=1e-12, schedule="constant", inverted=inverted)  # scores do not move
    res = search(tiny(), digits(), cfg, seed=5)
    scores = torch.cat([s.flatten() for s in res.scores.values()])
    flags = torch.cat([f.flatten() for f in res.finetune_mask.tensors.values()])
    kept = round(TINY * 0.2)
    order = torch.sort(scores, descending=not inverted).indices
    want = torch.zeros_like(flags)
    want[order[:kept]] = True
    assert int(flags.sum()) == kept and torch.equal(flags, want)


def test_freeze_only_considers_weights_still_active():
    net = ScoredNet(tiny(), "gem_miner", torch.Generator().manual_seed(0))
    net.freeze(8000)
    with torch.no_grad():  # frozen weights now score highest: a second event must still leave them off
        for n, s in net.scores.items():
            s[~net.flags[n]] = 1.0
    active = torch.cat([f.flatten() for f in net.flags.values()])
    net.freeze(3000)
    scores = torch.cat([s.detach().flatten() for s in net.scores.values()])
    flags = torch.cat([f.flatten() for f in net.flags.values()])
    assert int(flags.sum()) == 3000 and not (flags & ~active).any()
    assert scores[flags].min() > scores[active & ~flags].max()


def test_freezing_breaks_ties_at_random_not_by_layer_position():
    net = ScoredNet(tiny(), "gem_miner", torch.Generator().manual_seed(0))
    with torch.no_grad():  # every score clamped to 0: all tied
        for s in net.scores.values():
            s.zero_()
    net.freeze(TINY // 2)
    per_layer = [float(f.float().mean()) for f in net.flags.values()]
    assert int(sum(int(f.sum()) for f in net.flags.values())) == TINY // 2
    assert all(0.3 < d < 0.7 for d in per_layer), per_layer  # each layer loses about half, none all or nothing


def test_gem_miner_gradient_goes_straight_through_to_the_scores():
    model = tiny(1)
    net = ScoredNet(model, "gem_miner", torch.Generator().manual_seed(1))
    net.freeze(10_000)
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
    model.train()
    F.cross_entropy(net.forward(x), y).backward()
    masks = {n: ((s.detach() > 0.5) & net.flags[n]).float().requires_grad_(True) for n, s in net.scores.items()}
    eff = {n: w * masks[n] for n, w in net.weights.items()}
    F.cross_entropy(functional_call(model, eff, (x,)), y).backward()
    for n, s in net.scores.items():
        want = masks[n].grad * net.flags[n]  # dL/dmask, nothing for frozen-off weights
        assert torch.allclose(s.grad, want, atol=1e-7) and s.grad.abs().sum() > 0
        assert net.weights[n].grad is None and not net.weights[n].requires_grad


def test_edge_popup_gradient_goes_through_the_absolute_score():
    model = tiny(2)
    net = ScoredNet(model, "ep", torch.Generator().manual_seed(2))
    net.density = 0.3
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
    F.cross_entropy(net.forward(x), y).backward()
    masks = {n: m.float().requires_grad_(True) for n, m in net.hard_masks().items()}
    F.cross_entropy(functional_call(model, {n: w * masks[n] for n, w in net.weights.items()}, (x,)), y).backward()
    for n, s in net.scores.items():
        assert torch.allclose(s.grad, masks[n].grad * torch.sign(s.detach()), atol=1e-7)


def test_edge_popup_keeps_exactly_k_per_layer_and_global_exactly_k_overall():
    ep = ScoredNet(tiny(), "ep", torch.Generator().manual_seed(4))
    ep.density = 0.3
    for n, m in ep.hard_masks().items():
        a = ep.scores[n].detach().abs().flatten()
        k = a.numel() - int(0.7 * a.numel())  # hidden-networks' GetSubnet: int((1 - k) n) pruned
        want = torch.zeros_like(a, dtype=torch.bool)
        want[torch.sort(a, descending=True).indices[:k]] = True
        assert int(m.sum()) == k and torch.equal(m.flatten(), want)
    ep.density = 0.0059  # the cpu scale's sparsest: a layer of 72 weights keeps one (0.42 would round to none)
    assert [int(m.sum()) for m in ep.hard_masks().values()] == [
        n - int(0.9941 * n) for n in (p.numel() for p in ep.weights.values())]
    assert min(int(m.sum()) for m in ep.hard_masks().values()) >= 1
    glob = ScoredNet(tiny(), "global_ep", torch.Generator().manual_seed(4))
    glob.density = 0.3
    kept = torch.cat([m.flatten() for m in glob.hard_masks().values()])
    a = torch.cat([s.detach().abs().flatten() for s in glob.scores.values()])
    want = torch.zeros_like(kept)
    want[torch.sort(a, descending=True).indices[:round(0.3 * TINY)]] = True
    assert int(kept.sum()) == round(0.3 * TINY) and torch.equal(kept, want)
    per_layer = [int(m.sum()) / m.numel() for m in glob.hard_masks().values()]
    assert max(per_layer) - min(per_layer) > 0.05  # one threshold, not one fraction per layer


def test_resnet20_gem_is_their_resnet20():
    model = build_model("resnet20_gem")
    convs = 3 * 16 + 6 * 16 * 16 + 16 * 32 + 5 * 32 * 32 + 32 * 64 + 5 * 64 * 64  # 19 3x3 convs
    assert sum(p.numel() for p in model.parameters()) == 9 * convs + 64 * 10 == 268_336  # nothing but weights
    params = prunable_parameters(model)
    assert len(params) == 20 and tuple(params["head.fc.weight"].shape) == (10, 64, 1, 1)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 19 and all(isinstance(m, NonAffineBatchNorm2d) and not m.affine for m in bns)
    assert all(not list(m.parameters()) for m in bns)
    assert all(m.bias is None for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    block = model.layers[3]  # first block of stage 2: 16 -> 32 channels at stride 2
    with torch.no_grad():
        block.conv1.weight.zero_()
        block.conv2.weight.zero_()
    x = torch.randn(2, 16, 8, 8)
    want = torch.cat([torch.zeros(2, 8, 4, 4), x[:, :, ::2, ::2], torch.zeros(2, 8, 4, 4)], 1).relu()
    assert torch.equal(block.train()(x), want)  # option A: strided identity, zero channels either side


def test_signed_constant_init_keeps_signs_at_the_kaiming_std():
    torch.manual_seed(7)
    model = build_model("resnet20_gem", 1, 10, 8, 0.25)
    before = {n: p.detach().clone() for n, p in prunable_parameters(model).items()}
    signed_constant_init(model)
    for n, p in prunable_parameters(model).items():
        fan_in = before[n].shape[1] * before[n].shape[2] * before[n].shape[3]
        assert torch.equal(p.abs(), torch.full_like(p, math.sqrt(2 / fan_in)))
        assert torch.equal(torch.sign(p), torch.sign(before[n]))


def test_sanity_variants_shuffle_counts_and_reinit_keeps_the_mask():
    model = tiny()
    g = torch.Generator().manual_seed(0)
    gem = Mask({n: torch.rand(p.shape, generator=g) < 0.1 for n, p in prunable_parameters(model).items()})
    net, shuffled = sanity_variant(model, gem, "shuffle", seed=1)
    assert shuffled.counts() == gem.counts()
    assert any(not torch.equal(shuffled.tensors[n], m) for n, m in gem.tensors.items())
    net, same = sanity_variant(model, gem, "reinit", seed=1)
    assert same is gem
    for n, p in prunable_parameters(net).items():
        kept = p[gem.tensors[n]]
        assert kept.abs().unique().numel() == kept.numel()  # Kaiming normal, no longer constant magnitudes
        assert not p[~gem.tensors[n]].any()
    assert all(p.abs().unique().numel() == 1 for p in prunable_parameters(model).values())  # model untouched
    with pytest.raises(ValueError, match="unknown sanity check 'invert'"):
        sanity_variant(model, gem, "invert", seed=1)


def test_finetune_trains_the_kept_weights_of_a_copy():
    data, model = digits(), tiny()
    g = torch.Generator().manual_seed(0)
    gem = Mask({n: torch.rand(p.shape, generator=g) < 0.3 for n, p in prunable_parameters(model).items()})
    spec = TrainSpec(epochs=1, batch_size=250, lr=0.01, schedule="constant", augment=False)
    net, result = finetune(model.requires_grad_(False), gem, data, spec)
    for n, p in prunable_parameters(net).items():
        start = prunable_parameters(model)[n]
        assert not p[~gem.tensors[n]].any() and not torch.equal(p[gem.tensors[n]], start[gem.tensors[n]])
    assert len(result.history) == 1
    assert finetune_spec().milestones[0] * 150 == 80 and finetune_spec().lr == 0.01


@pytest.mark.parametrize("kwargs,match", [
    (dict(density=0.0), r"density 0.0 is not a kept fraction in \(0, 1\]"),
    (dict(density=1.44), "write 1.44% density as 0.0144"),
    (dict(density=float("nan")), "not a kept fraction"),
    (dict(method="edge_popup"), "unknown search method 'edge_popup'; choose one of: gem_miner, ep"),
    (dict(period=150, epochs=150), "period 150 does not fit in 150 epochs"),
    (dict(period=0), r"period \(0\) must all be at least 1"),
    (dict(method="global_ep", inverted=True), "score inversion acts on Gem-Miner"),
    (dict(lam=-1e-4), "need lam >= 0"),
    (dict(schedule="step"), "unknown schedule 'step'"),
])
def test_bad_search_config_is_refused_before_training(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SearchConfig(**kwargs)


def test_a_tracked_search_finds_the_same_mask_and_records_each_epochs_test_accuracy():
    data = digits()
    plain = search(tiny(), data, quick("gem_miner", lr=2.0, lam=1e-2), seed=3)
    model = tiny()
    res = search(model, data, quick("gem_miner", lr=2.0, lam=1e-2, track=True), seed=3)
    assert all(torch.equal(m, plain.mask.tensors[n]) for n, m in res.mask.tensors.items())
    assert [h["density"] for h in res.history] == [h["density"] for h in plain.history]
    assert "test_acc" not in plain.history[-1]
    net = copy.deepcopy(model)  # the last epoch's accuracy: the found mask on the frozen network, by hand
    with torch.no_grad():
        for n, p in prunable_parameters(net).items():
            p.mul_(res.mask.tensors[n])
    assert res.history[-1]["test_acc"] == evaluate(net, data, data.test_x, data.test_y)[0]
    assert all(0 <= h["test_acc"] <= 100 for h in res.history)
