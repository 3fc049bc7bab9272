"""The result store refuses unsound records, checks it can write, cleans up killed writes, reports corrupt records
on the dashboard; the dense pre-training cache lives in the store and survives a damaged file."""
import json
import math
import os
import re
import socket
import subprocess
import time

import pandas as pd
import pytest
import torch

from ticketkit import dashboard
from ticketkit.data import load_data
from ticketkit.experiments import su
from ticketkit.models import build_model
from ticketkit.profiles import get_profile
from ticketkit.pruning import methods
from ticketkit.pruning.methods import PruneContext
from ticketkit.store import CorruptRecord, Store, StoreError
from ticketkit.train import TrainSpec

HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())


def cfg_of(seed=0):
    return get_profile("smoke").run("synthetic", "vgg19", seed=seed)


def record(cfg):
    return {"config": cfg.to_dict(), "key": cfg.key(), "final_test_acc": 61.0, "best_test_acc": 62.5,
            "density": 1.0, "layer_densities": {}, "collapsed_layers": [], "connected": True, "prune": {"wall_s": 0.0},
            "history": [{"epoch": 1, "test_acc": 62.5, "val_acc": 60.0}, {"epoch": 2, "test_acc": 61.0}]}


def set_at(rec, field, value):
    """`rec` with `field` (a top-level key, or history[i].key) set to `value`, or removed when value is ..."""
    m = re.fullmatch(r"history\[(\d)\]\.(\w+)", field)
    target, key = (rec["history"][int(m[1])], m[2]) if m else (rec, field)
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return rec


BAD = [("final_test_acc", math.nan), ("final_test_acc", math.inf), ("final_test_acc", 100.5),
       ("final_test_acc", -1.0), ("final_test_acc", ...), ("final_test_acc", "61"), ("best_test_acc", math.nan),
       ("best_test_acc", 250.0), ("history[0].test_acc", math.nan), ("history[1].test_acc", -3.0),
       ("history[0].val_acc", 101.0), ("density", 1.5), ("density", math.nan), ("density", ...)]


@pytest.mark.parametrize("field,value", BAD)
def test_unsound_metrics_are_refused_on_write_and_reported_on_read(field, value):
    cfg, store = cfg_of(), Store()
    shown = "None" if value is ... else re.escape(repr(value))
    with pytest.raises(CorruptRecord, match=rf"{re.escape(field)} is {shown}"):
        store.put(cfg, set_at(record(cfg), field, value))
    assert not store.path(cfg).exists()
    store.root.mkdir(parents=True)
    store.path(cfg).write_text(json.dumps(set_at(record(cfg), field, value)))  # NaN is written as the NaN token
    with pytest.warns(UserWarning, match=rf"corrupt result record .*{cfg.key()}\.json: {re.escape(field)} is "
                                         r".*; it will be recomputed"):
        assert store.get(cfg) is None
    assert list(store.corrupt) == [store.path(cfg)]


def test_sound_records_round_trip_without_optional_fields():
    cfg, store = cfg_of(), Store()
    rec = record(cfg)
    store.put(cfg, rec)
    assert store.get(cfg) == rec
    del rec["best_test_acc"], rec["history"][0]["val_acc"]
    rec["history"][1]["val_acc"] = None
    store.put(cfg, rec)
    assert store.get(cfg) == rec and store.corrupt == {}
    assert [p.name for p in store.root.iterdir()] == [f"{cfg.key()}.json"]  # no temporary file left


def test_check_writable_creates_the_root_and_leaves_nothing(tmp_path):
    store = Store(tmp_path / "new" / "results")
    store.check_writable()
    assert store.root.is_dir() and list(store.root.iterdir()) == []


@pytest.mark.parametrize("where", ["root", "parent"])
def test_check_writable_names_a_file_in_the_way_and_the_fix(tmp_path, where):
    (tmp_path / "f").write_text("not a folder")
    root = tmp_path / "f" if where == "root" else tmp_path / "f" / "results"
    with pytest.raises(StoreError, match=rf"{re.escape(str(root))} is not writable: .*is a file.*TICKETKIT_RESULTS"):
        Store(root).check_writable()
    assert (tmp_path / "f").read_text() == "not a folder"


def test_check_writable_reports_a_read_only_folder(tmp_path):
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o555)
    try:
        try:
            (root / "probe").write_text("x")
        except PermissionError:
            pass
        else:
            pytest.skip("running as root: a 0o555 folder is still writable")
        with pytest.raises(StoreError, match=rf"{re.escape(str(root))} is not writable: permission denied.*"
                                             "TICKETKIT_RESULTS"):
            Store(root).check_writable()
    finally:
        root.chmod(0o755)


def dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_stale_temporary_files_are_removed_once_on_first_write(tmp_path):
    store = Store(tmp_path / "results")
    pre = store.root / "pretrained"
    pre.mkdir(parents=True)
    hour_ago = time.time() - 2 * 3600
    files = {
        "dead": store.root / f".aaaa.json.{HOST}.{dead_pid()}.0123abcd.tmp",
        "dead_cache": pre / f".bbbb.pt.{HOST}.{dead_pid()}.0123abcd.tmp",
        "live": store.root / f".cccc.json.{HOST}.{os.getpid()}.0123abcd.tmp",
        "other_host": store.root / f".dddd.json.elsewhere-{HOST}.{dead_pid()}.0123abcd.tmp",
        "old_live": store.root / f".eeee.json.{HOST}.{os.getpid()}.0123abcd.tmp",
        "old_unnamed": store.root / ".ffff.json.tmp",
        "record": store.root / "0123456789abcdef.json",
    }
    for p in files.values():
        p.write_text("{}")
    for k in ("old_live", "old_unnamed"):
        os.utime(files[k], (hour_ago, hour_ago))
    cfg = cfg_of()
    store.put(cfg, record(cfg))
    gone = {k for k, p in files.items() if not p.exists()}
    assert gone == {"dead", "dead_cache", "old_live", "old_unnamed"}
    files["dead"].write_text("{}")  # cleaning runs once per Store, not on every write
    store.put(cfg, record(cfg))
    assert files["dead"].exists()
    assert Store(store.root).clean_stale_tmp() == [files["dead"]]


