"""A folder of images as streamed :class:`~zoo.data.Splits`: file listing, three-way split, tf.data decoding.

Two layouts, told apart by the subfolder names::

    flowers/daisy/*.jpg, flowers/rose/*.jpg, ...           one subfolder per class
    flowers/train/daisy/*.jpg, flowers/test/daisy/*.jpg    train/ with val/ (or validation/) and test/

A folder whose subfolders are ``train`` plus some of ``val``/``validation``/``test``
uses the given splits and carves the missing ones from ``train``; any other folder
is one subfolder per class, split three ways. Files are found as
``keras.utils.image_dataset_from_directory`` finds them (JPEG, PNG, BMP, GIF by
extension, subfolders walked recursively, sorted; classes are the sorted subfolder
names) and decoded the same way (``tf.io.decode_image(..., expand_animations=False)``:
a GIF's first frame; bilinear ``tf.image.resize`` without cropping).

Why not ``image_dataset_from_directory`` itself: it splits two ways only
(``validation_split`` with ``subset="training" | "validation"``) and not per class,
so a stratified train/val/test split by ``seed``, with the labels of each split known
before any image is decoded (``Stream.labels``, ``with_labels_per_class``), needs its
own file listing. The pipeline it builds per split is the same kind: paths (shuffled
anew each pass, seeded) -> parallel read + decode + resize -> float32 in [0, 1].
"""

from __future__ import annotations

import hashlib
import os
import warnings

import numpy as np

from zoo.core.checks import check_choice, fail, is_int
from zoo.data.splits import Stream

__all__ = ["FORMATS", "FileStream", "list_images", "load_folder", "image_pipeline"]

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # keras.utils.image_dataset_from_directory's ALLOWLIST_FORMATS
_PIL_FORMATS = {"JPEG", "MPO", "PNG", "BMP", "GIF"}  # MPO: the JPEG of many cameras
_SPLIT_DIRS = {"train": "train", "val": "val", "validation": "val", "test": "test"}
CACHE_AUTO_BYTES = 1 << 30  # cache="auto" keeps a split in memory when its decoded float32 images fit in 1 GiB


def _subdirs(folder) -> list[str]:
    return sorted(d for d in os.listdir(folder) if not d.startswith(".") and os.path.isdir(os.path.join(folder, d)))


def _files_under(folder) -> list[str]:
    """Image files under ``folder``, recursively, in keras's order (walk sorted by folder, files sorted)."""
    found = []
    for root, _, files in sorted(os.walk(folder), key=lambda w: w[0]):
        found += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(FORMATS)]
    return found


def list_images(folder, class_names=None) -> tuple[list[str], np.ndarray, list[str]]:
    """``(paths, labels, class_names)`` of a folder with one subfolder per class.

    ``class_names`` (those of the train split) fixes the label of each name; a
    subfolder not among them, an empty class subfolder, a folder without images or
    with a single class is a ``ValueError`` naming the folder (and the class).
    """
    names = _subdirs(folder)
    if not names:
        loose = len(_files_under(folder))
        raise ValueError(f"image folder {folder!r} has no class subfolders"
                         + (f" (it holds {loose} image file(s) directly)" if loose else "")
                         + "; expected one subfolder of images per class, or train/ (val/, test/) subfolders holding them")
    if class_names is None:
        class_names = names
        if len(names) < 2:
            raise ValueError(f"image folder {folder!r} has a single class subfolder {names[0]!r}; "
                             "expected at least 2 classes (one subfolder per class)")
    index = {c: i for i, c in enumerate(class_names)}
    paths, labels = [], []
    for name in names:
        if name not in index:
            raise ValueError(f"class subfolder {name!r} of {folder!r} is not a class of the train split; "
                             f"expected one of {list(class_names)}")
        files = _files_under(os.path.join(folder, name))
        if not files:
            raise ValueError(f"class subfolder {name!r} of image folder {folder!r} holds no images; "
                             f"expected files ending in {', '.join(FORMATS)} (remove the empty folder)")
        paths += files
        labels += [index[name]] * len(files)
    return paths, np.asarray(labels, "int32"), list(class_names)


