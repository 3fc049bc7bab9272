"""Paper-scale timing records: hours from ms per iteration, corrupt files skipped by name, one gem's cost summed."""
from __future__ import annotations

import json

import pytest

from ticketkit import timings
from ticketkit.experiments.gems_studies import paper_scale_cost

FULL = 150 * 391  # 58,650 iterations: 150 epochs of CIFAR-10's 50,000 images at batch 128


def rows(search_ms: float | None, finetune_ms: float) -> list[dict]:
    out = [{"family": timings.GEM_FINETUNE, "setting": "Table 15", "ms_per_iteration": finetune_ms,
            "full_iterations": FULL}]
    if search_ms is not None:
        out.append({"family": timings.GEM_SEARCH, "setting": "Table 8", "ms_per_iteration": search_ms,
                    "full_iterations": FULL})
    return out


def test_hours_are_milliseconds_per_iteration_times_the_full_run(tmp_path):
    timings.save(tmp_path / timings.FOLDER / "gpu.json", "H100", "bf16 autocast", 782, rows(16.0, 10.0))
    t, skipped = timings.load(tmp_path)
    assert skipped == []
    hours = dict(zip(t["family"], t["hours"]))
    assert hours[timings.GEM_FINETUNE] == pytest.approx(586.5 / 3600)  # 10 ms x 58,650 = 586.5 s
    assert hours[timings.GEM_SEARCH] == pytest.approx(938.4 / 3600)  # 16 ms x 58,650 = 938.4 s
    assert set(t["device"]) == {"H100"} and set(t["iterations_timed"]) == {782}


def test_corrupt_timing_files_are_skipped_by_name_and_bad_rows_never_saved(tmp_path):
    folder = tmp_path / timings.FOLDER
    timings.save(folder / "good.json", "H100", "bf16 autocast", 300, rows(None, 10.0))
    (folder / "truncated.json").write_text('{"kind": "paper_timing", "device": "H1')
    bad = json.loads((folder / "good.json").read_text())
    bad["rows"][0]["ms_per_iteration"] = -1.0
    (folder / "negative.json").write_text(json.dumps(bad))
    t, skipped = timings.load(tmp_path)
    assert len(t) == 1 and [s.split(" ")[0] for s in skipped] == ["negative.json", "truncated.json"]
    with pytest.raises(ValueError, match="full_iterations"):
        timings.save(folder / "x.json", "H100", "bf16", 300, [{**rows(None, 1.0)[0], "full_iterations": 0}])
    assert not (folder / "x.json").exists()


def test_one_gem_is_the_search_plus_the_fine_tuning_and_a_missing_half_sums_nothing(tmp_path):
    folder = tmp_path / timings.FOLDER
    timings.save(folder / "a.json", "H100", "bf16 autocast", 782, rows(16.0, 10.0))
    timings.save(folder / "b.json", "A100", "bf16 autocast", 782, rows(None, 12.0))
    page = paper_scale_cost(tmp_path).data
    assert "0.42" in page  # (938.4 + 586.5) s = 0.4236 h
    assert "0.26" in page and "0.16" in page and "0.20" in page  # search, H100 and A100 fine-tuning (703.8 s)
    a100 = page[page.index("A100"):page.index("</tr>", page.index("A100"))]
    assert a100.count("—") == 3  # no search timed there: search ms, search hours and one gem stay empty
    assert "No paper-scale timing" in paper_scale_cost(tmp_path / "elsewhere").data
