"""Every notebook executed through papermill at the smoke profile, the smoke book built, and its sparsity
slider driven in headless Chromium with every non-local request blocked."""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from ticketkit import book

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_every_source_notebook_is_in_the_book_and_has_a_parameters_cell():
    names = book.toc_notebooks()
    sources = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(names) == sources
    for name in sources:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, name
        for p in ("profile", "compute", "progress"):
            assert f"\n{p} =" in "\n" + params[0].source, (name, p)
        # papermill reads parameter names, defaults and help from lines with a single "="
        assert all(line.count("=") <= 1 for line in params[0].source.splitlines()), name


def test_summary_pages_execute_after_every_grid_page():
    grids, summaries = book.execution_stages(book.toc_notebooks())
    assert {"claims_dashboard", "lt_chapter", "dl_chapter", "rg_chapter", "su_chapter"} <= set(summaries)
    assert "lt_lenet_imp" in grids and not set(grids) & set(summaries)


def test_parameters_collapse_and_injected_values_leave_the_page(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("profile = 'cpu'"),
                                         nbformat.v4.new_code_cell("profile = 'smoke'"),
                                         nbformat.v4.new_code_cell("print(profile)")])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.cells[1].metadata["tags"] = ["injected-parameters"]
    nbformat.write(nb, tmp_path / "p.ipynb")
    book.hide_parameters(tmp_path / "p.ipynb")
    tags = [c.metadata.get("tags", []) for c in nbformat.read(tmp_path / "p.ipynb", as_version=4).cells]
    assert tags == [["parameters", "hide-cell"], ["injected-parameters", "remove-cell"], []]


@pytest.fixture(scope="module")
def smoke_book(tmp_path_factory):
    """Build the smoke book in a copy of the book's sources (the real _build/ is left alone)."""
    root = tmp_path_factory.mktemp("book")
    for f in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / f, root / f)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("generated", "vendor", "fonts"))
    mp = pytest.MonkeyPatch()
    mp.setenv("TICKETKIT_RESULTS", str(root / "results"))
    mp.setenv("XDG_CACHE_HOME", str(root / "cache"))  # the kernels' pre-training cache stays in the copy
    try:
        index = book.build("smoke", compute=True, root=root, jobs=2)  # tiny trainings: two kernels at once pay
    finally:
        mp.undo()
    return index.parent


@pytest.mark.slow
def test_smoke_book_has_every_page_with_scale_and_no_remote_scripts(smoke_book):
    assert (smoke_book / "index.html").is_file()
    for name in book.toc_notebooks():
        html = (smoke_book / "book" / "generated" / f"{name}.html").read_text()
        assert "profile `smoke`" in html or "profile <code" in html, name
        assert 'src="http' not in html and "cdn.jsdelivr" not in html and "cdnjs" not in html, name
    dense = (smoke_book / "book" / "generated" / "dense_baselines.html").read_text()
    assert "published" in dense and "94.62" in dense  # published ResNet32 full network beside ours


@pytest.fixture(scope="module")
def server(smoke_book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(smoke_book))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def drive_slider(server: str, page: str, attempts: int = 2, deadline_s: int = 120) -> dict:
    """Run tests/slider_driver.py in a child process, killed at the deadline and tried again once: a hung
    Chromium fails this test in minutes, with Playwright's log of where it stopped, instead of stalling the suite."""
    cmd = [sys.executable, str(ROOT / "tests" / "slider_driver.py"), CHROMIUM, server, page]
    env = {**os.environ, "DEBUG": "pw:api,pw:browser"}  # Playwright's own log, on stderr
    err = ""
    for _ in range(attempts):
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                 start_new_session=True)  # its own group: the browser dies with it
        try:
            out, err = child.communicate(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):  # it may end on its own meanwhile
                os.killpg(child.pid, signal.SIGKILL)
            err = child.communicate()[1]
            continue
        assert child.returncode == 0, err[-3000:]
        return json.loads(out)
    pytest.fail(f"Chromium did not finish driving {page} within {deadline_s} s, {attempts} times; the last "
                f"attempt's log ends:\n{err[-3000:]}")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.parametrize("page", ["su_random_tickets", "su_initial_sanity", "lt_lenet_imp"])
def test_slider_works_offline_in_headless_chromium(server, page):
    seen = drive_slider(server, page)
    assert not seen["blocked"], f"non-local requests: {seen['blocked']}"
    assert not seen["errors"], f"page errors: {seen['errors']}"
    assert not seen["missing"], f"local files the page asks for and the book lacks: {seen['missing']}"
    assert seen["before_label"] != seen["after_label"]
    assert seen["before"] != seen["after"] and seen["after"].strip()


def test_parallel_kernels_share_the_cores_and_a_lone_one_uses_them_all(tmp_path, monkeypatch):
    """Two kernels at once get cpu_count // 2 threads each (2-thread kernels side by side on 2 cores ran 8x
    slower); a notebook executed alone keeps every core."""
    monkeypatch.delenv("TICKETKIT_THREADS", raising=False)
    (tmp_path / "notebooks").mkdir()
    code = "import torch\nfrom ticketkit.train import default_device\ndefault_device()\nthreads = torch.get_num_threads()"
    for name in ("a", "b", "c"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("profile = 'smoke'"),
                                             nbformat.v4.new_code_cell(code + "\nprint('threads', threads)")])
        nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
        nb.cells[0].metadata["tags"] = ["parameters"]
        nb.metadata["ticketkit"] = {"summary": name == "c"}
        nbformat.write(nb, tmp_path / "notebooks" / f"{name}.ipynb")
    (tmp_path / "_toc.yml").write_text("root: intro\nchapters:\n" + "".join(
        f"  - file: book/generated/{n}\n" for n in "abc"))
    out = book.execute("smoke", root=tmp_path, jobs=2)
    printed = {p.stem: nbformat.read(p, as_version=4).cells[-1].outputs[0]["text"] for p in out}
    share = max(1, (os.cpu_count() or 1) // 2)
    assert printed == {"a": f"threads {share}\n", "b": f"threads {share}\n", "c": f"threads {os.cpu_count()}\n"}
    assert "TICKETKIT_THREADS" not in os.environ  # only the pool's worker processes were told
