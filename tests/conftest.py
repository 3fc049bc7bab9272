"""Shared fixtures: results and caches go to temporary folders so tests never touch the committed store."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_store(tmp_path, monkeypatch):
    monkeypatch.setenv("TICKETKIT_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    import ticketkit.data as data

    monkeypatch.setattr(data, "DEFAULT_ROOT", tmp_path / "cache" / "ticketkit")
    yield tmp_path


@pytest.fixture
def one_thread():
    """One intra-op thread for tests of tiny tensors: on a busy 2-core machine extra threads stall them badly."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
