"""Serve the ipywidgets JavaScript from the book itself, so sliders render in the static HTML with no network.

Jupyter Book 1.x (myst-nb) loads require.js and @jupyter-widgets/html-manager from CDNs by default. The build
fetches pinned versions from the npm registry (`npm pack`), checks their SHA-256 and puts them in book/vendor/,
which _config.yml serves as static files (not `_static/`, whose every .js Jupyter Book injects into every page).
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

# file in book/vendor -> (npm package, version, path inside the package, sha256)
FILES = {
    "require.js": ("requirejs", "2.3.7", "package/require.js",
                   "8215b90000b571bd241d28512c83f59855cecc3158db94b79b2d974c9923b5d2"),
    "embed-amd.js": ("@jupyter-widgets/html-manager", "1.0.15", "package/dist/embed-amd.js",
                     "ca87dff57c70ffb2658794fde0eab0e27e5f5472a1f5df7ab2b08e1039fc4b72"),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vendor(target: Path = VENDOR) -> list[Path]:
    """Make sure every pinned file is in `target` with the right digest; fetch what is missing."""
    target.mkdir(parents=True, exist_ok=True)
    out = []
    for name, (package, version, inner, digest) in FILES.items():
        dest = target / name
        if not (dest.is_file() and _sha256(dest) == digest):
            _fetch(package, version, inner, dest)
            if _sha256(dest) != digest:
                dest.unlink()
                raise RuntimeError(f"{package}@{version}:{inner} does not have the pinned SHA-256 {digest}")
        out.append(dest)
    return out


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