def test_records_reads_only_record_files_and_remembers_corrupt_ones():
    store = Store()
    good, nan_cfg, trunc_cfg = cfg_of(0), cfg_of(1), cfg_of(2)
    store.put(good, record(good))
    store.path(nan_cfg).write_text(json.dumps(set_at(record(nan_cfg), "final_test_acc", math.nan)))
    store.path(trunc_cfg).write_text('{"config": {"trunc')
    for name in (f".{good.key()}.json.{HOST}.{os.getpid()}.0123abcd.tmp", f".{good.key()}.lock", ".hidden.json"):
        (store.root / name).write_text("not json")
    (store.root / "folder.json").mkdir()
    (store.root / "pretrained").mkdir()
    (store.root / "pretrained" / "x.json").write_text("not json")
    with pytest.warns(UserWarning, match="corrupt result record"):
        recs = store.records()
    assert [r["key"] for r in recs] == [good.key()]
    assert sorted(store.corrupt) == sorted([store.path(nan_cfg), store.path(trunc_cfg)])
    assert "final_test_acc is nan" in store.corrupt[store.path(nan_cfg)]


def test_dashboard_names_the_corrupt_records_it_skipped_once():
    P = get_profile("smoke")
    store = Store()
    cfgs = su.random_tickets(P)
    for c in cfgs[:3]:
        store.put(c, {**record(c), "density": c.density})
    store.path(cfgs[3]).write_text('{"config": {"trunc')
    store.path(cfgs[4]).write_text(json.dumps({**record(cfgs[4]), "density": cfgs[4].density, "best_test_acc": -5}))
    with pytest.warns(UserWarning, match="corrupt result record"):  # in a notebook these go to the muted stderr
        board = dashboard.table(P)
    assert board.set_index("claim").loc["SU-3", "runs stored"] == f"3/{len(cfgs)}"
    note = board.attrs["corrupt_note"]
    assert note.startswith("2 stored result record(s) skipped as corrupt")
    assert all(note.count(str(store.path(c))) == 1 for c in cfgs[3:5])
    caption = re.search(r"<caption>(.*?)</caption>", dashboard.styled(board).to_html(), re.S)
    assert caption and str(store.path(cfgs[3])) in caption[1]
    clean = pd.DataFrame({"claim": ["X-1"], "verdict": ["holds"], "cells against the claim": [""]})
    assert "<caption" not in dashboard.styled(clean).to_html()


@pytest.fixture
def tiny_ctx(monkeypatch):
    """A lenet on 100 8x8 digits trained for one epoch, counting the pre-trainings it runs."""
    calls = []
    real = methods.train
    monkeypatch.setattr(methods, "train", lambda *a, **k: calls.append(1) or real(*a, **k))
    data = load_data("digits", image_size=8, train_subset=100)
    spec = TrainSpec(epochs=1, batch_size=50, lr=0.01, augment=False)
    model = build_model("lenet300_100", in_channels=1, image_size=8)
    return PruneContext(model, data, 0.5, spec, 0, 0, cache_key="tiny"), calls


def test_pretraining_is_cached_in_the_store_and_reused(tiny_ctx, isolated_store):
    ctx, calls = tiny_ctx
    final, rewind = methods.pretrained(ctx, 0)
    cached = list((isolated_store / "results" / "pretrained").iterdir())
    assert len(cached) == 1 and cached[0].suffix == ".pt" and calls == [1]
    assert not list((isolated_store / "cache").rglob("*.pt"))  # not in the old cache folder
    again, _ = methods.pretrained(ctx, 0)
    assert calls == [1] and all(torch.equal(final[k], again[k]) for k in final)


def _truncate(path, blob):
    path.write_bytes(path.read_bytes()[:200])


def _drop_rewind(path, blob):
    torch.save({"final": blob["final"]}, path)


def _nan_weight(path, blob):
    name = next(iter(blob["final"]))
    torch.save({**blob, "final": {**blob["final"], name: torch.full_like(blob["final"][name], math.nan)}}, path)


def _not_a_tensor(path, blob):
    torch.save({**blob, "rewind": {k: 1.0 for k in blob["rewind"]}}, path)


@pytest.mark.parametrize("damage,reason", [(_truncate, ""), (_drop_rewind, "no 'final' and 'rewind'"),
                                           (_nan_weight, "not finite"), (_not_a_tensor, "not a tensor")])
def test_a_damaged_pretraining_cache_is_reported_and_recomputed(tiny_ctx, isolated_store, damage, reason):
    ctx, calls = tiny_ctx
    methods.pretrained(ctx, 0)
    [path] = (isolated_store / "results" / "pretrained").iterdir()
    damage(path, torch.load(path, weights_only=True))
    with pytest.warns(UserWarning, match=rf"pre-training cache file {re.escape(str(path))} is unreadable "
                                         rf"\(.*{re.escape(reason)}.*\); recomputing it"):
        final, _ = methods.pretrained(ctx, 0)
    assert calls == [1, 1]
    blob = torch.load(path, weights_only=True)
    assert all(torch.equal(final[k], blob["final"][k]) for k in final)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
