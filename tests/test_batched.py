"""K tickets trained as one model: the same data order, masks and numbers as K runs alone.

Tolerance: members agree with their separate runs to 1e-4 in every weight and loss after two epochs (fp32;
the batched matmuls sum in another order, so bitwise equality is not expected); accuracies to 1 test image.
"""
import copy

import pytest
import torch
import torch.nn.functional as F

from ticketkit.batched import Stack, _streams, batches_well, train_many
from ticketkit.data import batches, load_data
from ticketkit.grid import grid, plan
from ticketkit.masks import Mask
from ticketkit.models import build_model, prunable_parameters
from ticketkit.runs import RunConfig, execute
from ticketkit.store import Store
from ticketkit.train import TrainSpec, train

SPEC = TrainSpec(epochs=2, batch_size=60, lr=1.2e-3, optimizer="adam", weight_decay=0.0, augment=False)


def members(k: int, name: str = "lenet300_100", channels: int = 1, size: int = 8):
    """k differently seeded networks with k different random masks."""
    models, masks = [], []
    for i in range(k):
        torch.manual_seed(i)
        models.append(build_model(name, channels, 10, size, 0.5))
        g = torch.Generator().manual_seed(100 + i)
        masks.append(Mask({n: torch.rand(p.shape, generator=g) < 0.2 + 0.2 * i
                           for n, p in prunable_parameters(models[-1]).items()}))
    return models, masks


def test_each_member_draws_exactly_the_batches_it_draws_alone():
    data = load_data("digits", image_size=8)
    seeds = [3, 4, 5]
    together = list(_streams(data.train_x, data.train_y, 60, [torch.Generator().manual_seed(s) for s in seeds]))
    for m, s in enumerate(seeds):
        alone = list(batches(data.train_x, data.train_y, 60, torch.Generator().manual_seed(s), shuffle=True,
                             drop_last=True))
        assert len(alone) == len(together)
        assert all(torch.equal(a[1], t[m][1]) and torch.equal(a[0], t[m][0]) for a, t in zip(alone, together))


def test_a_batch_of_members_matches_the_same_runs_alone_and_keeps_masks_zero():
    data = load_data("digits", image_size=8, val_size=200)
    models, masks = members(3)
    solo = [copy.deepcopy(m) for m in models]
    alone = [train(s, data, SPEC, mask=mk, data_seed=7 + i) for i, (s, mk) in enumerate(zip(solo, masks))]
    together = train_many(models, data, SPEC, masks=masks, data_seeds=[7, 8, 9])
    for a, t in zip(alone, together):
        for ha, ht in zip(a.history, t.history):
            assert ht["train_loss"] == pytest.approx(ha["train_loss"], abs=1e-4)
            assert ht["val_loss"] == pytest.approx(ha["val_loss"], abs=1e-4)
            assert ht["test_acc"] == pytest.approx(ha["test_acc"], abs=100 / len(data.test_y) + 1e-9)
    for s, m, mk in zip(solo, models, masks):
        for (name, p), q in zip(prunable_parameters(m).items(), prunable_parameters(s).values()):
            assert torch.allclose(p, q, atol=1e-4)
            assert torch.all(p[~mk.tensors[name]] == 0)
    # the members really differ (distinct seeds, masks and data), so agreement is not trivial
    assert together[0].history[-1]["train_loss"] != together[2].history[-1]["train_loss"]


