"""IMP trajectories: levels, per-layer rates, branches, reuse across grids, early stopping."""
import dataclasses

import pytest
import torch

import ticketkit.batched as batched
from ticketkit import imp
from ticketkit import trained as trained_cache
from ticketkit.data import load_data
from ticketkit.grid import grid
from ticketkit.models import build_model, prunable_parameters
from ticketkit.resume import resume_files
from ticketkit.runs import RunConfig
from ticketkit.store import Store
from ticketkit.train import TrainSpec, early_stop

SPEC = TrainSpec(epochs=2, batch_size=60, lr=1.2e-3, optimizer="adam", weight_decay=0.0, augment=False,
                 schedule="constant")
BASE = RunConfig(dataset="digits", model="lenet300_100", image_size=8, val_size=200, train=SPEC,
                 options=(("eval_every", 10),))


def runs(levels, branches=("ticket",), seeds=(0,), **opts):
    base = dataclasses.replace(BASE, options=tuple({**dict(BASE.options), **opts}.items()))
    return [imp.level_config(dataclasses.replace(base, seed=s), lv, b) for s in seeds for lv in levels
            for b in branches if lv > 0 or b == "ticket"]


@pytest.fixture
def trained(monkeypatch):
    """Every member handed to training, per call: (level, branch, model copy before training, mask)."""
    calls = []
    real = batched.train_many

    def spy(models, data, spec, *, masks, **kw):
        level = int(kw["desc"].split()[-1])
        calls.append([(level, {n: p.detach().clone() for n, p in prunable_parameters(m).items()}, mk)
                      for m, mk in zip(models, masks)])
        return real(models, data, spec, masks=masks, **kw)

    monkeypatch.setattr(batched, "train_many", spy)
    return calls


def test_per_layer_rates_and_level_counts_match_a_hand_computation():
    model = build_model("lenet300_100", 1, 10, 28)
    rates = imp.layer_rates("lenet300_100", model)
    assert rates == {"hidden.0.weight": 0.2, "hidden.1.weight": 0.2, "out.weight": 0.1}
    sizes = {k: p.numel() for k, p in prunable_parameters(model).items()}
    # 784*300 = 235200 -> 188160 -> 150528; 300*100 = 30000 -> 24000 -> 19200; 100*10 = 1000 -> 900 -> 810
    assert imp.level_counts(sizes, rates, 2) == {"hidden.0.weight": 150528, "hidden.1.weight": 19200,
                                                 "out.weight": 810}
    assert imp.level_density(sizes, rates, 2) == pytest.approx((150528 + 19200 + 810) / 266200)
    conv = imp.layer_rates("conv6", build_model("conv6", 3, 10, 32))
    assert sorted(set(conv.values())) == [0.1, 0.15, 0.2]
    assert list(conv.values())[-1] == 0.1 and list(conv.values())[:6] == [0.15] * 6
    # global: 20% of the total each round: 266200 -> 212960 -> 170368
    assert imp.level_counts(sizes, imp.layer_rates("x", model, "global", 0.2), 2, "global") == 170368
    with pytest.raises(ValueError, match="scope='global'"):
        imp.layer_rates("vgg19", build_model("vgg19", 3, 10, 32))


def test_a_trajectory_of_l_levels_trains_l_rounds_once_and_later_grids_reuse_them(trained):
    store = Store()
    levels = grid(runs(range(4)), store, progress=False)
    tickets = [m for call in trained for m in call]
    assert [lv for lv, _, _ in tickets] == [0, 1, 2, 3]  # level 0 then exactly 3 prune-rewind-retrain rounds
    masks = [mk for _, _, mk in tickets]
    for a, b in zip(masks, masks[1:]):  # each level prunes inside the previous one
        assert all(torch.all(b.tensors[n] <= a.tensors[n]) for n in a.names())
    assert list(levels["measured_density"]) == pytest.approx(list(levels["density"]))
    trained.clear()
    grid(runs([2], ("reinit",)) + runs(range(4)), store, progress=False)
    assert [lv for call in trained for lv, _, _ in call] == [2]  # only the new branch trains
    trained.clear()
    grid(runs(range(6)), store, progress=False)
    assert [lv for call in trained for lv, _, _ in call] == [4, 5]  # the trajectory continues from level 3


