"""keras.datasets' MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100, read offline from Keras's cache.

The files are those ``keras.datasets.<name>.load_data()`` downloads, where Keras 3
puts them under ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``)::

    mnist.npz                                          mnist
    fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz   fashion_mnist
    cifar-10-batches-py-target/cifar-10-batches-py/    cifar10: data_batch_1..5, test_batch, batches.meta
    cifar-100-python-target/cifar-100-python/          cifar100: train, test, meta

(the older Keras 2 layout without ``-target/`` is found too). The CIFAR pickles are
read with Keras's own restricted unpickler, which refuses anything but arrays.
Nothing is downloaded unless ``download=True``, and never with ``DLZOO_OFFLINE=1``.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from zoo.core.checks import check_choice, fail

__all__ = ["load_keras_dataset", "dataset_dirs", "CLASS_NAMES"]

CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}
_FASHION = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz")
_CIFAR = {
    "cifar10": (("cifar-10-batches-py-target/cifar-10-batches-py", "cifar-10-batches-py"),
                [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"], "batches.meta"),
    "cifar100": (("cifar-100-python-target/cifar-100-python", "cifar-100-python"), ["train", "test"], "meta"),
}


def dataset_dirs() -> list[str]:
    """The folders searched: ``$KERAS_HOME/datasets`` (else ``~/.keras/datasets``), then Keras's ``/tmp`` fallback."""
    from zoo.weights.pretrained import keras_cache_dir

    dirs = [os.path.join(os.path.dirname(keras_cache_dir()), "datasets"), os.path.join("/tmp", ".keras", "datasets")]
    return list(dict.fromkeys(os.path.abspath(d) for d in dirs))


def _expected(name) -> tuple[list[str], list[str]]:
    """(candidate paths relative to a datasets folder, the files each must hold)."""
    if name == "mnist":
        return ["mnist.npz"], []
    if name == "fashion_mnist":
        return ["fashion-mnist"], list(_FASHION)
    folders, files, _ = _CIFAR[name]
    return list(folders), files


def _find(name):
    """The path of ``name``'s file or folder in :func:`dataset_dirs`, or None."""
    candidates, files = _expected(name)
    for directory in dataset_dirs():
        for rel in candidates:
            path = os.path.join(directory, rel)
            if (not files and os.path.isfile(path)) or (files and all(os.path.isfile(os.path.join(path, f))
                                                                      for f in files)):
                return path
    return None


def _not_found(name, why_offline):
    candidates, files = _expected(name)
    what = candidates[0] + (f"/ (with {', '.join(files)})" if files else "")
    how = (f"downloads are off ({why_offline}); " if why_offline and why_offline != "download=False" else "") + (
        f"pass download=True to fetch it with keras.datasets.{name}.load_data() (needs the network), "
        f"or copy {candidates[0]!r} there from a machine that has it")
    return FileNotFoundError(f"{name}: keras.datasets file {what!r} not found in {', '.join(dataset_dirs())}; {how}")


def _read_idx(path) -> np.ndarray:
    """A gzipped IDX array (the MNIST format): magic 0 0 0x08 ndim, ndim big-endian int32 sizes, then uint8 data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"could not read {path!r}: not a uint8 IDX file (magic {data[:4]!r})")
    ndim = data[3]
    shape = tuple(int(s) for s in np.frombuffer(data, ">i4", count=ndim, offset=4))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _unpickle(path):
    from keras.src.datasets.npz_utils import RestrictedUnpickler

    with open(path, "rb") as f:
        return {k.decode() if isinstance(k, bytes) else k: v for k, v in RestrictedUnpickler(f, encoding="bytes")
                .load().items()}


def _cifar(name, folder, label_mode):
    _, files, meta_file = _CIFAR[name]
    key = "labels" if name == "cifar10" else f"{label_mode}_labels"
    batches = [_unpickle(os.path.join(folder, f)) for f in files]
    xs = [np.asarray(b["data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1) for b in batches]
    ys = [np.asarray(b[key], np.int32) for b in batches]
    train = (np.concatenate(xs[:-1]), np.concatenate(ys[:-1]))
    return train, (xs[-1], ys[-1]), _cifar_names(name, folder, meta_file, label_mode)


def _cifar_names(name, folder, meta_file, label_mode):
    meta = os.path.join(folder, meta_file) if folder else None
    if meta and os.path.isfile(meta):
        key = "label_names" if name == "cifar10" else f"{label_mode}_label_names"
        names = _unpickle(meta).get(key)
        if names:
            return [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    if name == "cifar10":
        return CLASS_NAMES["cifar10"]
    return [str(i) for i in range(100 if label_mode == "fine" else 20)]


def _read(name, path, label_mode):
    if name == "mnist":
        with np.load(path, allow_pickle=False) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"]), CLASS_NAMES["mnist"]
    if name == "fashion_mnist":
        x_tr, y_tr, x_te, y_te = (_read_idx(os.path.join(path, f)) for f in _FASHION)
        return (x_tr, y_tr), (x_te, y_te), CLASS_NAMES["fashion_mnist"]
    return _cifar(name, path, label_mode)


def _download(name, label_mode, why_offline):
    if why_offline:
        raise _not_found(name, why_offline)
    import keras

    module = getattr(keras.datasets, name)
    train, test = module.load_data(label_mode=label_mode) if name == "cifar100" else module.load_data()
    if name.startswith("cifar"):
        found = _find(name)
        names = _cifar_names(name, found, _CIFAR[name][2], label_mode)
    else:
        names = CLASS_NAMES[name]
    return train, test, names


def load_keras_dataset(source, *, image_size=None, channels=None, val_fraction=0.15, test_fraction=0.2, seed=0,
                       download=False, label_mode=None):
    """``mnist``, ``fashion_mnist``, ``cifar10`` or ``cifar100`` from keras.datasets' cache, offline.

    Their own train/test split; validation is ``val_fraction`` of train, per class, by
    ``seed`` (``test_fraction`` is unused). Images as float32 in [0, 1], (28, 28, 1) or
    (32, 32, 3), resized to ``image_size`` and converted to ``channels`` if given.
    ``label_mode``: ``"fine"`` (default) or ``"coarse"`` for cifar100, whose class names
    come from its ``meta`` file. Not in the cache: a ``FileNotFoundError`` naming the file,
    the folders searched and how to get it; ``download=True`` fetches it through
    ``keras.datasets.<name>.load_data()`` unless ``DLZOO_OFFLINE=1``.
    """
    from zoo.data.sources import from_arrays, image_arrays
    from zoo.weights.pretrained import _offline

    check_choice("source", source, tuple(CLASS_NAMES) + ("cifar100",))
    check_choice("download", download, (True, False))
    if label_mode is not None and source != "cifar100":
        fail("label_mode", label_mode, f"None for {source} (label_mode is cifar100's: 'fine' or 'coarse')")
    label_mode = check_choice("label_mode", label_mode or "fine", ("fine", "coarse"))
    path = _find(source)
    if path is not None:
        train, test, names = _read(source, path, label_mode)
    elif download:
        train, test, names = _download(source, label_mode, _offline(None))
    else:
        raise _not_found(source, _offline(False))
    parts = {}
    for split, (x, y) in (("train", train), ("test", test)):
        y = np.asarray(y, "int32").reshape(-1)
        parts[split] = (image_arrays(x, y, image_size, channels, f"{source}:{split}"), y)
    return from_arrays(source, parts, len(names), names, val_fraction, test_fraction, seed)
