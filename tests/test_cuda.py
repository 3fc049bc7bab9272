"""The CUDA path (bf16 autocast, channels_last, batched members): run where a GPU is present, skipped elsewhere."""
import copy

import pytest
import torch

from ticketkit.batched import train_many
from ticketkit.data import load_data
from ticketkit.masks import Mask
from ticketkit.models import build_model, prunable_parameters
from ticketkit.train import TrainSpec, precision, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
SPEC = TrainSpec(epochs=3, batch_size=60, lr=1e-3, optimizer="adam", weight_decay=0.0, augment=False)


def masked(name: str, seed: int, size: int = 8) -> tuple[torch.nn.Module, Mask]:
    torch.manual_seed(seed)
    model = build_model(name, 1, 10, size, 0.5).cuda()
    g = torch.Generator().manual_seed(50 + seed)
    return model, Mask({n: torch.rand(p.shape, generator=g) < 0.3 for n, p in prunable_parameters(model).items()})


@pytest.mark.parametrize("name", ["conv2", "resnet20", "lenet300_100"])
def test_cuda_training_runs_in_bf16_learns_and_keeps_pruned_weights_exactly_zero(name):
    data = load_data("digits", image_size=8, val_size=200).to("cuda")
    assert precision(torch.device("cuda")) == "bf16 autocast"
    model, mask = masked(name, 0)
    res = train(model, data, SPEC, mask=mask, eval_every=10)
    assert res.history[-1]["test_acc"] > 50.0  # 10 classes: chance is 10%
    for n, p in prunable_parameters(model).items():
        assert p.dtype == torch.float32 and torch.all(p[~mask.tensors[n].cuda()] == 0)
    assert res.curve and res.summary()["early_stop_iteration"] is not None


@pytest.mark.parametrize("name", ["lenet300_100", "conv2"])
def test_batched_members_on_cuda_follow_their_runs_alone(name):
    """bf16 rounding differs between batched and separate kernels, so agreement is looser than the fp32 test's:
    train losses within 0.05 and test accuracies within 3 points after 3 epochs; masks exactly zero."""
    data = load_data("digits", image_size=8, val_size=200).to("cuda")
    pairs = [masked(name, s) for s in range(4)]
    solo = [copy.deepcopy(m) for m, _ in pairs]
    alone = [train(s, data, SPEC, mask=mk, data_seed=i) for i, (s, (_, mk)) in enumerate(zip(solo, pairs))]
    together = train_many([m for m, _ in pairs], data, SPEC, masks=[mk for _, mk in pairs], data_seeds=[0, 1, 2, 3])
    for a, t in zip(alone, together):
        assert t.history[-1]["train_loss"] == pytest.approx(a.history[-1]["train_loss"], abs=0.05)
        assert t.history[-1]["test_acc"] == pytest.approx(a.history[-1]["test_acc"], abs=3.0)
    for m, mk in pairs:
        assert all(torch.all(p[~mk.tensors[n].cuda()] == 0) for n, p in prunable_parameters(m).items())


def gem_search(seed: int = 0):
    """Gem-Miner on a half-width ResNet-20 over the digits, four epochs freezing after each: (model, weights
    before, result)."""
    from ticketkit.gem_models import signed_constant_init
    from ticketkit.scoremask import SearchConfig, search

    data = load_data("digits", image_size=8, val_size=200).to("cuda")
    torch.manual_seed(seed)
    model = signed_constant_init(build_model("resnet20_gem", 1, 10, 8, 0.5)).cuda()
    before = {n: p.detach().clone() for n, p in prunable_parameters(model).items()}
    cfg = SearchConfig(density=0.05, lam=1e-4, period=1, epochs=4, batch_size=60, augment=False)
    return model, before, search(model, data, cfg), data


@pytest.mark.parametrize("graphs", ["0", "1"])
def test_gem_miner_search_and_finetune_on_cuda_meet_the_schedule_and_keep_pruned_weights_zero(graphs, monkeypatch):
    """The score search in bf16 on the GPU, eager and as CUDA graphs: flags after the last freezing event count
    exactly the target (round(total x density)), scores stay in [0, 1], the frozen weights are untouched, and
    fine-tuning under the flags keeps every pruned weight exactly zero; the graphs' first epoch's loss is within
    0.05 of the eager search's."""
    from ticketkit.scoremask import finetune, finetune_spec

    eager = gem_search()[2] if graphs == "1" else None
    monkeypatch.setenv("TICKETKIT_CUDA_GRAPHS", graphs)
    model, before, res, data = gem_search()
    total = sum(p.numel() for p in before.values())
    assert sum(int(f.sum()) for f in res.finetune_mask.tensors.values()) == round(total * 0.05)
    assert all(0.0 <= float(s.min()) and float(s.max()) <= 1.0 for s in res.scores.values())
    assert all(torch.equal(p, before[n]) for n, p in prunable_parameters(model).items())
    if eager is not None:
        assert res.history[0]["train_loss"] == pytest.approx(eager.history[0]["train_loss"], abs=0.05)
    tuned, _ = finetune(model, res.finetune_mask, data, finetune_spec(epochs=2, batch_size=60, augment=False))
    for n, p in prunable_parameters(tuned).items():
        assert torch.all(p[~res.finetune_mask.tensors[n].cuda()] == 0)


def test_cuda_graphs_train_like_eager_and_keep_pruned_weights_exactly_zero(monkeypatch):
    """TICKETKIT_CUDA_GRAPHS=1: the same masked runs, forward and backward replayed as CUDA graphs, end within the
    batched test's bf16 tolerance of the eager runs (fused kernels round differently), masks exactly zero, and
    the records say how they trained."""
    data = load_data("digits", image_size=8, val_size=200).to("cuda")
    eager = [train(m, data, SPEC, mask=mk) for m, mk in (masked("resnet20", s) for s in range(2))]
    monkeypatch.setenv("TICKETKIT_CUDA_GRAPHS", "1")
    assert precision(torch.device("cuda")) == "bf16 autocast, CUDA graphs"
    pairs = [masked("resnet20", s) for s in range(2)]
    graphed = [train(m, data, SPEC, mask=mk) for m, mk in pairs]
    for e, g in zip(eager, graphed):
        assert g.history[-1]["train_loss"] == pytest.approx(e.history[-1]["train_loss"], abs=0.05)
        assert g.history[-1]["test_acc"] == pytest.approx(e.history[-1]["test_acc"], abs=3.0)
    for m, mk in pairs:
        assert all(torch.all(p[~mk.tensors[n].cuda()] == 0) for n, p in prunable_parameters(m).items())
