"""Data loading through the real readers on small files written here in each dataset's own format."""
import gzip
import pickle

import numpy as np
import pytest
import torch

from ticketkit import data as D


def write_cifar10(root, n_per_batch=6, seed=0):
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        imgs = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = list(rng.integers(0, 10, size=n_per_batch))
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": imgs, "labels": labels, "batch_label": name}, fh, protocol=2)
        batches[name] = (imgs, labels)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)], "num_vis": 3072}, fh, protocol=2)
    return batches


def write_idx(path, arr):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def test_cifar10_pickle_layout_loads_through_torchvision(tmp_path):
    batches = write_cifar10(tmp_path)
    a = D.load_arrays("cifar10", root=tmp_path, verify=False)
    assert a.train_x.shape == (30, 3, 32, 32) and a.test_x.shape == (6, 3, 32, 32)
    imgs, labels = batches["data_batch_1"]
    # CIFAR rows are 1024 red, 1024 green, 1024 blue values in row-major order
    assert np.array_equal(a.train_x[0], imgs[0].reshape(3, 32, 32))
    assert a.train_y[:6].tolist() == labels


def test_made_cifar_files_fail_the_md5_check_unless_told(tmp_path):
    write_cifar10(tmp_path)
    with pytest.raises(D.DatasetNotFound, match="verify=False"):
        D.load_arrays("cifar10", root=tmp_path, verify=True)


def test_fashion_mnist_idx_files(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    tx = rng.integers(0, 256, (20, 28, 28))
    ty = np.arange(20) % 10
    write_idx(folder / "train-images-idx3-ubyte.gz", tx)
    write_idx(folder / "train-labels-idx1-ubyte.gz", ty)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", tx[:10])
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", ty[:10])
    bundle = D.load_data("fashion_mnist", root=tmp_path, image_size=32, val_size=4)
    assert bundle.in_channels == 1 and bundle.image_size == 32
    assert len(bundle.train_y) == 16 and len(bundle.val_y) == 4
    # centre padding 28 -> 32 puts the original image at offset 2
    assert torch.equal(bundle.test_x[0, 0, 2:30, 2:30], torch.from_numpy(tx[0].astype(np.uint8)))
    assert int(bundle.test_x[0, 0, :2].sum()) == 0


def test_missing_dataset_names_places_and_remedy(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "SYSTEM_ROOT", tmp_path / "nowhere")
    with pytest.raises(D.DatasetNotFound) as err:
        D.load_arrays("fashion_mnist", root=tmp_path / "empty")
    msg = str(err.value)
    assert "FashionMNIST" in msg and str(tmp_path / "empty") in msg and "download=True" in msg
    with pytest.raises(D.DatasetNotFound, match="CIFAR-100.*download=True"):
        D.load_arrays("cifar100", root=tmp_path / "empty")


def test_unknown_dataset_lists_the_registry():
    with pytest.raises(KeyError, match="unknown dataset 'imagenet'.*cifar10.*fashion_mnist"):
        D.load_data("imagenet")


def test_augment_is_a_shifted_window_of_the_zero_padded_image():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.int64).reshape(2, 3, 8, 8).to(torch.uint8)
    g = torch.Generator().manual_seed(3)
    out = D.augment(x, g, pad=2)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        found = any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(-1))
                    for dy in range(5) for dx in range(5) for w in [padded[i, :, dy:dy + 8, dx:dx + 8]])
        assert found


def test_balanced_batch_has_k_of_every_class():
    bundle = D.load_data("digits", image_size=32)
    x, y = D.balanced_batch(bundle, 10, seed=0)
    assert x.dtype == torch.float32 and torch.bincount(y).tolist() == [10] * 10


def test_train_subset_is_class_balanced_beside_a_validation_split():
    bundle = D.load_data("digits", val_size=100, train_subset=500)
    assert torch.bincount(bundle.train_y).tolist() == [50] * 10
    assert len(bundle.val_y) == 100


def write_cifar100(root, n=8, seed=0):
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    for name in ("train", "test"):
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                         "fine_labels": list(rng.integers(0, 100, size=n)),
                         "coarse_labels": list(rng.integers(0, 20, size=n))}, fh, protocol=2)
    with open(folder / "meta", "wb") as fh:
        pickle.dump({"fine_label_names": [f"f{i}" for i in range(100)],
                     "coarse_label_names": [f"c{i}" for i in range(20)]}, fh, protocol=2)


def test_class_counts_known_without_loading_match_the_loaded_data(tmp_path):
    write_cifar10(tmp_path)
    write_cifar100(tmp_path)
    assert {n: D.num_classes(n) for n in ("cifar10", "cifar100")} == {"cifar10": 10, "cifar100": 100}
    for name in ("cifar10", "cifar100", "digits", "synthetic"):
        a = D.load_arrays(name, root=tmp_path, verify=False)
        assert D.num_classes(name) == a.num_classes, name
    assert len(np.unique(D.load_arrays("digits").train_y)) == D.num_classes("digits")
    for name in D.DATASETS.names():
        assert D.num_classes(name) > 1
    with pytest.raises(KeyError, match="unknown dataset 'imagenet'"):
        D.num_classes("imagenet")