def test_random_reinit_keeps_the_mask_and_changes_every_kept_weight(trained):
    grid(runs([2], ("ticket", "reinit")), Store(), progress=False)
    (ticket, reinit), = [c for c in trained if len(c) == 2]
    for name, keep in ticket[2].tensors.items():
        assert torch.equal(keep, reinit[2].tensors[name])
        assert torch.all(ticket[1][name][keep] != reinit[1][name][keep])


def test_oneshot_equals_one_round_of_the_trained_dense_network_to_the_levels_counts(trained):
    cfgs = runs([3], ("ticket", "oneshot"))
    grid(cfgs, Store(), progress=False)
    (ticket, oneshot), = [c for c in trained if len(c) == 2]
    dense = trained_cache.load(runs([0])[0])["final"]
    for name, keep in ticket[2].tensors.items():
        n = int(keep.sum())
        order = torch.argsort(dense[name].abs().flatten(), descending=True)  # top-n by magnitude, by sorting
        want = torch.zeros(keep.numel(), dtype=torch.bool)
        want[order[:n]] = True
        assert torch.equal(oneshot[2].tensors[name].flatten().cpu(), want)
    assert torch.equal(oneshot[1]["out.weight"], ticket[1]["out.weight"])  # both rewound to the same init


def test_global_scope_removes_the_rate_of_all_remaining_weights_per_level():
    df = grid(runs(range(3), scope="global", rate=0.5), Store(), progress=False)
    total = sum(p.numel() for p in prunable_parameters(build_model("lenet300_100", 1, 10, 8)).values())
    assert [round(d * total) for d in df["measured_density"]] == [total, round(total / 2), round(total / 4)]


