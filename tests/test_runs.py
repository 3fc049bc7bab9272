"""The result store: stable hashes, atomic records, resumable grids, corrupt records reported."""
import json

import pytest

from ticketkit.profiles import get_profile
from ticketkit.grid import grid
from ticketkit.runs import RunConfig
from ticketkit.store import Store


def fake_runner(calls):
    def run(cfg, progress):
        calls.append(cfg)
        return {"config": cfg.to_dict(), "key": cfg.key(), "history": [{"epoch": 1, "test_acc": 50.0 + cfg.seed}],
                "final_test_acc": 50.0 + cfg.seed, "density": cfg.density, "layer_densities": {},
                "collapsed_layers": [], "connected": True, "prune": {"wall_s": 0.0}}
    return run


def configs(n=5):
    return [get_profile("smoke").run("synthetic", "vgg19", seed=s) for s in range(n)]


def test_hash_is_stable_and_sensitive():
    a, b = configs(2)
    assert a.key() == RunConfig.from_dict(json.loads(json.dumps(a.to_dict()))).key()
    assert a.key() != b.key() and len(a.key()) == 16


def test_a_method_revision_renames_only_that_methods_records(monkeypatch):
    from ticketkit.pruning import methods

    P = get_profile("smoke")
    snip, dense = P.run("synthetic", "vgg19", "snip", 0.9), P.run("synthetic", "vgg19")
    before = snip.key(), dense.key()
    monkeypatch.setitem(methods.REVISIONS, "snip", 2)
    assert snip.key() != before[0] and dense.key() == before[1]


def test_killed_grid_resumes_without_repeating_finished_runs():
    calls = []
    real = fake_runner(calls)

    def dies_after_two(cfg, progress):
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real(cfg, progress)

    with pytest.raises(KeyboardInterrupt):
        grid(configs(), progress=False, runner=dies_after_two)
    assert len(calls) == 2
    calls.clear()
    df = grid(configs(), progress=False, runner=real)
    assert len(calls) == 3 and len(df) == 5  # only the three unfinished runs trained
    calls.clear()
    grid(configs(), progress=False, runner=real)
    assert calls == []


def test_corrupt_record_is_reported_and_recomputed():
    cfg = configs(1)[0]
    store = Store()
    calls = []
    grid([cfg], store, progress=False, runner=fake_runner(calls))
    store.path(cfg).write_text('{"config": {"trunc')
    with pytest.warns(UserWarning, match=rf"corrupt result record .*{cfg.key()}\.json: .*recomputed"):
        grid([cfg], store, progress=False, runner=fake_runner(calls))
    assert len(calls) == 2
    rec = json.loads(store.path(cfg).read_text())
    rec["config"]["seed"] = 99
    store.path(cfg).write_text(json.dumps(rec))
    with pytest.warns(UserWarning, match="does not match"):
        assert store.get(cfg) is None


def test_unknown_names_raise_one_clear_error():
    with pytest.raises(KeyError, match="unknown pruning method 'snipp'"):
        RunConfig("synthetic", "vgg19", method="snipp")
    with pytest.raises(KeyError, match="unknown sanity check"):
        RunConfig("synthetic", "vgg19", sanity="random_label")
    with pytest.raises(KeyError, match="unknown dataset"):
        RunConfig("cifar", "vgg19")


def test_real_record_has_what_the_book_needs():
    cfg = get_profile("smoke").run("synthetic", "resnet32_2x", "snip", sparsity=0.9)
    df = grid([cfg], progress=False)
    rec = Store().get(cfg)
    for field in ("history", "layer_densities", "wall_s", "device", "versions", "git_commit", "final_test_acc",
                  "best_test_acc", "collapsed_layers", "connected"):
        assert field in rec
    assert df.loc[0, "measured_density"] == pytest.approx(0.1, abs=1e-4)


def test_compute_false_trains_nothing_and_says_what_is_missing(capsys):
    calls = []
    grid(configs(2), progress=False, runner=fake_runner(calls))
    df = grid(configs(5), progress=False, runner=fake_runner(calls), compute=False)
    assert len(calls) == 2 and len(df) == 2
    out = capsys.readouterr().out
    assert "3 of 5 runs" in out and "use the 2 stored runs" in out
