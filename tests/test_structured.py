"""Filter pruning (Li et al.): the published channel plans and FLOPs, kept weights, Scratch-B's budget."""
import pytest
import torch
from torch import nn

from ticketkit.models import build_model
from ticketkit.structured import VGG16_A, filter_prune, flops, largest_l1, resnet_mids, scratch_b_epochs


def vgg_hand_count(cfg, size=32, in_channels=3, classes=10):
    """Multiply-accumulates of a CIFAR VGG by hand: 9 * c_in * c_out * H * W per conv, then the linear head."""
    total, c_in = 0, in_channels
    for v in cfg:
        if v == "M":
            size //= 2
        else:
            total += 9 * c_in * v * size * size
            c_in = v
    return total + c_in * classes


def test_vgg16_a_has_the_published_channels_and_the_flops_of_a_hand_count():
    full = build_model("vgg16")
    small = filter_prune(full, "vgg16_a")
    assert [m.out_channels for m in small.modules() if isinstance(m, nn.Conv2d)] == [v for v in VGG16_A if v != "M"]
    full_cfg = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
    assert flops(full) == vgg_hand_count(full_cfg) == 313_201_664
    assert flops(small) == vgg_hand_count(VGG16_A) == 206_146_048
    assert 1 - flops(small) / flops(full) == pytest.approx(0.342, abs=5e-4)  # Li et al.: 34.2% fewer FLOPs
    assert scratch_b_epochs(160, flops(full), flops(small)) == round(160 * 313_201_664 / 206_146_048) == 243


@pytest.mark.parametrize("name, plan, published", [  # FLOPs as Li et al. (2017), Table 2, report them
    ("resnet56", "resnet56_a", 1.12e8), ("resnet56", "resnet56_b", 9.09e7),
    ("resnet110", "resnet110_a", 2.13e8), ("resnet110", "resnet110_b", 1.55e8)])
def test_resnet_plans_give_li_et_al_s_flops(name, plan, published):
    assert flops(filter_prune(build_model(name), plan)) == pytest.approx(published, rel=5e-3)


def test_resnet56_b_prunes_only_first_convs_by_stage_and_skips_the_listed_layers():
    mids = resnet_mids(build_model("resnet56"), 56, "B")
    skipped = {(layer - 2) // 2 for layer in (16, 18, 20, 34, 38, 54)}  # block index of each skipped conv id
    want = [(16, 32, 64)[i // 9] if i in skipped else (6, 22, 57)[i // 9] for i in range(27)]  # int(c x (1 - p))
    assert list(mids) == want


@pytest.mark.parametrize("name, plan", [("vgg16", "vgg16_a"), ("resnet56", "resnet56_b")])
def test_the_small_network_computes_what_the_big_one_does_with_the_dropped_channels_silenced(name, plan):
    torch.manual_seed(0)
    big = build_model(name, width=1.0).eval()
    for m in big.modules():  # non-trivial BN statistics, so copying them matters
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2)
            m.weight.data.normal_()
            m.bias.data.normal_()
    small = filter_prune(big, plan).eval()
    convs = [m for m in big.modules() if isinstance(m, nn.Conv2d)]
    small_convs = [m for m in small.modules() if isinstance(m, nn.Conv2d)]
    hooks = []
    for conv, s_conv in zip(convs, small_convs):
        if s_conv.out_channels < conv.out_channels:  # silence dropped filters' BN outputs (then ReLU gives 0)
            norms = torch.stack([conv.weight[i].abs().sum() for i in range(conv.out_channels)])
            dropped = torch.argsort(norms)[: conv.out_channels - s_conv.out_channels]
            bn = next(m for m in big.modules() if isinstance(m, nn.BatchNorm2d) and m.num_features == conv.out_channels
                      and _follows(big, conv, m))
            hooks.append(bn.register_forward_hook(lambda m, i, o, d=dropped: o.index_fill(1, d, 0.0)))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(small(x), big(x), atol=1e-4)
    for h in hooks:
        h.remove()


def _follows(model, conv, bn):
    """Whether `bn` is the module right after `conv` in registration order."""
    mods = list(model.modules())
    return mods.index(bn) == mods.index(conv) + 1


def test_largest_l1_ranks_filters_by_their_absolute_sum():
    w = torch.tensor([[1.0, -1.0], [3.0, 0.0], [-0.5, 0.2], [2.0, 2.0]]).view(4, 2, 1, 1)  # norms 2, 3, 0.7, 4
    assert largest_l1(w, 2).tolist() == [1, 3]


def test_a_plan_for_the_wrong_network_is_refused():
    with pytest.raises(ValueError, match="needs a ResNet-110"):
        filter_prune(build_model("resnet56"), "resnet110_a")
    with pytest.raises(ValueError, match="no filter-pruning plan"):
        filter_prune(build_model("conv2"), "vgg16_a")


def test_structured_runs_fine_tune_the_trained_network_and_give_scratch_b_the_same_computation(monkeypatch):
    import ticketkit.structured_runs as sr
    from ticketkit.experiments import lottery_structured as st
    from ticketkit.grid import grid
    from ticketkit.store import Store

    S = st.get_scale("smoke", plans=["vgg16_a"], seeds=[0], epochs=2)
    starts = []
    real = sr.train

    def spy(model, data, spec, **kw):
        starts.append((kw["desc"], spec.epochs, {k: v.detach().clone() for k, v in model.state_dict().items()}))
        return real(model, data, spec, **kw)

    monkeypatch.setattr(sr, "train", spy)
    cfgs = st.structured(S)
    grid(cfgs, Store(), progress=False)
    assert [d.split()[-1] for d, _, _ in starts] == ["unpruned", "finetuned", "scratch_e", "scratch_b"]
    recs = {dict(c.options)["arm"]: Store().get(c) for c in cfgs}
    full = build_model("vgg16", 3, 10, 32, 0.125)
    full.load_state_dict(sr.trained.load(cfgs[0])["final"])  # the trained unpruned network
    kept = filter_prune(full, "vgg16_a", 0.125).state_dict()
    assert all(torch.equal(starts[1][2][k].cpu(), kept[k]) for k in kept)  # fine-tuning starts from its kept weights
    ratio = recs["unpruned"]["flops"] / recs["scratch_e"]["flops"]
    assert recs["scratch_b"]["epochs_trained"] == round(2 * ratio) == starts[3][1] > starts[2][1] == 2
    assert recs["finetuned"]["epochs_trained"] == 1 and recs["finetuned"]["params"] < recs["unpruned"]["params"]
