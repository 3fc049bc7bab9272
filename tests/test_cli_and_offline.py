"""The command line lists every registry entry; the widget JavaScript is pinned and verified."""
import shutil
import subprocess
import sys

import pytest

from ticketkit import offline
from ticketkit.pruning.methods import METHODS
from ticketkit.pruning.sanity import SANITY


def test_list_names_every_method_and_check_with_a_description():
    out = subprocess.run([sys.executable, "-m", "ticketkit", "list"], capture_output=True, text=True, check=True).stdout
    for reg in (METHODS, SANITY):
        for e in reg:
            line = next(l for l in out.splitlines() if l.split() and l.split()[0] == e.name)
            assert e.description in line


def test_run_help_names_every_grid():
    from ticketkit.experiments import GRIDS

    out = subprocess.run([sys.executable, "-m", "ticketkit", "run", "--help"], capture_output=True, text=True,
                         check=True).stdout
    listed = " ".join(out.split()).split("grid names: ")[1].split(" options:")[0]
    assert listed.split(", ") == list(GRIDS)


def test_unknown_profile_on_the_command_line():
    res = subprocess.run([sys.executable, "-m", "ticketkit", "book", "--profile", "huge", "--no-build"],
                         capture_output=True, text=True)
    assert res.returncode != 0 and "unknown profile 'huge'" in res.stderr


def test_resume_files_of_an_unknown_grid_is_a_usage_error_naming_the_grids():
    res = subprocess.run([sys.executable, "-m", "ticketkit", "resume-files", "lotery"], capture_output=True, text=True)
    assert res.returncode == 2 and "unknown grid 'lotery'; choose from dense, su, lottery" in res.stderr


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed to fetch the pinned widget files")
def test_vendored_widget_files_are_fetched_and_tampering_is_repaired(tmp_path):
    files = offline.vendor(tmp_path)
    assert sorted(f.name for f in files) == sorted(offline.FILES)
    (tmp_path / "require.js").write_text("tampered")
    offline.vendor(tmp_path)
    assert offline._sha256(tmp_path / "require.js") == offline.FILES["require.js"][3]


def test_the_run_log_names_a_gem_runs_search_options(tmp_path, monkeypatch, capsys, one_thread):
    from ticketkit.__main__ import run_grids
    from ticketkit.experiments import gems
    monkeypatch.setenv("TICKETKIT_RESULTS", str(tmp_path))
    S = gems.get_scale("smoke", {"search_epochs": 2, "finetune_epochs": 1})
    cfg = gems.run(S, 0, S.densities[0], "gem_miner", lam=0.5)
    run_grids({"gems": [cfg]})
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("[1/1] resnet20_gem gem gem_miner none ") and "lam=0.5" in line
    assert "search_epochs=2" in line and "seed=0" in line
