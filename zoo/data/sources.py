"""The user's own data as :class:`~zoo.data.Splits`: folders, ``.npz`` and CSV files, keras.datasets, tfds.

``zoo.data.load(source)`` sends every name that is not a built-in set here:

- a folder of images (:mod:`zoo.data.images`): streamed, one subfolder per class or train/val/test;
- a ``.npz`` file: ``x``/``y``, or ``x_train``/``y_train`` [``x_val``/``y_val``] ``x_test``/``y_test``
  (keras.datasets' ``mnist.npz`` layout);
- a ``.csv`` file: a table with a header row, one column the class (``target=``);
- ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``: read offline from keras.datasets'
  cache in the formats Keras downloads (:mod:`zoo.data.keras_datasets`);
- ``tfds:NAME[/CONFIG][:VERSION]``: a TensorFlow Datasets set already prepared in ``data_dir=``
  (:mod:`zoo.data.tfds_source`).

Images are float32 in [0, 1], channels last. A split not in the source is carved from
train, per class (stratified), by ``seed``: the same seed gives the same rows.
"""

from __future__ import annotations

import csv
import difflib
import inspect
import os

import numpy as np

from zoo.core.checks import check_choice, fail

__all__ = ["load_source", "stratified_split", "load_npz", "load_csv", "image_arrays", "from_arrays", "KERAS_DATASETS"]

KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
ARRAYS_IN_MEMORY_BYTES = 2 << 30  # resized images above this many float32 bytes are streamed instead


def load_source(source, *, image_size=None, channels=None, val_fraction=0.15, test_fraction=0.2, seed=0, **kwargs):
    """Load ``source`` (a folder, a ``.npz`` or ``.csv`` path, a keras.datasets name or ``tfds:NAME``).

    ``kwargs`` go to the source's loader: ``cache``, ``verify``, ``bad_files`` (folders),
    ``target``, ``delimiter`` (CSV), ``download``, ``label_mode`` (keras.datasets),
    ``data_dir`` (tfds). Anything else is a ``ValueError`` listing what that source accepts.
    """
    common = dict(image_size=image_size, channels=channels, val_fraction=val_fraction,
                  test_fraction=test_fraction, seed=seed)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if text.startswith("tfds:"):
            from zoo.data.tfds_source import load_tfds

            return _call(load_tfds, text[len("tfds:"):], common, kwargs)
        path = os.path.expanduser(text)
        if text in KERAS_DATASETS and not os.path.exists(path):
            from zoo.data.keras_datasets import load_keras_dataset

            return _call(load_keras_dataset, text, common, kwargs)
        if os.path.isdir(path):
            from zoo.data.images import load_folder

            return _call(load_folder, path, common, kwargs)
        if os.path.isfile(path):
            suffix = os.path.splitext(path)[1].lower()
            if suffix in (".npz", ".csv"):
                return _call(load_npz if suffix == ".npz" else load_csv, path, common, kwargs)
            fail("source", text, "a folder of images, a .npz or a .csv file (this file ends in "
                 f"{suffix or 'no extension'!r})")
    _unknown(source)


def _unknown(source):
    from zoo.data.datasets import list_datasets

    known = [*list_datasets(), *KERAS_DATASETS]
    close = difflib.get_close_matches(str(source), known, n=3, cutoff=0.75)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ValueError(f"unknown dataset name={source!r}{hint}; expected one of {list_datasets()}, a folder of images, "
                     f"a .npz or .csv file, {', '.join(KERAS_DATASETS)}, or tfds:NAME")


def _call(loader, source, common, kwargs):
    """``loader(source, **common, **kwargs)``, with a ValueError naming an argument the loader does not take."""
    accepted = [p for p in inspect.signature(loader).parameters if p != "source" and p not in common
                and inspect.signature(loader).parameters[p].kind is inspect.Parameter.KEYWORD_ONLY]
    for key in kwargs:
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1)
            raise ValueError(f"unknown argument {key!r} for {loader.__name__}({source!r})"
                             + (f" (did you mean {close[0]}?)" if close else "")
                             + f"; accepted: {', '.join(accepted) or 'none beyond image_size, channels, fractions, seed'}")
    return loader(source, **common, **kwargs)


# --------------------------------------------------------------------------- splitting