def test_records_hold_curves_and_the_early_stop_point_comes_from_them():
    grid(runs([0]), Store(), progress=False)
    rec = Store().get(runs([0])[0])
    steps = 2 * (len(load_data("digits", image_size=8, val_size=200).train_y) // 60)
    assert [c["iteration"] for c in rec["curve"]] == list(range(0, steps + 1, 10))
    best = min(rec["curve"][1:], key=lambda c: c["val_loss"])
    assert rec["early_stop_iteration"] == best["iteration"]
    assert rec["early_stop_test_acc"] == pytest.approx(best["test_acc"], abs=1e-3)  # curves keep 5 digits


def test_early_stop_is_the_first_minimum_of_validation_loss_after_training_starts():
    curve = [{"iteration": i, "val_loss": v, "test_acc": a} for i, v, a in
             [(0, 0.1, 10.0), (100, 0.9, 50.0), (200, 0.4, 80.0), (300, 0.6, 81.0), (400, 0.4, 82.0)]]
    assert early_stop(curve) == (200, 80.0)  # iteration 0 (untrained) never counts; ties keep the first


def test_thin_keeps_at_most_the_limit_and_always_the_last_point():
    curve = [{"iteration": i, "val_loss": 1.0 / (i + 1)} for i in range(1001)]
    thin = imp.thin(curve, most=300)
    assert len(thin) <= 301 and thin[0]["iteration"] == 0 and thin[-1]["iteration"] == 1000


def test_a_rewind_point_outside_level_zeros_training_fails_before_anything_trains(trained):
    steps = 2 * (len(load_data("digits", image_size=8, val_size=200).train_y) // 60)
    with pytest.raises(ValueError, match=f"rewind_step {steps} is not an iteration of level 0's training"):
        grid(runs(range(2), rewind_step=steps), Store(), progress=False)
    assert trained == []


def test_branches_are_checked_before_anything_runs():
    with pytest.raises(ValueError, match="unknown IMP branch"):
        runs([1], ("rewound",))
    with pytest.raises(ValueError, match="branches start at level 1"):
        imp.level_config(BASE, 0, "reinit")
    for bad in ({"criterion": "movement", "mask1": "reinit"}, {"criterion": "large_init", "restart": "trained"}):
        with pytest.raises(ValueError, match="reads each level's starting weights"):
            runs([1], **bad)
    assert runs([1], criterion="large_final", mask1="reinit") and runs([1], criterion="random", restart="trained")


def test_an_interrupted_trajectory_resumes_from_its_trained_levels_and_distrusts_a_corrupt_one(trained):
    store = Store()
    cfgs = runs(range(3))
    grid(cfgs, store, progress=False)
    for c in cfgs[1:]:  # as if the grid died after training these levels but before storing their records
        store.path(c).unlink()
    trained.clear()
    grid(cfgs, store, progress=False)
    assert trained == [] and all(store.get(c) is not None for c in cfgs)
    store.path(cfgs[2]).unlink()
    trained_cache.path(cfgs[2]).write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="unreadable"):
        grid(cfgs, store, progress=False)
    assert [lv for call in trained for lv, _, _ in call] == [2]


def test_a_trajectory_resumes_elsewhere_from_its_resume_files_alone_as_if_never_stopped(trained, tmp_path,
                                                                                         monkeypatch):
    store = Store()
    grid(runs(range(3)) + runs([1], ("reinit",)), store, progress=False)
    files = resume_files(store)
    assert files == sorted(trained_cache.path(c) for c in runs([0, 2]))  # level 0 and the deepest level only
    for p in files[0].parent.glob("*.pt"):  # another machine: only the records and the resume files travel
        if p not in files:
            p.unlink()
    trained.clear()
    more = runs(range(5)) + runs([2], ("reinit",)) + runs([4], ("oneshot",))  # a branch at the resumed level too
    resumed = grid(more, store, progress=False)
    assert [lv for call in trained for lv, _, _ in call] == [2, 3, 4, 4]  # no earlier level retrained
    monkeypatch.setenv("TICKETKIT_RESULTS", str(tmp_path / "elsewhere"))  # the same grid never interrupted
    whole = grid(more, Store(), progress=False)
    cols = ["key", "final_test_acc", "early_stop_iteration", "measured_density"]
    assert resumed[cols].equals(whole[cols])


def test_resume_files_for_a_grids_missing_runs_leave_finished_trials_behind(trained):
    store = Store()
    grid(runs(range(3), seeds=(0, 1)), store, progress=False)
    assert resume_files(store) == sorted(trained_cache.path(c) for c in runs([0, 2], seeds=(0, 1)))
    pending = runs([3], seeds=(1,)) + runs([2], ("reinit",), seeds=(1,))  # seed 0's trajectory is finished
    assert resume_files(store, pending) == sorted(trained_cache.path(c) for c in runs([0, 2], seeds=(1,)))
    assert resume_files(store, []) == []


@pytest.mark.parametrize("restart", ["rewind", "trained"])
def test_a_trajectory_stopped_before_any_record_resumes_elsewhere_from_its_resume_files(trained, restart):
    store = Store()
    deep = runs([4], restart=restart)  # a grid that asks only for a deep level stores its walk's records at the end
    grid(deep, store, progress=False)
    for p in [*map(store.path, runs(range(5), restart=restart)),
              *(trained_cache.path(c) for c in runs([3, 4], restart=restart))]:
        p.unlink()  # as if stopped while training level 3: levels 0-2 cached, no record stored
    assert resume_files(store) == []  # no record names the trial...
    files = resume_files(store, deep)  # ...but the grid's missing run does: level 0 and where the walk resumes
    assert files == sorted(trained_cache.path(c) for c in runs([0, 2], restart=restart))
    for p in files[0].parent.glob("*.pt"):  # another machine: only the resume files travel
        if p not in files:
            p.unlink()
    trained.clear()
    grid(deep, store, progress=False)
    assert [lv for call in trained for lv, _, _ in call] == [3, 4]


def test_a_cache_without_its_mask_is_walked_past_silently_and_not_listed(trained, recwarn):
    store = Store()
    grid(runs(range(3)), store, progress=False)
    path = trained_cache.path(runs([2])[0])
    blob = torch.load(path, weights_only=True)
    del blob["mask"]  # as written before masks were cached
    torch.save(blob, path)
    assert resume_files(store) == sorted(trained_cache.path(c) for c in runs([0, 1]))
    trained.clear()
    grid(runs(range(4)), store, progress=False)
    assert [lv for call in trained for lv, _, _ in call] == [3] and not recwarn.list


def test_families_that_prune_differently_train_their_levels_together_and_level_zero_once(trained, tmp_path,
                                                                                          monkeypatch):
    fams = [runs(range(3), criterion=c, seeds=(0, 1)) for c in ("large_final", "magnitude_increase", "random")]
    together = grid([c for f in fams for c in f], Store(), progress=False)
    assert [sorted(lv for lv, _, _ in call) for call in trained] == [[0, 0], [1] * 6, [2] * 6]  # one batch a level
    for i, f in enumerate(fams):  # each family alone, in a store of its own
        monkeypatch.setenv("TICKETKIT_RESULTS", str(tmp_path / f"alone{i}"))
        alone = grid(f, Store(), progress=False).set_index("key")
        mine = together.set_index("key").loc[alone.index]
        assert list(mine["measured_density"]) == list(alone["measured_density"])
        # batched members end within float rounding of their lone runs: at most one test image (of 297) apart
        assert list(mine["final_test_acc"]) == pytest.approx(list(alone["final_test_acc"]), abs=0.34)


def test_level_zero_is_shared_by_every_way_of_pruning_and_global_conv_leaves_linear_layers_whole(trained):
    layerwise, global_ = runs(range(2)), runs(range(2), scope="global", rate=0.5)
    assert layerwise[0] == global_[0]  # one dense network for every pruning scope and rate
    grid(layerwise + global_, Store(), progress=False)
    assert [lv for call in trained for lv, _, _ in call] == [0, 1, 1]
    trained.clear()
    convs = [imp.level_config(dataclasses.replace(BASE, model="conv2"), lv, b) for lv, b in
             ((0, "ticket"), (1, "ticket"), (1, "oneshot"))]
    convs = [dataclasses.replace(c, options=tuple({**dict(c.options), "scope": "global_conv", "rate": 0.5}.items()))
             if imp.options(c)["level"] else c for c in convs]
    convs = [imp.level_config(c, imp.options(c)["level"], imp.options(c)["branch"]) for c in convs]
    grid(convs, Store(), progress=False, batch=1)
    model = build_model("conv2", 1, 10, 8)
    conv = {n for n in prunable_parameters(model) if n.startswith("features")}
    sizes = {n: p.numel() for n, p in prunable_parameters(model).items()}
    for rec in (Store().get(c) for c in convs[1:]):
        kept = {n: round(d * sizes[n]) for n, d in rec["layer_densities"].items()}
        assert all(kept[n] == sizes[n] for n in sizes if n not in conv)
        assert sum(kept[n] for n in conv) == round(sum(sizes[n] for n in conv) / 2)


def test_a_criterion_prunes_each_level_by_its_own_ranking_of_the_starting_and_trained_weights(trained):
    cfgs = runs(range(3), criterion="small_init")  # keeps the smallest initial magnitudes
    grid(cfgs, Store(), progress=False)
    masks = {lv: mk for call in trained for lv, _, mk in call}
    init = {n: w for n, w in trained[0][0][1].items()}  # level 0 starts from the initialisation
    for name, keep in masks[1].tensors.items():
        n = int(keep.sum())
        smallest = torch.argsort(init[name].abs().flatten())[:n]  # by sorting, not by the library's ranking
        assert set(keep.flatten().nonzero().flatten().tolist()) == set(smallest.tolist())
        assert torch.all(masks[2].tensors[name] <= keep)  # level 2 revives nothing level 1 pruned
    with pytest.raises(ValueError, match="needs scope='layerwise'"):
        runs([1], scope="global", criterion="movement")
    with pytest.raises(KeyError, match="unknown mask criterion"):
        runs([1], criterion="largest")


def test_mask_actions_set_a_levels_start_and_freeze_its_pruned_weights(trained):
    grid(runs([0, 1], mask1="signed_constant", mask0="frozen"), Store(), progress=False)
    (level0,), (level1,) = trained
    init, keep = level0[1], level1[2]
    for name, start in level1[1].items():
        k = keep.tensors[name]
        assert torch.allclose(start[k], (torch.sign(init[name]) * init[name].std())[k])
        assert torch.equal(keep.frozen[name][~k], init[name][~k])  # pruned weights held at their initial values


def test_the_finetune_branch_trains_the_levels_rewound_ticket_longer_and_scores_it_first(trained):
    from ticketkit.supermask import accuracy_at_init

    cfgs = runs([1], ("ticket", "finetune"), finetune_epochs=3, finetune_lr=1e-3)
    grid(cfgs, Store(), progress=False)
    (ticket,), (finetune,) = [c for c in trained if c[0][0] == 1]
    for name, keep in ticket[2].tensors.items():
        assert torch.equal(keep, finetune[2].tensors[name])
        assert torch.equal(ticket[1][name], finetune[1][name])  # both start from the initial weights
    rec = Store().get(cfgs[-1])
    assert len(rec["history"]) == 3 and rec["finetune_epochs"] == 3 and rec["search_epochs"] == SPEC.epochs
    data = load_data("digits", image_size=8, val_size=200)
    model = build_model("lenet300_100", 1, 10, 8)
    with torch.no_grad():
        for name, p in prunable_parameters(model).items():
            p.copy_(finetune[1][name])
    torch.manual_seed(0)  # the biases: the trial's initialisation
    init = build_model("lenet300_100", 1, 10, 8)
    with torch.no_grad():
        for (n, p), (_, q) in zip(model.named_parameters(), init.named_parameters()):
            if n not in finetune[1]:
                p.copy_(q)
    assert rec["pre_finetune_acc"] == pytest.approx(accuracy_at_init(model, finetune[2], data)[0], abs=1e-9)


def test_learning_rate_rewinding_starts_each_level_from_the_previous_levels_trained_weights(trained):
    grid(runs([0, 1, 2], restart="trained"), Store(), progress=False)
    starts = {c[0][0]: c[0] for c in trained}
    for level in (1, 2):
        before = trained_cache.load(runs([level - 1], restart="trained")[0])["final"]
        for name, keep in starts[level][2].tensors.items():
            assert torch.equal(starts[level][1][name][keep], before[name][keep])
    with pytest.raises(ValueError, match="restart"):
        runs([1], restart="rewound")
    with pytest.raises(ValueError, match="finetune_epochs"):
        runs([1], ("finetune",))


def test_levels_walked_through_but_not_asked_for_are_stored_from_the_cache_for_the_grids_cost(trained):
    from ticketkit.walks import walk_levels

    store = Store()
    asked = runs([3]) + runs([2], ("reinit",))
    assert walk_levels(asked) == runs(range(3))  # the tickets of levels 0, 1, 2 are trained on the way
    grid(asked, store, progress=False)
    assert [lv for call in trained for lv, _, _ in call] == [0, 1, 2, 2, 3]  # each once (2: ticket and reinit)
    walked = [store.get(c) for c in runs(range(3))]
    assert all(r is not None and r["wall_s"] > 0 for r in walked)
    assert [r["density"] for r in walked] == pytest.approx([c.density for c in runs(range(3))], abs=1e-3)
    for c in runs(range(3)):
        store.path(c).unlink()
    grid(asked, store, progress=False, compute=False)  # reading never writes
    assert all(store.get(c) is None for c in runs(range(3)))
    trained.clear()
    grid(asked, store, progress=False)  # a finished grid run again stores its walks from the cache, training nothing
    assert trained == [] and all(store.get(c) is not None for c in runs(range(3)))
