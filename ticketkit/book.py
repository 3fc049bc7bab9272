"""Execute every notebook named in _toc.yml with papermill at one profile, then build the Jupyter Book."""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_notebooks(root: Path = ROOT) -> list[str]:
    """Names of the notebooks the table of contents places under book/generated/."""
    names: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and f.startswith("book/generated/"):
                names.append(Path(f).stem)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(yaml.safe_load((root / "_toc.yml").read_text()))
    return names


def check_names(names: list[str], root: Path = ROOT) -> list[str]:
    """The given notebook names, refused (ValueError naming the book's notebooks) unless _toc.yml lists each one."""
    known = toc_notebooks(root)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown notebook {unknown[0]!r}; the book's notebooks are: {', '.join(known)}")
    return names


def execution_stages(names: list[str], root: Path = ROOT) -> list[list[str]]:
    """Grid notebooks first, then summary pages (metadata ticketkit.summary) that read the records they wrote."""
    def is_summary(name: str) -> bool:
        nb = nbformat.read(root / "notebooks" / f"{name}.ipynb", as_version=4)
        return bool(nb.metadata.get("ticketkit", {}).get("summary"))

    summary = [n for n in names if is_summary(n)]
    return [s for s in ([n for n in names if n not in summary], summary) if s]


def hide_parameters(path: Path) -> None:
    """Collapse the parameters cell in the rendered page (one click away); the values papermill injected are
    removed from the page, whose scale line states the profile they chose."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        extra = "remove-cell" if "injected-parameters" in tags else "hide-cell" if "parameters" in tags else None
        if extra and extra not in tags:
            tags.append(extra)
    nbformat.write(nb, path)


def execute(profile: str, names: list[str] | None = None, compute: bool = False, root: Path = ROOT,
            jobs: int | None = None) -> list[Path]:
    """Run each notebook headless (progress bars off) into book/generated/; with compute=False the notebooks
    use stored runs only and say what is missing. `jobs` notebooks run at once (None: one per CPU core when
    nothing is computed, else one; concurrent grids share the store safely, and each kernel trains on its share
    of the cores, cpu_count // jobs threads)."""
    wanted = check_names(names, root) if names else toc_notebooks(root)
    for name in wanted:
        if not (root / "notebooks" / f"{name}.ipynb").is_file():
            raise FileNotFoundError(f"_toc.yml names {name!r} but {root / 'notebooks' / name}.ipynb does not exist")
    jobs = jobs or (1 if compute else os.cpu_count() or 1)
    (root / "book" / "generated").mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for stage in execution_stages(wanted, root):
        parallel = jobs > 1 and len(stage) > 1
        threads = max(1, (os.cpu_count() or 1) // jobs) if parallel else None  # each kernel its share of the cores
        args = [(name, profile, compute, root, threads) for name in stage]
        if parallel:
            with ProcessPoolExecutor(min(jobs, len(stage)), mp_context=multiprocessing.get_context("spawn")) as pool:
                out += list(pool.map(_execute_one, args))
        else:
            out += [_execute_one(a) for a in args]
    return out


def _execute_one(job: tuple[str, str, bool, Path, int | None]) -> Path:
    """Execute one notebook with papermill into book/generated/ and hide its parameters; prints its time.

    `threads` (set only in a pool worker's own process) caps the kernel's threads: with more threads than cores,
    each parallel op's barrier waits for a descheduled thread, and two 2-thread kernels on 2 cores ran 8x slower."""
    import papermill as pm

    name, profile, compute, root, threads = job
    if threads:
        os.environ["TICKETKIT_THREADS"] = str(threads)  # the kernel inherits it; train.default_device obeys it
    dst = root / "book" / "generated" / f"{name}.ipynb"
    start = time.perf_counter()
    pm.execute_notebook(str(root / "notebooks" / f"{name}.ipynb"), str(dst), cwd=str(root), kernel_name="python3",
                        parameters={"profile": profile, "progress": False, "compute": compute}, progress_bar=False)
    print(f"executed {name}.ipynb at profile {profile!r}: {time.perf_counter() - start:.0f} s", flush=True)
    hide_parameters(dst)
    return dst


def build(profile: str, names: list[str] | None = None, compute: bool = False, root: Path = ROOT,
          jobs: int | None = None) -> Path:
    """Execute the notebooks, vendor the widget JavaScript and fonts and build the HTML book; returns index.html."""
    from .offline import place_fonts, vendor

    execute(profile, names, compute, root, jobs)
    vendor(root / "book" / "vendor")
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(root)], check=True, cwd=root)
    index = root / "_build" / "html" / "index.html"
    place_fonts(index.parent, root / "book" / "fonts")
    print(f"book written to {index}")
    return index