def stratified_split(labels, val_fraction, test_fraction, seed=0) -> dict:
    """Row indices ``{"train", "val", "test"}`` (each sorted): per class, ``round(n * fraction)`` rows go to test
    and to val, drawn by ``seed``; train keeps the rest and at least one row of each class."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    out = {"train": [], "val": [], "test": []}
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        n = len(rows)
        n_test = min(int(np.floor(n * test_fraction + 0.5)), n - 1)
        n_val = min(int(np.floor(n * val_fraction + 0.5)), n - 1 - n_test)
        out["test"].append(rows[:n_test])
        out["val"].append(rows[n_test:n_test + n_val])
        out["train"].append(rows[n_test + n_val:])
    return {k: np.sort(np.concatenate(v)).astype("int64") if v else np.zeros(0, "int64") for k, v in out.items()}


def from_arrays(name, parts: dict, num_classes, class_names, val_fraction, test_fraction, seed):
    """:class:`Splits` from ``parts`` (``{"train": (x, y), ...}``, at least train); missing splits carved from train."""
    from zoo.data.splits import Splits, Stream

    x, y = parts["train"]
    labels = x.labels if isinstance(x, Stream) else y
    missing = {s: f for s, f in (("val", val_fraction), ("test", test_fraction)) if s not in parts}
    rows = stratified_split(labels, missing.get("val", 0), missing.get("test", 0), seed)
    taken = {}
    for split in ("train", *missing):
        taken[split] = (x.take(rows[split]), None) if isinstance(x, Stream) else (x[rows[split]], y[rows[split]])
    parts = {**parts, **taken}
    as_part = {s: (p[0] if isinstance(p[0], Stream) else p) for s, p in parts.items()}
    return Splits(name, as_part["train"], as_part["val"], as_part["test"], num_classes, class_names)


def _labels(y, where):
    """Class indices and names of a label array: integers 0..K-1 keep their values, anything else is indexed
    by its sorted distinct values."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{where}: labels of shape {y.shape}; expected one integer or name per example")
    if np.issubdtype(y.dtype, np.integer) and (len(y) == 0 or y.min() >= 0):
        k = int(y.max()) + 1 if len(y) else 0
        return y.astype("int32"), [str(i) for i in range(k)]
    names, index = np.unique(y, return_inverse=True)
    return index.astype("int32"), [str(n) for n in names]


# --------------------------------------------------------------------------- images held as arrays


def _resize_fn(image_size, channels):
    import tensorflow as tf

    def convert(x):  # uint8 or float images (n, h, w, c) -> float32 in [0, 1], resized, channels converted
        x = tf.cast(x, tf.float32) / (255.0 if x.dtype == tf.uint8 else 1.0)
        if channels == 1 and x.shape[-1] == 3:
            x = tf.image.rgb_to_grayscale(x)
        elif channels == 3 and x.shape[-1] == 1:
            x = tf.image.grayscale_to_rgb(x)
        if image_size is not None:
            x = tf.image.resize(x, image_size, method="bilinear")
        return x

    return convert


