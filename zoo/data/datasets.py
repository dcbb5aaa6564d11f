"""Built-in datasets and the entry to the user's own: ``load(name)`` returns fixed-seed train/validation/test splits.

Everything here ships inside installed packages or is generated, so nothing is
downloaded at run time: scikit-learn's 8x8 digits and synthetic 2-D sets.
Every loader returns fixed-seed, stratified train/validation/test splits.
"""

from __future__ import annotations

import numpy as np

from zoo.core.checks import check_bool, check_int, check_number, check_path
from zoo.data.splits import Splits

__all__ = ["Splits", "load", "list_datasets"]

_SYNTHETIC = ("moons", "circles", "xor", "blobs", "linear")


def list_datasets() -> list[str]:
    """The built-in data sets (a folder, file, keras.datasets or ``tfds:`` name is a source too)."""
    return ["digits", "fonts", *_SYNTHETIC]


def load(
    name: str,
    *,
    flat: bool = False,
    image_size: int | None = None,
    channels: int | None = None,
    n_samples: int = 1000,
    noise: float = 0.1,
    val_fraction: float = 0.15,
    test_fraction: float = 0.2,
    seed: int = 0,
    **source_kwargs,
) -> Splits:
    """Load a built-in dataset as :class:`Splits`.

    ``digits``: scikit-learn's 1,797 8x8 digits scaled to [0, 1], as images of
    shape (8, 8, channels) (resized to ``image_size`` if given) or, with
    ``flat=True``, vectors of 64. The synthetic sets (``moons``, ``circles``,
    ``xor``, ``blobs``, ``linear``: linearly separable with a margin) are 2-D
    points with ``n_samples`` rows and Gaussian ``noise``.

    Any other ``name`` is the user's data (:func:`zoo.data.sources.load_source`): a
    folder of images (streamed), a ``.npz`` or ``.csv`` file, ``mnist``,
    ``fashion_mnist``, ``cifar10``, ``cifar100`` from keras.datasets' cache, or
    ``tfds:NAME`` prepared in a TFDS ``data_dir``; ``source_kwargs`` go to its loader
    (``cache=``, ``target=``, ``download=``, ``data_dir=``, ...).
    """
    check_path("name", name, accepted="a data set name or a path (a str or os.PathLike)")
    for arg, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        check_number(arg, value, 0, 1, low_open=True, high_open=True)
    check_bool("flat", flat)
    check_number("noise", noise, low=0)
    check_int("seed", seed, minimum=0)
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"invalid val_fraction + test_fraction = {val_fraction + test_fraction}; expected < 1"
        )
    if name == "fonts":
        from zoo.data.fonts import load_fonts

        return load_fonts(image_size=image_size, channels=channels or 1, val_fraction=val_fraction,
                          test_fraction=test_fraction, seed=seed, **source_kwargs)
    if not isinstance(name, str) or name not in list_datasets():
        from zoo.data.sources import load_source  # a folder, .npz, CSV, keras.datasets or tfds: name

        return load_source(name, image_size=image_size, channels=channels, val_fraction=val_fraction,
                           test_fraction=test_fraction, seed=seed, **source_kwargs)
    if name == "digits":
        x, y = _digits(flat=flat, image_size=image_size, channels=channels or 1)
    else:
        if not isinstance(n_samples, int) or n_samples < 20:
            raise ValueError(f"invalid n_samples={n_samples!r}; expected an integer >= 20")
        x, y = _synthetic(name, n_samples=n_samples, noise=noise, seed=seed)
    return _split(name, x, y, val_fraction, test_fraction, seed)


def _digits(flat, image_size, channels):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")
    y = digits.target.astype("int32")
    if flat:
        if image_size is not None:
            raise ValueError("image_size cannot be combined with flat=True")
        return x.reshape(len(x), -1), y
    if channels not in (1, 3):
        raise ValueError(f"invalid channels={channels!r}; expected 1 or 3")
    x = x[..., None]
    if image_size is not None:
        if not isinstance(image_size, int) or image_size < 8:
            raise ValueError(f"invalid image_size={image_size!r}; expected an integer >= 8")
        import tensorflow as tf

        x = tf.image.resize(x, (image_size, image_size), method="bilinear").numpy()
    if channels == 3:
        x = np.repeat(x, 3, axis=-1)
    return x.astype("float32"), y


def _synthetic(name, n_samples, noise, seed):
    from sklearn import datasets

    rng = np.random.default_rng(seed)
    if name == "moons":
        x, y = datasets.make_moons(n_samples, noise=noise, random_state=seed)
    elif name == "circles":
        x, y = datasets.make_circles(n_samples, noise=noise, factor=0.5, random_state=seed)
    elif name == "blobs":
        x, y = datasets.make_blobs(n_samples, centers=3, cluster_std=1.0 + noise, random_state=seed)
    elif name == "xor":
        x = rng.uniform(-1, 1, size=(n_samples, 2))
        y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)
        x = x + rng.normal(scale=noise, size=x.shape)
    else:  # linear: separable by w.x + b = 0 with a margin of 0.1
        w = np.array([1.0, -0.7])
        x = np.empty((0, 2))
        while len(x) < n_samples:
            cand = rng.uniform(-1, 1, size=(2 * n_samples, 2))
            cand = cand[np.abs(cand @ w + 0.2) / np.linalg.norm(w) > 0.1]
            x = np.concatenate([x, cand])[:n_samples]
        y = (x @ w + 0.2 > 0).astype(int)
    return x.astype("float32"), y.astype("int32")


def _split(name, x, y, val_fraction, test_fraction, seed):
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_fraction / (1 - test_fraction), random_state=seed, stratify=y_rest
    )
    return Splits(name, (x_train, y_train), (x_val, y_val), (x_test, y_test), int(y.max()) + 1)
