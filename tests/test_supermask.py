"""Supermasks: accuracy at initialisation is a plain forward pass of the masked net; the learned supermask's
gradient reaches the scores straight through the sampled bits and never touches the weights."""
import copy

import torch
import torch.nn.functional as F
from torch.func import functional_call

from ticketkit.data import load_data
from ticketkit.masks import Mask
from ticketkit.models import build_model, prunable_parameters
from ticketkit.supermask import Supermask, accuracy_at_init, train_supermask
from ticketkit.train import TrainSpec


def lenet_and_mask(seed=0):
    torch.manual_seed(seed)
    model = build_model("lenet300_100", 1, 10, 8, 0.25)
    g = torch.Generator().manual_seed(seed + 5)
    return model, Mask({n: torch.rand(p.shape, generator=g) < 0.5 for n, p in prunable_parameters(model).items()})


def test_accuracy_at_init_is_a_plain_forward_pass_of_the_masked_network():
    data = load_data("digits", image_size=8)
    model, mask = lenet_and_mask()
    x = (data.test_x.float() / 255 - torch.tensor(data.mean).view(1, -1, 1, 1)) / torch.tensor(data.std).view(1, -1, 1, 1)
    h = x.flatten(1)
    layers = [model.hidden[0], model.hidden[1], model.out]
    for i, layer in enumerate(layers):  # by hand: (w * m) x + b, ReLU between
        h = h @ (layer.weight * mask.tensors[f"{['hidden.0', 'hidden.1', 'out'][i]}.weight"]).T + layer.bias
        h = torch.relu(h) if i < 2 else h
    want = 100.0 * int((h.argmax(1) == data.test_y).sum()) / len(data.test_y)
    got, _ = accuracy_at_init(model, mask, data)
    assert abs(got - want) < 1e-9
    for name, p in prunable_parameters(model).items():  # the model itself is left as it was
        assert not torch.equal(p[~mask.tensors[name]], torch.zeros_like(p[~mask.tensors[name]]))


def test_the_supermask_gradient_passes_straight_through_to_the_scores():
    model, _ = lenet_and_mask(1)
    sm = Supermask(model)
    with torch.no_grad():
        for s in sm.scores.values():
            s.normal_()
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    F.cross_entropy(sm.forward(x, torch.Generator().manual_seed(9)), y).backward()
    replay = torch.Generator().manual_seed(9)  # the same bits, drawn in the same order
    eff = {n: (sm.weights[n] * torch.bernoulli(torch.sigmoid(s).detach(), generator=replay)).requires_grad_(True)
           for n, s in sm.scores.items()}
    F.cross_entropy(functional_call(model, eff, (x,)), y).backward()
    for n, s in sm.scores.items():
        sig = torch.sigmoid(s.detach())
        want = eff[n].grad * sm.weights[n] * sig * (1 - sig)  # dL/dw_eff * w * sigmoid'(s)
        assert torch.allclose(s.grad, want, atol=1e-6) and s.grad.abs().sum() > 0
        assert sm.weights[n].grad is None


def test_training_a_supermask_moves_only_the_scores():
    data = load_data("digits", image_size=8)
    model, _ = lenet_and_mask(2)
    before = copy.deepcopy(model.state_dict())
    spec = TrainSpec(epochs=2, batch_size=60, optimizer="adam", lr=0.05, weight_decay=0.0, augment=False)
    sm, acc = train_supermask(model, data, spec, seed=0, samples=10)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert any(s.abs().sum() > 0 for s in sm.scores.values()) and 10.0 < acc <= 100.0  # above chance (10%)
