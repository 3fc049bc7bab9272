"""Datasets as uint8 tensors held on the training device, with CIFAR augmentation done on whole batches.

Look-up order for files: an explicit root or $TICKETKIT_DATA, Debian's /usr/share/datasets, then torchvision's
download into ~/.cache/ticketkit when `download=True`. Nothing is decoded per image in the training loop.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from .registry import Registry

DEFAULT_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ticketkit"
SYSTEM_ROOT = Path("/usr/share/datasets")


class DatasetNotFound(FileNotFoundError):
    """No copy of a dataset was found in any of the places looked in."""


@dataclass(frozen=True)
class Arrays:
    """A dataset as numpy arrays: images uint8 (N, C, H, W), labels int64 (N,)."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    num_classes: int
    source: str  # where the files came from, printed in the scale header


@dataclass(frozen=True)
class DataBundle:
    """Train/validation/test tensors (uint8 images, int64 labels) plus the normalisation to apply per batch."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str

    @property
    def in_channels(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.train_x.shape[-1])

    def to(self, device: torch.device | str) -> "DataBundle":
        moved = {f: getattr(self, f).to(device) for f in ("train_x", "train_y", "val_x", "val_y", "test_x", "test_y")}
        return replace(self, **moved)

    def with_train(self, x: torch.Tensor, y: torch.Tensor) -> "DataBundle":
        """The same bundle with another training set (used by data sanity checks and subsets)."""
        return replace(self, train_x=x, train_y=y)

    def normalizer(self, device: torch.device | str) -> Callable[[torch.Tensor], torch.Tensor]:
        """uint8 batch -> normalised float batch, with the constants built once on `device` (training loops)."""
        std = torch.tensor(self.std, device=device).view(1, -1, 1, 1)
        scale = 1.0 / (255.0 * std)
        shift = -torch.tensor(self.mean, device=device).view(1, -1, 1, 1) / std
        return lambda x: torch.addcmul(shift, x.float(), scale)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 batch -> normalised float batch on the same device."""
        return self.normalizer(x.device)(x)


Loader = Callable[[Path | None, bool, bool], Arrays]
DATASETS: Registry[Loader] = Registry("dataset")


def _roots(root: str | Path | None) -> list[Path]:
    """Explicit root first, then $TICKETKIT_DATA, then the default cache folder."""
    out = [Path(root)] if root else []
    if os.environ.get("TICKETKIT_DATA"):
        out.append(Path(os.environ["TICKETKIT_DATA"]))
    out.append(DEFAULT_ROOT)
    return out


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: header says {dims}, found {data.size} bytes")
    return data.reshape(dims).copy()


IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _find_idx(folder: Path) -> list[Path] | None:
    found = []
    for stem in IDX_STEMS:
        hits = [folder / stem, folder / f"{stem}.gz"]
        hit = next((h for h in hits if h.is_file()), None)
        if hit is None:
            return None
        found.append(hit)
    return found


def _mnist_like(tv_name: str, system_dir: str | None) -> Loader:
    def load(root: Path | None, download: bool, verify: bool) -> Arrays:
        looked: list[Path] = []
        candidates: list[Path] = []
        for r in _roots(root):
            candidates += [r / system_dir if system_dir else r, r / tv_name / "raw", r]
        if system_dir:
            candidates.append(SYSTEM_ROOT / system_dir)
        for folder in dict.fromkeys(candidates):
            looked.append(folder)
            files = _find_idx(folder)
            if files:
                tx, ty, vx, vy = (read_idx(f) for f in files)
                return Arrays(tx[:, None], ty.astype(np.int64), vx[:, None], vy.astype(np.int64), 10, str(folder))
        failure = ""
        if download:
            import torchvision

            cls = getattr(torchvision.datasets, tv_name)
            target = _roots(root)[0]
            try:
                cls(str(target), train=True, download=True)
                cls(str(target), train=False, download=True)
                return load(target, False, verify)
            except (OSError, RuntimeError) as err:
                failure = f" The download failed: {err}."
        hint = (f" `apt-get install dataset-fashion-mnist` (Debian) puts it in {SYSTEM_ROOT / system_dir}."
                if system_dir else "")
        raise DatasetNotFound(
            f"dataset {tv_name} not found. Looked for its four IDX files in: {', '.join(map(str, looked))}.{failure}"
            f"{hint} {_how_to_get(download, f'its four IDX files ({IDX_STEMS[0]}[.gz], ...)', f'{tv_name}/raw/')}")

    return load


def _how_to_get(download: bool, files: str, folder: str) -> str:
    """What to do about a missing dataset, from the command line and notebooks as well as from Python."""
    if download:
        fetch = "check the network and try again, or"
    elif os.environ.get("TICKETKIT_DOWNLOAD") == "0":
        fetch = "downloads are off because TICKETKIT_DOWNLOAD=0: unset it to download it (needs a network), or"
    else:
        fetch = ("pass download=True to download it (needs a network; `python -m ticketkit` and the notebooks "
                 "download unless TICKETKIT_DOWNLOAD=0), or")
    data = os.environ.get("TICKETKIT_DATA")
    now = f"now {data}" if data else "unset now"
    return (f"To get it: {fetch} put {files} in $TICKETKIT_DATA/{folder} (the environment variable naming your "
            f"data folder, {now}) or in {DEFAULT_ROOT}/{folder}.")


