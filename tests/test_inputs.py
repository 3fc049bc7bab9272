"""User input is checked before anything trains and refused with one message naming what was given and the valid
choices: command-line names, missing datasets, notebook parameters and overrides, and sparsities."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ticketkit import data as D
from ticketkit.__main__ import main, select
from ticketkit.experiments import su
from ticketkit.params import notebook_profile
from ticketkit.profiles import check_sparsity, get_profile
from ticketkit.pruning.allocators import check_density

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ticketkit", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **env}, timeout=300)


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """stderr of an in-process command line that must stop with argparse's exit code 2."""
    with pytest.raises(SystemExit) as stop:
        main(list(argv))
    assert stop.value.code == 2
    return capsys.readouterr().err


# 1. model selections
def test_a_model_typo_in_a_list_is_an_error_naming_the_grid_models():
    res = cli("run", "dense", "--profile", "smoke", "--models", "vgg19", "vgg99")
    assert res.returncode == 2 and "Traceback" not in res.stderr and "runs," not in res.stdout
    assert "no model 'vgg99'" in res.stderr and "vgg19, resnet32_2x, lenet300_100" in res.stderr


def test_a_model_the_grid_does_not_have_names_that_grids_models(capsys):
    err = usage_error(capsys, "run", "su", "--profile", "smoke", "--models", "lenet300_100")
    assert "grid 'su' has no model 'lenet300_100' at profile 'smoke'; its models: vgg19, resnet32_2x" in err


def test_a_valid_selection_keeps_only_those_models():
    plans = select(["su"], get_profile("smoke"), ["vgg19"])
    assert plans["su"] and {c.model for c in plans["su"]} == {"vgg19"}


# 2. command-line mistakes: one message, no traceback, non-zero exit
def test_unknown_profile_on_run_is_one_message():
    res = cli("run", "dense", "--profile", "huge")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "unknown profile 'huge'; choose one of: smoke, cpu, paper" in res.stderr


def test_unknown_grid_is_refused_before_any_grid_runs(capsys):
    assert "unknown grid 'densee'; choose from dense, su" in usage_error(capsys, "run", "dense", "densee")


def test_unknown_notebook_for_book_only(capsys):
    err = usage_error(capsys, "book", "--profile", "smoke", "--only", "nope", "--no-build")
    assert "unknown notebook 'nope'" in err and "dense_baselines" in err


def test_missing_dataset_stops_the_run_before_training_with_actionable_advice(tmp_path):
    res = cli("run", "dense", "--profile", "paper", TICKETKIT_DOWNLOAD="0", TICKETKIT_DATA=str(tmp_path / "none"),
              XDG_CACHE_HOME=str(tmp_path / "cache"), TICKETKIT_RESULTS=str(tmp_path / "results"))
    assert res.returncode == 1 and "Traceback" not in res.stderr and "runs," not in res.stdout
    assert "CIFAR-10 not found" in res.stderr and "TICKETKIT_DOWNLOAD=0" in res.stderr
    assert "$TICKETKIT_DATA/cifar-10-batches-py/" in res.stderr and str(tmp_path / "none") in res.stderr
    assert not (tmp_path / "results").exists()


def test_missing_dataset_message_says_how_to_allow_the_download(tmp_path, monkeypatch):
    monkeypatch.delenv("TICKETKIT_DOWNLOAD", raising=False)
    monkeypatch.delenv("TICKETKIT_DATA", raising=False)
    with pytest.raises(D.DatasetNotFound) as err:
        D.load_arrays("mnist", root=tmp_path)
    msg = str(err.value)
    assert "download=True" in msg and "unless TICKETKIT_DOWNLOAD=0" in msg and "$TICKETKIT_DATA/MNIST/raw/" in msg


# 3. notebook parameters and overrides
def test_bare_values_become_one_element_lists_and_overrides_apply():
    P = notebook_profile("smoke", {"lr": 0.01, "batch_size": 32}, models="vgg19", seeds=3, sparsities=0.9,
                         datasets=None, epochs=None, compute=True, progress=False, scheduler=None)
    assert (P.models, P.seeds, P.sparsities, P.epochs) == (("vgg19",), (3,), (0.9,), 2)
    spec = P.spec("snip", "vgg19")
    assert (spec.lr, spec.batch_size) == (0.01, 32)


