"""Zhou et al.'s mask-1 and mask-0 actions against their definitions; frozen weights stay frozen bit for bit."""
import copy

import torch

from ticketkit.batched import train_many
from ticketkit.data import load_data
from ticketkit.masks import Mask
from ticketkit.models import build_model, prunable_parameters
from ticketkit.pruning.actions import MASK0, MASK1
from ticketkit.train import TrainSpec, train

WI = torch.tensor([[0.5, -0.2, 0.1], [-0.4, 0.3, -0.6]])
WF = torch.tensor([[0.7, -0.1, 0.3], [-0.2, 0.5, -0.1]])
KEEP = torch.tensor([[True, False, True], [False, True, False]])


def g():
    return torch.Generator().manual_seed(3)


def test_mask1_actions_follow_their_definitions():
    assert torch.equal(MASK1.get("rewind")(WI, KEEP, g()), WI)
    re = MASK1.get("reinit")(WI, KEEP, g())
    assert torch.equal(torch.sort(re.flatten()).values, torch.sort(WI.flatten()).values) and not torch.equal(re, WI)
    sh = MASK1.get("reshuffle")(WI, KEEP, g())
    assert torch.equal(sh[~KEEP], WI[~KEEP])  # pruned positions untouched
    assert torch.equal(torch.sort(sh[KEEP]).values, torch.sort(WI[KEEP]).values)  # kept values permuted among kept
    std = float(torch.tensor([0.5, -0.2, 0.1, -0.4, 0.3, -0.6]).std())
    assert torch.allclose(MASK1.get("signed_constant")(WI, KEEP, g()), torch.sign(WI) * std)


def test_mask0_actions_follow_their_definitions():
    assert MASK0.get("zero")(WI, WF, KEEP) is None
    assert torch.equal(MASK0.get("frozen")(WI, WF, KEEP), torch.tensor([[0.0, -0.2, 0.0], [-0.4, 0.0, -0.6]]))
    # pruned: -0.2 -> -0.1 decreased (zero), -0.4 -> -0.2 decreased (zero), -0.6 -> -0.1 decreased (zero)
    assert torch.equal(MASK0.get("frozen_unless_decreased")(WI, WF, KEEP), torch.zeros(2, 3))
    wf = WF.clone()
    wf[0, 1] = -0.9  # grew: stays frozen at its initial value
    assert torch.equal(MASK0.get("frozen_unless_decreased")(WI, wf, KEEP), torch.tensor([[0, -0.2, 0], [0, 0, 0.0]]))


def test_frozen_weights_are_bit_identical_after_fifty_optimiser_steps_alone_and_batched():
    data = load_data("digits", image_size=8)  # 1,500 training images: 50 steps at batch 30
    spec = TrainSpec(epochs=1, batch_size=30, optimizer="adam", lr=1e-2, weight_decay=1e-3, augment=False)
    torch.manual_seed(0)
    model = build_model("lenet300_100", 1, 10, 8, 0.25)
    gen = torch.Generator().manual_seed(1)
    params = prunable_parameters(model)
    keep = {n: torch.rand(p.shape, generator=gen) < 0.3 for n, p in params.items()}
    frozen = {n: torch.where(keep[n], 0.0, p.detach()) for n, p in params.items()}
    mask = Mask(keep, frozen)
    start = {n: p.detach().clone() for n, p in params.items()}
    twin = copy.deepcopy(model)
    result = train(model, data, spec, mask=mask)
    assert result.steps_per_epoch == len(data.train_y) // 30 >= 49
    train_many([twin], data, spec, masks=[mask], data_seeds=[0])
    for net in (model, twin):
        for n, p in prunable_parameters(net).items():
            assert torch.equal(p.detach()[~keep[n]], frozen[n][~keep[n]])  # exactly the initial values
            assert not torch.equal(p.detach()[keep[n]], start[n][keep[n]])  # while the kept ones trained
