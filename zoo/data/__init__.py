"""Data: built-in sets, pipelines, augmentation and image preprocessing.

- :mod:`~zoo.data.datasets`: ``zoo.data.load(name)`` -> :class:`Splits` (train/val/test arrays);
- :mod:`~zoo.data.pipeline`: ``as_dataset`` (batched, shuffled, prefetched tf.data) and ``augmentation``;
- :mod:`~zoo.data.preprocessing` (``zoo.preprocessing``): the input scaling each model expects.

Nothing here imports TensorFlow until a pipeline is built.
"""

from zoo.data.datasets import list_datasets, load
from zoo.data.pipeline import as_dataset, augmentation, batched
from zoo.data.splits import Splits, Stream

__all__ = ["Splits", "Stream", "load", "list_datasets", "as_dataset", "batched", "augmentation"]