@pytest.mark.parametrize("overrides, named, error, message", [
    ({"lr": "abc"}, {}, TypeError, r"lr = 'abc' is not valid: expected a number"),
    ({"epochs": 2.5}, {}, TypeError, r"epochs = 2.5 is not valid: expected an integer"),
    ({}, {"seeds": "abc"}, TypeError, r"seeds = 'abc' is not valid: expected a list of integers"),
    ({}, {"compute": "yes"}, TypeError, r"compute = 'yes' is not valid: expected True or False"),
    ({}, {"scheduler": 8786}, TypeError, r"scheduler = 8786 is not valid: expected None"),
    ([1], {}, TypeError, r"overrides = \[1\] is not valid: expected a mapping"),
    ({"lrr": 1}, {}, KeyError, r"unknown profile field\(s\) \['lrr'\]; valid fields: .*\blr\b"),
    ({}, {"models": ["vgg19", "vgg99"]}, KeyError, r"unknown model 'vgg99'; choose one of: .*vgg19"),
    ({}, {"datasets": []}, ValueError, r"datasets is empty"),
    ({"epochs": 3}, {"epochs": 2}, ValueError, r"epochs given both as a parameter and in overrides"),
])
def test_bad_notebook_parameters_get_one_message(overrides, named, error, message):
    with pytest.raises(error, match=message):
        notebook_profile("smoke", overrides, **named)


def test_every_notebook_takes_overrides_and_passes_its_scheduler_to_the_grid():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        params = next(c.source for c in cells if "parameters" in c.metadata.get("tags", []))
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        reads = any(f"{f}(profile, overrides" in code for f in ("notebook_profile", "get_scale", "get_scales"))
        assert "\noverrides = {}" in "\n" + params and reads, path.name
        if "grid(cfgs" in code:
            assert "\nscheduler = None" in "\n" + params and "scheduler=scheduler)" in code, path.name


def test_papermill_stops_a_notebook_with_a_bad_override_in_its_setup_cell(tmp_path):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError, match=r"lr = 'abc' is not valid: expected a number"):
        pm.execute_notebook(str(ROOT / "notebooks" / "su_hybrid.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters={"profile": "smoke", "overrides": {"lr": "abc"}, "progress": False},
                            cwd=str(ROOT), kernel_name="python3", progress_bar=False)
    assert not (tmp_path / "results").exists()  # nothing was trained or stored


# 4. sparsities
@pytest.mark.parametrize("method, sparsity, span", [("snip", 1.0, "[0, 1)"), ("snip", -0.1, "[0, 1)"),
                                                     ("lottery", 1.5, "[0, 1)"), ("hybrid", 0.0, "(0, 1)"),
                                                     ("random_tickets", 0, "(0, 1)")])
def test_sparsity_errors_name_the_sparsity_the_method_and_the_range(method, sparsity, span):
    with pytest.raises(ValueError, match=rf"sparsity {sparsity!r} is out of range for method '{method}'.*"
                                         + re.escape(span)):
        get_profile("smoke").run("synthetic", "vgg19", method, sparsity)


def test_a_sparsity_grid_that_cannot_run_fails_when_its_configs_are_built():
    with pytest.raises(ValueError, match=r"sparsity 1.0 is out of range"):
        notebook_profile("smoke", sparsities=[0.9, 1.0])
    with pytest.raises(ValueError, match=r"sparsity 0.0 is out of range for method 'hybrid'.*\(0, 1\)"):
        su.hybrid(notebook_profile("smoke", sparsities=0))
    assert check_sparsity(0.9, "hybrid") == 0.9


def test_a_density_error_also_states_the_sparsity():
    with pytest.raises(ValueError, match=r"got 0.0, i.e. sparsity 1.0; sparsity must be in \[0, 1\)"):
        check_density(0.0)
