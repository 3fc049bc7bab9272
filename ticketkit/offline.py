"""Serve the ipywidgets JavaScript from the book itself, so sliders render in the static HTML with no network.

Jupyter Book 1.x (myst-nb) loads require.js and @jupyter-widgets/html-manager from CDNs by default. The build
fetches pinned versions from the npm registry (`npm pack`), checks their SHA-256 and puts them in book/vendor/,
which _config.yml serves as static files (not `_static/`, whose every .js Jupyter Book injects into every page).
The widgets' icon fonts are asked for beside the page (`<page dir>/@jupyter-widgets/html-manager/dist/`), so the
build puts them there (`place_fonts`).
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "book" / "vendor"
FONT_CACHE = ROOT / "book" / "fonts"  # not a static folder: the fonts go beside the pages only

# file in book/vendor -> (npm package, version, path inside the package, sha256)
FILES = {
    "require.js": ("requirejs", "2.3.7", "package/require.js",
                   "8215b90000b571bd241d28512c83f59855cecc3158db94b79b2d974c9923b5d2"),
    "embed-amd.js": ("@jupyter-widgets/html-manager", "1.0.15", "package/dist/embed-amd.js",
                     "ca87dff57c70ffb2658794fde0eab0e27e5f5472a1f5df7ab2b08e1039fc4b72"),
}
# the widgets' icon fonts in the one format every current browser takes first (it asks for no other then)
FONT_DIR = Path("@jupyter-widgets", "html-manager", "dist")
FONTS = {name: ("@jupyter-widgets/html-manager", "1.0.15", f"package/dist/{name}", digest) for name, digest in {
    "1551f4f60c37af51121f.woff2": "9834b82ad26e2a37583d22676a12dd2eb0fe7c80356a2114d0db1aa8b3899537",
    "7a3337626410ca2f4071.woff2": "e42a88444448ac3d60549cc7c1ff2c8a9cac721034c073d80a14a44e79730cca",
    "d878b0a6a1144760244f.woff2": "8ea8791754915a898a3100e63e32978a6d1763be6df8e73a39d3a90d691cdeef"}.items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vendor(target: Path = VENDOR, files: dict[str, tuple[str, str, str, str]] = FILES) -> list[Path]:
    """Make sure every pinned file is in `target` with the right digest; fetch what is missing."""
    target.mkdir(parents=True, exist_ok=True)
    out = []
    for name, (package, version, inner, digest) in files.items():
        dest = target / name
        if not (dest.is_file() and _sha256(dest) == digest):
            _fetch(package, version, inner, dest)
            if _sha256(dest) != digest:
                dest.unlink()
                raise RuntimeError(f"{package}@{version}:{inner} does not have the pinned SHA-256 {digest}")
        out.append(dest)
    return out


def place_fonts(html_root: Path, cache: Path = FONT_CACHE) -> list[Path]:
    """Copy the pinned icon fonts beside every built page that embeds widget state; the folders written."""
    fonts = vendor(cache, FONTS)
    pages = {p.parent for p in html_root.rglob("*.html") if "widget-state+json" in p.read_text(errors="ignore")}
    for folder in sorted(pages):
        (folder / FONT_DIR).mkdir(parents=True, exist_ok=True)
        for f in fonts:
            shutil.copyfile(f, folder / FONT_DIR / f.name)
    return sorted(folder / FONT_DIR for folder in pages)


def _fetch(package: str, version: str, inner: str, dest: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed once to fetch {package}@{version} for the offline widgets; install "
                           f"Node.js/npm, or copy {inner} of that package to {dest}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"], check=True,
                       capture_output=True)
        tgz = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tgz) as tar:
            member = tar.extractfile(inner)
            if member is None:
                raise RuntimeError(f"{inner} not found in {package}@{version}")
            dest.write_bytes(member.read())
