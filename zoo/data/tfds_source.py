"""``tfds:NAME[/CONFIG][:VERSION]``: a TensorFlow Datasets set already prepared on disk, streamed.

Only data already prepared in ``data_dir`` (default ``$TFDS_DATA_DIR``, else
``~/tensorflow_datasets``) is read, through ``tfds.builder_from_directory`` (no
data set code, no download). The name follows TFDS's own ``name/config:version``
(``tfds:mnist``, ``tfds:cifar10:3.0.2``); without a version the newest prepared one
is used. Splits ``train``, ``validation`` (or ``val``) and ``test`` are used as
they are, a missing one is carved from ``train`` per class by ``seed`` (the labels
are read once up front, without decoding the images). Needs the optional extra:
``pip install dlzoo[tfds]``.
"""

from __future__ import annotations

import os
import re

import numpy as np

from zoo.core.checks import fail

__all__ = ["load_tfds", "tfds_data_dir"]

_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def tfds_data_dir(data_dir=None) -> str:
    """``data_dir``, else ``$TFDS_DATA_DIR``, else ``~/tensorflow_datasets`` (TFDS's own default)."""
    chosen = data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.join("~", "tensorflow_datasets")
    return os.path.abspath(os.path.expanduser(os.fspath(chosen)))


def _is_version_dir(path) -> bool:
    return _VERSION.match(os.path.basename(path)) is not None and os.path.isfile(os.path.join(path, "dataset_info.json"))


def _versions(folder) -> list[str]:
    if not os.path.isdir(folder):
        return []
    found = [d for d in os.listdir(folder) if _is_version_dir(os.path.join(folder, d))]
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


def _builder_dir(spec, data_dir) -> str:
    """The prepared ``data_dir/name[/config]/version`` folder of ``spec``, or FileNotFoundError saying how to prepare it."""
    match = re.fullmatch(r"([A-Za-z0-9_]+)(?:/([A-Za-z0-9_.\-]+))?(?::(\d+\.\d+\.\d+))?", spec)
    if not match:
        fail("source", f"tfds:{spec}", "tfds:NAME, tfds:NAME/CONFIG or tfds:NAME[/CONFIG]:VERSION (e.g. tfds:mnist:3.0.1)")
    name, config, version = match.groups()
    base = os.path.join(data_dir, name)
    prepare = (f"prepare it once with `tfds build {name}{'/' + config if config else ''} --data_dir {data_dir}` "
               f"(downloads it) or copy a prepared {name}/ folder there")
    if config is None and not _versions(base) and os.path.isdir(base):
        configs = sorted(d for d in os.listdir(base) if _versions(os.path.join(base, d)))
        if len(configs) == 1:
            config = configs[0]
        elif configs:
            fail("source", f"tfds:{spec}", f"a config of {name}: one of " + ", ".join(f"tfds:{name}/{c}" for c in configs))
    folder = os.path.join(base, config) if config else base
    versions = _versions(folder)
    if not versions or (version and version not in versions):
        what = f"{name}{'/' + config if config else ''}{':' + version if version else ''}"
        have = f" (prepared versions: {', '.join(versions)})" if versions else ""
        raise FileNotFoundError(f"tfds data set {what!r} is not prepared in data_dir={data_dir!r}{have}: no "
                                f"{os.path.join(folder, version or '<version>', 'dataset_info.json')}; {prepare}")
    return os.path.join(folder, version or versions[-1])


def _import_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise ImportError("tfds: sources need tensorflow-datasets, which is not installed; "
                          "pip install dlzoo[tfds] (or pip install tensorflow-datasets)") from e
    return tfds


def _keys(info, where) -> tuple[str, str]:
    keys = info.supervised_keys
    if keys and len(keys) == 2 and all(isinstance(k, str) for k in keys):
        return keys
    if "image" in info.features and "label" in info.features:
        return "image", "label"
    raise ValueError(f"{where}: no supervised_keys and no 'image'/'label' features (it has {list(info.features)}); "
                     "expected an (input, label) data set")


def _read_labels(tfds, builder, split, label_key) -> np.ndarray:
    ds = builder.as_dataset(split=split, shuffle_files=False,
                            decoders=tfds.decode.PartialDecoding({label_key: True}))
    chunks = [np.asarray(b[label_key]) for b in ds.batch(8192).as_numpy_iterator()]
    return np.concatenate(chunks).astype("int32") if chunks else np.zeros(0, "int32")


def load_tfds(source, *, image_size=None, channels=None, val_fraction=0.15, test_fraction=0.2, seed=0, data_dir=None):
    """A prepared TFDS set as :class:`Splits` of :class:`Stream` (images float32 in [0, 1], resized and converted
    to ``channels`` when given; labels from the label feature, ``class_names`` from its names)."""
    import tensorflow as tf

    from zoo.data.images import _image_size
    from zoo.data.sources import _resize_fn, from_arrays
    from zoo.data.splits import Stream

    tfds = _import_tfds()
    data_dir = tfds_data_dir(data_dir)
    where = f"tfds:{source}"
    folder = _builder_dir(source, data_dir)
    builder = tfds.builder_from_directory(folder)
    info = builder.info
    x_key, y_key = _keys(info, where)
    image_size = _image_size(image_size)
    x_feature = info.features[x_key]
    is_image = isinstance(x_feature, tfds.features.Image)
    shape = tuple(x_feature.shape)
    if is_image:
        out_c = channels or shape[-1]
        if channels is not None and channels not in (1, 3):
            fail("channels", channels, "1, 3 or None")
        if image_size is None and None in shape[:2]:
            fail("image_size", None, f"(height, width): the images of {where} differ in size ({shape})")
        element_shape = (*(image_size or shape[:2]), out_c)
        convert = _resize_fn(image_size, out_c)
    elif image_size is not None or channels is not None:
        raise ValueError(f"{where}: image_size/channels given but its input {x_key!r} is not an image")
    else:
        element_shape, convert = shape, lambda x: tf.cast(x, tf.float32)
    splits = {name: s for name, s in (("train", "train"), ("val", "validation"), ("val", "val"), ("test", "test"))
              if s in info.splits}
    if "train" not in splits:
        raise ValueError(f"{where} has splits {sorted(info.splits)}; expected a 'train' split")
    label_feature = info.features[y_key]
    names = list(getattr(label_feature, "names", None) or [])

    def stream(split_name, labels):
        def build(indices, shuffle, seed):
            ds = builder.as_dataset(split=split_name, shuffle_files=False)
            if len(indices) != len(labels) or np.any(np.asarray(indices) != np.arange(len(labels))):
                mask = np.zeros(len(labels), bool)
                mask[indices] = True
                ds = ds.enumerate().filter(lambda i, ex: tf.gather(mask, i)).map(lambda i, ex: ex)
            ds = ds.map(lambda ex: (ex[x_key], tf.cast(ex[y_key], tf.int32)))
            if shuffle:
                ds = ds.shuffle(min(len(indices), 10_000), seed=seed, reshuffle_each_iteration=True)
            return ds.map(lambda x, y: (convert(x), y), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

        return Stream(labels, build, element_shape, description=f"{where}:{split_name}")

    parts = {}
    for split, split_name in splits.items():
        labels = _read_labels(tfds, builder, split_name, y_key)
        parts[split] = (stream(split_name, labels), labels)
    num_classes = len(names) or int(max(p[1].max() for p in parts.values() if len(p[1]))) + 1
    return from_arrays(where, parts, num_classes, names or None, val_fraction, test_fraction, seed)