def _cifar(num_classes: int) -> Loader:
    def load(root: Path | None, download: bool, verify: bool) -> Arrays:
        import torchvision

        base = torchvision.datasets.CIFAR10 if num_classes == 10 else torchvision.datasets.CIFAR100

        class Local(base):  # type: ignore[misc, valid-type]
            """torchvision's CIFAR reader with the MD5 check made optional for local copies."""

            def _check_integrity(self) -> bool:
                if verify:
                    return super()._check_integrity()
                return all((Path(self.root) / self.base_folder / f).is_file()
                           for f, _ in self.train_list + self.test_list)

            def _load_meta(self) -> None:
                if verify:
                    super()._load_meta()

        looked = []
        for r in _roots(root):
            looked.append(r / base.base_folder)
            try:
                train = Local(str(r), train=True, download=False)
                test = Local(str(r), train=False, download=False)
            except RuntimeError:
                continue
            return _cifar_arrays(train, test, num_classes, str(r / base.base_folder))
        failure = ""
        if download:
            target = _roots(root)[0]
            try:
                train = base(str(target), train=True, download=True)
                test = base(str(target), train=False, download=True)
                return _cifar_arrays(train, test, num_classes, str(target / base.base_folder))
            except (OSError, RuntimeError) as err:
                failure = f" The download failed: {err}."
        raise DatasetNotFound(
            f"dataset CIFAR-{num_classes} not found. Looked for {base.base_folder}/ in: "
            f"{', '.join(map(str, looked))}.{failure} "
            f"{_how_to_get(download, 'the extracted archive', f'{base.base_folder}/')} For made or re-packed files "
            "whose MD5 sums differ from the official ones, set TICKETKIT_VERIFY=0 (verify=False in Python).")

    return load


def _cifar_arrays(train, test, num_classes: int, source: str) -> Arrays:  # type: ignore[no-untyped-def]
    def chw(d: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(d.transpose(0, 3, 1, 2))

    return Arrays(chw(train.data), np.asarray(train.targets, np.int64), chw(test.data),
                  np.asarray(test.targets, np.int64), num_classes, source)


def _digits(root: Path | None, download: bool, verify: bool) -> Arrays:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(y))
    x, y = x[perm], y[perm]
    return Arrays(x[:1500], y[:1500], x[1500:], y[1500:], 10, "scikit-learn load_digits")


def _synthetic(root: Path | None, download: bool, verify: bool) -> Arrays:
    """Ten learnable classes: a fixed random prototype per class plus noise (for smoke runs)."""
    rng = np.random.default_rng(1234)
    protos = rng.uniform(0, 255, size=(10, 3, 32, 32))

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n) % 10
        x = protos[y] * 0.5 + rng.uniform(0, 127, size=(n, 3, 32, 32))
        return x.astype(np.uint8), y.astype(np.int64)

    tx, ty = make(1024)
    vx, vy = make(512)
    return Arrays(tx, ty, vx, vy, 10, "made in memory (synthetic)")


_CLASSES = {"cifar10": 10, "cifar100": 100, "mnist": 10, "fashion_mnist": 10, "digits": 10, "synthetic": 10}
_CHANNELS = {"cifar10": 3, "cifar100": 3, "mnist": 1, "fashion_mnist": 1, "digits": 1, "synthetic": 3}

DATASETS.register("cifar10", "CIFAR-10 via torchvision (50k/10k 32x32 colour, 10 classes)")(
    _cifar(_CLASSES["cifar10"]))
DATASETS.register("cifar100", "CIFAR-100 via torchvision (50k/10k 32x32 colour, 100 classes)")(
    _cifar(_CLASSES["cifar100"]))
DATASETS.register("mnist", "MNIST via torchvision or local IDX files (60k/10k 28x28 grey)")(_mnist_like("MNIST", None))
DATASETS.register("fashion_mnist", "Fashion-MNIST: local IDX files, Debian's dataset-fashion-mnist, or torchvision")(
    _mnist_like("FashionMNIST", "fashion-mnist"))
DATASETS.register("digits", "scikit-learn's 8x8 digits (1500 train / 297 test), real and tiny")(_digits)
DATASETS.register("synthetic", "made data: 10 noisy class prototypes, 3x32x32 (smoke runs only)")(_synthetic)


def num_classes(name: str) -> int:
    """Class count of a registered dataset without loading it: what chance accuracy (100 / count) is read against."""
    DATASETS.get(name)
    return _CLASSES[name]


def image_channels(name: str) -> int:
    """Colour channels of a registered dataset's images without loading it (sizes a network's first layer)."""
    DATASETS.get(name)
    return _CHANNELS[name]


