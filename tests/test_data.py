import hashlib

import numpy as np
import pytest

from nnlib import data


def test_shipped_file_matches_its_checksum():
    assert hashlib.sha256(data.MNIST_PATH.read_bytes()).hexdigest() == data.MNIST_SHA256


def test_damaged_file_is_refused(tmp_path):
    bad = tmp_path / "mnist.npz"
    raw = bytearray(data.MNIST_PATH.read_bytes())
    raw[1000] ^= 0xFF
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="SHA-256"):
        data._read_verified.__wrapped__(bad)


def test_splits_have_course_shapes_and_ranges(mnist):
    sizes = {"train": 4000, "val": 500, "test": 500}
    for name, (X, Y, labels) in mnist.items():
        m = sizes[name]
        assert X.shape == (784, m) and Y.shape == (10, m) and labels.shape == (m,)
        assert X.dtype == np.float64 and 0.0 <= X.min() and X.max() <= 1.0 and X.max() == 1.0
        assert np.array_equal(Y.argmax(axis=0), labels) and np.all(Y.sum(axis=0) == 1)


def test_split_is_shuffled_reproducible_and_disjoint():
    a = data.load_mnist(np.random.default_rng(5))
    b = data.load_mnist(np.random.default_rng(5))
    c = data.load_mnist(np.random.default_rng(6))
    assert np.array_equal(a["train"][0], b["train"][0])
    assert not np.array_equal(a["train"][0], c["train"][0])
    # the file is sorted by digit; a shuffled split has every digit in its first 100 columns
    assert set(a["train"][2][:100]) == set(range(10))
    cols = {name: {a[name][0][:, j].tobytes() for j in range(a[name][0].shape[1])} for name in a}
    assert not (cols["train"] & cols["test"]) and not (cols["val"] & cols["test"])


def test_every_digit_has_500_images():
    _, labels = data._read_verified(data.MNIST_PATH)
    assert np.array_equal(np.bincount(labels), np.full(10, 500))


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 3, 10]), "0..9"),
    (np.array([-1, 2]), "0..9"),
    (np.array([[1, 2]]), "1-D"),
    (np.array([0.5, 1.0]), "integers"),
])
def test_one_hot_refuses_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        data.one_hot(labels)


def test_load_mnist_needs_a_generator():
    with pytest.raises(TypeError, match="default_rng"):
        data.load_mnist(0)


@pytest.mark.parametrize("where", ["deleted", "a directory in its place"])
def test_missing_file_gets_the_same_one_line_advice_as_a_damaged_one(tmp_path, where):
    path = tmp_path / "mnist_5k.npz"
    if where == "a directory in its place":
        path.mkdir()
    with pytest.raises(ValueError, match="git checkout") as info:
        data._read_verified(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_load_mnist_reads_the_path_set_at_call_time(monkeypatch, tmp_path):
    """What BugLab() and the CLI call: a missing file is a ValueError saying what to do."""
    monkeypatch.setattr(data, "MNIST_PATH", tmp_path / "gone.npz")
    with pytest.raises(ValueError, match="gone.npz"):
        data.load_mnist(np.random.default_rng(0))


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_train=2.5), "whole numbers"),
    (dict(n_val=-1), "none negative"),
    (dict(n_test=True), "whole numbers"),
    (dict(n_train=4001, n_val=500), "at most 5000"),
])
def test_load_mnist_refuses_bad_split_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_mnist(np.random.default_rng(0), **kwargs)


def test_load_mnist_takes_numpy_integers():
    splits = data.load_mnist(np.random.default_rng(0), n_train=np.int64(5), n_val=np.int32(3), n_test=np.uint8(2))
    assert [splits[k][0].shape[1] for k in ("train", "val", "test")] == [5, 3, 2]


@pytest.mark.parametrize("n_classes", [0, -3, 2.5])
def test_one_hot_refuses_a_bad_class_count(n_classes):
    with pytest.raises(ValueError, match="n_classes"):
        data.one_hot(np.array([0, 1]), n_classes)


def test_one_hot_takes_a_list():
    assert np.array_equal(data.one_hot([2, 0], 3), [[0, 1], [0, 0], [1, 0]])
