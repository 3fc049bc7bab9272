"""Execute every notebook named in _toc.yml with papermill at one profile, then build the Jupyter Book."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "notebooks"
TARGET = ROOT / "book" / "generated"


def toc_notebooks(toc: Path = ROOT / "_toc.yml") -> list[str]:
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

    walk(yaml.safe_load(toc.read_text()))
    return names


def hide_parameters(path: Path) -> None:
    """Collapse the parameters and injected-parameters cells in the rendered page (still one click away)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if ("parameters" in tags or "injected-parameters" in tags) and "hide-cell" not in tags:
            tags.append("hide-cell")
    nbformat.write(nb, path)


def execute(profile: str, names: list[str] | None = None, extra: dict | None = None) -> list[Path]:
    """Run each notebook headless (progress bars off) into book/generated/."""
    import papermill as pm

    TARGET.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names or toc_notebooks():
        src = SOURCE / f"{name}.ipynb"
        if not src.is_file():
            raise FileNotFoundError(f"_toc.yml names {name!r} but {src} does not exist")
        dst = TARGET / f"{name}.ipynb"
        print(f"executing {src.name} at profile {profile!r}", flush=True)
        pm.execute_notebook(str(src), str(dst), parameters={"profile": profile, "progress": False, **(extra or {})},
                            cwd=str(ROOT), kernel_name="python3", progress_bar=False)
        hide_parameters(dst)
        out.append(dst)
    return out


def build(profile: str, names: list[str] | None = None) -> Path:
    """Execute the notebooks and build the HTML book; returns the path of index.html."""
    execute(profile, names)
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(ROOT)], check=True, cwd=ROOT)
    index = ROOT / "_build" / "html" / "index.html"
    print(f"book written to {index}")
    return index