_CACHE: dict[tuple[str, str, bool], Arrays] = {}


def load_arrays(name: str, root: str | Path | None = None, download: bool = False, verify: bool = True) -> Arrays:
    """Raw arrays of a registered dataset (cached per process)."""
    loader = DATASETS.get(name)
    key = (name, str(root), verify)
    if key not in _CACHE:
        _CACHE[key] = loader(Path(root) if root else None, download, verify)
    return _CACHE[key]


def fit_images(x: torch.Tensor, size: int) -> torch.Tensor:
    """Centre-pad images up to `size` when at most 8 pixels short (28 -> 32), else resize bilinearly."""
    h = x.shape[-1]
    if h == size:
        return x
    if size > h and size - h <= 8:
        lo = (size - h) // 2
        return F.pad(x, (lo, size - h - lo, lo, size - h - lo))
    return F.interpolate(x.float(), size=(size, size), mode="bilinear", align_corners=False).round().clamp(0, 255).to(torch.uint8)


def load_data(name: str, *, root: str | Path | None = None, image_size: int | None = None,
              channels: int | None = None, val_size: int = 0, train_subset: int | None = None,
              test_subset: int | None = None, split_seed: int = 0, download: bool = False,
              verify: bool = True) -> DataBundle:
    """Load a dataset as a DataBundle: optional resize/pad, channel repeat, class-balanced subset and validation split."""
    a = load_arrays(name, root, download, verify)
    tx, ty = torch.from_numpy(a.train_x), torch.from_numpy(a.train_y)
    ex, ey = torch.from_numpy(a.test_x), torch.from_numpy(a.test_y)
    if image_size:
        tx, ex = fit_images(tx, image_size), fit_images(ex, image_size)
    if channels and channels != tx.shape[1]:
        if tx.shape[1] != 1:
            raise ValueError(f"can only repeat one-channel images to {channels} channels, {name} has {tx.shape[1]}")
        tx, ex = tx.expand(-1, channels, -1, -1).contiguous(), ex.expand(-1, channels, -1, -1).contiguous()
    g = torch.Generator().manual_seed(split_seed)
    perm = torch.randperm(len(ty), generator=g)
    if val_size >= len(ty):
        raise ValueError(f"val_size={val_size} leaves no training data ({name} has {len(ty)} training images)")
    val_idx, train_idx = perm[:val_size], perm[val_size:]
    if train_subset is not None and train_subset < len(train_idx):
        train_idx = train_idx[balanced_indices(ty[train_idx], train_subset // a.num_classes, g)]
    if test_subset is not None and test_subset < len(ey):
        keep = balanced_indices(ey, test_subset // a.num_classes, g)
        ex, ey = ex[keep], ey[keep]
    xf = tx[train_idx].float() / 255.0
    mean = tuple(xf.mean(dim=(0, 2, 3)).tolist())
    std = tuple(xf.std(dim=(0, 2, 3)).clamp_min(1e-3).tolist())
    return DataBundle(name, tx[train_idx], ty[train_idx], tx[val_idx], ty[val_idx], ex, ey, a.num_classes,
                      mean, std, a.source)


def balanced_indices(y: torch.Tensor, per_class: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of `per_class` random examples of every class (fewer if a class is smaller), in random order."""
    picks = []
    for c in torch.unique(y):
        idx = torch.nonzero(y == c).flatten()
        picks.append(idx[torch.randperm(len(idx), generator=generator)[:per_class]])
    out = torch.cat(picks)
    return out[torch.randperm(len(out), generator=generator)]


def balanced_batch(data: DataBundle, per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A class-balanced, normalised batch from the training set (SNIP/GraSP use 10 per class)."""
    idx = balanced_indices(data.train_y.cpu(), per_class, torch.Generator().manual_seed(seed)).to(data.train_y.device)
    return data.normalize(data.train_x[idx]), data.train_y[idx]


def augment(x: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop with zero padding `pad` and horizontal flip, for a whole uint8 batch at once."""
    n, c, h, w = x.shape
    dev = x.device
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(dev)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(dev)
    flip = (torch.rand(n, generator=generator) < 0.5).to(dev)
    rows = (dy[:, None] + torch.arange(h, device=dev)[None, :])  # n x h
    cols = dx[:, None] + torch.arange(w, device=dev)[None, :]  # n x w
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    bi = torch.arange(n, device=dev)[:, None, None, None]
    ci = torch.arange(c, device=dev)[None, :, None, None]
    return padded[bi, ci, rows[:, None, :, None], cols[:, None, None, :]]


def batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, generator: torch.Generator | None = None,
            shuffle: bool = False, drop_last: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (uint8 images, labels) slices; shuffled with `generator` when asked."""
    n = len(y)
    order = torch.randperm(n, generator=generator).to(y.device) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    for i in range(0, stop, batch_size):
        if order is None:
            yield x[i:i + batch_size], y[i:i + batch_size]
        else:
            idx = order[i:i + batch_size]
            yield x[idx], y[idx]