def _headers(paths, bad_files):
    """The ``(height, width)`` of each file read from its header with PIL; unreadable files raise or are dropped."""
    from PIL import Image, UnidentifiedImageError

    sizes, bad = [], []
    for path in paths:
        try:
            with Image.open(path) as im:
                if im.format not in _PIL_FORMATS:
                    raise UnidentifiedImageError(f"a {im.format} image, which tf.io.decode_image cannot read")
                sizes.append((im.height, im.width))
        except (OSError, UnidentifiedImageError, ValueError) as e:
            bad.append((path, str(e) or type(e).__name__))
            sizes.append(None)
    if bad:
        listed = "; ".join(f"{p!r} ({why})" for p, why in bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
        if bad_files == "raise":
            raise ValueError(f"{len(bad)} image file(s) are not readable JPEG, PNG, BMP or GIF images: {listed}; "
                             "remove or replace them, or pass bad_files='skip'")
        warnings.warn(f"skipping {len(bad)} unreadable image file(s): {listed}", RuntimeWarning, stacklevel=4)
    return sizes


def _decode_fn(image_size, channels):
    """path -> float32 (h, w, channels) image in [0, 1], decoded as image_dataset_from_directory decodes."""
    import tensorflow as tf

    def load(path):
        # channels=3 decodes every format (BMP and GIF refuse channels=1); gray files become 3 equal channels.
        img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        if channels == 1:
            img = tf.image.rgb_to_grayscale(img)
        img = tf.cast(img, tf.float32)
        if image_size is not None:
            img = tf.image.resize(img, image_size, method="bilinear")
            img.set_shape((*image_size, channels))
        return img / 255.0

    return load


def image_pipeline(paths, labels, image_size, channels, shuffle=False, seed=0, cache=False):
    """Unbatched ``tf.data`` of ``(image, label)``: paths -> parallel read/decode/resize -> [0, 1] -> cache.

    ``cache``: False, True (in memory, filled on the first pass) or a file path prefix
    (``Dataset.cache(path)``). Shuffling is seeded and reshuffled each pass: of the
    paths before decoding without a cache, of the cached images with one.
    """
    import tensorflow as tf

    load = _decode_fn(image_size, channels)
    ds = tf.data.Dataset.from_tensor_slices((np.asarray(paths, dtype=str), np.asarray(labels, "int32")))
    if shuffle and cache is False:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(lambda p, y: (load(p), y), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache is not False:
        ds = ds.cache("" if cache is True else cache)
        if shuffle:
            ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    return ds


def _check_decodes(paths, image_size, channels, bad_files):
    """Decode every file once (verify="decode"): the files TensorFlow cannot decode are named, or dropped."""
    import tensorflow as tf

    load = _decode_fn(image_size or (1, 1), channels)
    ds = tf.data.Dataset.from_tensor_slices((np.arange(len(paths)), np.asarray(paths, dtype=str)))
    ds = ds.map(lambda i, p: (i, tf.reduce_max(load(p))), num_parallel_calls=tf.data.AUTOTUNE)  # uses the pixels
    ok = {int(i) for i, _ in ds.ignore_errors().as_numpy_iterator()}
    bad = [p for i, p in enumerate(paths) if i not in ok]
    if bad and bad_files == "raise":
        raise ValueError(f"{len(bad)} image file(s) could not be decoded by tf.io.decode_image: "
                         f"{', '.join(map(repr, bad[:5]))}{' ...' if len(bad) > 5 else ''}; "
                         "remove or replace them, or pass bad_files='skip'")
    if bad:
        warnings.warn(f"skipping {len(bad)} image file(s) that do not decode: {', '.join(map(repr, bad[:5]))}",
                      RuntimeWarning, stacklevel=3)
    return [i not in ok for i in range(len(paths))]


def _image_size(image_size):
    if image_size is None:
        return None
    pair = (image_size, image_size) if is_int(image_size) else image_size
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(is_int(s) and s >= 1 for s in pair):
        fail("image_size", image_size, "a positive integer, a (height, width) pair of them, or None")
    return (int(pair[0]), int(pair[1]))


def _cache_for(cache, n, image_size, channels):
    """Resolve cache= for one pipeline of ``n`` images: False, True or a file path."""
    if cache == "auto":
        return n * image_size[0] * image_size[1] * channels * 4 <= CACHE_AUTO_BYTES
    if cache is True or cache is False:
        return cache
    return os.fspath(cache)


def load_folder(folder, *, image_size=None, channels=None, val_fraction=0.15, test_fraction=0.2, seed=0,
                cache="auto", verify="header", bad_files="raise"):
    """A folder of images as :class:`~zoo.data.Splits` of :class:`~zoo.data.Stream` (read and decoded on demand).

    - ``image_size``: an int or ``(height, width)``: every image is resized to it
      (bilinear, no crop, as ``image_dataset_from_directory`` does). ``None`` (the
      default) keeps the images' own size, which must then be the same for every file
      (read from the headers up front): differing sizes are a ``ValueError`` naming two
      files and asking for ``image_size=`` (unlike keras's default of 256x256, nothing
      is silently stretched).
    - ``channels``: 3 (RGB, the default; gray files get three equal channels) or 1 (gray).
    - ``val_fraction``, ``test_fraction``: per class, of the images a missing split is
      carved from (``round(n * fraction)`` each), drawn by ``seed``.
    - ``cache``: ``"auto"`` (default: in memory, filled on the first pass, when a split's
      decoded float32 images fit in 1 GiB; otherwise decoded anew each pass), True
      (memory), False, or a folder path (a file cache per split, reused across runs;
      its files are keyed by the split's files, size and channels).
    - ``verify``: ``"header"`` (default) opens every file's header with PIL up front: a
      file that is not a JPEG/PNG/BMP/GIF image (empty, truncated header, an HTML page
      named .jpg) is a ``ValueError`` naming it. ``"decode"`` also decodes every file once
      with TensorFlow, naming the files whose data is corrupt past the header (otherwise
      TensorFlow's decode error stops the pipeline when it meets such a file).
    - ``bad_files``: ``"raise"`` (default) or ``"skip"`` (leave unreadable files out with a
      ``RuntimeWarning`` naming them).
    """
    from zoo.data.sources import stratified_split
    from zoo.data.splits import Splits

    folder = os.path.abspath(os.path.expanduser(os.fspath(folder)))
    image_size = _image_size(image_size)
    channels = 3 if channels is None else check_choice("channels", channels, (1, 3))
    check_choice("verify", verify, ("header", "decode"))
    check_choice("bad_files", bad_files, ("raise", "skip"))
    if not (cache in ("auto", True, False) or isinstance(cache, (str, os.PathLike))):
        fail("cache", cache, "'auto', True, False or a folder path for a file cache")

    given = _split_folders(folder)
    paths, labels, class_names = list_images(given.get("train", folder))
    parts = {"train": (paths, labels)}
    for split in ("val", "test"):
        if split in given:
            parts[split] = list_images(given[split], class_names)[:2]
    # One check and one size over every file of every split.
    every = [p for ps, _ in parts.values() for p in ps]
    sizes = _headers(every, bad_files)
    keep = [s is not None for s in sizes]
    if verify == "decode":
        keep = [k and not b for k, b in zip(keep, _check_decodes(every, image_size, channels, bad_files))]
    image_size = image_size or _common_size(every, sizes, keep, folder)
    start = 0
    for split, (ps, ys) in list(parts.items()):
        mask = np.asarray(keep[start:start + len(ps)], bool)
        parts[split] = ([p for p, k in zip(ps, mask) if k], ys[mask])
        start += len(ps)
    paths, labels = parts["train"]
    fractions = {s: f for s, f in (("val", val_fraction), ("test", test_fraction)) if s not in parts}
    rows = stratified_split(labels, fractions.get("val", 0), fractions.get("test", 0), seed)
    for split in ("val", "test"):
        if split not in parts:
            parts[split] = ([paths[i] for i in rows[split]], labels[rows[split]])
    parts["train"] = ([paths[i] for i in rows["train"]], labels[rows["train"]])

    streams = {split: _stream(f"{folder}:{split}", ps, ys, image_size, channels, cache)
               for split, (ps, ys) in parts.items()}
    return Splits(folder, streams["train"], streams["val"], streams["test"], len(class_names), list(class_names))


def _split_folders(folder) -> dict:
    """``{"train": path, "val": path, "test": path}`` for the given splits, or ``{}`` for one subfolder per class."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"image folder {folder!r} does not exist")
    subdirs = _subdirs(folder)
    if "train" not in subdirs or not set(subdirs) <= set(_SPLIT_DIRS):
        return {}
    if "val" in subdirs and "validation" in subdirs:
        raise ValueError(f"image folder {folder!r} has both val/ and validation/; expected one validation folder")
    return {_SPLIT_DIRS[d]: os.path.join(folder, d) for d in subdirs}


def _common_size(paths, sizes, keep, folder):
    """The one (height, width) of the kept files, when image_size is None."""
    seen = {}
    for path, size, k in zip(paths, sizes, keep):
        if k:
            seen.setdefault(size, path)
            if len(seen) > 1:
                (s1, p1), (s2, p2) = seen.items()
                raise ValueError(
                    f"images in {folder!r} differ in size: {p1!r} is {s1[0]}x{s1[1]}, {p2!r} is {s2[0]}x{s2[1]} "
                    "(height x width); pass image_size=(height, width) to resize them all")
    if not seen:
        raise ValueError(f"image folder {folder!r} has no readable images")
    return next(iter(seen))


class FileStream(Stream):
    """A :class:`Stream` of image files: ``paths`` are the files of its rows, in order (which file is in which split)."""

    def __init__(self, all_paths, labels, build, element_shape, indices=None, description="files"):
        super().__init__(labels, build, element_shape, indices, description)
        self._all_paths = all_paths

    @property
    def paths(self) -> list[str]:
        return [str(p) for p in self._all_paths[self.indices]]

    def take(self, rows) -> FileStream:
        return FileStream(self._all_paths, self._all_labels, self._build, self.element_shape,
                          self.indices[np.asarray(rows, "int64")], self.description)


def _stream(description, paths, labels, image_size, channels, cache) -> FileStream:
    paths = np.asarray(paths, dtype=object)

    def build(indices, shuffle, seed):
        chosen = [str(p) for p in paths[indices]]
        how = _cache_for(cache, len(chosen), image_size, channels)
        if isinstance(how, str):
            os.makedirs(how, exist_ok=True)
            key = hashlib.sha1("\n".join([*chosen, str(image_size), str(channels)]).encode()).hexdigest()[:16]
            how = os.path.join(how, f"{description.rsplit(':', 1)[-1]}-{key}")
        return image_pipeline(chosen, labels[indices], image_size, channels, shuffle=shuffle, seed=seed, cache=how)

    return FileStream(paths, labels, build, (*image_size, channels), description=description)
