"""Schedules, determinism, rewinding checkpoints and evaluation time of the training loop."""
import time

import pytest
import torch

import ticketkit.batched as batched
import ticketkit.train as train_mod
from ticketkit.data import load_data
from ticketkit.models import build_model
from ticketkit.profiles import get_profile
from ticketkit.runs import RunConfig, execute
from ticketkit.train import TrainSpec, lr_at


def test_multistep_divides_by_ten_at_half_and_three_quarters():
    spec = TrainSpec(epochs=160, lr=0.1)
    assert lr_at(spec, 0) == pytest.approx(0.1)
    assert lr_at(spec, 79.9) == pytest.approx(0.1)
    assert lr_at(spec, 80) == pytest.approx(0.01)
    assert lr_at(spec, 120) == pytest.approx(0.001)


def test_cosine_and_warmup_shapes():
    spec = TrainSpec(epochs=10, lr=1.0, schedule="cosine", warmup_epochs=2)
    assert lr_at(spec, 1.0) == pytest.approx(0.5, rel=1e-6)
    assert lr_at(spec, 5.0) == pytest.approx(0.5)  # cos(pi/2) half-way through
    assert lr_at(spec, 10.0) == pytest.approx(0.0, abs=1e-12)


def test_bad_optimizer_is_named():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        TrainSpec(optimizer="rmsprop")


def smoke_cfg(seed):
    return get_profile("smoke").run("synthetic", "resnet32_2x", seed=seed)


def test_two_cpu_runs_are_identical_and_another_seed_differs():
    a, b, c = execute(smoke_cfg(0)), execute(smoke_cfg(0)), execute(smoke_cfg(1))
    strip = lambda r: [(h["train_loss"], h["test_acc"], h["test_loss"]) for h in r["history"]]  # noqa: E731
    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


def test_last_and_best_epoch_are_both_recorded():
    r = execute(get_profile("smoke", epochs=3).run("synthetic", "vgg19"))
    accs = [h["test_acc"] for h in r["history"]]
    assert r["final_test_acc"] == accs[-1] and r["best_test_acc"] == max(accs)
    assert accs[r["best_epoch"] - 1] == max(accs)


def test_early_stopping_iteration_is_the_minimum_validation_loss():
    cfg = RunConfig("digits", "lenet300_100", image_size=8, val_size=200,
                    train=TrainSpec(epochs=4, batch_size=100, lr=0.01, optimizer="adam", augment=False))
    r = execute(cfg)
    losses = [h["val_loss"] for h in r["history"]]
    best = losses.index(min(losses)) + 1
    assert r["early_stop_epoch"] == best and r["early_stop_iteration"] == best * ((1500 - 200) // 100)


def test_adam_and_adam_masks_keep_zeros():
    from ticketkit.data import load_data
    from ticketkit.masks import Mask
    from ticketkit.models import build_model, prunable_parameters
    from ticketkit.train import train

    data = load_data("digits", image_size=8)
    torch.manual_seed(0)
    model = build_model("lenet300_100", 1, 10, 8)
    mask = Mask({k: torch.rand(p.shape) < 0.2 for k, p in prunable_parameters(model).items()})
    train(model, data, TrainSpec(epochs=1, batch_size=64, lr=0.01, optimizer="adam", weight_decay=1e-4,
                                 augment=False), mask=mask)
    for k, p in prunable_parameters(model).items():
        assert torch.all(p[~mask.tensors[k]] == 0)


@pytest.mark.parametrize("many", [False, True])
def test_evaluation_seconds_are_counted_apart_from_training(monkeypatch, many):
    calls = []
    real = batched.evaluate_many if many else train_mod.evaluate

    def slow(*a, **k):  # every evaluation now takes at least 50 ms more
        calls.append(1)
        time.sleep(0.05)
        return real(*a, **k)

    monkeypatch.setattr(batched if many else train_mod, "evaluate_many" if many else "evaluate", slow)
    data = load_data("digits", image_size=8, val_size=100)
    spec = TrainSpec(epochs=2, batch_size=60, optimizer="adam", lr=1e-3, weight_decay=0.0, augment=False,
                     schedule="constant")
    models = [build_model("lenet300_100", 1, 10, 8) for _ in range(2)]
    t0 = time.perf_counter()
    if many:
        results = batched.train_many(models, data, spec, masks=[None, None], data_seeds=[0, 1], eval_every=10)
    else:
        results = [train_mod.train(models[0], data, spec, eval_every=10)]
    wall = time.perf_counter() - t0
    assert len(calls) > 4  # the curve's points and each epoch's test and validation
    assert all(0.05 * len(calls) <= r.eval_s <= wall for r in results)


def test_evaluation_does_not_depend_on_its_batch_size(monkeypatch):
    """Against a hand loop over single images: accuracy and mean loss are per-image quantities (eval mode)."""
    monkeypatch.setenv("TICKETKIT_PRECISION", "fp32")
    data = load_data("digits", image_size=8)
    torch.manual_seed(0)
    model = build_model("conv2", 1, 10, 8, 0.25)
    x, y = data.test_x[:300], data.test_y[:300]
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(data.normalizer(x.device)(x[i:i + 1])) for i in range(len(y))])
    want_acc = 100.0 * float((out.argmax(1) == y).float().mean())
    want_loss = float(torch.nn.functional.cross_entropy(out, y))
    for batch in (7, 64, train_mod.EVAL_BATCH):
        acc, loss = train_mod.evaluate(model, data, x, y, batch)
        assert acc == pytest.approx(want_acc) and loss == pytest.approx(want_loss, rel=1e-5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CPU threads are set only when training on the CPU")
def test_cpu_threads_are_every_core_unless_ticketkit_threads_says(monkeypatch):
    import os
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("TICKETKIT_THREADS", "1")
        assert train_mod.default_device().type == "cpu" and torch.get_num_threads() == 1
        monkeypatch.delenv("TICKETKIT_THREADS")
        train_mod.default_device()
        assert torch.get_num_threads() == os.cpu_count()
        for bad in ("two", "0", "-1"):
            monkeypatch.setenv("TICKETKIT_THREADS", bad)
            with pytest.raises(ValueError, match=f"TICKETKIT_THREADS='{bad}' is not a positive whole number"):
                train_mod.default_device()
    finally:
        torch.set_num_threads(before)


def test_cuda_graphs_are_asked_for_only_on_a_gpu_and_records_say_so(monkeypatch):
    cpu = torch.device("cpu")
    plain = train_mod.precision(cpu)
    monkeypatch.setenv("TICKETKIT_CUDA_GRAPHS", "1")
    assert not train_mod.cuda_graphs(cpu) and train_mod.precision(cpu) == plain  # the CPU trains eagerly
    assert train_mod.cuda_graphs(torch.device("cuda"))
    monkeypatch.setenv("TICKETKIT_CUDA_GRAPHS", "0")
    assert not train_mod.cuda_graphs(torch.device("cuda"))
    monkeypatch.setenv("TICKETKIT_CUDA_GRAPHS", "yes")  # a typo stops training before it starts, on any device
    net = build_model("lenet300_100", 1, 10, 8)
    data = load_data("digits", image_size=8, val_size=0)
    with pytest.raises(ValueError, match="TICKETKIT_CUDA_GRAPHS='yes' is neither 0 nor 1"):
        train_mod.train(net, data, TrainSpec(epochs=1, batch_size=60))