def test_curves_checkpoints_and_a_mid_epoch_start_match_the_runs_alone():
    data = load_data("digits", image_size=8, val_size=200)
    models, masks = members(2)
    solo = [copy.deepcopy(m) for m in models]
    kw = {"start_step": 25, "eval_every": 10, "checkpoint_steps": (30,)}  # 21 steps an epoch: starts mid-epoch 2
    alone = [train(s, data, SPEC, mask=mk, data_seed=i, **kw) for i, (s, mk) in enumerate(zip(solo, masks))]
    together = train_many(models, data, SPEC, masks=masks, data_seeds=[0, 1], **kw)
    for a, t in zip(alone, together):
        assert [c["iteration"] for c in t.curve] == [c["iteration"] for c in a.curve] == [30, 40]
        for ca, ct in zip(a.curve, t.curve):
            assert ct["val_loss"] == pytest.approx(ca["val_loss"], abs=1e-4)
            assert ct["train_loss"] == pytest.approx(ca["train_loss"], abs=1e-4)
        assert a.checkpoints.keys() == t.checkpoints.keys() == {30}
        for name, w in a.checkpoints[30].items():
            assert torch.allclose(t.checkpoints[30][name], w, atol=1e-4), name
    assert len(alone[0].history) == 1  # only the second epoch's remainder trained


def test_batchnorm_members_get_their_own_gradients_and_running_statistics():
    torch.manual_seed(0)
    nets = [build_model("resnet20", 3, 10, 16, 0.25) for _ in range(2)]
    x, y = torch.randn(2, 6, 3, 16, 16), torch.randint(0, 10, (2, 6))
    stack = Stack(nets)
    F.cross_entropy(stack.forward(x).transpose(1, 2), y, reduction="none").mean(1).sum().backward()
    for i, net in enumerate(nets):
        F.cross_entropy(net(x[i]), y[i]).backward()  # autograd on the member alone is the reference
        for name, p in net.named_parameters():
            assert torch.allclose(stack.params[name].grad[i], p.grad, atol=1e-5), name
        for name, b in net.named_buffers():
            assert torch.allclose(stack.buffers[name][i].float(), b.float(), atol=1e-6), name
    assert not batches_well(nets[0]) and batches_well(build_model("lenet300_100", 1, 10, 8))


def cfgs(seeds, method="random_uniform", density=0.3, **kw):
    return [RunConfig("digits", "lenet300_100", method=method, density=density, seed=s, image_size=8,
                      train=TrainSpec(epochs=1, batch_size=60, lr=1e-3, optimizer="adam", augment=False), **kw)
            for s in seeds]


def test_plan_groups_compatible_runs_k_at_a_time_and_keeps_others_apart():
    a = cfgs(range(5))
    b = cfgs(range(2), width=0.5)
    tasks = plan(a + b, batch=2)
    assert [len(t) for t in tasks] == [2, 2, 1, 2]
    assert [c for t in tasks for c in t] == a + b
    assert [len(t) for t in plan(a, batch=1)] == [1] * 5
    with pytest.raises(ValueError, match="batch must be a positive number"):
        plan(a, batch=0)


def test_auto_batch_trains_conv_nets_alone():
    for net in ("resnet20", "conv2"):
        convs = [RunConfig("synthetic", net, seed=s, width=0.25) for s in range(3)]
        assert [len(t) for t in plan(convs)] == [1, 1, 1]
    assert len(plan(cfgs(range(4)))[0]) == 4


def test_grid_batch_records_equal_separate_records_under_the_same_hash():
    runs = cfgs(range(3)) + cfgs([0], method="snip")
    df = grid(runs, progress=False, batch=4)
    store = Store()
    for c in runs:
        rec = store.get(c)
        assert rec["key"] == c.key() and rec["batch"] == 4
        alone = execute(c)
        assert alone["batch"] == 1 and alone["layer_densities"] == rec["layer_densities"]
        assert rec["history"][-1]["train_loss"] == pytest.approx(alone["history"][-1]["train_loss"], abs=1e-4)
    assert len(df) == 4


def test_cli_rejects_a_batch_size_below_one_before_anything_runs(capsys):
    from ticketkit.__main__ import main

    with pytest.raises(SystemExit) as err:
        main(["run", "su", "--profile", "smoke", "--batch", "0"])
    assert err.value.code == 2 and "expected a whole number of runs >= 1, got '0'" in capsys.readouterr().err
