"""A data set's train/validation/test parts: arrays held in memory, or streams read on demand.

Every source of ``zoo.data.load`` returns :class:`Splits`. A split is either an
``(x, y)`` pair of arrays (the built-in sets, ``.npz`` and CSV files,
keras.datasets) or a :class:`Stream` (a folder of images, tfds): its labels are
known up front, its examples are decoded by a ``tf.data`` pipeline only when
iterated, so a folder larger than memory trains as well as 8x8 digits.
``splits.dataset("train", batch_size=32)`` gives the batched pipeline of either kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from zoo.core.checks import check_int, fail

__all__ = ["Splits", "Stream", "SPLITS"]

SPLITS = ("train", "val", "test")


class Stream:
    """A split read lazily: integer ``labels`` up front, examples as an unbatched ``tf.data`` pipeline.

    ``build(indices, shuffle, seed)`` returns a ``tf.data.Dataset`` of ``(x, y)`` for
    the rows ``indices`` (an int array into ``labels``), in that order, or shuffled
    anew each pass when ``shuffle``; ``element_shape`` is the shape of one ``x``.
    Taking a subset (``labels_per_class``) or counting classes never decodes an example.
    """

    def __init__(self, labels, build: Callable, element_shape, indices=None, description="stream"):
        self._all_labels = np.asarray(labels, dtype="int32")
        self._build = build
        self.element_shape = tuple(element_shape)
        self.indices = np.arange(len(self._all_labels)) if indices is None else np.asarray(indices, dtype="int64")
        self.description = description

    @property
    def labels(self) -> np.ndarray:
        return self._all_labels[self.indices]

    def __len__(self):
        return len(self.indices)

    def __repr__(self):
        return f"Stream({self.description}, {len(self)} examples of shape {self.element_shape})"

    def take(self, rows) -> Stream:
        """The stream of these rows (positions in this stream) only."""
        return Stream(self._all_labels, self._build, self.element_shape, self.indices[np.asarray(rows, "int64")],
                      self.description)

    def dataset(self, shuffle=False, seed=0):
        """The unbatched ``(x, y)`` pipeline of this stream."""
        return self._build(self.indices, shuffle, seed)

    def arrays(self) -> tuple:
        """Decode everything into an ``(x, y)`` pair of arrays (for small splits)."""
        xs, ys = [], []
        for xb, yb in self.dataset().batch(256).as_numpy_iterator():
            xs.append(xb)
            ys.append(yb)
        if not xs:
            return np.zeros((0, *self.element_shape), "float32"), np.zeros((0,), "int32")
        return np.concatenate(xs), np.concatenate(ys)


@dataclasses.dataclass
class Splits:
    """Train/validation/test parts of one data set, each an ``(x, y)`` pair of arrays or a :class:`Stream`.

    ``class_names[i]`` names label ``i`` (folder names, CSV target values, ``"0"``..``"9"``).
    Unpacks as ``(x, y), (x_val, y_val), (x_test, y_test) = splits`` when held as arrays.
    """

    name: str
    train: tuple | Stream
    val: tuple | Stream
    test: tuple | Stream
    num_classes: int
    class_names: list | None = None

    def __post_init__(self):
        if self.class_names is None and self.num_classes:
            self.class_names = [str(i) for i in range(self.num_classes)]

    def __iter__(self):  # x_train, y_train, ... unpacking is handy in notebooks
        return iter((self.train, self.val, self.test))

    def part(self, split: str):
        if split not in SPLITS:
            fail("split", split, f"one of {SPLITS}")
        return getattr(self, split)

    @property
    def streamed(self) -> bool:
        return any(isinstance(p, Stream) for p in self)

    @property
    def input_shape(self) -> tuple:
        train = self.train
        return train.element_shape if isinstance(train, Stream) else tuple(train[0].shape[1:])

    def labels(self, split: str = "train") -> np.ndarray:
        """The integer labels of ``split``, without decoding a streamed split's examples."""
        part = self.part(split)
        return part.labels if isinstance(part, Stream) else np.asarray(part[1])

    def sizes(self) -> dict:
        return {s: int(len(self.labels(s))) for s in SPLITS}

    def arrays(self, split: str = "train") -> tuple:
        """``split`` as an ``(x, y)`` pair of arrays (a stream is decoded whole: for small data)."""
        part = self.part(split)
        return part.arrays() if isinstance(part, Stream) else part

    def dataset(self, split="train", batch_size=32, shuffle=None, seed=0, augment=None, repeat=False,
                drop_remainder=False):
        """``split`` as a batched, prefetched ``tf.data.Dataset`` of ``(x, y)``.

        ``shuffle`` defaults to True for ``train`` only (reshuffled every pass, seeded);
        ``augment`` (e.g. ``zoo.data.augmentation()``) maps each batch with ``training=True``.
        """
        from zoo.data.pipeline import as_dataset, batched

        part = self.part(split)
        shuffle = split == "train" if shuffle is None else shuffle
        if not isinstance(part, Stream):
            return as_dataset(*part, batch_size=batch_size, shuffle=shuffle, seed=seed, repeat=repeat,
                              drop_remainder=drop_remainder, augment=augment)
        batch_size = len(part) if batch_size == "full" else batch_size
        return batched(part.dataset(shuffle=shuffle, seed=seed), batch_size, repeat=repeat,
                       drop_remainder=drop_remainder, augment=augment)

    def with_labels_per_class(self, labels_per_class: int, seed: int = 0) -> Splits:
        """These splits with a training part of ``labels_per_class`` examples of each class (seeded draw).

        Validation and test are unchanged. A class with fewer training examples is a
        ``ValueError`` naming it.
        """
        check_int("labels_per_class", labels_per_class, minimum=1)
        y = self.labels("train")
        rng = np.random.default_rng(seed)
        keep = []
        for c in range(self.num_classes):
            rows = np.flatnonzero(y == c)
            if len(rows) < labels_per_class:
                raise ValueError(
                    f"invalid labels_per_class={labels_per_class}: class {self.class_names[c]!r} has only "
                    f"{len(rows)} training example(s) in {self.name!r}; expected at most {len(rows)}"
                )
            keep.extend(rng.choice(rows, size=labels_per_class, replace=False))
        keep = np.sort(np.asarray(keep, "int64"))
        train = self.train.take(keep) if isinstance(self.train, Stream) else \
            (self.train[0][keep], self.train[1][keep])
        return dataclasses.replace(self, train=train)