def image_arrays(x, y, image_size, channels, where):
    """Images ``x`` (n, h, w) or (n, h, w, c), uint8 in [0, 255] or floats as given, as float32 (n, h', w', c').

    Small results are arrays; when resizing would take more than 2 GiB the images stay
    uint8 in memory and the result is a :class:`Stream` converting each on the fly.
    """
    from zoo.data.images import _image_size
    from zoo.data.splits import Stream

    image_size = _image_size(image_size)
    if channels is not None:
        check_choice("channels", channels, (1, 3))
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"{where}: images of shape {x.shape}; expected (n, height, width) or (n, height, width, 1 or 3)")
    out_c = channels or x.shape[-1]
    h, w = image_size or x.shape[1:3]
    if image_size is None and out_c == x.shape[-1] and x.dtype != np.uint8:
        return x.astype("float32", copy=False)
    convert = _resize_fn(image_size, out_c)
    if len(x) * h * w * out_c * 4 <= ARRAYS_IN_MEMORY_BYTES:
        return np.concatenate([convert(x[i:i + 4096]).numpy() for i in range(0, len(x), 4096)] or
                              [np.zeros((0, h, w, out_c), "float32")])
    import tensorflow as tf

    y = np.asarray(y, "int32")

    def build(indices, shuffle, seed):
        ds = tf.data.Dataset.from_tensor_slices(np.asarray(indices, "int64"))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        return ds.map(lambda i: (convert(tf.gather(x, i)[None])[0], tf.gather(y, i)),
                      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    return Stream(y, build, (h, w, out_c), description=f"{where} ({len(x)} images resized on the fly)")


def _images_or_table(x, y, image_size, channels, where):
    """Images through :func:`image_arrays`; 2-D feature tables as float32 (image_size/channels refused)."""
    x = np.asarray(x)
    if x.ndim == 2:
        if image_size is not None or channels is not None:
            raise ValueError(f"{where}: image_size/channels given for a table of shape {x.shape}; expected images")
        return x.astype("float32")
    return image_arrays(x, y, image_size, channels, where)


# --------------------------------------------------------------------------- .npz


def load_npz(source, *, image_size=None, channels=None, val_fraction=0.15, test_fraction=0.2, seed=0):
    """A ``.npz`` file: ``x``/``y`` (split three ways) or ``x_train``/``y_train`` with optional ``x_val``/``y_val``
    and ``x_test``/``y_test`` (missing splits carved from train). uint8 images are scaled to [0, 1], floats kept;
    (n, h, w) images get a channel axis; 2-D ``x`` is a feature table. Labels: integers 0..K-1 as they are, other
    values (names) indexed by their sorted distinct values; an optional ``class_names`` array names them.
    Read with ``allow_pickle=False``."""
    with np.load(source, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    found = sorted(arrays)
    expected = "x and y, or x_train, y_train (x_val, y_val, x_test, y_test optional, each with its y)"
    if "x" in arrays and "y" in arrays and not any(k.startswith(("x_", "y_")) for k in arrays):
        pairs = {"train": ("x", "y")}
    elif "x_train" in arrays and "y_train" in arrays:
        pairs = {s: (f"x_{s}", f"y_{s}") for s in ("train", "val", "test") if f"x_{s}" in arrays or f"y_{s}" in arrays}
    else:
        raise ValueError(f"{source!r} holds arrays {found}; expected {expected}")
    for xk, yk in pairs.values():
        if xk not in arrays or yk not in arrays:
            raise ValueError(f"{source!r} has {xk if xk in arrays else yk} without {yk if xk in arrays else xk} "
                             f"(arrays {found}); expected {expected}")
        if len(arrays[xk]) != len(arrays[yk]):
            raise ValueError(f"{source!r}: {xk} has {len(arrays[xk])} rows but {yk} has {len(arrays[yk])}")
    all_y = np.concatenate([np.asarray(arrays[yk]).reshape(len(arrays[yk]), -1)[:, 0] for _, yk in pairs.values()])
    _, names = _labels(all_y, source)
    lookup = {n: i for i, n in enumerate(names)}
    parts = {}
    for split, (xk, yk) in pairs.items():
        y_raw = np.asarray(arrays[yk]).reshape(len(arrays[yk]), -1)[:, 0]
        y = np.asarray([lookup[str(v)] for v in y_raw], "int32") if len(y_raw) else np.zeros(0, "int32")
        parts[split] = (_images_or_table(arrays[xk], y, image_size, channels, f"{source}:{xk}"), y)
    if "class_names" in arrays:
        given = [str(n) for n in arrays["class_names"]]
        if len(given) < len(names):
            raise ValueError(f"{source!r}: class_names has {len(given)} names for {len(names)} classes")
        names = given
    return from_arrays(os.fspath(source), parts, len(names), names, val_fraction, test_fraction, seed)


# --------------------------------------------------------------------------- CSV


def load_csv(source, *, image_size=None, channels=None, val_fraction=0.15, test_fraction=0.2, seed=0, target=None,
             delimiter=","):
    """A CSV table with a header row: ``target`` (default: the last column) holds the class; every other column
    must be numeric (float32 features; a non-numeric or empty cell is a ``ValueError`` naming the column and the
    line: encode categories as numbers first, or leave the column out of the file). Classes are the target's
    sorted distinct values (numerically when they are all numbers), split by class with ``seed``."""
    if image_size is not None or channels is not None:
        raise ValueError(f"image_size/channels given for the CSV table {source!r}; expected None (it holds features)")
    with open(source, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    rows = [r for r in rows if r]
    if len(rows) < 2:
        raise ValueError(f"CSV file {source!r} has {len(rows)} line(s); expected a header row and at least one data row")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    target = header[-1] if target is None else target
    if target not in header:
        fail("target", target, f"a column of {source!r}; its columns are {header}")
    t = header.index(target)
    columns = [i for i in range(len(header)) if i != t]
    if not columns:
        raise ValueError(f"CSV file {source!r} has only the target column {target!r}; expected feature columns too")
    x = np.empty((len(body), len(columns)), "float32")
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"{source!r} line {line} has {len(row)} fields; expected {len(header)} as in the header")
        for j, i in enumerate(columns):
            try:
                x[line - 2, j] = float(row[i])
            except ValueError:
                raise ValueError(f"{source!r}: column {header[i]!r} holds {row[i]!r} at line {line}; expected numbers "
                                 f"(features must be numeric; the class is column target={target!r})") from None
    values = [row[t].strip() for row in body]
    try:
        distinct = sorted(set(values), key=float)
    except ValueError:
        distinct = sorted(set(values))
    index = {v: i for i, v in enumerate(distinct)}
    y = np.asarray([index[v] for v in values], "int32")
    return from_arrays(os.fspath(source), {"train": (x, y)}, len(distinct), distinct, val_fraction, test_fraction, seed)
